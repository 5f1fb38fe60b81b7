//! Outputs of a sweep: `sweep.csv`, charts (heatmaps for two or more axes,
//! lines with error bars for one, the Pareto frontier), `report.html` and
//! the manifest, each written atomically, the manifest last.

use super::chart::{Chart, Figure, axis_number};
use super::figures::NamedFigure;
use super::{aligned, fmt_f64, fmt_pct, pages, write_atomic};
use crate::engine::metrics::METRICS;
use crate::sweep::{Axis, VenuePoint, pareto};
use std::fs;
use std::io;
use std::path::Path;

/// Most heatmap slices drawn per venue and figure when a grid has more than two axes.
const MAX_SLICES: usize = 12;

/// A finished sweep.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    /// Name of the sweep (the scenario's, or the built-in grid's).
    pub name: String,
    /// SHA-256 of the base scenario.
    pub hash: String,
    /// Master seed, the same at every point.
    pub seed: u64,
    /// Paths per point.
    pub paths: u64,
    /// The swept keys.
    pub axes: Vec<Axis>,
    /// Every point's values, in grid order.
    pub points: Vec<Vec<f64>>,
    /// Venue names and designs, in scenario order.
    pub venues: Vec<(String, &'static str)>,
    /// Results per point, then per venue.
    pub results: Vec<Vec<VenuePoint>>,
    /// Per venue, per point: on the Pareto frontier of CVaR 95 % against
    /// trader cost ([`frontiers`]).
    pub pareto: Vec<Vec<bool>>,
    /// Headline figures to chart.
    pub figures: Vec<String>,
    /// The resolved base scenario, readable.
    pub resolved: String,
    /// The command line.
    pub command_line: Vec<String>,
}

/// For each of `venues` venues, which points are on the Pareto frontier of
/// CVaR 95 % against trader cost (lower is better on both).
pub fn frontiers(results: &[Vec<VenuePoint>], venues: usize) -> Vec<Vec<bool>> {
    (0..venues)
        .map(|v| {
            let pts: Vec<(f64, f64)> = results.iter().map(|r| (r[v].trader_cost, r[v].risk.cvar_95)).collect();
            pareto(&pts)
        })
        .collect()
}

impl SweepOutcome {
    fn tag(&self) -> String {
        format!("{} · seed {}, {} paths a point", self.name, self.seed, self.paths)
    }
}

fn unit_of(figure: &str) -> &'static str {
    METRICS.iter().find(|m| m.name == figure).map_or("fraction", |m| m.unit)
}

/// Header of the statistics columns shared by `sweep.csv` and `compare.csv`.
pub fn stats_header() -> Vec<String> {
    let mut h: Vec<String> = [
        "var_95",
        "cvar_95",
        "var_99",
        "cvar_99",
        "p_lp_loss",
        "p_lp_loss_se",
        "p_bad_debt",
        "p_bad_debt_se",
        "trader_cost",
    ]
    .map(String::from)
    .to_vec();
    for m in &METRICS {
        for stat in ["mean", "se", "p1", "p5", "p50", "p95", "p99"] {
            h.push(format!("{}_{stat}", m.name));
        }
    }
    h
}

/// The statistics cells of one venue, in [`stats_header`] order.
pub fn stats_cells(r: &VenuePoint) -> Vec<String> {
    let k = &r.risk;
    let mut row: Vec<String> = [
        k.var_95,
        k.cvar_95,
        k.var_99,
        k.cvar_99,
        k.p_lp_loss.p,
        k.p_lp_loss.se,
        k.p_bad_debt.p,
        k.p_bad_debt.se,
        r.trader_cost,
    ]
    .map(fmt_f64)
    .to_vec();
    for d in &r.dists {
        row.extend([d.mean, d.se, d.p1, d.p5, d.p50, d.p95, d.p99].map(fmt_f64));
    }
    row
}

/// `sweep.csv`: one row per (point, venue).
fn csv(s: &SweepOutcome) -> String {
    let mut h: Vec<String> = vec!["point".into()];
    h.extend(s.axes.iter().map(|a| a.key.clone()));
    h.extend(["venue".to_string(), "pareto".to_string()]);
    h.extend(stats_header());
    let mut out = h.join(",");
    out.push('\n');
    let fronts = &s.pareto;
    for (p, (values, res)) in s.points.iter().zip(&s.results).enumerate() {
        for (v, r) in res.iter().enumerate() {
            let mut row = vec![p.to_string()];
            row.extend(values.iter().map(|x| fmt_f64(*x)));
            row.push(s.venues[v].0.clone());
            row.push(u8::from(fronts[v][p]).to_string());
            row.extend(stats_cells(r));
            out.push_str(&row.join(","));
            out.push('\n');
        }
    }
    out
}

