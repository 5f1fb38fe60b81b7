//! perpsim: a Monte Carlo simulator of liquidity-pool perpetual exchanges.
//!
//! In a pool-based perp exchange a vault is the counterparty to traders: when
//! traders win, LPs lose. perpsim models such vaults (Jupiter's JLP first, with
//! GMX-style GM/GLV pools and Hyperliquid/Lighter-style order-book vaults behind
//! the same [`venue::Venue`] interface) and answers two questions: what is the
//! distribution of an LP's return, tail loss and bad debt, and which fee and risk
//! parameters keep LPs safe.
//!
//! The data flow of one run:
//!
//! ```text
//! scenario file ─► scenario::load ─► Scenario ─► montecarlo::MonteCarlo
//!                                                   │  per path (seeded from master seed + index)
//!                                                   ▼
//!                       market (prices) ─► engine::run_path ◄─ trader (population, scripted)
//!                                                   │  venue: accrue, trade, liquidate, ledger
//!                                                   ▼
//!                                   PathMetrics rows ─► report (paths.csv, summary.json, trace)
//! ```
//!
//! The model layers (`market`, `venue`, `trader`, `engine`, `montecarlo`) do no
//! I/O: they are handed a validated [`scenario::Scenario`] and a seed and return
//! results. Only `scenario` (reading files), `report` (writing files) and `cli`
//! touch the file system.

pub mod cli;
pub mod engine;
pub mod market;
pub mod montecarlo;
pub mod report;
pub mod scenario;
pub mod sweep;
pub mod trader;
pub mod units;
pub mod venue;

pub use engine::metrics::{METRICS, PathMetrics};
pub use montecarlo::MonteCarlo;
pub use scenario::Scenario;
