//! `fhircheck doctor`: the checklist against one FHIR service and auth profile.

use std::time::Duration;

use super::setup::{self, ContextSetup};
use super::{out, Config, Outcome};
use crate::cli::DoctorArgs;

/// How many times doctor's probes ride out a 429 or 503 before reporting it.
const DOCTOR_RETRIES: u32 = 3;

pub(super) fn doctor(a: DoctorArgs, cfg: &Config) -> Outcome {
    let s =
        setup::collection_and_profile(a.collection.as_deref(), a.profile.as_deref(), &a.vars, cfg)?;
    let ctx = ContextSetup {
        tracer: setup::tracer(a.verbose),
        retries: DOCTOR_RETRIES,
        allow_http: a.allow_http,
        wait_for_access: a.wait,
        ..ContextSetup::simple(Duration::from_secs(a.timeout))
    }
    .build(cfg)?;
    let rt = super::runtime()?;
    let notify = |m: &str| super::trace_out(&format!("waiting for access: {m}\n"));
    let report = rt.block_on(crate::doctor::run(
        &s.plan, &s.profile, &s.vars, &ctx, a.write, &notify,
    ));
    if a.json {
        out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ));
    } else {
        out(&crate::report::doctor(
            &report,
            &cfg.style(a.color),
            a.quiet,
        ));
    }
    Ok(report.exit_code())
}
