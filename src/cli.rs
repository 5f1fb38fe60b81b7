//! The command line: parse arguments, call the library, print, and pick the
//! exit code (0 success, 1 a run that failed, 2 bad usage or a bad scenario).

use crate::engine::metrics::METRICS;
use crate::montecarlo::MonteCarlo;
use crate::report::sweep::SweepOutcome;
use crate::report::{self, RunInfo, RunWriter};
use crate::scenario::{self, LoadedScenario, Scenario};
use crate::sweep;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

const EXAMPLES: &str = "\
Examples:
  perpsim run scenarios/jlp_baseline.toml
  perpsim run scenarios/jlp_crash.toml --paths 2000 --seed 7 --trace 2
  perpsim run preset:jlp_baseline --paths 100 --threads 1 --out /tmp/jlp --quiet
  perpsim validate scenarios/jlp_crash.toml
  perpsim bench scenarios/jlp_baseline.toml --paths 1000 --threads 2
  perpsim sweep scenarios/jlp_baseline.toml --paths 200 \\
      --set venues.jlp.borrow.target_rate=0.2..0.8:5 --set venues.jlp.base_fee_bps=2,4,6,8,10
  perpsim heatmap --paths 200
  perpsim compare scenarios/hlp_crash.toml scenarios/llp_crash.toml --paths 500

Exit codes: 0 success, 1 a run that failed (I/O error, broken invariant),
2 bad usage or a bad scenario (every problem is listed).";

/// perpsim: Monte Carlo stress tests of liquidity-pool perpetual exchanges.
#[derive(Debug, Parser)]
#[command(name = "perpsim", version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario's Monte Carlo and write paths.csv, summary.json and a manifest.
    Run(RunArgs),
    /// Check a scenario and print its resolved parameters.
    Validate {
        /// Scenario file, or preset:NAME.
        scenario: PathBuf,
    },
    /// Time the engine on a scenario (no outputs written) and print path-steps per second.
    Bench(BenchArgs),
    /// Run a grid of parameter values with the same per-path seeds at every point.
    Sweep(SweepArgs),
    /// The built-in stress grid: price shock × OI skew × reserve factor on a GM single-token pool.
    Heatmap(HeatmapArgs),
    /// Run several scenarios (designs) with the same seed and paths and set them side by side.
    Compare(CompareArgs),
}

#[derive(Debug, Args)]
struct McArgs {
    /// Paths (per point in a sweep, per design in a comparison) [default: the scenario's run.paths].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    paths: Option<u64>,
    /// Master seed, the same at every sweep point and for every design [default: the scenario's run.seed].
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
}

#[derive(Debug, Args)]
struct GridArgs {
    #[command(flatten)]
    mc: McArgs,
    /// Output folder.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Headline figures to chart: a metric name (its mean), var_95, cvar_95,
    /// var_99, cvar_99, p_lp_loss, p_bad_debt or trader_cost. Repeatable.
    #[arg(long = "metric", value_name = "NAME")]
    metrics: Vec<String>,
    /// No progress bar and no table.
    #[arg(long)]
    quiet: bool,
    /// Skip plots/ and report.html.
    #[arg(long)]
    no_plots: bool,
}

#[derive(Debug, Args)]
struct SweepArgs {
    /// Scenario file, or preset:NAME.
    scenario: PathBuf,
    /// KEY=V1,V2,... or KEY=A..B:N (N values from A to B); the key path is the
    /// scenario file's, e.g. venues.jlp.borrow.target_rate. Repeat for a grid.
    #[arg(long = "set", value_name = "KEY=VALUES", required = true)]
    sets: Vec<String>,
    /// Allow grids of more than 10,000 points.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    grid: GridArgs,
}

