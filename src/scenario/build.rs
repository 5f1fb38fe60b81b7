//! From the merged TOML table to a validated [`Scenario`]. Every key read
//! here is documented by its [`spec`] and appears in the key reference.

use super::reader::{Default, Node, Range, Reader, duration_value, spec, type_name};
use super::replay::{self, ReplayFormat};
use super::{RunDefaults, Scenario};
use crate::market::{AssetSpec, Correlation, KnotPath, Process};
use crate::trader::{Dist, DistKind, ExitRule, PopulationParams, ScriptedAction};
use crate::venue::jlp::formulas::{BorrowCurve, ImpactParams};
use crate::venue::jlp::{CustodyParams, JlpParams};
use crate::venue::{AUTO_COLLATERAL, ExitPlan, Order, OrderKind, Side, VenueSpec};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// Most trader accounts a population may have (the position index is dense).
const MAX_ACCOUNTS: u64 = 100_000;
/// Most steps of a path.
const MAX_STEPS: u64 = 1_000_000_000;

/// What building needs from outside: directories of the files keys came
/// from (to resolve relative data paths) and the data files read.
pub(crate) struct Inputs<'a> {
    pub dirs: &'a BTreeMap<String, PathBuf>,
    pub data: Vec<(String, Vec<u8>)>,
}

/// Reads the whole scenario. Returns `None` when anything is wrong; the
/// reader then holds every issue.
pub(crate) fn build(root: &Table, r: &mut Reader, inputs: &mut Inputs, root_label: &str) -> Option<Scenario> {
    let node = Node::root(root);
    let stem = Path::new(root_label.trim_start_matches("preset:"))
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("scenario")
        .to_string();
    let name = r.string(
        &node,
        spec(
            "name",
            "text",
            "Scenario name; also the default output folder `output/<name>/`.",
        )
        .default_text("the file name"),
        Default::Value(&stem),
    );
    if let Some(n) = &name
        && (n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)))
    {
        r.issue("name", format!("must be letters, digits, '_', '-' or '.', was {n:?}"));
    }
    let description = r.string(
        &node,
        spec("description", "text", "Free text describing the scenario."),
        Default::Value(""),
    );
    let horizon = r.duration(
        &node,
        spec("horizon", "duration", "Length of every path."),
        Default::Required,
    );
    let step = r.duration(
        &node,
        spec("step", "duration", "Time step; must divide the horizon."),
        Default::Value("1m"),
    );
    // `extends` was consumed while loading; document it here.
    r.string(
        &node,
        spec(
            "extends",
            "path",
            "A scenario file (relative to this one) or `preset:NAME` to start from; this file's keys override its keys, tables merge key by key.",
        ),
        Default::None,
    );
    if let (Some(h), Some(s)) = (horizon, step) {
        if h == 0 {
            r.issue("horizon", "must be longer than 0s");
        } else if s == 0 {
            r.issue("step", "must be at least 1s");
        } else if h % s != 0 {
            r.issue(
                "step",
                format!("must divide the horizon ({h}s is not a multiple of {s}s)"),
            );
        } else if h / s > MAX_STEPS {
            r.issue(
                "step",
                format!("gives {} steps; at most {MAX_STEPS} are allowed", h / s),
            );
        }
    }

    let run = match r.table(&node, "run", false) {
        Some(t) => {
            let paths = r.u64(
                &t,
                spec("paths", "count", "Monte Carlo paths (`--paths` overrides)."),
                Default::Value(1000),
                1,
            );
            let seed = r.u64(
                &t,
                spec("seed", "integer", "Master seed (`--seed` overrides)."),
                Default::Value(1),
                0,
            );
            r.finish(&t);
            RunDefaults {
                paths: paths.unwrap_or(1000),
                seed: seed.unwrap_or(1),
            }
        }
        None => RunDefaults { paths: 1000, seed: 1 },
    };

    let horizon_s = horizon.unwrap_or(0);
    let assets = read_assets(r, &node, inputs);
    let correlation = read_correlation(r, &node, &assets);
    let traders = r.table(&node, "traders", false).and_then(|t| {
        let p = read_traders(r, &t, &assets);
        r.finish(&t);
        p
    });
    let pop_accounts = traders.as_ref().map_or(0, |t| t.accounts);
    let (scripted, scripted_accounts) = read_scripted(r, &node, &assets, pop_accounts, horizon_s);
    let lps = r.table(&node, "lps", false).and_then(|t| {
        let p = super::gm::read_lps(r, &t);
        r.finish(&t);
        p
    });
    let venues = read_venues(r, &node, &assets);
    let reported = read_reported(r, &node, &venues);
    r.finish(&node);

    if !r.issues.is_empty() {
        return None;
    }
    Some(Scenario {
        name: name?,
        description: description.unwrap_or_default(),
        horizon_s,
        step_s: step?,
        assets,
        correlation,
        traders,
        lps,
        scripted,
        scripted_accounts,
        venues,
        run,
        reported,
    })
}

