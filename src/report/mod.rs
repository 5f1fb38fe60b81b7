//! Outputs of a run: `paths.csv`, `summary.json`, traces and the manifest,
//! plus the terminal table.
//!
//! Every file is written to a temporary name and renamed into place only
//! when the whole run has succeeded; the manifest is written last, so a
//! folder with a manifest is complete. Numbers are formatted with Rust's
//! shortest round-trip representation, so the same results give the same
//! bytes.

pub mod chart;
mod columns;
pub mod compare;
pub mod figures;
pub mod html;
pub mod pages;
pub mod stats;
pub mod sweep;

use self::columns::ColumnStore;
use self::figures::{NamedFigure, TimeAxis, TracedPath, VenueCharts};
use self::stats::{Distribution, Moments, Risk};
use crate::engine::conservation_tolerance_usd;
use crate::engine::metrics::{METRICS, Metric, N_METRICS, PathMetrics};
use crate::engine::trace::{EventKind, Trace};
use crate::engine::{PathOutput, Series, chart_steps};
use crate::scenario::Scenario;
use serde::Serialize;
use serde::ser::SerializeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Formats a number deterministically and without NaN: integers plainly,
/// others in Rust's shortest round-trip form; -0 prints as 0.
pub fn fmt_f64(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:?}")
    }
}

/// A file written under a temporary name and renamed on [`AtomicFile::commit`].
/// Dropped without commit, the temporary file is removed.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    w: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file beside `dest`.
    ///
    /// # Errors
    /// If the file cannot be created.
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("out");
        let tmp = dest.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let w = BufWriter::with_capacity(1 << 16, File::create(&tmp)?);
        Ok(AtomicFile {
            tmp,
            dest: dest.to_path_buf(),
            w: Some(w),
        })
    }

    /// The writer.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.w.as_mut().expect("writer present until commit")
    }

    /// Flushes and renames into place.
    ///
    /// # Errors
    /// If flushing or renaming fails.
    pub fn commit(mut self) -> io::Result<()> {
        if let Some(mut w) = self.w.take() {
            w.flush()?;
            w.get_ref().sync_all()?;
        }
        fs::rename(&self.tmp, &self.dest)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.w.is_some() {
            self.w = None;
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `dest` atomically.
///
/// # Errors
/// If writing or renaming fails.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(dest)?;
    f.writer().write_all(bytes)?;
    f.commit()
}

/// Clears the way for a new set of outputs in `dir`: creates the folder and
/// removes an older manifest first, so a folder is never a mix of two runs
/// with a manifest.
///
/// # Errors
/// If the folder cannot be created or the old manifest removed.
pub fn begin_outputs(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let manifest = dir.join("manifest.json");
    if manifest.exists() {
        fs::remove_file(&manifest)?;
    }
    Ok(())
}

/// Writes `manifest.json` last, listing `outputs` (which gains the manifest itself).
///
/// # Errors
/// If the file cannot be written.
pub fn commit_manifest(dir: &Path, mut manifest: serde_json::Value, outputs: &mut Vec<String>) -> io::Result<()> {
    outputs.push("manifest.json".into());
    manifest["outputs"] = serde_json::json!(outputs);
    let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
    bytes.push(b'\n');
    write_atomic(&dir.join("manifest.json"), &bytes)
}

/// Provenance of a run, recorded in the manifest and summary.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// SHA-256 of the resolved scenario and its data files.
    pub scenario_hash: String,
    /// Files the scenario was made from.
    pub files: Vec<String>,
    /// Master seed.
    pub seed: u64,
    /// Number of paths.
    pub paths: u64,
    /// Paths traced.
    pub trace_paths: u64,
    /// The command line, as typed.
    pub command_line: Vec<String>,
    /// The resolved scenario in readable form, for the report.
    pub resolved: String,
    /// Whether to draw `plots/` and write `report.html`.
    pub plots: bool,
}

/// Statistics of one metric.
#[derive(Debug, Clone, Serialize)]
pub struct MetricSummary {
    /// Unit of the metric.
    pub unit: &'static str,
    /// Its distribution over paths.
    #[serde(flatten)]
    pub dist: Distribution,
}