#[derive(Debug, Args)]
struct HeatmapArgs {
    /// Price moves against the pool, fractions: a list or A..B:N.
    #[arg(long, default_value = "0.1..0.9:9")]
    shocks: String,
    /// Open-interest skew toward the winning side, (S − L)/(S + L): a list or A..B:N.
    #[arg(long, default_value = "0.1..0.5:5")]
    skews: String,
    /// Open interest as a fraction of pool value: a list or A..B:N.
    #[arg(long = "reserve-factors", default_value = "0.5,0.75,0.85")]
    reserve_factors: String,
    /// `down`: the index falls and shorts win; `up`: it rises and longs win.
    #[arg(long, default_value = "down", value_parser = ["down", "up"])]
    direction: String,
    #[command(flatten)]
    grid: GridArgs,
}

#[derive(Debug, Args)]
struct CompareArgs {
    /// Two or more scenario files (or preset:NAME); every venue of each is compared.
    #[arg(required = true, num_args = 2..)]
    scenarios: Vec<PathBuf>,
    #[command(flatten)]
    grid: GridArgs,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Scenario file, or preset:NAME.
    scenario: PathBuf,
    #[command(flatten)]
    mc: McArgs,
    /// Output folder [default: output/<scenario name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write per-step series and event logs for the first K paths.
    #[arg(long, value_name = "K", default_value_t = 0)]
    trace: u64,
    /// No progress bar and no table.
    #[arg(long)]
    quiet: bool,
    /// Skip plots/ and report.html.
    #[arg(long)]
    no_plots: bool,
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// Scenario file, or preset:NAME.
    scenario: PathBuf,
    #[command(flatten)]
    mc: McArgs,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Run(a) => run(a),
        Command::Validate { scenario } => validate(&scenario),
        Command::Bench(a) => bench(a),
        Command::Sweep(a) => sweep(a),
        Command::Heatmap(a) => heatmap(a),
        Command::Compare(a) => compare(a),
    }
}

