//! `fhircheck token`: obtain one token with a profile and show what it carries (never the token).

use std::time::Duration;

use super::setup::{self, ContextSetup};
use super::{out, CliError, Config, Outcome};
use crate::cli::TokenArgs;
use crate::exit::ExitCode;
use crate::report;
use crate::result::{CollectionResult, RunResult, Step, TokenStep};

/// `token --clear-cache`.
fn clear_cache(cfg: &Config) -> Outcome {
    let p = crate::token_cache::path(&cfg.env).ok_or_else(|| {
        CliError::Usage(
            "no cache directory: set HOME, XDG_CACHE_HOME or FHIRCHECK_CACHE_DIR".into(),
        )
    })?;
    let cleared = crate::token_cache::clear(&p).map_err(|e| {
        CliError::Runtime(format!(
            "cannot delete the token cache {}: {e}",
            p.display()
        ))
    })?;
    if cleared {
        out(&format!("token cache cleared ({})\n", p.display()));
    } else {
        out(&format!(
            "the token cache was already empty ({})\n",
            p.display()
        ));
    }
    Ok(ExitCode::Success)
}

fn json(step: &TokenStep) -> String {
    let value = serde_json::json!({
        "profile": step.profile,
        "method": step.label,
        "endpoint": step.endpoint,
        "status": step.status,
        "duration_ms": step.duration_ms,
        "ok": step.result.is_ok(),
        "token": step.result.as_ref().ok().map(|i| serde_json::json!({
            "token_type": i.token_type,
            "expires_at": i.expires_at.map(crate::clock::iso8601),
            "scope": i.scope,
            "verified": false,
            "claims": i.raw_claims,
        })),
        "error": step.result.as_ref().err(),
        "diagnosis": step.result.as_ref().err().and_then(crate::diagnose::token_error),
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    )
}

pub(super) fn token(a: TokenArgs, cfg: &Config) -> Outcome {
    if a.clear_cache {
        return clear_cache(cfg);
    }
    let s =
        setup::collection_and_profile(a.collection.as_deref(), a.profile.as_deref(), &a.vars, cfg)?;
    let ctx = ContextSetup {
        token_cache: a.token_cache,
        allow_http: a.allow_http,
        ..ContextSetup::simple(Duration::from_secs(a.timeout))
    }
    .build(cfg)?;
    let rt = super::runtime()?;
    let resolved = s.plan.resolve_profile(&s.profile, &s.vars, &cfg.env);
    let base = s.plan.base_url(&s.vars);
    let (step, _) = rt.block_on(crate::exec::acquire(
        &s.profile,
        resolved,
        base.as_deref(),
        &ctx,
    ));
    let ok = step.result.is_ok();
    if a.json {
        out(&json(&step));
    } else {
        let style = cfg.style(a.color);
        out(&report::step_lines(&Step::Token(step.clone()), &style));
        if !ok {
            let result = RunResult {
                collections: vec![CollectionResult {
                    name: s.plan.collection.name.clone(),
                    source: s.path.display().to_string(),
                    steps: vec![Step::Token(step)],
                    duration_ms: 0,
                }],
                started_at: cfg.clock.now(),
                duration_ms: 0,
                interrupted: None,
            };
            out(&report::failures_only(&result, &style));
        }
    }
    Ok(if ok {
        ExitCode::Success
    } else {
        ExitCode::Token
    })
}
