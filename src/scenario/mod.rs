//! Scenario files: the user's interface.
//!
//! A scenario is a TOML file (optionally extending another file or a built-in
//! preset) that is read into a plain, validated [`Scenario`]. This layer is
//! the only one that reads input files: the TOML itself and replayed price
//! series. Validation collects every problem at once, each naming the file,
//! the key path and the reason; nothing here panics on any input.
//!
//! The key reference (every key, unit and default) is generated from the
//! reader itself; see `docs/scenario-reference.md`.

mod book;
mod build;
mod gm;
mod load;
mod presets;
mod reader;
mod reference;
mod replay;
mod stress;

pub use load::{LoadedScenario, ScenarioError, load, load_str, load_with};
pub use reader::{Issue, KeyDoc};
pub use reference::reference_markdown;
pub use stress::stress_grid_toml;

use crate::market::{AssetSpec, Correlation};
use crate::trader::{LpFlowParams, PopulationParams, ScriptedAction};
use crate::venue::VenueSpec;

/// A validated scenario, ready to run. Units are fixed: seconds, USD,
/// annual fractions.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Name; also the default output folder.
    pub name: String,
    /// Free text describing the scenario.
    pub description: String,
    /// Length of a path, seconds.
    pub horizon_s: u64,
    /// Time step, seconds; divides the horizon.
    pub step_s: u64,
    /// Assets in scenario order (their index is used everywhere).
    pub assets: Vec<AssetSpec>,
    /// Correlation of diffusion drivers, if any.
    pub correlation: Option<Correlation>,
    /// The trader population, if any.
    pub traders: Option<PopulationParams>,
    /// LP deposits, withdrawals and run rule, if any.
    pub lps: Option<LpFlowParams>,
    /// Scripted orders, sorted by time.
    pub scripted: Vec<ScriptedAction>,
    /// Names of scripted accounts; account id = population accounts + position here.
    pub scripted_accounts: Vec<String>,
    /// Venues in scenario order.
    pub venues: Vec<VenueSpec>,
    /// Defaults of `perpsim run`.
    pub run: RunDefaults,
    /// Published figures of the event the scenario replays, set beside the
    /// simulated ones in the report.
    pub reported: Vec<Reported>,
}

/// A published (or inferred) figure to compare a run against.
#[derive(Debug, Clone, PartialEq)]
pub struct Reported {
    /// Venue index in scenario order.
    pub venue: usize,
    /// A metric name of `paths.csv`, or a risk measure of `summary.json`
    /// (`var_95`, `cvar_95`, `var_99`, `cvar_99`, `p_lp_loss`, `p_bad_debt`).
    pub metric: String,
    /// Statistic of the metric over paths (`mean`, `p5`, ...); unused for risk measures.
    pub statistic: String,
    /// The published value, in the metric's unit.
    pub value: f64,
    /// Where the figure comes from.
    pub source: String,
    /// Whether the figure is an inference rather than a reported number.
    pub inferred: bool,
}

impl Reported {
    /// What the figure is: the risk measure, or "STATISTIC of METRIC".
    pub fn what(&self) -> String {
        if RISK_MEASURES.contains(&self.metric.as_str()) {
            self.metric.clone()
        } else {
            format!("{} of {}", self.statistic, self.metric)
        }
    }
}

/// Risk measures a [`Reported`] figure may name.
pub const RISK_MEASURES: [&str; 6] = ["var_95", "cvar_95", "var_99", "cvar_99", "p_lp_loss", "p_bad_debt"];

/// Statistics a [`Reported`] figure may name.
pub const STATISTICS: [&str; 9] = ["mean", "std", "min", "p1", "p5", "p50", "p95", "p99", "max"];

/// Run defaults a scenario can set; the command line overrides them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunDefaults {
    /// Monte Carlo paths.
    pub paths: u64,
    /// Master seed.
    pub seed: u64,
}

impl Scenario {
    /// Number of steps of a path.
    pub fn steps(&self) -> u64 {
        self.horizon_s / self.step_s
    }

    /// Asset names in scenario order.
    pub fn asset_names(&self) -> Vec<String> {
        self.assets.iter().map(|a| a.name.clone()).collect()
    }

    /// Number of trader accounts (population plus scripted).
    pub fn max_accounts(&self) -> u32 {
        self.traders.as_ref().map_or(0, |t| t.accounts) + self.scripted_accounts.len() as u32
    }

    /// Display name of an account id.
    pub fn account_name(&self, id: u32) -> String {
        if id == u32::MAX {
            return String::new();
        }
        let pop = self.traders.as_ref().map_or(0, |t| t.accounts);
        match id.checked_sub(pop) {
            Some(i) if (i as usize) < self.scripted_accounts.len() => self.scripted_accounts[i as usize].clone(),
            _ => format!("trader{id}"),
        }
    }
}