fn load(path: &Path) -> Result<LoadedScenario, ExitCode> {
    scenario::load(path).map_err(|e| {
        eprintln!(
            "error: the scenario is not valid ({} problem{}):",
            e.issues.len(),
            plural(e.issues.len())
        );
        for issue in &e.issues {
            eprintln!("  {issue}");
        }
        ExitCode::from(2)
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn pool(threads: Option<u64>) -> Result<rayon::ThreadPool, ExitCode> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        b = b.num_threads(t as usize);
    }
    b.build().map_err(|e| {
        eprintln!("error: cannot start worker threads: {e}");
        ExitCode::from(1)
    })
}

fn run(a: RunArgs) -> ExitCode {
    let loaded = match load(&a.scenario) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let scn = &loaded.scenario;
    let paths = a.mc.paths.unwrap_or(scn.run.paths);
    let seed = a.mc.seed.unwrap_or(scn.run.seed);
    let out = a.out.clone().unwrap_or_else(|| Path::new("output").join(&scn.name));
    let pool = match pool(a.mc.threads) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let info = RunInfo {
        scenario_hash: loaded.hash.clone(),
        files: loaded.files.clone(),
        seed,
        paths,
        trace_paths: a.trace,
        command_line: std::env::args().collect(),
        resolved: describe(&loaded),
        plots: !a.no_plots,
    };
    let bar = progress_bar(paths, a.quiet, &scn.name);
    let started = Instant::now();
    let result = pool.install(|| -> std::io::Result<report::RunReport> {
        let mut writer = RunWriter::create(&out, scn, &info)?;
        let progress = |k: u64| bar.inc(k);
        MonteCarlo::new(scn, seed).run(0..paths, a.trace, &progress, |o| writer.push(&o))?;
        writer.finish()
    });
    bar.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: the run failed: {e}");
            return ExitCode::from(1);
        }
    };
    if !a.quiet {
        println!(
            "{}: {paths} paths × {} steps of {}, seed {seed}, {:.1}s → {}",
            scn.name,
            scn.steps(),
            crate::units::format_duration(scn.step_s),
            started.elapsed().as_secs_f64(),
            out.display()
        );
        print!("{}", report::table(&report.summary));
        if !a.no_plots {
            println!("report: {}", out.join("report.html").display());
        }
    }
    if !report.conservation_failures.is_empty() {
        let (path, venue, err) = &report.conservation_failures[0];
        eprintln!(
            "error: the ledger does not balance on {} path{} (first: path {path}, venue {venue}, error ${err:.6}); this is a bug",
            report.conservation_failures.len(),
            plural(report.conservation_failures.len())
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn usage_error(msgs: &[String]) -> ExitCode {
    eprintln!("error: bad usage ({} problem{}):", msgs.len(), plural(msgs.len()));
    for m in msgs {
        eprintln!("  {m}");
    }
    ExitCode::from(2)
}

/// Checks `--metric` names; the defaults when none is given.
fn chosen_figures(names: &[String], defaults: &[&str]) -> Result<Vec<String>, String> {
    if names.is_empty() {
        return Ok(defaults.iter().map(|s| s.to_string()).collect());
    }
    let known = crate::sweep::figure_names();
    let bad: Vec<&String> = names.iter().filter(|n| !known.contains(&n.as_str())).collect();
    if bad.is_empty() {
        Ok(names.to_vec())
    } else {
        Err(format!(
            "--metric: unknown figure{} {} (known: {})",
            plural(bad.len()),
            bad.iter().map(|b| format!("{b:?}")).collect::<Vec<_>>().join(", "),
            known.join(", ")
        ))
    }
}

/// A progress bar over `total` paths on stderr, hidden with `quiet` or when stderr is not a terminal.
fn progress_bar(total: u64, quiet: bool, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else {
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {pos}/{len} paths, {per_sec}, eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
    }
    bar
}

/// A grid of scenarios ready to run: labels, values and the scenarios.
struct Grid {
    name: String,
    hash: String,
    axes: Vec<sweep::Axis>,
    points: Vec<Vec<f64>>,
    scenarios: Vec<Scenario>,
    resolved: String,
    default_paths: u64,
    default_seed: u64,
}

/// Runs a grid and writes its outputs; the common end of `sweep` and `heatmap`.
fn run_grid(g: Grid, a: &GridArgs, figures: Vec<String>, default_out: PathBuf) -> ExitCode {
    let paths = a.mc.paths.unwrap_or(g.default_paths);
    let seed = a.mc.seed.unwrap_or(g.default_seed);
    let out = a.out.clone().unwrap_or(default_out);
    let pool = match pool(a.mc.threads) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let bar = progress_bar(g.points.len() as u64 * paths, a.quiet, &g.name);
    let started = Instant::now();
    let progress = |k: u64| bar.inc(k);
    let results = pool.install(|| sweep::run_grid(&g.scenarios, seed, paths, &progress));
    bar.finish_and_clear();
    let failures: u64 = results.iter().map(|r| r.1).sum();
    let results: Vec<Vec<sweep::VenuePoint>> = results.into_iter().map(|r| r.0).collect();
    let venues: Vec<(String, &'static str)> = g.scenarios[0]
        .venues
        .iter()
        .map(|v| (v.name().to_string(), v.kind()))
        .collect();
    let outcome = SweepOutcome {
        name: g.name.clone(),
        hash: g.hash,
        seed,
        paths,
        axes: g.axes,
        points: g.points,
        pareto: report::sweep::frontiers(&results, venues.len()),
        venues,
        results,
        figures,
        resolved: g.resolved,
        command_line: std::env::args().collect(),
    };
    if let Err(e) = report::sweep::write(&out, &outcome, !a.no_plots) {
        eprintln!("error: the sweep failed: {e}");
        return ExitCode::from(1);
    }
    if !a.quiet {
        println!(
            "{}: {} points × {paths} paths, seed {seed}, {:.1}s → {}",
            g.name,
            outcome.points.len(),
            started.elapsed().as_secs_f64(),
            out.display()
        );
        print!("{}", report::sweep::table(&outcome, 40));
        if !a.no_plots {
            println!("report: {}", out.join("report.html").display());
        }
    }
    grid_exit(failures)
}

/// Exit 1 if any path of a sweep or comparison broke an invariant.
fn grid_exit(failures: u64) -> ExitCode {
    if failures > 0 {
        eprintln!(
            "error: the ledger does not balance (or a metric is not finite) on {failures} path{}; this is a bug",
            plural(failures as usize)
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn sweep(a: SweepArgs) -> ExitCode {
    let mut errors = Vec::new();
    let mut axes = Vec::new();
    for spec in &a.sets {
        match sweep::parse_axis(spec) {
            Ok(ax) => {
                if axes.iter().any(|b: &sweep::Axis| b.key == ax.key) {
                    errors.push(format!("--set {}: the key is swept twice", ax.key));
                }
                if ax.key == "run" || ax.key.starts_with("run.") {
                    errors.push(format!(
                        "--set {}: every point runs the same paths and seed; use --paths and --seed",
                        ax.key
                    ));
                }
                axes.push(ax);
            }
            Err(e) => errors.push(format!("--set {e}")),
        }
    }
    let figures = chosen_figures(&a.grid.metrics, &sweep::DEFAULT_FIGURES).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    let size = sweep::grid_size(&axes);
    if errors.is_empty() && size > sweep::MAX_POINTS && !a.force {
        errors.push(format!(
            "the grid has {} points, more than {}: pass --force to run it",
            if size == usize::MAX {
                "too many".to_string()
            } else {
                size.to_string()
            },
            sweep::MAX_POINTS
        ));
    }
    if !errors.is_empty() {
        return usage_error(&errors);
    }
    let base = match load(&a.scenario) {
        Ok(l) => l,
        Err(code) => return code,
    };
    for ax in &mut axes {
        ax.unit = sweep::unit_of_key(&base.docs, &ax.key).unwrap_or("").to_string();
    }
    let points = sweep::grid(&axes);
    let loaded: Vec<Result<LoadedScenario, scenario::ScenarioError>> = points
        .par_iter()
        .map(|values| {
            let overrides: Vec<(String, toml::Value)> = axes
                .iter()
                .zip(values)
                .map(|(ax, &v)| (ax.key.clone(), toml_number(v)))
                .collect();
            scenario::load_with(&a.scenario, &overrides)
        })
        .collect();
    let bad: Vec<(usize, &scenario::ScenarioError)> = loaded
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e)))
        .collect();
    if let Some((i, e)) = bad.first() {
        let at: Vec<String> = axes
            .iter()
            .zip(&points[*i])
            .map(|(ax, v)| format!("{} = {}", ax.key, report::fmt_f64(*v)))
            .collect();
        eprintln!(
            "error: {} of {} grid points are not valid scenarios; the first, at {}, has {} problem{}:",
            bad.len(),
            points.len(),
            at.join(", "),
            e.issues.len(),
            plural(e.issues.len())
        );
        for issue in &e.issues {
            eprintln!("  {issue}");
        }
        return ExitCode::from(2);
    }
    let scenarios: Vec<Scenario> = loaded.into_iter().filter_map(Result::ok).map(|l| l.scenario).collect();
    let name = base.scenario.name.clone();
    let grid = Grid {
        name: name.clone(),
        hash: base.hash.clone(),
        axes,
        points,
        scenarios,
        resolved: describe(&base),
        default_paths: base.scenario.run.paths,
        default_seed: base.scenario.run.seed,
    };
    run_grid(
        grid,
        &a.grid,
        figures,
        Path::new("output").join(format!("{name}-sweep")),
    )
}

/// A TOML number: an integer when the value is whole (integer keys need
/// one; number keys accept it), a float otherwise.
fn toml_number(v: f64) -> toml::Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        toml::Value::Integer(v as i64)
    } else {
        toml::Value::Float(v)
    }
}

fn heatmap(a: HeatmapArgs) -> ExitCode {
    let mut errors = Vec::new();
    let mut axis = |name: &str, spec: &str, lo: f64, hi: f64| match sweep::parse_axis(&format!("{name}={spec}")) {
        Ok(ax) => {
            if let Some(bad) = ax.values.iter().find(|v| !(lo..=hi).contains(*v)) {
                errors.push(format!("--{}: {bad} is outside [{lo}, {hi}]", name.replace('_', "-")));
            }
            ax
        }
        Err(e) => {
            errors.push(format!("--{}: {e}", name.replace('_', "-")));
            sweep::Axis {
                key: name.into(),
                values: Vec::new(),
                unit: String::new(),
            }
        }
    };
    let mut axes = vec![
        axis("shock", &a.shocks, 0.0, 0.99),
        axis("skew", &a.skews, -1.0, 1.0),
        axis("reserve_factor", &a.reserve_factors, 0.0, 1.0),
    ];
    for (ax, unit) in axes
        .iter_mut()
        .zip(["fraction of price", "(S − L)/(S + L) of OI", "OI / pool value"])
    {
        ax.unit = unit.to_string();
    }
    let figures = chosen_figures(&a.grid.metrics, &["peak_trader_pnl_to_pool", "p_bad_debt"]).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    if !errors.is_empty() {
        return usage_error(&errors);
    }
    let points = sweep::grid(&axes);
    let mut scenarios = Vec::with_capacity(points.len());
    let mut first: Option<LoadedScenario> = None;
    for p in &points {
        let text = scenario::stress_grid_toml(p[0], p[1], p[2], a.direction == "up");
        match scenario::load_str(&text, "preset:stress_grid", Path::new(".")) {
            Ok(l) => {
                scenarios.push(l.scenario.clone());
                first.get_or_insert(l);
            }
            Err(e) => {
                eprintln!("error: the stress grid scenario is not valid at {p:?}:");
                for issue in &e.issues {
                    eprintln!("  {issue}");
                }
                return ExitCode::from(2);
            }
        }
    }
    let Some(base) = first else {
        return usage_error(&["the grid is empty".into()]);
    };
    let grid = Grid {
        name: "stress_grid".into(),
        hash: base.hash.clone(),
        axes,
        points,
        scenarios,
        resolved: describe(&base),
        default_paths: base.scenario.run.paths,
        default_seed: base.scenario.run.seed,
    };
    run_grid(grid, &a.grid, figures, Path::new("output").join("stress_grid"))
}

fn compare(a: CompareArgs) -> ExitCode {
    let figures = match chosen_figures(&a.grid.metrics, &["lp_return", "cvar_95", "p_bad_debt", "trader_cost"]) {
        Ok(f) => f,
        Err(e) => return usage_error(&[e]),
    };
    let mut loaded = Vec::new();
    let mut bad = false;
    for path in &a.scenarios {
        match scenario::load(path) {
            Ok(l) => loaded.push(l),
            Err(e) => {
                bad = true;
                eprintln!(
                    "error: {} is not a valid scenario ({} problem{}):",
                    path.display(),
                    e.issues.len(),
                    plural(e.issues.len())
                );
                for issue in &e.issues {
                    eprintln!("  {issue}");
                }
            }
        }
    }
    if bad {
        return ExitCode::from(2);
    }
    let names: Vec<&str> = loaded.iter().map(|l| l.scenario.name.as_str()).collect();
    if let Some(dup) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)) {
        return usage_error(&[format!(
            "the scenario name {:?} appears twice; give each design its own name",
            dup.1
        )]);
    }
    let first = &loaded[0].scenario;
    let paths = a.grid.mc.paths.unwrap_or(first.run.paths);
    let seed = a.grid.mc.seed.unwrap_or(first.run.seed);
    let out = a
        .grid
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(format!("compare-{}", names.join("-vs-"))));
    let pool = match pool(a.grid.mc.threads) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let scenarios: Vec<Scenario> = loaded.iter().map(|l| l.scenario.clone()).collect();
    let bar = progress_bar(scenarios.len() as u64 * paths, a.grid.quiet, "compare");
    let started = Instant::now();
    let progress = |k: u64| bar.inc(k);
    let results = pool.install(|| sweep::run_grid(&scenarios, seed, paths, &progress));
    bar.finish_and_clear();
    let failures: u64 = results.iter().map(|r| r.1).sum();
    let mut designs = Vec::new();
    for (scn, (res, _)) in scenarios.iter().zip(results) {
        for (v, r) in scn.venues.iter().zip(res) {
            designs.push(report::compare::Design {
                scenario: scn.name.clone(),
                venue: v.name().to_string(),
                kind: v.kind(),
                result: r,
            });
        }
    }
    let outcome = report::compare::CompareOutcome {
        seed,
        paths,
        designs,
        hashes: loaded
            .iter()
            .map(|l| (l.scenario.name.clone(), l.hash.clone()))
            .collect(),
        figures,
        resolved: loaded.iter().map(describe).collect::<Vec<_>>().join("\n"),
        command_line: std::env::args().collect(),
    };
    if let Err(e) = report::compare::write(&out, &outcome, !a.grid.no_plots) {
        eprintln!("error: the comparison failed: {e}");
        return ExitCode::from(1);
    }
    if !a.grid.quiet {
        println!(
            "compare: {} designs × {paths} paths, seed {seed}, {:.1}s → {}",
            outcome.designs.len(),
            started.elapsed().as_secs_f64(),
            out.display()
        );
        print!("{}", report::compare::table(&outcome));
        if !a.grid.no_plots {
            println!("report: {}", out.join("report.html").display());
        }
    }
    grid_exit(failures)
}

