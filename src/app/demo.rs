//! `fhircheck demo`: the built-in smoke collection against the embedded sandbox, one scenario.

use std::path::Path;
use std::time::Duration;

use super::run::{execute, Job, Live};
use super::setup::{self, ContextSetup};
use super::{out, CliError, Config, Outcome, SMOKE_COLLECTION, SMOKE_SOURCE};
use crate::cli::DemoArgs;
use crate::report;
use crate::sandbox::{self, Endpoints};

/// Runs the smoke collection against a sandbox that is already up.
async fn against(ep: &Endpoints, a: &DemoArgs, cfg: &Config) -> Outcome {
    let mut cli_vars: Vec<(String, String)> = ep
        .variables()
        .into_iter()
        .map(|(k, v, _)| (k.to_string(), v))
        .collect();
    if a.token_version == "v2" {
        cli_vars.retain(|(k, _)| k != "token_version");
        cli_vars.push(("token_version".into(), "v2".into()));
    }
    let (plan, vars) = setup::load_native(
        Path::new(SMOKE_SOURCE),
        SMOKE_COLLECTION,
        None,
        &cli_vars,
        None,
        false,
        cfg,
    )?;
    let ctx = ContextSetup::simple(Duration::from_secs(30)).build(cfg)?;
    if !a.output.quiet {
        out(&format!(
            "fhircheck demo: scenario `{}`: {}\nsandbox on {} (token service and FHIR service, 127.0.0.1 only)\n\n",
            ep.scenario,
            ep.description.as_deref().unwrap_or_default(),
            ep.base
        ));
    }
    let style = cfg.style(a.output.color);
    let jobs = vec![(
        format!("{SMOKE_SOURCE}, built in"),
        Job::Native(Box::new(plan), vars),
    )];
    let live = Live {
        style: &style,
        quiet: a.output.quiet,
        progress: cfg.stderr_tty,
        target: Some(&ep.fhir_url),
        parallel: 1,
        to_stderr: false,
    };
    let postman = crate::postman::runner::Options::default();
    let (result, _) = execute(&jobs, &postman, &ctx, &live).await;
    out(&report::summary(&result, &style));
    Ok(result.exit_code())
}

pub(super) fn demo(a: DemoArgs, cfg: &Config) -> Outcome {
    let rt = super::runtime()?;
    rt.block_on(async {
        let opts = sandbox::Options {
            scenario: a.scenario.clone(),
            clock: cfg.clock,
            ..Default::default()
        };
        let running = sandbox::start(opts)
            .await
            .map_err(|e| CliError::Runtime(e.to_string()))?;
        let outcome = against(&running.endpoints, &a, cfg).await;
        running.stop().await;
        outcome
    })
}