/// Metrics by name, in column order.
#[derive(Debug, Clone)]
pub struct Metrics(pub Vec<(&'static str, MetricSummary)>);

impl Serialize for Metrics {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Metrics {
    /// Summary of the metric named `name`.
    pub fn get(&self, name: &str) -> Option<&MetricSummary> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
}

/// Summary of one venue.
#[derive(Debug, Clone, Serialize)]
pub struct VenueSummary {
    /// Venue name.
    pub name: String,
    /// Design.
    pub kind: &'static str,
    /// Tail risk of LP return.
    pub risk: Risk,
    /// Every metric's distribution.
    pub metrics: Metrics,
}

/// Identity of the scenario in outputs.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioId {
    /// Name.
    pub name: String,
    /// Hash of the resolved scenario and data.
    pub hash: String,
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Which scenario.
    pub scenario: ScenarioId,
    /// Master seed.
    pub seed: u64,
    /// Number of paths.
    pub paths: u64,
    /// perpsim version.
    pub version: &'static str,
    /// One entry per venue.
    pub venues: Vec<VenueSummary>,
}

/// What a finished run reports back.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The summary written to `summary.json`.
    pub summary: Summary,
    /// Paths whose conservation check failed: (path, venue name, error USD).
    pub conservation_failures: Vec<(u64, String, f64)>,
    /// Files written, relative to the output folder.
    pub outputs: Vec<String>,
}

struct TraceFiles {
    steps: AtomicFile,
    events: AtomicFile,
}

/// Streams path results into the output folder.
pub struct RunWriter<'a> {
    scn: &'a Scenario,
    info: &'a RunInfo,
    dir: PathBuf,
    paths: AtomicFile,
    moments: Vec<Moments>,
    columns: ColumnStore,
    traces: Vec<Option<TraceFiles>>,
    tolerance: Vec<f64>,
    failures: Vec<(u64, String, f64)>,
    rows: u64,
    line: String,
    /// Chart points, seconds from t = 0.
    chart_times_s: Vec<u64>,
    /// Liquidated and ADL notional per chart interval, summed over paths:
    /// venue-major, then [liquidated, adl], then interval.
    interval_sums: Vec<f64>,
    traced: Vec<Option<TracedPath>>,
}

