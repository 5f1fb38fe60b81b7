//! Units and time: the constants every formula agrees on, and the duration
//! syntax of scenario files.
//!
//! Time inside the model is whole seconds (`u64`) from the start of the path.
//! Rates are annual fractions (APR, 0.35 = 35 %/year) unless a name says
//! otherwise. Fees in basis points carry `_bps` in their names.

/// Seconds in a year: 365 days of 24 hours (Jupiter's `APR / 8760` per hour).
pub const SECONDS_PER_YEAR: f64 = 365.0 * 24.0 * 3600.0;

/// One basis point as a fraction.
pub const BPS: f64 = 1e-4;

/// `x > 0`; false for NaN. Guards read `!gt0(x)` for "not a positive number".
#[inline]
pub fn gt0(x: f64) -> bool {
    x > 0.0
}

/// `x ≥ 0`; false for NaN.
#[inline]
pub fn ge0(x: f64) -> bool {
    x >= 0.0
}

/// Parses a duration such as `"90s"`, `"15m"`, `"4h"`, `"30d"`, `"2w"` or
/// `"1.5h"` into whole seconds. `m` means minutes.
///
/// # Errors
/// Returns a human-readable reason when the text has no number, an unknown
/// unit, a negative or non-finite value, or does not come to whole seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| format!("{text:?} has no unit (use s, m, h, d or w)"))?;
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} does not start with a number"))?;
    let scale = match unit.trim() {
        "s" | "sec" | "secs" => 1.0,
        "m" | "min" | "mins" => 60.0,
        "h" | "hr" | "hrs" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "wk" | "weeks" => 604_800.0,
        other => {
            return Err(format!("unknown unit {other:?} in {text:?} (use s, m, h, d or w)"));
        }
    };
    if !value.is_finite() || value < 0.0 {
        return Err(format!("{text:?} must be a finite, non-negative duration"));
    }
    let secs = value * scale;
    if secs > 1e12 {
        return Err(format!("{text:?} is too long"));
    }
    if (secs - secs.round()).abs() > 1e-6 {
        return Err(format!("{text:?} is not a whole number of seconds"));
    }
    Ok(secs.round() as u64)
}

/// Formats whole seconds compactly (`86400` → `"1d"`, `5400` → `"90m"`).
pub fn format_duration(secs: u64) -> String {
    for (unit, size) in [("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs >= size && secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_every_unit() {
        let cases = [
            ("90s", 90),
            ("15m", 900),
            ("1.5h", 5400),
            ("30d", 2_592_000),
            ("2w", 1_209_600),
            (" 60 s ", 60),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn bad_durations_are_rejected_with_a_reason() {
        for text in ["", "10", "h", "-1h", "1.5s", "3y", "nanh"] {
            assert!(parse_duration(text).is_err(), "{text} should fail");
        }
    }

    #[test]
    fn format_round_trips() {
        for secs in [1, 59, 60, 5400, 86_400, 2_592_000, 604_800] {
            assert_eq!(parse_duration(&format_duration(secs)), Ok(secs));
        }
    }
}
