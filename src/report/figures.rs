//! The figures of a run, built from what the run kept: LP price quantiles
//! at the chart points, sorted LP returns and bad debt, liquidation and ADL
//! notional per chart interval, and a thinned copy of the first traced path.

use super::chart::{Chart, Figure};
use super::stats::{Risk, quantile};
use crate::engine::trace::{EventKind, Trace};

/// Most rows of a traced path kept for its charts.
const TRACE_ROWS: usize = 600;

/// Bins of a return histogram.
const RETURN_BINS: usize = 40;

/// Bins of a bad-debt histogram.
const BAD_DEBT_BINS: usize = 30;

/// The time axis of a run's charts: hours for horizons up to three days, days beyond.
#[derive(Debug, Clone, Copy)]
pub struct TimeAxis {
    /// Seconds per unit.
    pub unit_s: f64,
    /// Unit name.
    pub unit: &'static str,
}

impl TimeAxis {
    /// The axis for a horizon of `horizon_s` seconds.
    pub fn for_horizon(horizon_s: u64) -> TimeAxis {
        if horizon_s <= 3 * 86_400 {
            TimeAxis {
                unit_s: 3600.0,
                unit: "hours",
            }
        } else {
            TimeAxis {
                unit_s: 86_400.0,
                unit: "days",
            }
        }
    }

    /// `t_s` in the axis unit.
    pub fn of(&self, t_s: f64) -> f64 {
        t_s / self.unit_s
    }

    /// The axis label.
    pub fn label(&self) -> String {
        format!("time ({})", self.unit)
    }
}

/// Equal-width bins over the range of `values` (lower edge, upper edge, count).
pub fn histogram(values: &[f64], bins: usize) -> Vec<(f64, f64, u64)> {
    let finite = || values.iter().copied().filter(|v| v.is_finite());
    let lo = finite().fold(f64::INFINITY, f64::min);
    let hi = finite().fold(f64::NEG_INFINITY, f64::max);
    if lo > hi || bins == 0 {
        return Vec::new();
    }
    let width = if hi > lo {
        (hi - lo) / bins as f64
    } else {
        lo.abs().max(1.0) * 1e-3
    };
    let mut counts = vec![0u64; bins];
    for v in finite() {
        let k = (((v - lo) / width) as usize).min(bins - 1);
        counts[k] += 1;
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(k, c)| (lo + k as f64 * width, lo + (k + 1) as f64 * width, c))
        .collect()
}

/// A traced path thinned for its charts: a few columns at up to
/// [`TRACE_ROWS`] times, and liquidation and ADL notional per chart interval.
#[derive(Debug, Clone)]
pub struct TracedPath {
    /// Path index.
    pub path: u64,
    /// Times of the kept rows, seconds.
    pub times_s: Vec<f64>,
    /// Utilization-like series: (name, values), fractions.
    pub utilization: Vec<(String, Vec<f64>)>,
    /// Rates: (name, values), annualised fractions.
    pub rates: Vec<(String, Vec<f64>)>,
    /// Liquidated notional per chart interval, USD.
    pub liquidated: Vec<f64>,
    /// Auto-deleveraged notional per chart interval, USD.
    pub adl: Vec<f64>,
}

impl TracedPath {
    /// Thins `trace` of path `path`; `chart_times_s` are the chart points.
    pub fn new(path: u64, trace: &Trace, chart_times_s: &[u64]) -> TracedPath {
        let w = trace.row_width();
        let rows = trace.rows.len().checked_div(w).unwrap_or(0);
        let stride = rows.div_ceil(TRACE_ROWS).max(1);
        // Every stride-th row, and the last (dedup drops it if already kept).
        let mut kept: Vec<usize> = (0..rows)
            .step_by(stride)
            .chain((rows > 0).then_some(rows - 1))
            .collect();
        kept.dedup();
        let col = |name: &str| trace.columns.iter().position(|c| c == name);
        let values = |c: usize| kept.iter().map(|&r| trace.rows[r * w + 2 + c]).collect::<Vec<f64>>();
        let mut utilization = Vec::new();
        let mut rates = Vec::new();
        let nav = col("vault_nav_usd").map(values);
        for (c, name) in trace.columns.iter().enumerate() {
            if let Some(rest) = name.strip_prefix("utilization_") {
                utilization.push((rest.to_string(), values(c)));
            } else if let (Some(rest), Some(nav)) = (name.strip_prefix("vault_inventory_usd_"), &nav) {
                let share = values(c)
                    .iter()
                    .zip(nav)
                    .map(|(x, n)| if *n > 0.0 { x / n } else { 0.0 })
                    .collect();
                utilization.push((format!("inventory {rest} / NAV"), share));
            } else if let Some(rest) = name.strip_prefix("borrow_apr_") {
                rates.push((format!("borrow {rest}"), values(c)));
            } else if let Some(rest) = name.strip_prefix("funding_apr_longs_pay_") {
                rates.push((format!("funding {rest} (longs pay)"), values(c)));
            } else if let Some(rest) = name.strip_prefix("funding_hourly_") {
                let apr = values(c).iter().map(|h| h * 24.0 * 365.0).collect();
                rates.push((format!("funding {rest} (longs pay)"), apr));
            }
        }
        let intervals = chart_times_s.len().saturating_sub(1);
        let mut liquidated = vec![0.0; intervals];
        let mut adl = vec![0.0; intervals];
        for e in &trace.events {
            let bucket = match e.kind {
                EventKind::Liquidation => &mut liquidated,
                EventKind::Adl => &mut adl,
                _ => continue,
            };
            let k = chart_times_s.partition_point(|&t| t < e.t_s).clamp(1, intervals.max(1)) - 1;
            if let Some(b) = bucket.get_mut(k) {
                *b += e.size_usd;
            }
        }
        TracedPath {
            path,
            times_s: kept.iter().map(|&r| trace.rows[r * w + 1]).collect(),
            utilization,
            rates,
            liquidated,
            adl,
        }
    }
}