impl<'a> RunWriter<'a> {
    /// Prepares the output folder `dir` (created if missing).
    ///
    /// # Errors
    /// If the folder or a temporary file cannot be created.
    pub fn create(dir: &Path, scn: &'a Scenario, info: &'a RunInfo) -> io::Result<RunWriter<'a>> {
        fs::create_dir_all(dir)?;
        let nv = scn.venues.len();
        let mut paths = AtomicFile::create(&dir.join("paths.csv"))?;
        let mut header = String::from("path,venue,seed");
        for m in &METRICS {
            header.push(',');
            header.push_str(m.name);
        }
        header.push('\n');
        paths.writer().write_all(header.as_bytes())?;
        let chart_times_s: Vec<u64> = chart_steps(scn.steps()).iter().map(|k| k * scn.step_s).collect();
        let points = chart_times_s.len();
        // With plots, one more column per venue and chart point: the LP price
        // there, for the fan chart's quantiles.
        let fan_columns = if info.plots { points } else { 0 };
        let columns = ColumnStore::new(dir, nv * (N_METRICS + fan_columns), info.paths)?;
        Ok(RunWriter {
            scn,
            info,
            dir: dir.to_path_buf(),
            paths,
            moments: vec![Moments::default(); nv * N_METRICS],
            columns,
            traces: (0..nv).map(|_| None).collect(),
            tolerance: scn
                .venues
                .iter()
                .map(|v| conservation_tolerance_usd(v.scale_usd()))
                .collect(),
            failures: Vec::new(),
            rows: 0,
            line: String::new(),
            interval_sums: vec![0.0; nv * 2 * (points - 1)],
            chart_times_s,
            traced: (0..nv).map(|_| None).collect(),
        })
    }

    /// Column of the LP price of venue `v` at chart point `k`.
    fn fan_column(&self, v: usize, k: usize) -> usize {
        self.scn.venues.len() * N_METRICS + v * self.chart_times_s.len() + k
    }

    /// Adds one path's results (in path order).
    ///
    /// # Errors
    /// On a write failure, or if a metric is not finite (a bug: the run stops
    /// and nothing is committed).
    pub fn push(&mut self, out: &PathOutput) -> io::Result<()> {
        for row in &out.metrics {
            self.push_row(row)?;
        }
        let points = self.chart_times_s.len();
        for v in 0..out.metrics.len() {
            if self.info.plots {
                for (k, &x) in out.series(v, Series::LpPrice).iter().enumerate() {
                    if !x.is_finite() {
                        return Err(io::Error::other(format!(
                            "path {} venue {}: the LP price at chart point {k} is not finite; this is a bug, nothing was written",
                            out.metrics[v].path,
                            self.scn.venues[v].name()
                        )));
                    }
                    let col = self.fan_column(v, k);
                    self.columns.push(col, x)?;
                }
            }
            for (j, s) in [Series::Liquidated, Series::Adl].into_iter().enumerate() {
                let cum = out.series(v, s);
                let base = (v * 2 + j) * (points - 1);
                for k in 1..points {
                    self.interval_sums[base + k - 1] += cum[k] - cum[k - 1];
                }
            }
        }
        for (v, trace) in out.traces.iter().enumerate() {
            if trace.on {
                let path = out.metrics[v].path;
                self.push_trace(v, path, trace)?;
                if self.info.plots && self.traced[v].is_none() {
                    self.traced[v] = Some(TracedPath::new(path, trace, &self.chart_times_s));
                }
            }
        }
        Ok(())
    }

    fn push_row(&mut self, row: &PathMetrics) -> io::Result<()> {
        let venue = self.scn.venues[row.venue].name();
        if let Some(name) = row.first_non_finite() {
            return Err(io::Error::other(format!(
                "path {} venue {venue}: metric {name} is not finite; this is a bug, nothing was written",
                row.path
            )));
        }
        let cons = row.get(Metric::ConservationError);
        if cons > self.tolerance[row.venue] {
            self.failures.push((row.path, venue.to_string(), cons));
        }
        self.line.clear();
        self.line.push_str(&format!("{},{venue},{}", row.path, row.seed));
        for (i, &x) in row.values.iter().enumerate() {
            self.line.push(',');
            self.line.push_str(&fmt_f64(x));
            let k = row.venue * N_METRICS + i;
            self.moments[k].push(x);
            self.columns.push(k, x)?;
        }
        self.line.push('\n');
        self.paths.writer().write_all(self.line.as_bytes())?;
        self.rows += 1;
        Ok(())
    }

    fn push_trace(&mut self, v: usize, path: u64, trace: &Trace) -> io::Result<()> {
        if self.traces[v].is_none() {
            let dir = self.dir.join("trace").join(self.scn.venues[v].name());
            fs::create_dir_all(&dir)?;
            let mut steps = AtomicFile::create(&dir.join("steps.csv"))?;
            let mut events = AtomicFile::create(&dir.join("events.csv"))?;
            let mut h = String::from("path,step,t_s");
            for c in &trace.columns {
                h.push(',');
                h.push_str(c);
            }
            writeln!(steps.writer(), "{h}")?;
            writeln!(
                events.writer(),
                "path,t_s,event,account,market,side,size_usd,price,collateral_usd,base_fee_usd,linear_impact_usd,additive_impact_usd,impact_usd,funding_fee_usd,claimable_usd,borrow_fee_usd,liquidation_fee_usd,pnl_usd,payout_usd,bad_debt_usd,note"
            )?;
            self.traces[v] = Some(TraceFiles { steps, events });
        }
        let names = self.scn.asset_names();
        let files = self.traces[v].as_mut().expect("created above");
        let w = trace.row_width();
        for r in trace.rows.chunks(w) {
            let mut line = format!("{path}");
            for x in r {
                line.push(',');
                line.push_str(&fmt_f64(*x));
            }
            writeln!(files.steps.writer(), "{line}")?;
        }
        for e in &trace.events {
            let nums = [
                e.size_usd,
                e.price,
                e.collateral_usd,
                e.base_fee_usd,
                e.linear_impact_usd,
                e.additive_impact_usd,
                e.impact_usd,
                e.funding_fee_usd,
                e.claimable_usd,
                e.borrow_fee_usd,
                e.liquidation_fee_usd,
                e.pnl_usd,
                e.payout_usd,
                e.bad_debt_usd,
            ];
            let mut line = format!(
                "{path},{},{},{},{},{}",
                e.t_s,
                e.kind.as_str(),
                self.scn.account_name(e.account),
                names.get(e.market).map_or("", String::as_str),
                if matches!(
                    e.kind,
                    EventKind::Accrual | EventKind::LpDeposit | EventKind::LpWithdraw | EventKind::Shift
                ) {
                    ""
                } else {
                    e.side.as_str()
                }
            );
            for x in nums {
                line.push(',');
                line.push_str(&fmt_f64(x));
            }
            line.push(',');
            line.push_str(e.note);
            writeln!(files.events.writer(), "{line}")?;
        }
        Ok(())
    }

    /// Computes the summary and commits every file; the manifest last.
    ///
    /// # Errors
    /// If a file cannot be written or renamed.
    pub fn finish(self) -> io::Result<RunReport> {
        let RunWriter {
            scn,
            info,
            dir,
            paths,
            moments,
            columns,
            traces,
            failures,
            rows,
            chart_times_s,
            interval_sums,
            traced,
            ..
        } = self;
        let points = chart_times_s.len();
        let nv = scn.venues.len();
        let n = rows / nv.max(1) as u64;
        let mut venues = Vec::with_capacity(nv);
        let mut figures_out: Vec<NamedFigure> = Vec::new();
        let mut chart_tables: Vec<(String, String)> = Vec::new();
        let mut sorted_cols = columns.into_sorted()?;
        for (v, traced_path) in traced.iter().enumerate() {
            let mut metrics = Vec::with_capacity(N_METRICS);
            for (i, m) in METRICS.iter().enumerate() {
                let k = v * N_METRICS + i;
                let sorted = sorted_cols.column(k)?;
                metrics.push((
                    m.name,
                    MetricSummary {
                        unit: m.unit,
                        dist: Distribution::new(&moments[k], &sorted),
                    },
                ));
            }
            let ret = sorted_cols.column(v * N_METRICS + Metric::LpReturn as usize)?;
            let bad = sorted_cols.column(v * N_METRICS + Metric::BadDebtUsd as usize)?;
            let risk = Risk::new(&ret, &bad);
            venues.push(VenueSummary {
                name: scn.venues[v].name().to_string(),
                kind: scn.venues[v].kind(),
                risk,
                metrics: Metrics(metrics),
            });
            if info.plots {
                let mut fan = Vec::with_capacity(points);
                for k in 0..points {
                    fan.push(figures::bands(&sorted_cols.column(nv * N_METRICS + v * points + k)?));
                }
                let mean = |j: usize| -> Vec<f64> {
                    let base = (v * 2 + j) * (points - 1);
                    interval_sums[base..base + points - 1]
                        .iter()
                        .map(|s| s / n.max(1) as f64)
                        .collect()
                };
                let charts = VenueCharts {
                    venue: scn.venues[v].name(),
                    fan,
                    returns: &ret,
                    bad_debt: &bad,
                    risk,
                    liquidated: mean(0),
                    adl: mean(1),
                    traced: traced_path.as_ref(),
                };
                let mut csv = String::from("t_s,p5,p25,p50,p75,p95,liquidated_usd_mean,adl_usd_mean\n");
                let (liq, adl) = (&charts.liquidated, &charts.adl);
                for (k, (t, q)) in chart_times_s.iter().zip(&charts.fan).enumerate() {
                    let per = |xs: &[f64]| if k == 0 { 0.0 } else { xs[k - 1] };
                    let cells: Vec<String> = q
                        .iter()
                        .chain([per(liq), per(adl)].iter())
                        .map(|x| fmt_f64(*x))
                        .collect();
                    csv.push_str(&format!("{t},{}\n", cells.join(",")));
                }
                chart_tables.push((format!("plots/{}_over_time.csv", scn.venues[v].name()), csv));
                let tag = format!("{} · seed {}, {n} paths", scn.name, info.seed);
                let axis = TimeAxis::for_horizon(scn.horizon_s);
                figures_out.extend(figures::venue_figures(&charts, &tag, &chart_times_s, axis));
            }
        }
        sorted_cols.cleanup();
        let summary = Summary {
            scenario: ScenarioId {
                name: scn.name.clone(),
                hash: info.scenario_hash.clone(),
            },
            seed: info.seed,
            paths: n,
            version: env!("CARGO_PKG_VERSION"),
            venues,
        };
        let summary_json = serde_json::to_vec_pretty(&summary).map_err(io::Error::other)?;

        // Commit: an older manifest goes first, so a folder is never a mix
        // of two runs with a manifest.
        let manifest_path = dir.join("manifest.json");
        if manifest_path.exists() {
            fs::remove_file(&manifest_path)?;
        }
        let mut outputs = vec!["paths.csv".to_string()];
        paths.commit()?;
        for (v, t) in traces.into_iter().enumerate() {
            if let Some(t) = t {
                t.steps.commit()?;
                t.events.commit()?;
                let name = scn.venues[v].name();
                outputs.push(format!("trace/{name}/steps.csv"));
                outputs.push(format!("trace/{name}/events.csv"));
            }
        }
        write_atomic(&dir.join("summary.json"), &summary_json)?;
        outputs.push("summary.json".into());
        if info.plots {
            let plots = dir.join("plots");
            fs::create_dir_all(&plots)?;
            for (name, text) in &chart_tables {
                write_atomic(&dir.join(name), text.as_bytes())?;
                outputs.push(name.clone());
            }
            let mut drawn = Vec::with_capacity(figures_out.len());
            for f in figures_out {
                let svg = f.figure.write(&plots, &f.stem)?;
                outputs.push(format!("plots/{}.png", f.stem));
                outputs.push(format!("plots/{}.svg", f.stem));
                drawn.push((f, svg));
            }
            let page = pages::run_page(scn, info, &summary, &drawn);
            write_atomic(&dir.join("report.html"), page.as_bytes())?;
            outputs.push("report.html".into());
        }
        outputs.push("manifest.json".into());
        let manifest = serde_json::json!({
            "perpsim_version": env!("CARGO_PKG_VERSION"),
            "scenario": {
                "name": scn.name,
                "hash": info.scenario_hash,
                "files": info.files,
            },
            "seed": info.seed,
            "paths": n,
            "trace_paths": info.trace_paths.min(n),
            "command_line": info.command_line,
            "outputs": outputs,
            "conservation_failures": failures.len(),
        });
        let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
        bytes.push(b'\n');
        write_atomic(&manifest_path, &bytes)?;
        Ok(RunReport {
            summary,
            conservation_failures: failures,
            outputs,
        })
    }
}

