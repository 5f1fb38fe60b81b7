//! Validated parameters of an order-book venue (Hyperliquid HLP or Lighter
//! LLP style): the rules differ by parameters, not by code path.

use super::depth::DepthProfile;
use super::formulas::{FundingRule, Tier};

/// How a position below maintenance is liquidated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LiquidationRule {
    /// Hyperliquid: market orders into the book, positions above
    /// `slice_above_usd` in a first slice then the rest after a cooldown; the
    /// vault takes over below `backstop_fraction` of maintenance.
    Hlp {
        /// Notional above which the first order is only a slice, USD ($100k).
        slice_above_usd: f64,
        /// Share of the size in the first slice (0.2).
        first_slice: f64,
        /// Wait before the rest, seconds (30).
        cooldown_s: u64,
        /// The vault takes over when equity < this · maintenance margin (2/3).
        backstop_fraction: f64,
    },
    /// Lighter: IoC orders at the zero price until the account is back above
    /// maintenance, a fee up to `fee_cap` of the fill to the vault on fills
    /// better than the zero price; the vault takes over below the close-out level.
    Llp {
        /// Largest liquidation fee, fraction of notional (0.01).
        fee_cap: f64,
    },
}

/// Margin of a market: Hyperliquid tiers, or Lighter's three fractions.
#[derive(Debug, Clone, PartialEq)]
pub struct Margin {
    /// Tiers by notional (max leverage each); maintenance is half the
    /// initial margin at max leverage unless `maintenance_fraction` is set.
    pub tiers: Vec<Tier>,
    /// Lighter's maintenance fraction M (overrides the tiers' maintenance).
    pub maintenance_fraction: Option<f64>,
    /// Lighter's close-out fraction C (< M): below it the vault takes over.
    pub close_out_fraction: Option<f64>,
}

/// One market of the venue.
#[derive(Debug, Clone, PartialEq)]
pub struct BookMarketParams {
    /// Scenario asset traded.
    pub asset: usize,
    /// Margin.
    pub margin: Margin,
    /// Resting depth of other makers.
    pub depth: DepthProfile,
    /// Depth multiplier over time: (seconds from start, multiplier), linear between; empty: 1.
    pub depth_multiplier: Vec<(f64, f64)>,
    /// Per-side multipliers over time on top of `depth_multiplier`: [bids, asks], same form.
    pub side_multiplier: [Vec<(f64, f64)>; 2],
    /// The vault's quotes at the touch, USD per bps per side (same shape as the depth).
    pub vault_usd_per_bps: f64,
    /// Largest long (and short) open interest, USD; orders that increase OI beyond it are refused.
    pub oi_cap_usd: f64,
    /// Impact notional of the funding premium, USD (20,000 BTC/ETH; 6,000 others).
    pub impact_notional_usd: f64,
    /// Uninformed taker flow the venue does not track, USD per hour, half
    /// buys and half sells in small orders filled at the best price, spread
    /// evenly over the steps.
    pub noise_flow_usd_per_hour: f64,
}

/// How the mark price is formed (MECHANISMS.md 3.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarkParams {
    /// Time constant of the EMA of (book mid − oracle), seconds (150; 0: the current basis).
    pub basis_ema_s: f64,
    /// Use the exogenous price as the external perp reference; without it the
    /// third input is an EMA of the book's bid/ask/last.
    pub external_reference: bool,
    /// Time constant of that book EMA, seconds (30; 0: the current book price).
    pub book_ema_s: f64,
    /// Oracle lag behind the exogenous price, seconds (rounded down to steps).
    pub oracle_lag_s: u64,
}

/// The vault's market making and backstop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VaultParams {
    /// Inventory skew: a side's quotes scale by 1 ± skew · inventory / limit.
    pub skew: f64,
    /// Inventory limit per market, USD at the mark: beyond it the vault stops
    /// quoting the side that would add to it.
    pub inventory_limit_usd: f64,
    /// Market-making loss that makes the vault pull all quotes, USD.
    pub loss_limit_usd: f64,
    /// How long quotes stay pulled, seconds.
    pub pull_s: u64,
    /// Share of inherited inventory the liquidator sells into the book per hour.
    pub unwind_per_hour: f64,
    /// Share of the vault's quotes still resting when arbitrageurs move the
    /// book to a new oracle price (0: it reprices first; 1: all stale).
    pub stale_share: f64,
    /// Liquidator loss beyond which it stops taking positions and ADL
    /// closes its inventory, USD (`INFINITY`: no cap).
    pub backstop_loss_cap_usd: f64,
}