fn validate(path: &Path) -> ExitCode {
    let loaded = match load(path) {
        Ok(l) => l,
        Err(code) => return code,
    };
    print!("{}", describe(&loaded));
    ExitCode::SUCCESS
}

/// The resolved scenario in readable form.
pub fn describe(loaded: &LoadedScenario) -> String {
    let s: &Scenario = &loaded.scenario;
    let names = s.asset_names();
    let mut out = format!(
        "scenario {} (hash {}): horizon {}, step {} ({} steps), {} paths, seed {}\n",
        s.name,
        &loaded.hash[..16],
        crate::units::format_duration(s.horizon_s),
        crate::units::format_duration(s.step_s),
        s.steps(),
        s.run.paths,
        s.run.seed
    );
    if !s.description.is_empty() {
        out.push_str(&format!("  {}\n", s.description.trim()));
    }
    out.push_str(&format!("files: {}\n", loaded.files.join(", ")));
    out.push_str("assets:\n");
    for a in &s.assets {
        out.push_str(&format!(
            "  {:<6} ${:<12} {}{}\n",
            a.name,
            a.price,
            a.process.label(),
            if a.stable { " [stable]" } else { "" }
        ));
    }
    if let Some(c) = &s.correlation {
        let k = c.assets.len();
        out.push_str("correlation:\n");
        for (i, &a) in c.assets.iter().enumerate() {
            let row: Vec<String> = (0..k).map(|j| format!("{:5.2}", c.matrix[i * k + j])).collect();
            out.push_str(&format!("  {:<6} {}\n", names[a], row.join(" ")));
        }
    }
    if let Some(t) = &s.traders {
        let mut prev = 0.0;
        let markets: Vec<String> = t
            .markets
            .iter()
            .zip(&t.market_cum_weights)
            .zip(&t.long_share)
            .map(|((&m, &c), &l)| {
                let w = c - prev;
                prev = c;
                format!("{} {:.0}% ({:.0}% long)", names[m], 100.0 * w, 100.0 * l)
            })
            .collect();
        let exit = |name: &str, r: Option<crate::trader::ExitRule>| match r {
            Some(r) => format!(
                "{name} at {:.0}% of collateral for {:.0}% of arrivals",
                100.0 * r.roe,
                100.0 * r.probability
            ),
            None => format!("no {name}"),
        };
        out.push_str(&format!(
            "traders: {} arrivals/hour over {} accounts{}\n  markets: {}\n  leverage: {}\n  size: {}\n  holding: {}\n  {}; {}\n",
            t.arrival_rate_per_hour,
            t.accounts,
            if t.warm_start { ", starting from the stationary book" } else { ", starting empty" },
            markets.join(", "),
            t.leverage.describe(|x| format!("{x}x")),
            t.notional_usd.describe(|x| format!("${x}")),
            t.holding_s.describe(|x| crate::units::format_duration(x.round() as u64)),
            exit("stop loss", t.stop_loss),
            exit("take profit", t.take_profit),
        ));
    }
    if let Some(l) = &s.lps {
        let run = match l.run {
            Some(r) => format!(
                "run: {:.0}% of the supply an hour once the LP price is {:.1}% below its peak, up to {:.0}%",
                r.rate_per_hour * 100.0,
                r.drawdown * 100.0,
                r.max_fraction * 100.0
            ),
            None => "no run".to_string(),
        };
        out.push_str(&format!(
            "lp flows: {} deposits/hour ({}, tokens: {}), {} withdrawals/hour ({}); {run}\n",
            l.deposits_per_hour,
            l.deposit_usd.describe(|x| format!("${x}")),
            l.deposit_mix.as_str(),
            l.withdrawals_per_hour,
            l.withdraw_usd.describe(|x| format!("${x}")),
        ));
    }
    if !s.scripted.is_empty() {
        out.push_str(&format!(
            "scripted: {} actions by {}\n",
            s.scripted.len(),
            s.scripted_accounts.join(", ")
        ));
    }
    out.push_str("venues:\n");
    for v in &s.venues {
        for line in v.describe(&names) {
            out.push_str(&format!("  {}: {line}\n", v.name()));
        }
    }
    if !s.reported.is_empty() {
        out.push_str("reported:\n");
        for r in &s.reported {
            out.push_str(&format!(
                "  {}: {} = {} ({}; {})\n",
                s.venues[r.venue].name(),
                r.what(),
                r.value,
                if r.inferred { "inferred" } else { "reported" },
                r.source
            ));
        }
    }
    out
}

