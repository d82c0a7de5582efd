//! No secret, token or token signature in any byte fhircheck writes.

use crate::{fhircheck, fixture, smoke, Target};
use fhircheck::sandbox::registrations as reg;

fn jwt_like() -> regex::Regex {
    regex::Regex::new(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}").unwrap()
}

fn assert_clean(what: &str, text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "{what} leaks {s:?}:\n{text}");
    }
    assert!(!jwt_like().is_match(text), "{what} shows a token:\n{text}");
}

#[test]
fn no_output_shows_the_secret_or_a_token() {
    let encoded: String =
        serde_urlencoded::to_string([("x", reg::SECRET_VALUE)]).unwrap()[2..].to_string();
    let secrets = [reg::SECRET_VALUE, encoded.as_str()];
    for scenario in ["healthy", "wrong-secret", "no-role", "wrong-audience"] {
        let t = Target::start(scenario);
        let env = t.env_file.to_str().unwrap();
        for args in [
            vec!["run", smoke().to_str().unwrap(), "-e", env],
            vec![
                "run",
                fixture("collections/secret-echo.json").to_str().unwrap(),
                "-e",
                env,
            ],
            vec!["token", "-e", env],
            vec!["token", "-e", env, "--json"],
        ] {
            let ran = fhircheck(&args);
            assert_clean(
                &format!("{scenario} {args:?} stdout"),
                &ran.stdout,
                &secrets,
            );
            assert_clean(
                &format!("{scenario} {args:?} stderr"),
                &ran.stderr,
                &secrets,
            );
        }
    }
}

#[test]
fn a_token_given_as_a_variable_is_masked_too() {
    let t = Target::start("healthy");
    let token = crate::run::obtain_token(&t);
    let signature = token.rsplit('.').next().unwrap().to_string();
    let ran = fhircheck(&[
        "run",
        fixture("collections/bail-cleanup.json").to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
        "--var",
        &format!("access_token={token}"),
    ]);
    assert_clean("stdout", &ran.stdout, &[&token, &signature]);
    assert_clean("stderr", &ran.stderr, &[&token, &signature]);
}

#[test]
fn secret_echo_shows_masks_where_the_secret_was() {
    let t = Target::start("healthy");
    let ran = fhircheck(&[
        "run",
        fixture("collections/secret-echo.json").to_str().unwrap(),
        "-e",
        t.env_file.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 1);
    assert!(ran.stdout.contains("leak=***"), "{}", ran.stdout);
    assert!(ran.stdout.contains("pw=***"), "{}", ran.stdout);
}

#[test]
fn sandbox_command_prints_its_own_public_test_secret() {
    // The sandbox's secret is a published test value and must be shown so people can use it;
    // the environment file it writes marks it secret for fhircheck runs.
    let t = Target::start("healthy");
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&t.env_file).unwrap()).unwrap();
    assert_eq!(env["variables"]["client_secret"]["secret"], true);
}
