//! The command line: parse arguments, call the library, print, and pick the
//! exit code (0 success, 1 a run that failed, 2 bad usage or a bad scenario).

use crate::engine::metrics::METRICS;
use crate::montecarlo::MonteCarlo;
use crate::report::{self, RunInfo, RunWriter};
use crate::scenario::{self, LoadedScenario, Scenario};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
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
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Scenario file, or preset:NAME.
    scenario: PathBuf,
    /// Number of paths [default: the scenario's run.paths].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    paths: Option<u64>,
    /// Master seed [default: the scenario's run.seed].
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
    /// Output folder [default: output/<scenario name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write per-step series and event logs for the first K paths.
    #[arg(long, value_name = "K", default_value_t = 0)]
    trace: u64,
    /// No progress bar and no table.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// Scenario file, or preset:NAME.
    scenario: PathBuf,
    /// Number of paths [default: the scenario's run.paths].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    paths: Option<u64>,
    /// Master seed [default: the scenario's run.seed].
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
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
    let paths = a.paths.unwrap_or(scn.run.paths);
    let seed = a.seed.unwrap_or(scn.run.seed);
    let out = a.out.clone().unwrap_or_else(|| Path::new("output").join(&scn.name));
    let pool = match pool(a.threads) {
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
    };
    let bar = ProgressBar::new(paths);
    if a.quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else {
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {pos}/{len} paths, {per_sec}, eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(scn.name.clone());
    }
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
    out
}

fn bench(a: BenchArgs) -> ExitCode {
    let loaded = match load(&a.scenario) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let scn = &loaded.scenario;
    let paths = a.paths.unwrap_or(scn.run.paths);
    let seed = a.seed.unwrap_or(scn.run.seed);
    let pool = match pool(a.threads) {
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
