//! The token manager: a token per key, fetched on first use, renewed before it expires, read
//! from and written to `--token-cache`, with the warnings a token deserves the moment it arrives
//! (cloud mismatch, near-miss audience, clock problems).

use std::collections::HashMap;

use super::{Context, Driver, TokenNeed};
use crate::auth::{self, ResolvedProfile, Token, TokenError, Unusable};
use crate::clock::millis;
use crate::result::{TokenInfo, TokenStep};
use crate::secret::{redact, Secret};

/// Seconds before expiry at which a token is renewed.
const RENEW_MARGIN: i64 = 120;

enum State {
    /// The token, and whether renewing it can help (it was valid when it arrived).
    Ready(Box<Token>, bool),
    Failed,
}

/// The tokens of one collection run, by key.
#[derive(Default)]
pub struct Tokens {
    by_key: HashMap<String, State>,
}

impl Tokens {
    /// The bearer token for `need`, with the token step when one was fetched. `None` when no
    /// token can be had (the failure was reported once, when it happened).
    pub async fn bearer(
        &mut self,
        need: &TokenNeed,
        driver: &mut (dyn Driver + '_),
        ctx: &Context,
    ) -> (Option<TokenStep>, Option<Secret>) {
        let now = ctx.clock.now();
        let fetch = match self.by_key.get(&need.key) {
            None => true,
            Some(State::Failed) => false,
            Some(State::Ready(t, renewable)) => {
                *renewable && t.expires_at.is_some_and(|e| e - now < RENEW_MARGIN)
            }
        };
        let mut step = None;
        if fetch {
            let resolved = driver.resolve(&need.key, ctx);
            let (s, token) = acquire(&need.profile, resolved, need.base.as_deref(), ctx).await;
            let state = match token {
                Some(t) => {
                    let renewable = t.expires_at.is_none_or(|e| e - now > RENEW_MARGIN);
                    State::Ready(Box::new(t), renewable)
                }
                None => State::Failed,
            };
            self.by_key.insert(need.key.clone(), state);
            step = Some(s);
        }
        let token = match self.by_key.get(&need.key) {
            Some(State::Ready(t, _)) => Some(t.access.clone()),
            _ => None,
        };
        (step, token)
    }
}

/// Obtains a token for a resolved profile, from the cache when `--token-cache` has a fresh one;
/// the attempt is returned as a step for the report. `base` is the FHIR URL the token is for.
pub async fn acquire(
    profile: &str,
    resolved: Result<ResolvedProfile, Box<Unusable>>,
    base: Option<&str>,
    ctx: &Context,
) -> (TokenStep, Option<Token>) {
    let resolved = match resolved {
        Ok(r) => r,
        Err(u) => {
            return (
                token_step(profile, &u.label, None, None, 0, Err(u.error), ctx),
                None,
            )
        }
    };
    let cache_key = ctx
        .token_cache
        .as_ref()
        .and_then(|_| crate::token_cache::key(&resolved));
    let mut cache_warnings = Vec::new();
    if let (Some(path), Some(key)) = (&ctx.token_cache, &cache_key) {
        match crate::token_cache::get(path, key, ctx.clock.now(), RENEW_MARGIN) {
            Ok(Some(token)) => {
                let label = format!("{}, from the token cache", resolved.label);
                let step = token_step(profile, &label, None, None, 0, Ok(token.clone()), ctx);
                return (step, Some(token));
            }
            Ok(None) => {}
            Err(why) => cache_warnings.push(why),
        }
    }
    if let Some(why) = resolved
        .sends_secret()
        .then(|| resolved.endpoint())
        .flatten()
        .and_then(|e| super::plain_http_refusal(&e, ctx.allow_http))
    {
        let e = TokenError::Profile { message: why };
        let step = token_step(
            profile,
            &resolved.label,
            resolved.endpoint(),
            None,
            0,
            Err(e),
            ctx,
        );
        return (step, None);
    }
    let attempt = auth::fetch(&ctx.http, &resolved, &ctx.clock).await;
    if let (Some(path), Some(key), Ok(token)) = (&ctx.token_cache, &cache_key, &attempt.outcome) {
        // A cache that can not be written costs a token request next time: worth a warning.
        if let Err(why) = crate::token_cache::put(path, key, token, ctx.clock.now()) {
            if !cache_warnings.contains(&why) {
                cache_warnings.push(why);
            }
        }
    }
    let cloud = base
        .zip(attempt.endpoint.as_deref())
        .and_then(|(b, e)| cloud_warning(b, e));
    let near_miss = base
        .zip(
            attempt
                .outcome
                .as_ref()
                .ok()
                .and_then(|t| t.claims.as_ref()),
        )
        .and_then(|(b, c)| crate::diagnose::audience_near_miss(&c.audiences(), b));
    let mut step = token_step(
        profile,
        attempt.used.as_deref().unwrap_or(&resolved.label),
        attempt.endpoint.clone(),
        attempt.status,
        millis(attempt.duration),
        attempt.outcome.clone(),
        ctx,
    );
    if let Ok(info) = step.result.as_mut() {
        info.warnings.extend(cloud);
        info.warnings.extend(near_miss);
        info.warnings.extend(attempt.warnings.iter().cloned());
        info.warnings.extend(cache_warnings);
    }
    (step, attempt.outcome.ok())
}

/// The report's view of a token attempt: never the token itself.
pub fn token_step(
    profile: &str,
    label: &str,
    endpoint: Option<String>,
    status: Option<u16>,
    duration_ms: u64,
    outcome: Result<Token, TokenError>,
    ctx: &Context,
) -> TokenStep {
    let now = ctx.clock.now();
    let requested = endpoint.is_some();
    TokenStep {
        profile: profile.to_string(),
        label: label.to_string(),
        endpoint: endpoint.map(|e| redact(&e).into_owned()),
        status,
        duration_ms,
        result: outcome.map(|t| TokenInfo {
            warnings: time_warnings(&t, now, requested),
            token_type: t.token_type.clone(),
            expires_at: t.expires_at,
            scope: t.scope.clone(),
            is_jwt: t.claims.is_some(),
            raw_claims: t
                .claims
                .as_ref()
                .map(|c| c.claims.clone())
                .unwrap_or_default(),
            claims: t
                .claims
                .as_ref()
                .map(|c| {
                    c.summary(now)
                        .into_iter()
                        .map(|(k, v)| (k, redact(&v).into_owned()))
                        .collect()
                })
                .unwrap_or_default(),
        }),
    }
}

/// Which Azure cloud a host belongs to, when it is one of the known ones.
fn cloud_of(url: &str) -> Option<&'static str> {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if host.ends_with(".azurehealthcareapis.us") || host == "login.microsoftonline.us" {
        Some("US Government")
    } else if host.ends_with(".azurehealthcareapis.azure.cn")
        || host == "login.partner.microsoftonline.cn"
        || host == "login.chinacloudapi.cn"
    {
        Some("China")
    } else if host.ends_with(".azurehealthcareapis.com")
        || host == "login.microsoftonline.com"
        || host == "login.windows.net"
    {
        Some("global Azure")
    } else {
        None
    }
}