fn read_reported(r: &mut Reader, root: &Node, venues: &[VenueSpec]) -> Vec<super::Reported> {
    let Some(list) = r.array(
        root,
        spec(
            "reported",
            "list",
            "Published figures of the event the scenario replays; the report sets each beside the simulated value.",
        ),
        "array of tables",
        false,
    ) else {
        return Vec::new();
    };
    let metrics: Vec<&str> = crate::engine::metrics::METRICS
        .iter()
        .map(|m| m.name)
        .chain(super::RISK_MEASURES)
        .collect();
    let mut out = Vec::new();
    for (i, v) in list.iter().enumerate() {
        let Some(e) = r.element(root, "reported", i, v) else {
            continue;
        };
        let venue = r.string(
            &e,
            spec("venue", "text", "Venue the figure is about."),
            Default::Required,
        );
        let venue = venue.and_then(|name| {
            let found = venues.iter().position(|v| v.name() == name);
            if found.is_none() {
                r.issue(
                    &e.key_path("venue"),
                    format!("no venue named {name:?} in this scenario"),
                );
            }
            found
        });
        let metric = r.choice(
            &e,
            spec(
                "metric",
                "text",
                "A column of `paths.csv` (e.g. `lp_return`) or a risk measure (`var_95`, `cvar_95`, `var_99`, `cvar_99`, `p_lp_loss`, `p_bad_debt`).",
            ),
            &metrics,
            Default::Required,
        );
        let statistic = r.choice(
            &e,
            spec(
                "statistic",
                "text",
                "Statistic over paths compared with the figure; unused for risk measures.",
            ),
            &super::STATISTICS,
            Default::Value("mean"),
        );
        let value = r.f64(
            &e,
            spec("value", "metric unit", "The published figure, in the metric's unit."),
            Default::Required,
            Range::ANY,
        );
        let source = r.string(
            &e,
            spec("source", "text", "Where the figure comes from."),
            Default::Required,
        );
        let basis = r.choice(
            &e,
            spec(
                "basis",
                "text",
                "`reported` (published) or `inferred` (derived from published figures).",
            ),
            &["reported", "inferred"],
            Default::Value("reported"),
        );
        r.finish(&e);
        if let (Some(venue), Some(metric), Some(statistic), Some(value), Some(source), Some(basis)) =
            (venue, metric, statistic, value, source, basis)
        {
            out.push(super::Reported {
                venue,
                metric: metric.to_string(),
                statistic: statistic.to_string(),
                value,
                source,
                inferred: basis == "inferred",
            });
        }
    }
    out
}

fn valid_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

fn read_assets(r: &mut Reader, root: &Node, inputs: &mut Inputs) -> Vec<AssetSpec> {
    let Some(table) = r.table(root, "assets", true) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let entries = r.named_tables(&table, "<asset>");
    if entries.is_empty() {
        r.issue("assets", "must define at least one asset");
    }
    for (name, a) in entries {
        if !valid_ident(&name) {
            r.issue(&a.path, "asset names must be letters, digits, '_', '-' or '.'");
        }
        let stable = r.bool(
            &a,
            spec(
                "stable",
                "flag",
                "Stablecoin: valued at owned · price by JLP-style pools, usable as short collateral.",
            ),
            false,
        );
        let price = r.f64(
            &a,
            spec(
                "price",
                "USD",
                "Price at t = 0. Required, except: 1.0 for stable assets, and for replays the first price of the file (a given price rebases the series).",
            ),
            Default::None,
            Range::POS,
        );
        let process = match r.table(&a, "process", !stable) {
            Some(p) => {
                let proc_ = read_process(r, &p, inputs, stable);
                r.finish(&p);
                proc_
            }
            None => Some((Process::Fixed, None)),
        };
        r.finish(&a);
        // An asset with problems still exists by name, so that later keys
        // referring to it do not report follow-on errors; the scenario is not
        // built while any issue stands.
        let (process, first_price) = process.unwrap_or((Process::Fixed, Some(1.0)));
        let price = match (price, first_price) {
            (Some(p), _) => p,
            (None, Some(p)) => p,
            (None, None) if stable => 1.0,
            (None, None) => {
                r.issue(&a.key_path("price"), "required key is missing");
                1.0
            }
        };
        out.push(AssetSpec {
            name,
            price,
            stable,
            process,
        });
    }
    r.finish(&table);
    out
}

