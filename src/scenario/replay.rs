//! Replayed price series: CSV parsing into knots.
//!
//! Two formats: `price` (a time column and a price column) and `ohlc`
//! (a time column and `open`, `high`, `low`, `close`, as in Binance kline
//! files). OHLC candles become four knots each: the open at the candle
//! start, the two extremes at 1/4 and 1/2 of the candle (low first when the
//! candle closed up, high first otherwise) and the close at 3/4, so a path
//! with a step finer than a quarter candle passes through every wick.

/// How to read a replay file.
#[derive(Debug, Clone)]
pub(crate) struct ReplayFormat {
    /// `true` for OHLC candles, `false` for a single price column.
    pub ohlc: bool,
    /// Use only candle closes (at the candle end) instead of the wick path.
    pub close_only: bool,
    /// Name of the time column.
    pub time_column: String,
    /// Name of the price column (`price` format).
    pub price_column: String,
    /// Seconds per unit of the time column (1 for seconds, 0.001 for milliseconds).
    pub seconds_per_unit: f64,
}

/// A parsed series: times in seconds from the first row, and prices.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub times_s: Vec<f64>,
    pub prices: Vec<f64>,
}

/// Most row errors reported from one file.
const MAX_ROW_ERRORS: usize = 20;

/// Parses `bytes` as a replay CSV. Errors are (locator, message) pairs
/// such as (`row 17 (line 18)`, `column "close": not a number: "abc"`).
pub(crate) fn parse(bytes: &[u8], fmt: &ReplayFormat) -> Result<Series, Vec<(String, String)>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![("header".into(), format!("cannot read the header row: {e}"))]);
        }
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let wanted: Vec<&str> = if fmt.ohlc {
        vec![fmt.time_column.as_str(), "open", "high", "low", "close"]
    } else {
        vec![fmt.time_column.as_str(), fmt.price_column.as_str()]
    };
    let mut idx = Vec::new();
    let mut errors = Vec::new();
    for w in &wanted {
        match col(w) {
            Some(i) => idx.push(i),
            None => errors.push((
                "header".to_string(),
                format!(
                    "no column {w:?} (columns: {})",
                    headers.iter().collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut raw_times: Vec<f64> = Vec::new();
    let mut rows: Vec<[f64; 4]> = Vec::new();
    let mut extra = 0usize;
    for (r, rec) in rdr.records().enumerate() {
        let row = r + 1;
        let loc = format!("row {row} (line {})", row + 1);
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                push_err(&mut errors, &mut extra, loc, format!("cannot read the row: {e}"));
                continue;
            }
        };
        let mut vals = [0.0f64; 5];
        let mut ok = true;
        for (j, (&i, name)) in idx.iter().zip(&wanted).enumerate() {
            let text = rec.get(i).unwrap_or("");
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => vals[j] = v,
                _ => {
                    push_err(
                        &mut errors,
                        &mut extra,
                        loc.clone(),
                        format!("column {name:?}: not a number: {text:?}"),
                    );
                    ok = false;
                }
            }
        }
        if !ok {
            continue;
        }
        let prices = if fmt.ohlc { &vals[1..5] } else { &vals[1..2] };
        if let Some(p) = prices.iter().find(|p| **p <= 0.0) {
            push_err(&mut errors, &mut extra, loc, format!("prices must be > 0, found {p}"));
            continue;
        }
        if fmt.ohlc {
            let (o, h, l, c) = (vals[1], vals[2], vals[3], vals[4]);
            if h < o.max(c).max(l) || l > o.min(c) {
                push_err(
                    &mut errors,
                    &mut extra,
                    loc,
                    format!("inconsistent candle: high {h} and low {l} must bracket open {o} and close {c}"),
                );
                continue;
            }
        }
        if let Some(&prev) = raw_times.last()
            && vals[0] <= prev
        {
            push_err(
                &mut errors,
                &mut extra,
                loc,
                format!("time must increase: {} after {}", vals[0], prev),
            );
            continue;
        }
        raw_times.push(vals[0]);
        rows.push([vals[1], vals[2], vals[3], vals[4]]);
    }
    if extra > 0 {
        errors.push(("rows".into(), format!("... and {extra} more bad rows")));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if rows.is_empty() {
        return Err(vec![("rows".into(), "the file has no data rows".into())]);
    }
    let t0 = raw_times[0];
    let secs: Vec<f64> = raw_times.iter().map(|t| (t - t0) * fmt.seconds_per_unit).collect();
    let mut series = Series {
        times_s: Vec::new(),
        prices: Vec::new(),
    };
    if !fmt.ohlc {
        series.times_s = secs;
        series.prices = rows.iter().map(|r| r[0]).collect();
        return Ok(series);
    }
    for (i, r) in rows.iter().enumerate() {
        let (o, h, l, c) = (r[0], r[1], r[2], r[3]);
        let span = match (secs.get(i + 1), i.checked_sub(1)) {
            (Some(next), _) => next - secs[i],
            (None, Some(p)) => secs[i] - secs[p],
            (None, None) => 60.0,
        };
        let t = secs[i];
        if fmt.close_only {
            if i == 0 {
                series.times_s.push(t);
                series.prices.push(o);
            }
            series.times_s.push(t + span);
            series.prices.push(c);
            continue;
        }
        let (first, second) = if c >= o { (l, h) } else { (h, l) };
        for (dt, p) in [(0.0, o), (0.25, first), (0.5, second), (0.75, c)] {
            series.times_s.push(t + dt * span);
            series.prices.push(p);
        }
    }
    Ok(series)
}

fn push_err(errors: &mut Vec<(String, String)>, extra: &mut usize, loc: String, msg: String) {
    if errors.len() < MAX_ROW_ERRORS {
        errors.push((loc, msg));
    } else {
        *extra += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(ohlc: bool) -> ReplayFormat {
        ReplayFormat {
            ohlc,
            close_only: false,
            time_column: "time".into(),
            price_column: "price".into(),
            seconds_per_unit: 1.0,
        }
    }

    #[test]
    fn price_series_parse() {
        let s = parse(b"time,price\n100,10\n160,11\n220,9.5\n", &fmt(false)).unwrap();
        assert_eq!(s.times_s, vec![0.0, 60.0, 120.0]);
        assert_eq!(s.prices, vec![10.0, 11.0, 9.5]);
    }

    #[test]
    fn ohlc_candles_expand_to_wicks() {
        let s = parse(
            b"time,open,high,low,close\n0,100,104,95,102\n60,102,103,90,91\n",
            &fmt(true),
        )
        .unwrap();
        assert_eq!(s.times_s, vec![0.0, 15.0, 30.0, 45.0, 60.0, 75.0, 90.0, 105.0]);
        assert_eq!(s.prices, vec![100.0, 95.0, 104.0, 102.0, 102.0, 103.0, 90.0, 91.0]);
    }

    #[test]
    fn bad_rows_are_named() {
        let err = parse(b"time,price\n0,10\n60,abc\n120,-1\n120,5\n", &fmt(false)).unwrap_err();
        assert_eq!(err[0].0, "row 2 (line 3)");
        assert!(err[0].1.contains("not a number: \"abc\""), "{err:?}");
        assert_eq!(err[1].0, "row 3 (line 4)");
        assert!(err[1].1.contains("> 0"));
        let err = parse(b"t,price\n0,1\n", &fmt(false)).unwrap_err();
        assert!(err[0].1.contains("no column \"time\""), "{err:?}");
    }
}
