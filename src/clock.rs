//! Time as fhircheck needs it: Unix seconds in, UTC text out. The clock itself is a value
//! passed in from the configuration step, so formatters and checks never read it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The source of "now". Real runs use [`Clock::system`]; tests may pin it.
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    System,
    Fixed(i64),
}

impl Clock {
    pub fn system() -> Self {
        Clock::System
    }

    /// Unix seconds.
    pub fn now(&self) -> i64 {
        match self {
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
            Clock::Fixed(t) => *t,
        }
    }

    pub fn now_millis(&self) -> i64 {
        match self {
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            Clock::Fixed(t) => *t * 1000,
        }
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn split(secs: i64) -> (i64, u32, u32, i64, i64, i64) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    (y, mo, d, rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// `2026-11-26T09:23:25Z`
pub fn iso8601(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = split(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `2026-11-26T09:23:25.123Z`
pub fn iso8601_millis(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let (y, mo, d, h, mi, s) = split(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// `2026-11-26 09:23:25 UTC`
pub fn utc(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = split(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` and a bare `YYYY-MM-DD` into Unix seconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let t = text.trim();
    let num = |s: &str| -> Option<i64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let date = t.get(0..10)?;
    let mut dp = date.split('-');
    let (y, mo, d) = (num(dp.next()?)?, num(dp.next()?)?, num(dp.next()?)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let base = days_from_civil(y, mo as u32, d as u32) * 86_400;
    if t.len() == 10 {
        return Some(base);
    }
    let rest = t.get(10..)?;
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    let (h, mi, s) = (
        num(rest.get(0..2)?)?,
        num(rest.get(3..5)?)?,
        num(rest.get(6..8)?)?,
    );
    let mut tail = rest.get(8..)?;
    if let Some(frac) = tail.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        tail = &frac[digits..];
    }
    let offset = match tail {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match tail.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            sign * (num(tail.get(1..3)?)? * 3600 + num(tail.get(4..6)?)? * 60)
        }
    };
    Some(base + h * 3600 + mi * 60 + s - offset)
}

/// "in 59 min", "3 h ago", "now".
pub fn relative(target: i64, now: i64) -> String {
    let delta = target - now;
    let mag = delta.unsigned_abs();
    let text = if mag < 60 {
        return if delta == 0 {
            "now".to_string()
        } else if delta > 0 {
            format!("in {mag} s")
        } else {
            format!("{mag} s ago")
        };
    } else if mag < 3600 {
        format!("{} min", mag / 60)
    } else if mag < 86_400 * 2 {
        let h = mag / 3600;
        let m = (mag % 3600) / 60;
        if m == 0 {
            format!("{h} h")
        } else {
            format!("{h} h {m} min")
        }
    } else {
        format!("{} days", mag / 86_400)
    };
    if delta > 0 {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// Milliseconds of a duration, for reports.
pub fn millis(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// Parses an HTTP date (`Date`, `Retry-After`), any of the three forms HTTP allows, to Unix
/// seconds.
pub fn httpdate_to_unix(s: &str) -> Option<i64> {
    let t = httpdate::parse_http_date(s.trim()).ok()?;
    t.duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        let t = 1_795_685_005; // 2026-11-26T09:23:25Z
        assert_eq!(iso8601(t), "2026-11-26T09:23:25Z");
        assert_eq!(utc(t), "2026-11-26 09:23:25 UTC");
        assert_eq!(parse_rfc3339("2026-11-26T09:23:25Z"), Some(t));
        assert_eq!(parse_rfc3339("2026-11-26T10:23:25.5+01:00"), Some(t));
        assert_eq!(
            parse_rfc3339("2026-11-26"),
            Some(t - 9 * 3600 - 23 * 60 - 25)
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2026-13-01"), None);
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative(100, 100), "now");
        assert_eq!(relative(130, 100), "in 30 s");
        assert_eq!(relative(100 + 3599, 100), "in 59 min");
        assert_eq!(relative(100, 100 + 7200), "2 h ago");
        assert_eq!(relative(100 + 5400, 100), "in 1 h 30 min");
        assert_eq!(relative(100 + 86_400 * 5, 100), "in 5 days");
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            httpdate_to_unix("Thu, 26 Nov 2026 09:23:25 GMT"),
            Some(1_795_685_005)
        );
        assert_eq!(httpdate_to_unix("yesterday"), None);
    }
}
