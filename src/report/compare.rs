//! Outputs of `perpsim compare`: several designs run with the same seed and
//! path indices, side by side. `compare.csv` has one row per (scenario,
//! venue); the bar chart sets the headline figures next to each other.

use super::chart::{BarPanel, Chart, Figure};
use super::figures::NamedFigure;
use super::sweep::{stats_cells, stats_header};
use super::{aligned, fmt_pct, fmt_usd, pages, write_atomic};
use crate::sweep::VenuePoint;
use std::fs;
use std::io;
use std::path::Path;

/// One design in a comparison: a venue of a scenario and its results.
#[derive(Debug, Clone)]
pub struct Design {
    /// Scenario name.
    pub scenario: String,
    /// Venue name.
    pub venue: String,
    /// Venue design (`jlp`, `gm`, ...).
    pub kind: &'static str,
    /// Results over the paths.
    pub result: VenuePoint,
}

impl Design {
    /// "scenario/venue".
    pub fn label(&self) -> String {
        format!("{}/{}", self.scenario, self.venue)
    }
}

/// A finished comparison.
#[derive(Debug, Clone)]
pub struct CompareOutcome {
    /// Master seed of every scenario.
    pub seed: u64,
    /// Paths of every scenario.
    pub paths: u64,
    /// Designs in command-line order, venues in scenario order.
    pub designs: Vec<Design>,
    /// Scenario hashes, in command-line order.
    pub hashes: Vec<(String, String)>,
    /// Headline figures to chart.
    pub figures: Vec<String>,
    /// The resolved scenarios, readable.
    pub resolved: String,
    /// The command line.
    pub command_line: Vec<String>,
}

fn csv(c: &CompareOutcome) -> String {
    let mut h = vec!["scenario".to_string(), "venue".into(), "kind".into()];
    h.extend(stats_header());
    let mut out = h.join(",");
    out.push('\n');
    for d in &c.designs {
        let mut row = vec![d.scenario.clone(), d.venue.clone(), d.kind.to_string()];
        row.extend(stats_cells(&d.result));
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// The bar chart of a comparison: one panel per headline figure, with 95 %
/// intervals where a standard error is estimated. Fractions show in percent
/// and trader cost in basis points.
pub fn compare_figure(c: &CompareOutcome) -> NamedFigure {
    let panels = c
        .figures
        .iter()
        .map(|f| {
            let (scale, unit) = match f.as_str() {
                "trader_cost" => (1e4, "bps of volume"),
                _ if crate::engine::metrics::METRICS
                    .iter()
                    .find(|m| m.name == f)
                    .is_some_and(|m| m.unit != "fraction") =>
                {
                    (
                        1.0,
                        crate::engine::metrics::METRICS
                            .iter()
                            .find(|m| m.name == f)
                            .map_or("", |m| m.unit),
                    )
                }
                _ => (100.0, "%"),
            };
            let vals: Vec<(f64, f64)> = c
                .designs
                .iter()
                .map(|d| d.result.figure(f).unwrap_or((f64::NAN, 0.0)))
                .collect();
            BarPanel {
                title: format!("{f} ({unit})"),
                values: vals.iter().map(|v| scale * v.0).collect(),
                errors: vals.iter().map(|v| scale * 1.96 * v.1).collect(),
            }
        })
        .collect();
    NamedFigure {
        stem: "compare".into(),
        caption: "Designs side by side on the same seeds; bars carry 95 % intervals where a standard error is estimated. CVaR is a loss.".into(),
        figure: Figure {
            title: format!(
                "{} · seed {}, {} paths",
                c.hashes.iter().map(|h| h.0.as_str()).collect::<Vec<_>>().join(" vs "),
                c.seed,
                c.paths
            ),
            x_label: "design".into(),
            y_label: String::new(),
            chart: Chart::Bars {
                categories: c.designs.iter().map(Design::label).collect(),
                panels,
            },
        },
    }
}

/// The headline table of a comparison; the first row is the header.
pub fn compare_rows(c: &CompareOutcome) -> Vec<Vec<String>> {
    let mut rows = vec![
        [
            "design",
            "kind",
            "LP ret mean",
            "± se",
            "VaR95",
            "CVaR95",
            "P(bad debt)",
            "bad debt mean",
            "fees mean",
            "cost bps",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for d in &c.designs {
        let r = &d.result;
        let get = |n: &str| r.figure(n).map_or(f64::NAN, |x| x.0);
        rows.push(vec![
            d.label(),
            d.kind.to_string(),
            fmt_pct(r.dists[0].mean),
            format!("{:.3}%", 100.0 * r.dists[0].se),
            fmt_pct(r.risk.var_95),
            fmt_pct(r.risk.cvar_95),
            format!("{:.1}%", 100.0 * r.risk.p_bad_debt.p),
            fmt_usd(get("bad_debt_usd")),
            fmt_usd(get("fees_usd")),
            format!("{:.2}", 1e4 * r.trader_cost),
        ]);
    }
    rows
}

/// The terminal summary of a comparison.
pub fn table(c: &CompareOutcome) -> String {
    aligned(&compare_rows(c))
}

/// Writes every output of a comparison into `dir`; returns the files written.
///
/// # Errors
/// If a file cannot be written.
pub fn write(dir: &Path, c: &CompareOutcome, plots: bool) -> io::Result<Vec<String>> {
    super::begin_outputs(dir)?;
    write_atomic(&dir.join("compare.csv"), csv(c).as_bytes())?;
    let mut outputs = vec!["compare.csv".to_string()];
    if plots {
        let pdir = dir.join("plots");
        fs::create_dir_all(&pdir)?;
        let f = compare_figure(c);
        let svg = f.figure.write(&pdir, &f.stem)?;
        outputs.push("plots/compare.png".into());
        outputs.push("plots/compare.svg".into());
        let rows = compare_rows(c);
        let kinds: Vec<&str> = c.designs.iter().map(|d| d.kind).collect();
        let lead = format!(
            "{} designs from {} scenarios, {} paths each under seed {} (the same path seeds for all). Command: {}",
            c.designs.len(),
            c.hashes.len(),
            c.paths,
            c.seed,
            c.command_line.join(" ")
        );
        let page = pages::grid_page(
            "perpsim compare",
            &lead,
            &rows[0],
            &rows[1..],
            &kinds,
            &[(f, svg)],
            &c.resolved,
        );
        write_atomic(&dir.join("report.html"), page.as_bytes())?;
        outputs.push("report.html".into());
    }
    let manifest = serde_json::json!({
        "perpsim_version": env!("CARGO_PKG_VERSION"),
        "scenarios": c.hashes.iter().map(|(n, h)| serde_json::json!({"name": n, "hash": h})).collect::<Vec<_>>(),
        "seed": c.seed,
        "paths": c.paths,
        "command_line": c.command_line,
    });
    super::commit_manifest(dir, manifest, &mut outputs)?;
    Ok(outputs)
}
