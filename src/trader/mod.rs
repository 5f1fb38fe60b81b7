//! Who trades: a random population of traders and scripted accounts.
//!
//! The population draws a fixed sequence of random numbers per arrival that
//! does not depend on how the venue answers, so several venues driven by the
//! same trader seed see exactly the same demand (common random numbers).
//! Scripted accounts replay timed orders from the scenario, for exact tests
//! and adversaries. LP flows deposit into and withdraw from a venue's LP
//! token, including a run when the LP price draws down.

mod lps;
mod population;
mod scripted;

pub use lps::{LpFlowParams, LpFlows, MixRule, RunRule};
pub use population::{Dist, DistKind, ExitRule, Population, PopulationParams};
pub use scripted::{Script, ScriptedAction};
