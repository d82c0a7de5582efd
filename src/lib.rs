//! fhircheck: proves a service client can reach a FHIR server, and says why when it cannot.
//!
//! Data flows one way: [`app`] (command line and configuration) → [`collection`] and
//! [`vars`] → [`auth`] (token and claims) → [`exec`] (HTTP exchange, with the front ends [`native`], [`postman`] and [`doctor`]) → [`assertions`] → one
//! [`result::RunResult`] → [`report`]. See ARCHITECTURE.md.

#![warn(clippy::too_many_lines)]

pub mod app;
pub mod assertions;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod collection;
pub mod diagnose;
pub mod doctor;
pub mod exec;
pub mod exit;
pub mod http;
pub mod native;
pub mod plan;
pub mod postman;
pub mod report;
pub mod reporters;
pub mod result;
pub mod sandbox;
pub mod secret;
pub mod text;
pub mod token_cache;
pub mod vars;
