//! Bad input: clear errors, positions, hints, exit 2, nothing sent.

use crate::{fhircheck, fhircheck_env, fixture, smoke, snap, Target};

#[test]
fn typo_in_a_collection_names_file_line_column_and_the_fix() {
    let ran = fhircheck(&[
        "run",
        "fixtures/collections/typo.json",
        "--var",
        "fhir_url=http://127.0.0.1:9",
    ]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("fixtures/collections/typo.json:9:9: unknown field `stauts`"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("did you mean `status`?"));
    assert!(ran.stdout.is_empty());
    snap!("error_typo", ran.snapshot());
}

#[test]
fn json_syntax_error_has_a_position() {
    let ran = fhircheck(&["run", "fixtures/collections/bad-syntax.json"]);
    assert_eq!(ran.code, 2);
    snap!("error_syntax", ran.snapshot());
}

#[test]
fn undefined_variables_are_named_before_anything_is_sent() {
    let t = Target::start("healthy");
    let ran = fhircheck(&[
        "run",
        fixture("collections/undefined-variable.json")
            .to_str()
            .unwrap(),
        "--var",
        &format!("fhir_url={}", t.fhir_url()),
    ]);
    assert_eq!(ran.code, 2);
    assert!(ran.stdout.is_empty(), "nothing may run: {}", ran.stdout);
    snap!("error_undefined_variable", ran.stderr);
}

/// No secret, certificate, federated token, managed identity or Azure CLI: the built-in
/// profile's credential chain says what each would need, and the run exits 3.
#[test]
fn missing_credentials_list_the_chain() {
    let t = Target::start("healthy");
    let ran = fhircheck_env(
        &["run", "-q", "--var", &format!("fhir_url={}", t.fhir_url())],
        &[("PATH", "/nonexistent")],
    );
    assert_eq!(ran.code, 3, "{}", ran.stdout);
    snap!("error_missing_credentials", ran.stdout);
}

#[test]
fn no_fhir_url_is_a_usage_error() {
    let ran = fhircheck(&["run"]);
    assert_eq!(ran.code, 2);
    assert!(ran.stdout.is_empty());
    snap!("error_no_fhir_url", ran.stderr);
}

#[test]
fn missing_files_and_bad_options() {
    let ran = fhircheck(&["run", "nope.json"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("nope.json: cannot read the file"),
        "{}",
        ran.stderr
    );
    let ran = fhircheck(&["run", smoke().to_str().unwrap(), "--var", "novalue"]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("`novalue` is not KEY=VALUE"));
    let ran = fhircheck(&["demo", "--scenario", "nope"]);
    assert_eq!(ran.code, 2);
    let ran = fhircheck(&[
        "run",
        smoke().to_str().unwrap(),
        "-e",
        "fixtures/collections/typo.json",
    ]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("typo.json:3:3: unknown field `base_url`"),
        "{}",
        ran.stderr
    );
}

#[test]
fn help_teaches_exit_codes_and_scenarios() {
    let ran = fhircheck(&["--help"]);
    assert_eq!(ran.code, 0);
    snap!("help", ran.stdout.clone());
    let ran = fhircheck(&["run", "--help"]);
    let words = ran.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("Exit codes: 0 passed, 1 an expectation failed or nothing was sent, 2 usage or collection error, 3 no token, 4 network error."));
    let ran = fhircheck(&["sandbox", "--help"]);
    for name in fhircheck::sandbox::registrations::scenario_names() {
        assert!(ran.stdout.contains(name), "{name}");
    }
}

#[test]
fn an_unknown_profile_is_a_usage_error_with_a_suggestion() {
    let ran = fhircheck(&["run", smoke().to_str().unwrap(), "--profile", "smrt"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("--profile: auth profile `smrt` is not defined"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("did you mean `smart`?"),
        "{}",
        ran.stderr
    );
    assert!(ran.stdout.is_empty());
    let postman = fixture("postman/v20-basic.postman_collection.json");
    let ran = fhircheck(&["run", postman.to_str().unwrap(), "--profile", "smart"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("--profile applies to fhircheck collections; this is a Postman collection"),
        "{}",
        ran.stderr
    );
}

/// Completions and the manual page come from the same clap definitions as `--help`.
#[test]
fn completions_for_every_shell_and_a_manual_page() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let ran = fhircheck(&["completions", shell]);
        assert_eq!(ran.code, 0, "{shell}: {}", ran.stderr);
        for word in ["run", "doctor", "jobs", "max-body"] {
            assert!(ran.stdout.contains(word), "{shell} completes {word}");
        }
    }
    let bash = fhircheck(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fhircheck.bash");
    std::fs::write(&script, &bash.stdout).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(check.success(), "the bash script parses");
    let man = fhircheck(&["man"]);
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(man.stdout.starts_with(".ie") || man.stdout.contains(".TH fhircheck 1"));
    assert!(
        man.stdout.contains(".TH fhircheck 1"),
        "{}",
        &man.stdout[..200]
    );
    assert!(
        man.stdout.contains("fhircheck\\-run"),
        "subcommands are listed"
    );
    let bad = fhircheck(&["completions", "tcsh"]);
    assert_eq!(bad.code, 2);
}