/// What the figures of one venue are drawn from.
#[derive(Debug, Clone)]
pub struct VenueCharts<'a> {
    /// Venue name.
    pub venue: &'a str,
    /// LP price quantiles (p5, p25, p50, p75, p95) at each chart point, USD.
    pub fan: Vec<[f64; 5]>,
    /// Sorted LP returns, fractions.
    pub returns: &'a [f64],
    /// Sorted bad debt per path, USD.
    pub bad_debt: &'a [f64],
    /// Tail risk.
    pub risk: Risk,
    /// Mean liquidated notional per chart interval, USD.
    pub liquidated: Vec<f64>,
    /// Mean ADL notional per chart interval, USD.
    pub adl: Vec<f64>,
    /// The first traced path, if any.
    pub traced: Option<&'a TracedPath>,
}

/// Quantile bands of a sorted column.
pub fn bands(sorted: &[f64]) -> [f64; 5] {
    [0.05, 0.25, 0.5, 0.75, 0.95].map(|q| quantile(sorted, q))
}

/// A named chart of a report: file stem, caption and figure.
#[derive(Debug, Clone)]
pub struct NamedFigure {
    /// File name without extension, under `plots/`.
    pub stem: String,
    /// One-line caption for the report.
    pub caption: String,
    /// The figure.
    pub figure: Figure,
}