/// A percentage with sign, two decimals.
pub fn fmt_pct(x: f64) -> String {
    format!("{:+.2}%", 100.0 * x)
}

/// A compact dollar amount: $1.23M, $45.6k, $789.
pub fn fmt_usd(x: f64) -> String {
    let a = x.abs();
    let s = if a >= 1e9 {
        format!("{:.2}B", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    };
    format!("${s}")
}

/// The headline numbers of a run, one row per venue; the first row is the header.
pub fn summary_rows(summary: &Summary) -> Vec<Vec<String>> {
    let header = [
        "venue",
        "LP ret mean",
        "p5",
        "p50",
        "vs hold",
        "VaR95",
        "CVaR95",
        "P(loss)",
        "maxDD p95",
        "fees mean",
        "liq mean",
        "P(bad debt)",
        "bad debt p99",
    ];
    let mut rows = vec![header.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    for v in &summary.venues {
        let g = |n: &str| v.metrics.get(n).map(|m| m.dist).expect("every metric is summarised");
        let ret = g("lp_return");
        rows.push(vec![
            v.name.clone(),
            fmt_pct(ret.mean),
            fmt_pct(ret.p5),
            fmt_pct(ret.p50),
            fmt_pct(g("excess_return").mean),
            fmt_pct(v.risk.var_95),
            fmt_pct(v.risk.cvar_95),
            format!("{:.1}%", 100.0 * v.risk.p_lp_loss.p),
            fmt_pct(g("max_drawdown").p95),
            fmt_usd(g("fees_usd").mean),
            fmt_usd(g("liquidated_usd").mean),
            format!("{:.1}%", 100.0 * v.risk.p_bad_debt.p),
            fmt_usd(g("bad_debt_usd").p99),
        ]);
    }
    rows
}

/// Rows as an aligned text table: the first column left-aligned, the others right.
pub fn aligned(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, s)| {
                if c == 0 {
                    format!("{s:<w$}", w = widths[c])
                } else {
                    format!("{s:>w$}", w = widths[c])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The compact table printed at the end of a run.
pub fn table(summary: &Summary) -> String {
    aligned(&summary_rows(summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_deterministically() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (3.0, "3"),
            (-1500000000.0, "-1500000000"),
            (0.1, "0.1"),
            (1e-20, "1e-20"),
            (1e300, "1e300"),
            (2.5e-5, "2.5e-5"),
        ];
        for (x, want) in cases {
            assert_eq!(fmt_f64(x), want);
            assert_eq!(fmt_f64(x).parse::<f64>().unwrap(), x);
        }
    }

    #[test]
    fn atomic_file_is_invisible_until_commit() {
        let dir = std::env::temp_dir().join(format!("perpsim-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("x.csv");
        {
            let mut f = AtomicFile::create(&dest).unwrap();
            f.writer().write_all(b"half").unwrap();
            assert!(!dest.exists());
        }
        assert!(!dest.exists(), "dropped without commit");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "temporary removed");
        let mut f = AtomicFile::create(&dest).unwrap();
        f.writer().write_all(b"whole").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"whole");
        fs::remove_dir_all(&dir).unwrap();
    }
}
