//! End-to-end tests: the real `fhircheck` binary against sandboxes started in this process on
//! 127.0.0.1 port 0. No sleeps, no fixed ports; every test has its own sandbox.

mod credentials;
mod doctor;
mod errors;
mod fhirpath;
mod hardening;
mod hostile;
mod jobs;
mod pipeline;
mod postman;
mod reports;
mod run;
mod scenarios;
mod secrets;
mod shipped;
mod testscript;
mod tls;
mod wire;

#[path = "../common/mod.rs"]
mod common;

pub use common::*;
