//! fhircheck: proves a service client can reach a FHIR server, and says why when it cannot.
//!
//! Data flows one way: `app` (command line and configuration) → `collection` and `plan` →
//! `vars` → `auth` (token and claims) → `exec` (the execution core, under the front ends
//! `native`, `postman` and `doctor`) → `assertions` → one `result::RunResult` → `report` and
//! `reporters`. See ARCHITECTURE.md. Only what the binary and the tests need is public.

#![warn(clippy::too_many_lines)]

pub mod app;
mod assertions;
pub mod auth;
mod cipher;
mod cli;
mod clock;
pub mod collection;
mod compare;
pub mod diagnose;
mod doctor;
mod exec;
mod exit;
mod fake;
pub mod fhirpath;
mod hash;
mod http;
mod keyfile;
pub mod locate;
mod native;
pub mod plan;
pub mod postman;
mod report;
mod reporters;
mod result;
pub mod sandbox;
mod secret;
mod shape;
mod sign;
pub mod testscript;
mod text;
mod tls;
mod token_cache;
mod vars;