/// The charts of a sweep.
pub fn sweep_figures(s: &SweepOutcome) -> Vec<NamedFigure> {
    let mut out = Vec::new();
    let tag = s.tag();
    let labels = |a: &Axis| a.values.iter().map(|v| axis_number(*v)).collect::<Vec<_>>();
    if s.axes.len() == 1 {
        let a = &s.axes[0];
        for f in &s.figures {
            let series = s
                .venues
                .iter()
                .enumerate()
                .map(|(v, (name, _))| {
                    let pts = a
                        .values
                        .iter()
                        .zip(&s.results)
                        .map(|(x, r)| {
                            let (m, se) = r[v].figure(f).unwrap_or((f64::NAN, 0.0));
                            (*x, m, 1.96 * se)
                        })
                        .collect();
                    (name.clone(), pts)
                })
                .collect();
            out.push(NamedFigure {
                stem: format!("sweep_{f}"),
                caption: format!(
                    "{f} against {}: mean with a 95 % interval (±1.96 standard errors) where one is estimated.",
                    a.key
                ),
                figure: Figure {
                    title: format!("{f} against {} · {tag}", a.key),
                    x_label: a.label(),
                    y_label: format!("{f} ({})", unit_of(f)),
                    chart: Chart::ErrorBars(series),
                },
            });
        }
    } else if s.axes.len() >= 2 {
        let (ay, ax) = (&s.axes[0], &s.axes[1]);
        let rest: Vec<&Axis> = s.axes[2..].iter().collect();
        let slices: usize = rest.iter().map(|a| a.values.len()).product();
        for (v, (name, _)) in s.venues.iter().enumerate() {
            for f in &s.figures {
                for slice in 0..slices.min(MAX_SLICES) {
                    let z = (0..ay.values.len())
                        .flat_map(|j| (0..ax.values.len()).map(move |i| (j, i)))
                        .map(|(j, i)| {
                            let p = (j * ax.values.len() + i) * slices + slice;
                            s.results[p][v].figure(f).map(|x| x.0)
                        })
                        .collect();
                    let (stem, at) = if rest.is_empty() {
                        (format!("{name}_{f}_heatmap"), String::new())
                    } else {
                        // Point `slice` is the slice's first cell (j = 0, i = 0).
                        let p = slice;
                        let fixed: Vec<String> = rest
                            .iter()
                            .enumerate()
                            .map(|(k, a)| format!("{} = {}", a.key, axis_number(s.points[p][2 + k])))
                            .collect();
                        (
                            format!("{name}_{f}_heatmap_{}", slice + 1),
                            format!(" at {}", fixed.join(", ")),
                        )
                    };
                    out.push(NamedFigure {
                        stem,
                        caption: format!("{name}: {f} over {} × {}{at}.", ay.key, ax.key),
                        figure: Figure {
                            title: format!("{name}: {f}{at} · {tag}"),
                            x_label: ax.label(),
                            y_label: ay.label(),
                            chart: Chart::Heatmap {
                                xs: labels(ax),
                                ys: labels(ay),
                                z,
                                z_label: format!("{f} ({})", unit_of(f)),
                            },
                        },
                    });
                }
            }
        }
    }
    for (v, (name, _)) in s.venues.iter().enumerate() {
        let front = &s.pareto[v];
        let pts = s
            .results
            .iter()
            .zip(front)
            .map(|(r, &on)| (1e4 * r[v].trader_cost, 100.0 * r[v].risk.cvar_95, on))
            .collect();
        out.push(NamedFigure {
            stem: format!("{name}_pareto"),
            caption: format!(
                "{name}: LP tail risk (CVaR 95 %, a loss) against trader cost (fees per $ of volume) at every grid point; the frontier holds the points no other point beats on both."
            ),
            figure: Figure {
                title: format!("{name}: LP tail risk against trader cost · {tag}"),
                x_label: "trader cost (bps of volume)".into(),
                y_label: "CVaR 95% of LP return (%, loss)".into(),
                chart: Chart::Pareto(pts),
            },
        });
    }
    out
}