/// Every figure of one venue of a run. `tag` goes into titles ("scenario · seed S, N paths").
pub fn venue_figures(v: &VenueCharts<'_>, tag: &str, chart_times_s: &[u64], axis: TimeAxis) -> Vec<NamedFigure> {
    let name = v.venue;
    let times: Vec<f64> = chart_times_s.iter().map(|&t| axis.of(t as f64)).collect();
    let n = v.returns.len();
    let mut out = Vec::new();
    out.push(NamedFigure {
        stem: format!("{name}_lp_price_fan"),
        caption: format!("{name}: LP token price over time, quantiles over {n} paths."),
        figure: Figure {
            title: format!("{name}: LP token price, p5 to p95 · {tag}"),
            x_label: axis.label(),
            y_label: "LP token price (USD)".into(),
            chart: Chart::Fan(times.iter().copied().zip(v.fan.iter().copied()).collect()),
        },
    });
    let pct: Vec<f64> = v.returns.iter().map(|r| 100.0 * r).collect();
    let r = v.risk;
    out.push(NamedFigure {
        stem: format!("{name}_lp_return_hist"),
        caption: format!(
            "{name}: LP return over the horizon; VaR and CVaR at 95 % and 99 % are losses, drawn at minus their value."
        ),
        figure: Figure {
            title: format!("{name}: LP return over the horizon · {tag}"),
            x_label: "LP return (%)".into(),
            y_label: "paths".into(),
            chart: Chart::Histogram {
                bins: histogram(&pct, RETURN_BINS),
                markers: vec![
                    (format!("VaR 95% ({:.2}%)", 100.0 * r.var_95), -100.0 * r.var_95),
                    (format!("CVaR 95% ({:.2}%)", 100.0 * r.cvar_95), -100.0 * r.cvar_95),
                    (format!("VaR 99% ({:.2}%)", 100.0 * r.var_99), -100.0 * r.var_99),
                    (format!("CVaR 99% ({:.2}%)", 100.0 * r.cvar_99), -100.0 * r.cvar_99),
                ],
                note: String::new(),
            },
        },
    });
    let positive: Vec<f64> = v.bad_debt.iter().copied().filter(|&b| b > 0.0).collect();
    let note = if positive.is_empty() {
        format!("no bad debt on any of {n} paths")
    } else {
        format!(
            "bad debt on {} of {n} paths (P = {:.2}% ± {:.2}%); paths without bad debt not drawn",
            positive.len(),
            100.0 * r.p_bad_debt.p,
            100.0 * r.p_bad_debt.se
        )
    };
    out.push(NamedFigure {
        stem: format!("{name}_bad_debt"),
        caption: format!("{name}: bad debt per path, over the paths that had any."),
        figure: Figure {
            title: format!("{name}: bad debt per path · {tag}"),
            x_label: "bad debt (USD)".into(),
            y_label: "paths".into(),
            chart: Chart::Histogram {
                bins: histogram(&positive, BAD_DEBT_BINS),
                markers: Vec::new(),
                note,
            },
        },
    });
    let interval_s = chart_times_s.last().copied().unwrap_or(0) as f64 / (chart_times_s.len().max(2) - 1) as f64;
    // Liquidated and ADL notional per chart interval, drawn at each interval's end.
    let liquidations = |stem: String, caption: String, title: String, liquidated: &[f64], adl: &[f64]| {
        let per_interval = |xs: &[f64]| {
            xs.iter()
                .enumerate()
                .map(|(k, x)| (times[k + 1], *x))
                .collect::<Vec<_>>()
        };
        NamedFigure {
            stem,
            caption,
            figure: Figure {
                title,
                x_label: axis.label(),
                y_label: format!(
                    "notional per {} (USD)",
                    crate::units::format_duration(interval_s.round() as u64)
                ),
                chart: Chart::Lines(vec![
                    ("liquidated".into(), per_interval(liquidated)),
                    ("auto-deleveraged".into(), per_interval(adl)),
                ]),
            },
        }
    };
    out.push(liquidations(
        format!("{name}_liquidations"),
        format!("{name}: liquidated and auto-deleveraged notional per chart interval, mean over {n} paths."),
        format!("{name}: liquidations and ADL, mean of all paths · {tag}"),
        &v.liquidated,
        &v.adl,
    ));
    if let Some(t) = v.traced {
        let p = t.path;
        out.push(liquidations(
            format!("{name}_trace_liquidations"),
            format!("{name}: liquidated and auto-deleveraged notional per chart interval on traced path {p}."),
            format!("{name}: liquidations and ADL on path {p} · {tag}"),
            &t.liquidated,
            &t.adl,
        ));
        let xs: Vec<f64> = t.times_s.iter().map(|&s| axis.of(s)).collect();
        let lines = |group: &[(String, Vec<f64>)], scale: f64| {
            Chart::Lines(
                group
                    .iter()
                    .map(|(n, ys)| {
                        (
                            n.clone(),
                            xs.iter().copied().zip(ys.iter().map(|y| y * scale)).collect(),
                        )
                    })
                    .collect(),
            )
        };
        if !t.utilization.is_empty() {
            out.push(NamedFigure {
                stem: format!("{name}_trace_utilization"),
                caption: format!(
                    "{name}: utilization on traced path {p} (custody or reserve usage; on order books the vault's inventory over its NAV)."
                ),
                figure: Figure {
                    title: format!("{name}: utilization on path {p} · {tag}"),
                    x_label: axis.label(),
                    y_label: "utilization (%)".into(),
                    chart: lines(&t.utilization, 100.0),
                },
            });
        }
        if !t.rates.is_empty() {
            out.push(NamedFigure {
                stem: format!("{name}_trace_rates"),
                caption: format!(
                    "{name}: borrow and funding rates on traced path {p}, annualised (funding positive when longs pay)."
                ),
                figure: Figure {
                    title: format!("{name}: borrow and funding rates on path {p} · {tag}"),
                    x_label: axis.label(),
                    y_label: "rate (% a year)".into(),
                    chart: lines(&t.rates, 100.0),
                },
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bins_cover_the_range_and_count_every_value() {
        let xs = [0.0, 1.0, 2.0, 3.0, 4.0, f64::NAN];
        let h = histogram(&xs, 4);
        assert_eq!(h.len(), 4);
        assert_eq!(h[0].0, 0.0);
        assert_eq!(h[3].1, 4.0);
        assert_eq!(
            h.iter().map(|b| b.2).sum::<u64>(),
            5,
            "the maximum lands in the last bin"
        );
        assert_eq!(h.iter().map(|b| b.2).collect::<Vec<_>>(), vec![1, 1, 1, 2]);
        assert!(histogram(&[], 4).is_empty());
        let flat = histogram(&[2.0, 2.0], 3);
        assert_eq!(flat[0].2, 2);
    }

    #[test]
    fn traced_events_land_in_their_chart_interval() {
        use crate::engine::trace::Event;
        use crate::venue::Side;
        let mut t = Trace::recording();
        t.columns = vec!["utilization_SOL".into(), "funding_hourly_BTC".into()];
        for step in 0..5u32 {
            t.rows.extend([f64::from(step), f64::from(step) * 60.0, 0.5, 1e-4]);
        }
        let liq = |t_s, size| Event {
            size_usd: size,
            ..Event::new(t_s, EventKind::Liquidation, 1, 0, Side::Long)
        };
        t.events = vec![liq(60, 10.0), liq(120, 5.0), liq(180, 7.0)];
        let p = TracedPath::new(3, &t, &[0, 120, 240]);
        assert_eq!(p.liquidated, vec![15.0, 7.0], "(0, 120] and (120, 240]");
        assert_eq!(p.times_s, vec![0.0, 60.0, 120.0, 180.0, 240.0]);
        assert_eq!(p.utilization[0].0, "SOL");
        assert!(
            (p.rates[0].1[0] - 0.876).abs() < 1e-12,
            "hourly 0.01 % is 87.6 % a year"
        );
    }
}