/// Reads a process; for replays also returns the series' first price.
fn read_process(r: &mut Reader, p: &Node, inputs: &mut Inputs, stable: bool) -> Option<(Process, Option<f64>)> {
    let kind = r.choice(
        p,
        spec("kind", "text", "Price process.").default_text("required (fixed for stable assets)"),
        &["fixed", "gbm", "merton", "waypoints", "replay"],
        if stable {
            Default::Value("fixed")
        } else {
            Default::Required
        },
    )?;
    let drift_spec = spec(
        "drift",
        "1/year",
        "Annual drift of the price (GBM, Merton: E[S_t] = S_0·exp(drift·t)).",
    );
    let vol_spec = spec("vol", "1/√year", "Annualized volatility of log returns.");
    let noise_spec = spec(
        "noise_vol",
        "1/√year",
        "Annualized volatility of Brownian-bridge noise between knots, pinned at every knot; after the last knot the path diffuses at this volatility.",
    );
    match kind {
        "fixed" => Some((Process::Fixed, None)),
        "gbm" => {
            let drift = r.f64(p, drift_spec, Default::Value(0.0), Range::ANY);
            let vol = r.f64(p, vol_spec, Default::Required, Range::NON_NEG);
            Some((
                Process::Gbm {
                    drift: drift?,
                    vol: vol?,
                },
                None,
            ))
        }
        "merton" => {
            let drift = r.f64(p, drift_spec, Default::Value(0.0), Range::ANY);
            let vol = r.f64(p, vol_spec, Default::Required, Range::NON_NEG);
            let intensity = r.f64(
                p,
                spec(
                    "jump_intensity",
                    "1/year",
                    "Expected number of jumps per year (Poisson).",
                ),
                Default::Required,
                Range::NON_NEG,
            );
            let jump_mean = r.f64(
                p,
                spec(
                    "jump_mean",
                    "log",
                    "Mean of each jump in log price (-0.1 ≈ a 9.5 % drop).",
                ),
                Default::Required,
                Range::ANY,
            );
            let jump_vol = r.f64(
                p,
                spec("jump_vol", "log", "Standard deviation of each jump in log price."),
                Default::Value(0.0),
                Range::NON_NEG,
            );
            Some((
                Process::Merton {
                    drift: drift?,
                    vol: vol?,
                    jump_intensity: intensity?,
                    jump_mean: jump_mean?,
                    jump_vol: jump_vol?,
                },
                None,
            ))
        }
        "waypoints" => {
            let start = r.duration(
                p,
                spec(
                    "start",
                    "duration",
                    "Time of the first waypoint (or first replay row) after path start.",
                ),
                Default::Value("0s"),
            );
            let noise = r.f64(p, noise_spec, Default::Value(0.0), Range::NON_NEG);
            let points = r.array(
                p,
                spec("points", "[duration, %]", "Waypoints `[time offset, percent change from the starting price]`, time increasing; -30 means 30 % below."),
                "array of [duration, number]",
                true,
            );
            let path = p.key_path("points");
            let (start, noise, points) = (start?, noise?, points?);
            let mut times = Vec::new();
            let mut logs = Vec::new();
            let mut ok = true;
            for (i, pt) in points.iter().enumerate() {
                let loc = format!("{path}[{i}]");
                let parsed = match pt {
                    Value::Array(a) if a.len() == 2 => {
                        let t = duration_value(&a[0]);
                        let pct = match &a[1] {
                            Value::Float(x) => Ok(*x),
                            Value::Integer(x) => Ok(*x as f64),
                            other => Err(format!("percent must be a number, was {}", type_name(other))),
                        };
                        match (t, pct) {
                            (Ok(t), Ok(pct)) if pct.is_finite() && pct > -100.0 => Ok((t, pct)),
                            (Ok(_), Ok(pct)) => {
                                Err(format!("percent change must be a finite number above -100, was {pct}"))
                            }
                            (Err(e), _) => Err(format!("time {e}")),
                            (_, Err(e)) => Err(e),
                        }
                    }
                    _ => Err("must be a pair [time offset, percent change]".into()),
                };
                match parsed {
                    Ok((t, pct)) => {
                        let t = (start + t) as f64;
                        if times.last().is_some_and(|&prev| t <= prev) {
                            r.issue(&loc, "waypoint times must increase");
                            ok = false;
                        }
                        times.push(t);
                        logs.push((1.0 + pct / 100.0).ln());
                    }
                    Err(e) => {
                        r.issue(&loc, e);
                        ok = false;
                    }
                }
            }
            if points.is_empty() {
                r.issue(&path, "must hold at least one waypoint");
                ok = false;
            }
            if !ok {
                return None;
            }
            if times[0] == 0.0 && logs[0] != 0.0 {
                r.issue(
                    &format!("{path}[0]"),
                    "a waypoint at time 0 must be 0 % (the starting price)",
                );
                return None;
            }
            Some((Process::Knots(knots(times, logs, noise, "waypoints".into())), None))
        }
        "replay" => {
            let file = r.string(
                p,
                spec(
                    "file",
                    "path",
                    "CSV file of prices, relative to the scenario file that names it.",
                ),
                Default::Required,
            );
            let format = r.choice(
                p,
                spec(
                    "format",
                    "text",
                    "`price`: a time and a price column; `ohlc`: a time column and open, high, low, close.",
                ),
                &["price", "ohlc"],
                Default::Value("price"),
            );
            let time_column = r.string(
                p,
                spec("time_column", "text", "Name of the time column (numbers)."),
                Default::Value("time"),
            );
            let price_column = r.string(
                p,
                spec("price_column", "text", "Name of the price column (`price` format)."),
                Default::Value("price"),
            );
            let time_unit = r.choice(
                p,
                spec("time_unit", "text", "Unit of the time column."),
                &["s", "ms"],
                Default::Value("s"),
            );
            let ohlc_path = r.choice(
                p,
                spec(
                    "ohlc_path",
                    "text",
                    "`wicks`: open, both extremes and close of each candle (needs a step of at most a quarter candle to see the wicks); `close`: closes only.",
                ),
                &["wicks", "close"],
                Default::Value("wicks"),
            );
            let start = r.duration(
                p,
                spec(
                    "start",
                    "duration",
                    "Time of the first waypoint (or first replay row) after path start.",
                ),
                Default::Value("0s"),
            );
            let noise = r.f64(p, noise_spec, Default::Value(0.0), Range::NON_NEG);
            let (file, format, time_column, price_column, time_unit, ohlc_path, start, noise) = (
                file?,
                format?,
                time_column?,
                price_column?,
                time_unit?,
                ohlc_path?,
                start?,
                noise?,
            );
            let key = p.key_path("file");
            let label_of_key = r.file_of(&key);
            let Some(dir) = inputs.dirs.get(&label_of_key) else {
                r.issue(&key, "a replay file cannot be named inside a preset");
                return None;
            };
            let full = dir.join(&file);
            let label = full.display().to_string();
            let bytes = match std::fs::read(&full) {
                Ok(b) => b,
                Err(e) => {
                    r.issue(&key, format!("cannot read {label}: {e}"));
                    return None;
                }
            };
            let fmt = ReplayFormat {
                ohlc: format == "ohlc",
                close_only: ohlc_path == "close",
                time_column,
                price_column,
                seconds_per_unit: if time_unit == "ms" { 1e-3 } else { 1.0 },
            };
            let series = match replay::parse(&bytes, &fmt) {
                Ok(s) => s,
                Err(errors) => {
                    for (loc, msg) in errors {
                        r.issue_in(&label, loc, format!("{msg} (from {key})"));
                    }
                    return None;
                }
            };
            inputs.data.push((label.clone(), bytes));
            let first = series.prices[0];
            let times: Vec<f64> = series.times_s.iter().map(|t| t + start as f64).collect();
            let logs: Vec<f64> = series.prices.iter().map(|p| (p / first).ln()).collect();
            let origin = Path::new(&file)
                .file_name()
                .map_or(file.clone(), |f| f.to_string_lossy().into_owned());
            Some((Process::Knots(knots(times, logs, noise, origin)), Some(first)))
        }
        _ => unreachable!("choice returns one of the listed kinds"),
    }
}