/// The terminal table: one row per (point, venue), at most `limit` rows.
pub fn sweep_rows(s: &SweepOutcome, limit: usize) -> (Vec<Vec<String>>, usize) {
    let mut h: Vec<String> = s
        .axes
        .iter()
        .map(|a| a.key.rsplit('.').next().unwrap_or(&a.key).to_string())
        .collect();
    h.extend(
        [
            "venue",
            "LP ret mean",
            "± se",
            "CVaR95",
            "P(bad debt)",
            "cost bps",
            "Pareto",
        ]
        .map(String::from),
    );
    let extra: Vec<&String> = s
        .figures
        .iter()
        .filter(|f| !crate::sweep::DEFAULT_FIGURES.contains(&f.as_str()))
        .collect();
    h.extend(extra.iter().map(|f| format!("{f} mean")));
    let fronts = &s.pareto;
    let mut rows = vec![h];
    let mut total = 0;
    for (p, (values, res)) in s.points.iter().zip(&s.results).enumerate() {
        for (v, r) in res.iter().enumerate() {
            total += 1;
            if rows.len() > limit {
                continue;
            }
            let ret = r.dists[0];
            let mut row: Vec<String> = values.iter().map(|x| axis_number(*x)).collect();
            row.extend([
                s.venues[v].0.clone(),
                fmt_pct(ret.mean),
                format!("{:.3}%", 100.0 * ret.se),
                fmt_pct(r.risk.cvar_95),
                format!("{:.1}%", 100.0 * r.risk.p_bad_debt.p),
                format!("{:.2}", 1e4 * r.trader_cost),
                if fronts[v][p] { "*".into() } else { String::new() },
            ]);
            row.extend(
                extra
                    .iter()
                    .map(|f| r.figure(f).map_or(String::new(), |x| axis_number(x.0))),
            );
            rows.push(row);
        }
    }
    (rows, total)
}

/// Writes every output of a sweep into `dir`; returns the files written.
///
/// # Errors
/// If a file cannot be written.
pub fn write(dir: &Path, s: &SweepOutcome, plots: bool) -> io::Result<Vec<String>> {
    super::begin_outputs(dir)?;
    write_atomic(&dir.join("sweep.csv"), csv(s).as_bytes())?;
    let mut outputs = vec!["sweep.csv".to_string()];
    if plots {
        let pdir = dir.join("plots");
        fs::create_dir_all(&pdir)?;
        let mut drawn = Vec::new();
        for f in sweep_figures(s) {
            let svg = f.figure.write(&pdir, &f.stem)?;
            outputs.push(format!("plots/{}.png", f.stem));
            outputs.push(format!("plots/{}.svg", f.stem));
            drawn.push((f, svg));
        }
        let (rows, total) = sweep_rows(s, 500);
        let lead = format!(
            "Sweep {} over {} (hash {}): {} points × {} paths, seed {} at every point (common random numbers). {}Command: {}",
            s.name,
            s.axes.iter().map(|a| a.key.as_str()).collect::<Vec<_>>().join(" × "),
            &s.hash[..s.hash.len().min(16)],
            s.points.len(),
            s.paths,
            s.seed,
            if total > rows.len() - 1 {
                format!(
                    "The table shows {} of {total} rows; sweep.csv has them all. ",
                    rows.len() - 1
                )
            } else {
                String::new()
            },
            s.command_line.join(" ")
        );
        let kinds: Vec<&str> = s.venues.iter().map(|v| v.1).collect();
        let page = pages::grid_page(
            &format!("perpsim sweep: {}", s.name),
            &lead,
            &rows[0],
            &rows[1..],
            &kinds,
            &drawn,
            &s.resolved,
        );
        write_atomic(&dir.join("report.html"), page.as_bytes())?;
        outputs.push("report.html".into());
    }
    let manifest = serde_json::json!({
        "perpsim_version": env!("CARGO_PKG_VERSION"),
        "sweep": s.name,
        "scenario_hash": s.hash,
        "seed": s.seed,
        "paths_per_point": s.paths,
        "axes": s.axes.iter().map(|a| serde_json::json!({"key": a.key, "values": a.values})).collect::<Vec<_>>(),
        "points": s.points.len(),
        "command_line": s.command_line,
    });
    super::commit_manifest(dir, manifest, &mut outputs)?;
    Ok(outputs)
}

/// The terminal summary of a sweep.
pub fn table(s: &SweepOutcome, limit: usize) -> String {
    let (rows, total) = sweep_rows(s, limit);
    let mut out = aligned(&rows);
    if total > rows.len() - 1 {
        out.push_str(&format!("… {} more rows in sweep.csv\n", total - (rows.len() - 1)));
    }
    out
}