/// An order-book venue whose vault makes markets and backstops liquidations.
#[derive(Debug, Clone, PartialEq)]
pub struct BookParams {
    /// Venue name from the scenario.
    pub name: String,
    /// `"hlp"` or `"llp"`.
    pub style: &'static str,
    /// The vault's cash at t = 0, USD; its LP token starts at $1.
    pub vault_usd: f64,
    /// Scenario asset margins and PnL settle in (a stablecoin).
    pub settlement: usize,
    /// Taker fee, bps of notional (HL tier 0: 4.5; LLP retail: 0).
    pub taker_fee_bps: f64,
    /// Share of taker fees paid to the vault (HL: ≈7 %, a community estimate).
    pub vault_fee_share: f64,
    /// Liquidation rule.
    pub liquidation: LiquidationRule,
    /// Funding constants.
    pub funding: FundingRule,
    /// Mark price.
    pub mark: MarkParams,
    /// Rate at which arbitrageurs pull the book mid to the oracle, per hour.
    pub arbitrage_per_hour: f64,
    /// Most liquidation rounds in one step (the cascade bound).
    pub max_cascade_rounds: u32,
    /// Outage windows: (start, end) seconds from the path start.
    pub outages: Vec<(u64, u64)>,
    /// Vault.
    pub vault: VaultParams,
    /// Markets, in scenario order.
    pub markets: Vec<BookMarketParams>,
}

impl BookParams {
    /// Resolved parameters as readable lines.
    pub fn describe(&self, asset_names: &[String]) -> Vec<String> {
        let rule = match self.liquidation {
            LiquidationRule::Hlp {
                slice_above_usd,
                first_slice,
                cooldown_s,
                backstop_fraction,
            } => format!(
                "HLP liquidation: market orders ({}% first above ${slice_above_usd:.0}, then the rest after {cooldown_s}s), backstop below {:.3} of maintenance",
                first_slice * 100.0,
                backstop_fraction
            ),
            LiquidationRule::Llp { fee_cap } => format!(
                "LLP liquidation: IoC at the zero price, fee up to {}% to the vault, takeover below the close-out level",
                fee_cap * 100.0
            ),
        };
        let mut out = vec![
            format!(
                "{} vault ${:.0}, taker fee {} bps ({:.1}% to the vault), arbitrage {}/h, mark EMA {}s{}, oracle lag {}s",
                self.style.to_uppercase(),
                self.vault_usd,
                self.taker_fee_bps,
                self.vault_fee_share * 100.0,
                self.arbitrage_per_hour,
                self.mark.basis_ema_s,
                if self.mark.external_reference {
                    ", external perp reference"
                } else {
                    ", no external reference"
                },
                self.mark.oracle_lag_s
            ),
            format!("  {rule}"),
            format!(
                "  vault: skew {}, stale quotes {}%, inventory limit ${:.0}, loss limit ${:.0} (pull {}s), unwind {}%/h, backstop loss cap ${:.0}",
                self.vault.skew,
                self.vault.stale_share * 100.0,
                self.vault.inventory_limit_usd,
                self.vault.loss_limit_usd,
                self.vault.pull_s,
                self.vault.unwind_per_hour * 100.0,
                self.vault.backstop_loss_cap_usd
            ),
        ];
        for (s, e) in &self.outages {
            out.push(format!("  outage from {s}s to {e}s"));
        }
        for m in &self.markets {
            let tiers: Vec<String> = m
                .margin
                .tiers
                .iter()
                .map(|t| format!("{:.0}x from ${:.0}", t.max_leverage, t.lower_bound_usd))
                .collect();
            out.push(format!(
                "  {}: depth ${:.0}/bps at {} bps (decay {} bps, to {} bps), vault ${:.0}/bps, noise flow ${:.0}/h, OI cap ${:.0}, tiers {}{}",
                asset_names[m.asset],
                m.depth.touch_usd_per_bps,
                m.depth.half_spread_bps,
                m.depth.decay_bps,
                m.depth.max_bps,
                m.vault_usd_per_bps,
                m.noise_flow_usd_per_hour,
                m.oi_cap_usd,
                tiers.join(", "),
                match (m.margin.maintenance_fraction, m.margin.close_out_fraction) {
                    (Some(mm), Some(c)) => format!(", maintenance {mm}, close-out {c}"),
                    _ => String::new(),
                }
            ));
            for (what, knots) in [
                ("depth", &m.depth_multiplier),
                ("bids", &m.side_multiplier[0]),
                ("asks", &m.side_multiplier[1]),
            ] {
                if !knots.is_empty() {
                    let k: Vec<String> = knots.iter().map(|(t, x)| format!("{x} at {t}s")).collect();
                    out.push(format!("    {what} multiplier: {}", k.join(", ")));
                }
            }
        }
        out
    }
}