/// Knots starting at t = 0 (a flat knot is added if the data start later).
fn knots(mut times: Vec<f64>, mut logs: Vec<f64>, noise_vol: f64, origin: String) -> KnotPath {
    if times[0] > 0.0 {
        times.insert(0, 0.0);
        logs.insert(0, 0.0);
    }
    KnotPath {
        times_s: times,
        log_rel: logs,
        noise_vol,
        origin,
    }
}

fn read_correlation(r: &mut Reader, root: &Node, assets: &[AssetSpec]) -> Option<Correlation> {
    let t = r.table(root, "correlation", false)?;
    let names = r.array(
        &t,
        spec(
            "assets",
            "names",
            "Assets whose diffusion drivers are correlated, in matrix order.",
        ),
        "array of strings",
        true,
    );
    let matrix = r.array(
        &t,
        spec(
            "matrix",
            "correlation",
            "Correlation matrix (k×k, symmetric, unit diagonal, positive definite).",
        ),
        "array of arrays",
        true,
    );
    r.finish(&t);
    let (names, matrix) = (names?, matrix?);
    let mut idx = Vec::new();
    for (i, v) in names.iter().enumerate() {
        let loc = format!("correlation.assets[{i}]");
        match v {
            Value::String(s) => match assets.iter().position(|a| &a.name == s) {
                Some(a) if idx.contains(&a) => r.issue(&loc, format!("{s} is listed twice")),
                Some(a) if !assets[a].process.has_noise() => r.issue(
                    &loc,
                    format!("{s} has no random driver (fixed price, or a replay without noise_vol)"),
                ),
                Some(a) => idx.push(a),
                None => r.issue(&loc, format!("no asset named {s:?}")),
            },
            other => r.issue(&loc, format!("must be an asset name, was {}", type_name(other))),
        }
    }
    let mut flat = Vec::new();
    for (i, row) in matrix.iter().enumerate() {
        let Value::Array(row) = row else {
            r.issue(&format!("correlation.matrix[{i}]"), "must be an array of numbers");
            return None;
        };
        for (j, v) in row.iter().enumerate() {
            match v {
                Value::Float(x) if x.is_finite() => flat.push(*x),
                Value::Integer(x) => flat.push(*x as f64),
                other => {
                    r.issue(
                        &format!("correlation.matrix[{i}][{j}]"),
                        format!("must be a finite number, was {}", describe(other)),
                    );
                    return None;
                }
            }
        }
        if row.len() != names.len() {
            r.issue(
                &format!("correlation.matrix[{i}]"),
                format!("must have {} entries, has {}", names.len(), row.len()),
            );
            return None;
        }
    }
    if matrix.len() != names.len() {
        r.issue(
            "correlation.matrix",
            format!("must have {} rows, has {}", names.len(), matrix.len()),
        );
        return None;
    }
    if idx.len() != names.len() {
        return None;
    }
    match Correlation::new(idx, flat) {
        Ok(c) => Some(c),
        Err(e) => {
            r.issue("correlation.matrix", e);
            None
        }
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Float(x) => x.to_string(),
        other => type_name(other).to_string(),
    }
}

/// Value kinds of distributions.
#[derive(Clone, Copy)]
pub(super) enum DistUnit {
    Number,
    Duration,
}

/// Reads a distribution table (`leverage`, `notional_usd`, `holding`, `deposit_usd`, `withdraw_usd`).
pub(super) fn read_dist(r: &mut Reader, parent: &Node, key: &'static str, unit: DistUnit, floor: f64) -> Option<Dist> {
    // leverage, notional_usd and holding share one shape: document it once.
    let pattern = format!("{}.<distribution>", parent.pattern_str());
    let t = r.table_as(parent, key, true, pattern)?;
    let kind = r.choice(
        &t,
        spec(
            "dist",
            "text",
            "Shape of a distribution: `traders.leverage` (x; draws are clamped to the venue's leverage range), `traders.notional_usd` and `lps.deposit_usd` / `lps.withdraw_usd` (USD) or `traders.holding` (duration); each takes the keys of its shape plus min and max.",
        ),
        &["fixed", "uniform", "lognormal", "pareto", "exponential"],
        Default::Required,
    );
    let as_duration = matches!(unit, DistUnit::Duration);
    let uname = "table's unit";
    let num = |r: &mut Reader, k: &'static str, d: &'static str, def: Default<f64>, range: Range| -> Option<f64> {
        r.amount(&t, spec(k, uname, d), def, range, as_duration)
    };
    let shape = match kind? {
        "fixed" => num(
            r,
            "value",
            "The value (dist = fixed).",
            Default::Required,
            Range::at_least(floor),
        )
        .map(|value| DistKind::Fixed { value }),
        "uniform" => {
            let lo = num(
                r,
                "low",
                "Lower end (dist = uniform).",
                Default::Required,
                Range::at_least(floor),
            );
            let hi = num(
                r,
                "high",
                "Upper end (dist = uniform).",
                Default::Required,
                Range::at_least(floor),
            );
            match (lo, hi) {
                (Some(lo), Some(hi)) if hi >= lo => Some(DistKind::Uniform { lo, hi }),
                (Some(lo), Some(hi)) => {
                    r.issue(&t.key_path("high"), format!("must be ≥ low ({lo}), was {hi}"));
                    None
                }
                _ => None,
            }
        }
        "lognormal" => {
            let median = num(r, "median", "Median (dist = lognormal).", Default::Required, Range::POS);
            let sigma = r.f64(
                &t,
                spec("sigma", "log", "Standard deviation of the log (dist = lognormal)."),
                Default::Required,
                Range::NON_NEG,
            );
            Some(DistKind::LogNormal {
                median: median?,
                sigma: sigma?,
            })
        }
        "pareto" => {
            let scale = num(
                r,
                "scale",
                "Scale, the smallest value (dist = pareto).",
                Default::Required,
                Range::POS,
            );
            let alpha = r.f64(
                &t,
                spec(
                    "alpha",
                    "index",
                    "Tail index: P(X > x) = (scale/x)^alpha (dist = pareto).",
                ),
                Default::Required,
                Range::POS,
            );
            Some(DistKind::Pareto {
                scale: scale?,
                alpha: alpha?,
            })
        }
        "exponential" => num(r, "mean", "Mean (dist = exponential).", Default::Required, Range::POS)
            .map(|mean| DistKind::Exponential { mean }),
        _ => None,
    };
    let min = r.amount(
        &t,
        spec("min", "table's unit", "Draws below are raised to this.").default_text("1 for leverage, else 0"),
        Default::Value(floor),
        Range::at_least(floor),
        as_duration,
    );
    let max = num(
        r,
        "max",
        "Draws above are lowered to this (none: no cap).",
        Default::Value(f64::INFINITY),
        Range::POS,
    );
    r.finish(&t);
    let (kind, min, max) = (shape?, min?, max?);
    if max < min {
        r.issue(&t.key_path("max"), format!("must be ≥ min ({min}), was {max}"));
        return None;
    }
    Some(Dist { kind, min, max })
}

