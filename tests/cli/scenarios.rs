//! Every sandbox scenario, driven by `fhircheck run` of the shipped smoke collection.

use crate::{fhircheck, smoke, snap, Target};

fn scenario(name: &str, expected_exit: i32) {
    let t = Target::start(name);
    let ran = fhircheck(&[
        "run",
        smoke().to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
    ]);
    assert_eq!(
        ran.code, expected_exit,
        "{name}: {}{}",
        ran.stdout, ran.stderr
    );
    snap!(format!("scenario_{name}"), ran.snapshot());
}

#[test]
fn healthy() {
    scenario("healthy", 0);
}
#[test]
fn wrong_secret() {
    scenario("wrong-secret", 3);
}
#[test]
fn expired_secret() {
    scenario("expired-secret", 3);
}
#[test]
fn unknown_app() {
    scenario("unknown-app", 3);
}
#[test]
fn unknown_tenant() {
    scenario("unknown-tenant", 3);
}
#[test]
fn no_role() {
    scenario("no-role", 1);
}
#[test]
fn read_only() {
    scenario("read-only", 1);
}
#[test]
fn wrong_audience() {
    scenario("wrong-audience", 1);
}
#[test]
fn audience_trailing_slash() {
    scenario("audience-trailing-slash", 1);
}
#[test]
fn wrong_tenant() {
    scenario("wrong-tenant", 1);
}
#[test]
fn expired_token() {
    scenario("expired-token", 1);
}
/// Without waiting, a role assignment that has not applied yet is a 403 like no role at all
/// (`pipeline::wait_for_access_rides_out_a_propagating_role_assignment` waits for it).
#[test]
fn new_role() {
    scenario("new-role", 1);
}
#[test]
fn throttled() {
    scenario("throttled", 1);
}

#[test]
fn every_scenario_has_a_test() {
    let tested = [
        "healthy",
        "wrong-secret",
        "expired-secret",
        "unknown-app",
        "unknown-tenant",
        "no-role",
        "read-only",
        "wrong-audience",
        "audience-trailing-slash",
        "wrong-tenant",
        "expired-token",
        "new-role",
        "throttled",
    ];
    assert_eq!(fhircheck::sandbox::registrations::scenario_names(), tested);
}
