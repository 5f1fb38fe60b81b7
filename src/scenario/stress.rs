//! The built-in stress grid of `perpsim heatmap`, after Chaos Labs' GMX v2
//! heatmaps of traders' PnL over pool size (PEERS.md A.2): a price shock ×
//! an open-interest skew × a reserve factor on a single-token GM pool.
//!
//! Each point is a scenario written from this template:
//! - one BTC/USD [BTC-BTC] market (GMX's published BTC preset) with a
//!   $100M pool;
//! - open interest of `reserve_factor` × the pool's value, opened in the
//!   first step by eight scripted accounts, four a side at 1.5x, 2x, 3x and
//!   5x, split so that (winners − losers) / total = `skew`;
//! - the index then moves by `shock` (down, or up with `up`) in a straight
//!   log-line over six hours starting at hour 1, with 50 % a year of
//!   Brownian-bridge noise around it, and stays there for the rest of the day.
//!
//! Simplifications, stated in the scenario's description too: the reserve
//! factor sets the open interest rather than capping it (the market's own
//! reserve and OI caps are lifted so the book always opens), price impact
//! is off so the book opens at the oracle price, and the PnL caps and ADL
//! threshold are lifted so the grid measures the traders' claim on the pool
//! before any cap trims it, as the published heatmaps do. Fees, borrowing,
//! funding and liquidations run as GMX's preset sets them.

/// The scenario of one grid point, as TOML.
pub fn stress_grid_toml(shock: f64, skew: f64, reserve_factor: f64, up: bool) -> String {
    let pool = 100e6;
    let oi = reserve_factor * pool;
    let winners = oi * (1.0 + skew) / 2.0;
    let losers = oi * (1.0 - skew) / 2.0;
    let (win_side, lose_side) = if up { ("long", "short") } else { ("short", "long") };
    let move_pct = if up { 100.0 * shock } else { -100.0 * shock };
    let mut accounts = String::new();
    for (side, total) in [(win_side, winners), (lose_side, losers)] {
        for lev in [1.5, 2.0, 3.0, 5.0] {
            let size = total / 4.0;
            if size <= 0.0 {
                continue;
            }
            accounts.push_str(&format!(
                "[scripted.{side}_{}x]\nactions = [{{ at = \"0s\", action = \"open\", market = \"BTC\", side = \"{side}\", size_usd = {size:?}, collateral_usd = {:?} }}]\n\n",
                (lev * 10.0) as u32,
                size / lev
            ));
        }
    }
    format!(
        r#"name = "stress_grid"
description = "Chaos Labs-style stress point: BTC {move_pct:+.1}% over 6h on a $100M single-token GM pool with open interest {reserve_factor} x pool, skew {skew} toward the winning side. Reserve factor sets OI (caps lifted), impact off, PnL caps and ADL lifted."
horizon = "1d"
step = "5m"

[run]
paths = 200
seed = 1

[assets.BTC]
price = 100000.0
process = {{ kind = "waypoints", start = "1h", noise_vol = 0.5, points = [["0m", 0.0], ["6h", {move_pct:?}]] }}

{accounts}[venues.gm]
kind = "gm"
pool_usd = {pool:?}

[venues.gm.markets.BTC]
preset = "btc"
long_token = "BTC"
short_token = "BTC"
weight = 1.0
reserve_factor = 100.0
oi_reserve_factor = 100.0
max_oi_long_usd = 1e13
max_oi_short_usd = 1e13
impact = {{ positive_factor = 0.0, negative_factor = 0.0 }}
pnl_caps = {{ traders = 100.0, adl = 100.0, after_adl = 99.0, deposits = 100.0, withdrawals = 100.0 }}
"#
    )
}