fn read_exit(r: &mut Reader, parent: &Node, key: &'static str) -> Option<ExitRule> {
    let t = r.table(parent, key, false)?;
    let probability = r.f64(
        &t,
        spec("probability", "fraction", "Share of arrivals that set this exit."),
        Default::Required,
        Range::UNIT,
    );
    let roe = r.f64(
        &t,
        spec(
            "roe",
            "fraction",
            "Level as a return on collateral: 0.5 = half the collateral lost (stop) or gained (target).",
        ),
        Default::Required,
        Range::POS,
    );
    r.finish(&t);
    Some(ExitRule {
        probability: probability?,
        roe: roe?,
    })
}

/// Reads a name → weight table over a subset of assets; absent: equal weights.
fn read_weights(
    r: &mut Reader,
    t: &Node,
    key: &'static str,
    doc: &'static str,
    assets: &[AssetSpec],
    allowed: &dyn Fn(&AssetSpec) -> bool,
    what: &str,
) -> Option<(Vec<usize>, Vec<f64>)> {
    let path = t.key_path(key);
    match r.number_map(t, spec(key, "weights", doc).default_text("equal weights"), Range::POS) {
        None => {
            if t.has(key) {
                return None;
            }
            let idx: Vec<usize> = (0..assets.len()).filter(|&i| allowed(&assets[i])).collect();
            let w = vec![1.0 / idx.len().max(1) as f64; idx.len()];
            Some((idx, w))
        }
        Some(entries) => {
            let mut idx = Vec::new();
            let mut w = Vec::new();
            for (name, weight) in entries {
                match assets.iter().position(|a| a.name == name) {
                    Some(i) if allowed(&assets[i]) => {
                        idx.push(i);
                        w.push(weight);
                    }
                    Some(_) => r.issue(&format!("{path}.{name}"), format!("{name} is not {what}")),
                    None => r.issue(&format!("{path}.{name}"), format!("no asset named {name:?}")),
                }
            }
            let sum: f64 = w.iter().sum();
            if !idx.is_empty() && (sum - 1.0).abs() > 1e-6 {
                r.issue(
                    &path,
                    format!("weights must sum to 1, sum is {}", (sum * 1e9).round() / 1e9),
                );
                return None;
            }
            Some((idx, w))
        }
    }
}

fn cumulative(w: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    let mut out: Vec<f64> = w
        .iter()
        .map(|x| {
            acc += x;
            acc
        })
        .collect();
    if let Some(last) = out.last_mut() {
        *last = 1.0;
    }
    out
}

fn read_traders(r: &mut Reader, t: &Node, assets: &[AssetSpec]) -> Option<PopulationParams> {
    let accounts = r.u64(t, spec("accounts", "count", "Trader accounts; arrivals pick one at random, and an account's positions in the same market, side and collateral merge."), Default::Value(1000), 1);
    if let Some(a) = accounts
        && a > MAX_ACCOUNTS
    {
        r.issue(
            &t.key_path("accounts"),
            format!("must be at most {MAX_ACCOUNTS}, was {a}"),
        );
    }
    let rate = r.f64(
        t,
        spec(
            "arrival_rate_per_hour",
            "1/hour",
            "New orders per hour (Poisson arrivals).",
        ),
        Default::Required,
        Range::NON_NEG,
    );
    let markets = read_weights(
        r,
        t,
        "markets",
        "Share of arrivals per market (non-stable assets); default: equal.",
        assets,
        &|a| !a.stable,
        "a tradable (non-stable) asset",
    );
    let long_share = r.f64(
        t,
        spec("long_share", "fraction", "Probability that an arrival is long."),
        Default::Value(0.5),
        Range::UNIT,
    );
    let by_market = r.number_map(
        t,
        spec(
            "long_share_by_market",
            "fractions",
            "Per-market override of long_share, e.g. `{ SOL = 0.7 }`.",
        ),
        Range::UNIT,
    );
    let collateral = read_weights(
        r,
        t,
        "short_collateral",
        "Share of shorts per stablecoin collateral; default: equal over stable assets.",
        assets,
        &|a| a.stable,
        "a stable asset",
    );
    let leverage = read_dist(r, t, "leverage", DistUnit::Number, 1.0);
    let notional = read_dist(r, t, "notional_usd", DistUnit::Number, 0.0);
    let holding = read_dist(r, t, "holding", DistUnit::Duration, 0.0);
    let stop_loss = read_exit(r, t, "stop_loss");
    let take_profit = read_exit(r, t, "take_profit");
    let warm_start = r.bool(t, spec("warm_start", "flag", "Start every path with the stationary book (positions opened before t = 0 and still open) instead of an empty one."), true);
    let (markets, collateral) = (markets?, collateral?);
    if markets.0.is_empty() {
        r.issue(&t.key_path("markets"), "no tradable asset: every asset is stable");
        return None;
    }
    let default_share = long_share?;
    let mut shares = vec![default_share; markets.0.len()];
    if let Some(entries) = by_market {
        for (name, s) in entries {
            match markets.0.iter().position(|&i| assets[i].name == name) {
                Some(j) => shares[j] = s,
                None => r.issue(
                    &format!("{}.{name}", t.key_path("long_share_by_market")),
                    format!("{name} is not one of the traded markets"),
                ),
            }
        }
    }
    Some(PopulationParams {
        accounts: accounts?.min(MAX_ACCOUNTS) as u32,
        arrival_rate_per_hour: rate?,
        markets: markets.0,
        market_cum_weights: cumulative(&markets.1),
        long_share: shares,
        short_collateral: collateral.0,
        short_collateral_cum_weights: cumulative(&collateral.1),
        leverage: leverage?,
        notional_usd: notional?,
        holding_s: holding?,
        stop_loss,
        take_profit,
        warm_start,
    })
}

