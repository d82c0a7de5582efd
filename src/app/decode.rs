//! `fhircheck decode`: a token's header and claims, signature not verified.

use super::{out, CliError, Config, Outcome};
use crate::cli::DecodeArgs;
use crate::exit::ExitCode;

/// The claims of a token, and with `--fhir-url` the checks against the FHIR service.
pub(super) fn decode(a: DecodeArgs, cfg: &Config) -> Outcome {
    let raw = match a.token.as_deref() {
        Some(t) if t != "-" => t.to_string(),
        _ => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| {
                CliError::Usage(format!("cannot read the token from standard input: {e}"))
            })?;
            s
        }
    };
    let token = raw.trim().trim_start_matches("Bearer ").trim();
    // From here on the token is a secret: nothing below can print it.
    let secret = crate::secret::Secret::new(token);
    let Some(claims) = crate::auth::Claims::decode(secret.expose()) else {
        return Err(CliError::Usage("that is not a JWT: a JWT is three base64url parts separated by dots (header.claims.signature)".into()));
    };
    let now = cfg.clock.now();
    let checks = a.fhir_url.as_deref().map(|u| {
        let u = u.trim_end_matches('/');
        let authority = a.tenant.as_deref().map(|t| format!("https://login/{t}"));
        crate::doctor::claim_findings(&claims, u, "--fhir-url", authority.as_deref(), now, None)
    });
    let failed = checks
        .iter()
        .flatten()
        .any(|f| f.status == crate::diagnose::Status::Fail);
    if a.json {
        let times: serde_json::Map<String, serde_json::Value> = ["iat", "nbf", "exp"]
            .iter()
            .filter_map(|k| {
                let t = claims.time(k)?;
                let v = serde_json::json!({"utc": crate::clock::iso8601(t), "relative": crate::clock::relative(t, now)});
                Some((k.to_string(), v))
            })
            .collect();
        let v = serde_json::json!({
            "header": claims.header,
            "claims": claims.claims,
            "times": times,
            "checks": checks,
        });
        out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        ));
    } else {
        out(&claims_text(
            &claims,
            checks.as_deref(),
            now,
            &cfg.style(a.color),
        ));
    }
    Ok(if failed {
        ExitCode::AssertionFailed
    } else {
        ExitCode::Success
    })
}

/// The header, the claims (shown ones first) and the checks, for people.
fn claims_text(
    claims: &crate::auth::Claims,
    checks: Option<&[crate::diagnose::Finding]>,
    now: i64,
    style: &crate::report::Style,
) -> String {
    let mut s = String::from("header\n");
    for (k, v) in &claims.header {
        s.push_str(&format!(
            "  {k:<8} {}\n",
            v.as_str().map_or_else(|| v.to_string(), str::to_string)
        ));
    }
    s.push_str("claims (signature not verified)\n");
    let shown = claims.summary(now);
    let w = claims
        .claims
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(0)
        .max(5);
    for (k, v) in &shown {
        s.push_str(&format!("  {k:<w$}  {v}\n"));
    }
    for (k, v) in &claims.claims {
        if !crate::auth::SHOWN_CLAIMS.contains(&k.as_str()) {
            s.push_str(&format!(
                "  {k:<w$}  {}\n",
                v.as_str().map_or_else(|| v.to_string(), str::to_string)
            ));
        }
    }
    if let Some(list) = checks {
        s.push_str("\nchecks against --fhir-url\n");
        s.push_str(&crate::report::findings(list, style));
    }
    s
}
