//! The contents of `report.html` for a run, a sweep and a comparison.

use super::figures::NamedFigure;
use super::html;
use super::stats::Distribution;
use super::{RunInfo, Summary, VenueSummary, summary_rows};
use crate::engine::metrics::METRICS;
use crate::scenario::{Reported, Scenario};

/// A drawn figure: its description and SVG text.
pub type Drawn = (NamedFigure, String);

/// The value of statistic `name` of a distribution.
pub fn statistic(d: &Distribution, name: &str) -> Option<f64> {
    Some(match name {
        "mean" => d.mean,
        "std" => d.std,
        "min" => d.min,
        "p1" => d.p1,
        "p5" => d.p5,
        "p50" => d.p50,
        "p95" => d.p95,
        "p99" => d.p99,
        "max" => d.max,
        _ => return None,
    })
}

/// A risk measure of a venue by name, with its standard error where known.
pub fn risk_measure(v: &VenueSummary, name: &str) -> Option<(f64, Option<f64>)> {
    let r = &v.risk;
    Some(match name {
        "var_95" => (r.var_95, None),
        "cvar_95" => (r.cvar_95, None),
        "var_99" => (r.var_99, None),
        "cvar_99" => (r.cvar_99, None),
        "p_lp_loss" => (r.p_lp_loss.p, Some(r.p_lp_loss.se)),
        "p_bad_debt" => (r.p_bad_debt.p, Some(r.p_bad_debt.se)),
        _ => return None,
    })
}

/// The simulated counterpart of a reported figure: value and, for means and
/// probabilities, its standard error.
pub fn simulated(summary: &Summary, rep: &Reported) -> Option<(f64, Option<f64>)> {
    let v = summary.venues.get(rep.venue)?;
    if let Some(x) = risk_measure(v, &rep.metric) {
        return Some(x);
    }
    let d = v.metrics.get(&rep.metric)?.dist;
    let se = (rep.statistic == "mean").then_some(d.se);
    Some((statistic(&d, &rep.statistic)?, se))
}

fn reported_table(scn: &Scenario, summary: &Summary) -> String {
    let header: Vec<String> = [
        "venue",
        "figure",
        "reported",
        "basis",
        "simulated",
        "95% interval",
        "source",
    ]
    .map(String::from)
    .to_vec();
    let rows: Vec<Vec<String>> = scn
        .reported
        .iter()
        .map(|rep| {
            let (sim, ci) = match simulated(summary, rep) {
                Some((x, Some(se))) => (
                    number(x),
                    format!("{} to {}", number(x - 1.96 * se), number(x + 1.96 * se)),
                ),
                Some((x, None)) => (number(x), String::new()),
                None => (String::new(), String::new()),
            };
            vec![
                scn.venues[rep.venue].name().to_string(),
                rep.what(),
                number(rep.value),
                if rep.inferred { "inferred" } else { "reported" }.to_string(),
                sim,
                ci,
                rep.source.clone(),
            ]
        })
        .collect();
    html::table(&header, &rows)
}

/// A number for a table: four significant digits.
fn number(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    format!("{x:.digits$}")
}

fn distribution_tables(summary: &Summary) -> String {
    let header: Vec<String> = ["metric", "unit", "mean", "se", "p1", "p5", "p50", "p95", "p99"]
        .map(String::from)
        .to_vec();
    let mut out = String::new();
    for v in &summary.venues {
        let rows: Vec<Vec<String>> = METRICS
            .iter()
            .filter_map(|m| {
                let d = v.metrics.get(m.name)?.dist;
                Some(vec![
                    m.name.to_string(),
                    m.unit.to_string(),
                    number(d.mean),
                    number(d.se),
                    number(d.p1),
                    number(d.p5),
                    number(d.p50),
                    number(d.p95),
                    number(d.p99),
                ])
            })
            .collect();
        out.push_str(&format!(
            "<details><summary>{} ({}): every metric</summary>\n{}\n</details>\n",
            html::escape(&v.name),
            v.kind,
            html::table(&header, &rows)
        ));
    }
    out
}

fn figures(drawn: &[Drawn]) -> Vec<String> {
    drawn.iter().map(|(f, svg)| html::figure(svg, &f.caption)).collect()
}

/// The page of a run.
pub fn run_page(scn: &Scenario, info: &RunInfo, summary: &Summary, drawn: &[Drawn]) -> String {
    let rows = summary_rows(summary);
    let mut blocks = vec![
        html::para(&format!(
            "Scenario {} (hash {}), seed {}, {} paths, perpsim {}. Command: {}",
            scn.name,
            &info.scenario_hash[..info.scenario_hash.len().min(16)],
            summary.seed,
            summary.paths,
            summary.version,
            info.command_line.join(" ")
        )),
        html::heading("Summary"),
        html::table(&rows[0], &rows[1..]),
        html::para(
            "LP returns are over the horizon; VaR and CVaR are losses (positive = loss); P(bad debt) is the share of paths with any.",
        ),
        distribution_tables(summary),
    ];
    if !scn.reported.is_empty() {
        blocks.push(html::heading("Reported versus simulated"));
        blocks.push(reported_table(scn, summary));
    }
    let kinds: Vec<&str> = scn.venues.iter().map(|v| v.kind()).collect();
    blocks.push(html::limitations(&kinds));
    blocks.push(html::heading("Charts"));
    blocks.extend(figures(drawn));
    blocks.push(html::heading("Resolved parameters"));
    blocks.push(html::pre(&info.resolved));
    html::page(&format!("perpsim report: {}", scn.name), &blocks)
}

/// The page of a sweep or a comparison: a lead paragraph, a table, the charts
/// and the resolved base scenario.
pub fn grid_page(
    title: &str,
    lead: &str,
    header: &[String],
    rows: &[Vec<String>],
    kinds: &[&str],
    drawn: &[Drawn],
    resolved: &str,
) -> String {
    let mut blocks = vec![
        html::para(lead),
        html::heading("Summary"),
        html::table(header, rows),
        html::limitations(kinds),
        html::heading("Charts"),
    ];
    blocks.extend(figures(drawn));
    blocks.push(html::heading("Resolved parameters"));
    blocks.push(html::pre(resolved));
    html::page(title, &blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_numbers_keep_four_significant_digits() {
        assert_eq!(number(0.123456), "0.1235");
        assert_eq!(number(-12345.6), "-12346");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(1.5e-7), "0.0000001500");
    }
}