fn read_scripted(
    r: &mut Reader,
    root: &Node,
    assets: &[AssetSpec],
    first_id: u32,
    horizon_s: u64,
) -> (Vec<ScriptedAction>, Vec<String>) {
    let Some(t) = r.table(root, "scripted", false) else {
        return (Vec::new(), Vec::new());
    };
    let mut actions = Vec::new();
    let mut names = Vec::new();
    for (name, acc) in r.named_tables(&t, "<account>") {
        let id = first_id + names.len() as u32;
        names.push(name);
        let Some(list) = r.array(
            &acc,
            spec("actions", "list", "Timed orders of this account, in any order."),
            "array of tables",
            true,
        ) else {
            r.finish(&acc);
            continue;
        };
        for (i, v) in list.iter().enumerate() {
            let Some(a) = r.element(&acc, "actions", i, v) else {
                continue;
            };
            if let Some(act) = read_action(r, &a, assets, id, horizon_s) {
                actions.push(act);
            }
            r.finish(&a);
        }
        r.finish(&acc);
    }
    r.finish(&t);
    actions.sort_by_key(|a: &ScriptedAction| a.at_s);
    (actions, names)
}

fn read_action(r: &mut Reader, a: &Node, assets: &[AssetSpec], account: u32, horizon_s: u64) -> Option<ScriptedAction> {
    let at = r.duration(
        a,
        spec(
            "at",
            "duration",
            "When to submit; executed at the first step at or after this time.",
        ),
        Default::Required,
    );
    let action = r.choice(
        a,
        spec("action", "text", "What to do."),
        &["open", "increase", "close", "add_collateral", "withdraw_collateral"],
        Default::Required,
    );
    let market = r.string(a, spec("market", "asset", "Market traded."), Default::Required);
    let side = r.choice(
        a,
        spec("side", "text", "Position side."),
        &["long", "short"],
        Default::Required,
    );
    let collateral = r.string(
        a,
        spec("collateral", "asset", "Collateral token (default: the venue's choice: on JLP the market's token for longs and the first stablecoin for shorts; on GM the market's long token for longs and its short token for shorts; on order-book venues the settlement stablecoin)."),
        Default::None,
    );
    let cross = r.choice(
        a,
        spec(
            "margin",
            "text",
            "`isolated` (the position's own margin) or `cross` (the account's shared collateral); order-book venues only, the pool designs ignore it.",
        ),
        &["isolated", "cross"],
        Default::Value("isolated"),
    ) == Some("cross");
    let kind = match action? {
        "open" | "increase" => {
            let size = r.f64(
                a,
                spec(
                    "size_usd",
                    "USD",
                    "Size to open, increase or (optionally) close; a close without it closes fully.",
                ),
                Default::Required,
                Range::POS,
            );
            let col = r.f64(
                a,
                spec(
                    "collateral_usd",
                    "USD",
                    "Collateral deposited with an open or increase.",
                ),
                Default::Required,
                Range::NON_NEG,
            );
            OrderKind::Increase {
                size_usd: size?,
                collateral_usd: col?,
            }
        }
        "close" => OrderKind::Decrease {
            size_usd: r.f64(
                a,
                spec(
                    "size_usd",
                    "USD",
                    "Size to open, increase or (optionally) close; a close without it closes fully.",
                ),
                Default::None,
                Range::POS,
            ),
        },
        kind => {
            let amount = r.f64(
                a,
                spec("amount_usd", "USD", "Collateral added or withdrawn."),
                Default::Required,
                Range::POS,
            )?;
            if kind == "add_collateral" {
                OrderKind::AddCollateral { usd: amount }
            } else {
                OrderKind::WithdrawCollateral { usd: amount }
            }
        }
    };
    let (at, market, side) = (at?, market?, side?);
    if at > horizon_s {
        r.issue(&a.key_path("at"), format!("is after the horizon ({horizon_s}s)"));
    }
    let Some(m) = assets.iter().position(|x| x.name == market) else {
        r.issue(&a.key_path("market"), format!("no asset named {market:?}"));
        return None;
    };
    let side = if side == "long" { Side::Long } else { Side::Short };
    let c = match collateral {
        Some(c) => match assets.iter().position(|x| x.name == c) {
            Some(i) => i,
            None => {
                r.issue(&a.key_path("collateral"), format!("no asset named {c:?}"));
                return None;
            }
        },
        None => AUTO_COLLATERAL,
    };
    Some(ScriptedAction {
        at_s: at,
        order: Order {
            account,
            market: m,
            side,
            collateral: c,
            kind,
            exit: ExitPlan::NONE,
            cross,
        },
    })
}

