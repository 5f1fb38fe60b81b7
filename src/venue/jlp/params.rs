//! Validated parameters of a JLP-style venue.

use super::formulas::{BorrowCurve, ImpactParams};

/// A Jupiter-style pool: one multi-asset pool is the counterparty of every
/// market. Longs are backed by the market's own token, shorts by stablecoins.
#[derive(Debug, Clone, PartialEq)]
pub struct JlpParams {
    /// Venue name from the scenario.
    pub name: String,
    /// Pool value at t = 0, USD, split across custodies by weight.
    pub aum_usd: f64,
    /// LP token price at t = 0, USD; sets the LP supply.
    pub lp_price_usd: f64,
    /// Maximum leverage at open and after a withdrawal, size / collateral.
    pub max_leverage: f64,
    /// Minimum leverage at open and after adding collateral (Jupiter: 1.1x).
    /// At 1x or more, a long's payouts never exceed its locked tokens.
    pub min_leverage: f64,
    /// Maintenance margin as a fraction of size (Jupiter: 1/500 = 0.2 %).
    pub maintenance_margin: f64,
    /// Base open and close fee, bps of size.
    pub base_fee_bps: f64,
    /// Protocol's share of fees (Jupiter: 25 %); the rest goes to the pool.
    pub protocol_share: f64,
    /// No new position or increase may take a custody's utilization above this.
    pub max_utilization: f64,
    /// One custody per token, in scenario asset order.
    pub custodies: Vec<CustodyParams>,
}

/// One custody (token) of the pool.
#[derive(Debug, Clone, PartialEq)]
pub struct CustodyParams {
    /// Scenario asset index of the token.
    pub asset: usize,
    /// Stablecoin custody: valued at owned · price; usable as short collateral.
    pub stable: bool,
    /// Share of the starting AUM held in this token, fraction.
    pub weight: f64,
    /// Target share of AUM, fraction (reported against the actual weight).
    pub target_weight: f64,
    /// Borrow curve of positions that lock this custody.
    pub borrow: BorrowCurve,
    /// Price impact of trades in this market (non-stable custodies).
    pub impact: ImpactParams,
    /// Cap on one position's size, USD (`INFINITY`: none).
    pub max_position_usd: f64,
    /// Cap on total long size in this market, USD (`INFINITY`: none).
    pub max_global_long_usd: f64,
    /// Cap on total short size in this market, USD (`INFINITY`: none).
    pub max_global_short_usd: f64,
}

impl JlpParams {
    /// Resolved parameters as readable lines.
    pub fn describe(&self, asset_names: &[String]) -> Vec<String> {
        let mut out = vec![format!(
            "AUM ${:.0}, LP price ${}, leverage {}x to {}x, maintenance {:.3}% of size, base fee {} bps, protocol share {}%, utilization cap {}%",
            self.aum_usd,
            self.lp_price_usd,
            self.min_leverage,
            self.max_leverage,
            self.maintenance_margin * 100.0,
            self.base_fee_bps,
            self.protocol_share * 100.0,
            self.max_utilization * 100.0
        )];
        for c in &self.custodies {
            let name = &asset_names[c.asset];
            let b = &c.borrow;
            let mut line = format!(
                "  {name}: weight {:.2}% (target {:.2}%), borrow {}..{}..{} APR kink at {}%",
                c.weight * 100.0,
                c.target_weight * 100.0,
                b.min_rate,
                b.target_rate,
                b.max_rate,
                b.target_utilization * 100.0
            );
            if !c.stable {
                let i = &c.impact;
                line.push_str(&format!(
                    ", impact S=${:.3e}, additive {}·(Δ/${:.0})^{} over {}s, fee cap {} bps",
                    i.scalar_usd,
                    i.additive_factor,
                    i.additive_threshold_usd,
                    i.additive_exponent,
                    i.window_s,
                    i.max_fee_bps
                ));
                for (label, v) in [
                    ("max position", c.max_position_usd),
                    ("max long", c.max_global_long_usd),
                    ("max short", c.max_global_short_usd),
                ] {
                    if v.is_finite() {
                        line.push_str(&format!(", {label} ${v:.0}"));
                    }
                }
            }
            out.push(line);
        }
        out
    }
}