fn bench(a: BenchArgs) -> ExitCode {
    let loaded = match load(&a.scenario) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let scn = &loaded.scenario;
    let paths = a.mc.paths.unwrap_or(scn.run.paths);
    let seed = a.mc.seed.unwrap_or(scn.run.seed);
    let pool = match pool(a.mc.threads) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let threads = pool.current_num_threads();
    let started = Instant::now();
    let mut digest = Fnv::default();
    let mut lp = crate::report::stats::Moments::default();
    pool.install(|| {
        let progress = |_| {};
        let _ = MonteCarlo::new(scn, seed).run(0..paths, 0, &progress, |o| -> Result<(), ()> {
            for m in &o.metrics {
                for v in m.values {
                    digest.write(v.to_bits());
                }
                lp.push(m.values[0]);
            }
            Ok(())
        });
    });
    let secs = started.elapsed().as_secs_f64();
    let path_steps = paths as f64 * scn.steps() as f64;
    println!("scenario          {}", scn.name);
    println!("paths × steps     {paths} × {} = {:.3e}", scn.steps(), path_steps);
    println!("threads           {threads}");
    println!("wall time         {secs:.3} s");
    println!("path-steps / s    {:.3e}", path_steps / secs);
    println!("mean {:<12} {:.6}", METRICS[0].name, lp.mean());
    println!("result digest     {:016x}", digest.0);
    if let Some(kb) = peak_rss_kb() {
        println!("peak memory       {:.1} MB", kb as f64 / 1024.0);
    }
    ExitCode::SUCCESS
}

/// FNV-1a over 64-bit words: a digest of results to check a benchmark's answer.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, x: u64) {
        for b in x.to_le_bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Peak resident memory of this process (Linux), KiB.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