fn read_venues(r: &mut Reader, root: &Node, assets: &[AssetSpec]) -> Vec<VenueSpec> {
    let Some(t) = r.table(root, "venues", true) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let entries = r.named_tables(&t, "<venue>");
    if entries.is_empty() {
        r.issue("venues", "must define at least one venue");
    }
    for (name, v) in entries {
        if !valid_ident(&name) {
            r.issue(&v.path, "venue names must be letters, digits, '_', '-' or '.'");
        }
        let kind = r.choice(
            &v,
            spec(
                "kind",
                "text",
                "Pool design: `jlp` (Jupiter-style index pool), `gm` (GMX GM markets), `glv` (GM markets in a GLV), `hlp` or `llp` (order-book vaults in the Hyperliquid or Lighter style).",
            ),
            &["jlp", "gm", "glv", "hlp", "llp"],
            Default::Required,
        );
        let spec_ = match kind {
            Some("jlp") => read_jlp(r, &v, &name, assets).map(VenueSpec::Jlp),
            Some(k @ ("gm" | "glv")) => super::gm::read_gm(r, &v, &name, assets, k == "glv").map(VenueSpec::Gm),
            Some(k @ ("hlp" | "llp")) => super::book::read_book(r, &v, &name, assets, k == "llp").map(VenueSpec::Book),
            _ => None,
        };
        r.finish(&v);
        if let Some(s) = spec_ {
            out.push(s);
        }
    }
    r.finish(&t);
    out
}

fn inherit<T: Copy>(base: T, is_override: bool) -> Default<T> {
    if is_override {
        Default::Inherited(base)
    } else {
        Default::Value(base)
    }
}

fn read_borrow(r: &mut Reader, node: Option<&Node>, base: BorrowCurve, is_override: bool) -> Option<BorrowCurve> {
    let Some(t) = node else {
        return Some(base);
    };
    let min = r.f64(
        t,
        spec("min_rate", "APR", "Borrow rate at zero utilization (0.10 = 10 %/year)."),
        inherit(base.min_rate, is_override),
        Range::NON_NEG,
    );
    let target = r.f64(
        t,
        spec(
            "target_rate",
            "APR",
            "Borrow rate at the target utilization (the kink).",
        ),
        inherit(base.target_rate, is_override),
        Range::NON_NEG,
    );
    let max = r.f64(
        t,
        spec("max_rate", "APR", "Borrow rate at full utilization."),
        inherit(base.max_rate, is_override),
        Range::NON_NEG,
    );
    let tu = r.f64(
        t,
        spec(
            "target_utilization",
            "fraction",
            "Utilization (locked / owned) of the kink.",
        ),
        inherit(base.target_utilization, is_override),
        Range::OPEN_UNIT,
    );
    r.finish(t);
    let c = BorrowCurve {
        min_rate: min?,
        max_rate: max?,
        target_rate: target?,
        target_utilization: tu?,
    };
    if !(c.min_rate <= c.target_rate && c.target_rate <= c.max_rate) {
        r.issue(
            &t.key_path("target_rate"),
            format!(
                "must lie between min_rate ({}) and max_rate ({}), was {}",
                c.min_rate, c.max_rate, c.target_rate
            ),
        );
        return None;
    }
    Some(c)
}

fn read_impact(r: &mut Reader, node: Option<&Node>, base: ImpactParams, is_override: bool) -> Option<ImpactParams> {
    let Some(t) = node else {
        return Some(base);
    };
    let scalar = r.f64(
        t,
        spec(
            "scalar_usd",
            "USD",
            "Linear impact scalar S: the fee fraction is size / S (0 disables).",
        ),
        inherit(base.scalar_usd, is_override),
        Range::NON_NEG,
    );
    let thr = r.f64(
        t,
        spec(
            "additive_threshold_usd",
            "USD",
            "Window imbalance above which the additive impact applies.",
        ),
        inherit(base.additive_threshold_usd, is_override),
        Range::NON_NEG,
    );
    let factor = r.f64(
        t,
        spec(
            "additive_factor",
            "fraction",
            "Additive fee per multiple of the threshold (1e-4 = 1 bps).",
        ),
        inherit(base.additive_factor, is_override),
        Range::NON_NEG,
    );
    let exp = r.f64(
        t,
        spec("additive_exponent", "power", "Exponent on imbalance / threshold."),
        inherit(base.additive_exponent, is_override),
        Range::POS,
    );
    let max_fee = r.f64(
        t,
        spec("max_fee_bps", "bps", "Cap on the total fee: base + linear + additive."),
        inherit(base.max_fee_bps, is_override),
        Range::NON_NEG,
    );
    let window = r.duration(
        t,
        spec(
            "window",
            "duration",
            "Length of the signed open-interest window (1 slot per second).",
        ),
        if is_override {
            Default::Inherited("60s")
        } else {
            Default::Value("60s")
        },
    );
    r.finish(t);
    let window = if t.has("window") { window? } else { base.window_s };
    if !(1..=3600).contains(&window) {
        r.issue(
            &t.key_path("window"),
            format!("must be between 1s and 3600s, was {window}s"),
        );
        return None;
    }
    Some(ImpactParams {
        scalar_usd: scalar?,
        additive_threshold_usd: thr?,
        additive_factor: factor?,
        additive_exponent: exp?,
        max_fee_bps: max_fee?,
        window_s: window,
    })
}