/// A warning when the FHIR service and the authority are in different Azure clouds.
pub fn cloud_warning(fhir_url: &str, token_endpoint: &str) -> Option<String> {
    let (f, a) = (cloud_of(fhir_url)?, cloud_of(token_endpoint)?);
    (f != a).then(|| {
        format!("the FHIR service is in {f} but the token comes from {a}'s authority: use the authority host of the FHIR service's cloud (authority_host: {})", match f {
            "US Government" => "usgov",
            "China" => "china",
            _ => "global",
        })
    })
}

/// Clock problems visible the moment a token arrives. `requested`: fresh from an endpoint, so an
/// expired one means a wrong clock; a token given as-is (bearer profile) may simply be old.
fn time_warnings(t: &Token, now: i64, requested: bool) -> Vec<String> {
    let mut w = Vec::new();
    let claims = t.claims.as_ref();
    if let Some(exp) = claims.and_then(|c| c.time("exp")).or(t.expires_at) {
        if exp <= now && !requested {
            w.push(format!(
                "this token expired {}; a token given as-is is never renewed: get a fresh one, or use a profile that requests tokens (oauth2, smart, entra, azure_cli)",
                crate::clock::relative(exp, now)
            ));
        } else if exp <= now {
            w.push(format!(
                "this token had already expired when it arrived ({}): the issuer's clock or this machine's clock is wrong",
                crate::clock::relative(exp, now)
            ));
        }
    }
    if let Some(nbf) = claims.and_then(|c| c.time("nbf")) {
        if nbf > now + 300 {
            w.push(format!(
                "this token is not valid until {} ({}): the issuer's clock is ahead of this machine's",
                crate::clock::utc(nbf),
                crate::clock::relative(nbf, now)
            ));
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clouds_must_match() {
        assert!(cloud_warning(
            "https://ws-fhir.fhir.azurehealthcareapis.us",
            "https://login.microsoftonline.com/t/oauth2/token"
        )
        .unwrap()
        .contains("usgov"));
        assert_eq!(
            cloud_warning(
                "https://ws-fhir.fhir.azurehealthcareapis.com",
                "https://login.microsoftonline.com/t/oauth2/token"
            ),
            None
        );
        assert_eq!(
            cloud_warning(
                "http://127.0.0.1:1/fhir",
                "https://login.microsoftonline.us/t/oauth2/token"
            ),
            None
        );
    }
}