fn read_jlp(r: &mut Reader, v: &Node, name: &str, assets: &[AssetSpec]) -> Option<JlpParams> {
    let aum = r.f64(
        v,
        spec(
            "aum_usd",
            "USD",
            "Pool value at t = 0, split across custodies by weight.",
        ),
        Default::Required,
        Range::POS,
    );
    let lp_price = r.f64(
        v,
        spec("lp_price_usd", "USD", "LP token price at t = 0 (sets the supply)."),
        Default::Value(1.0),
        Range::POS,
    );
    let max_lev = r.f64(
        v,
        spec(
            "max_leverage",
            "x",
            "Maximum leverage (size / collateral) at open and after a withdrawal.",
        ),
        Default::Value(100.0),
        Range::at_least(1.0),
    );
    let min_lev = r.f64(
        v,
        spec(
            "min_leverage",
            "x",
            "Minimum leverage (size / collateral) at open and after adding collateral (Jupiter: 1.1x); at least 1.",
        ),
        Default::Value(1.1),
        Range::at_least(1.0),
    );
    let mm = r.f64(
        v,
        spec(
            "maintenance_margin",
            "fraction",
            "Liquidation when equity after closing costs falls below this share of size (Jupiter: 1/500).",
        ),
        Default::Value(0.002),
        Range::OPEN_UNIT,
    );
    let base_fee = r.f64(
        v,
        spec("base_fee_bps", "bps", "Base open and close fee (also on liquidations)."),
        Default::Value(6.0),
        Range::NON_NEG,
    );
    let share = r.f64(
        v,
        spec(
            "protocol_share",
            "fraction",
            "Protocol's share of fees; the rest goes to the pool (Jupiter: 25 %).",
        ),
        Default::Value(0.25),
        Range::UNIT,
    );
    let max_util = r.f64(
        v,
        spec(
            "max_utilization",
            "fraction",
            "No open or increase may take a custody's utilization above this (Jupiter blocks limit orders above 80 %).",
        ),
        Default::Value(0.8),
        Range::UNIT_POS,
    );
    let borrow_node = r.table(v, "borrow", false);
    let borrow = read_borrow(r, borrow_node.as_ref(), BorrowCurve::JUPITER_J1, false);
    let impact_node = r.table(v, "impact", false);
    let impact = read_impact(r, impact_node.as_ref(), ImpactParams::JUPITER_SOL_2025, false);
    let ct = r.table(v, "custodies", true)?;
    let mut custodies = Vec::new();
    let mut weight_sum = 0.0;
    let mut ok = true;
    for (token, c) in r.named_tables(&ct, "<token>") {
        let asset = assets.iter().position(|a| a.name == token);
        if asset.is_none() {
            r.issue(&c.path, format!("no asset named {token:?}"));
        }
        let weight = r.f64(
            &c,
            spec(
                "weight",
                "fraction",
                "Share of the starting AUM held in this token; weights sum to 1.",
            ),
            Default::Required,
            Range::UNIT,
        );
        let target = r.f64(
            &c,
            spec(
                "target_weight",
                "fraction",
                "Target share of AUM (reported; defaults to weight).",
            ),
            Default::None,
            Range::UNIT,
        );
        let bn = r.table(&c, "borrow", false);
        let cb = borrow.and_then(|b| read_borrow(r, bn.as_ref(), b, true));
        let inn = r.table(&c, "impact", false);
        let ci = impact.and_then(|i| read_impact(r, inn.as_ref(), i, true));
        let max_pos = r.f64(
            &c,
            spec(
                "max_position_usd",
                "USD",
                "Cap on one position's size in this market (Jupiter: $2.5M).",
            ),
            Default::Value(2.5e6),
            Range::POS,
        );
        let max_long = r.f64(
            &c,
            spec(
                "max_global_long_usd",
                "USD",
                "Cap on total long size in this market (none: no cap).",
            ),
            Default::None,
            Range::POS,
        );
        let max_short = r.f64(
            &c,
            spec(
                "max_global_short_usd",
                "USD",
                "Cap on total short size in this market (none: no cap).",
            ),
            Default::None,
            Range::POS,
        );
        r.finish(&c);
        let (Some(asset), Some(weight), Some(cb), Some(ci), Some(max_pos)) = (asset, weight, cb, ci, max_pos) else {
            ok = false;
            continue;
        };
        weight_sum += weight;
        custodies.push(CustodyParams {
            asset,
            stable: assets[asset].stable,
            weight,
            target_weight: target.unwrap_or(weight),
            borrow: cb,
            impact: ci,
            max_position_usd: max_pos,
            max_global_long_usd: max_long.unwrap_or(f64::INFINITY),
            max_global_short_usd: max_short.unwrap_or(f64::INFINITY),
        });
    }
    r.finish(&ct);
    if !ok {
        return None;
    }
    if (weight_sum - 1.0).abs() > 1e-6 {
        r.issue(
            &ct.path,
            format!(
                "custody weights must sum to 1, sum is {}",
                (weight_sum * 1e9).round() / 1e9
            ),
        );
        return None;
    }
    if !custodies.iter().any(|c| !c.stable) {
        r.issue(&ct.path, "needs at least one non-stable custody (a tradable market)");
        return None;
    }
    custodies.sort_by_key(|c| c.asset);
    if let (Some(lo), Some(hi)) = (min_lev, max_lev)
        && lo > hi
    {
        r.issue(
            &v.key_path("min_leverage"),
            format!("must be ≤ max_leverage ({hi}), was {lo}"),
        );
        return None;
    }
    Some(JlpParams {
        name: name.to_string(),
        aum_usd: aum?,
        lp_price_usd: lp_price?,
        max_leverage: max_lev?,
        min_leverage: min_lev?,
        maintenance_margin: mm?,
        base_fee_bps: base_fee?,
        protocol_share: share?,
        max_utilization: max_util?,
        custodies,
    })
}
