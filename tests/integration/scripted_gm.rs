//! Scripted traders on GM markets with deterministic prices, checked against
//! numbers worked out by hand: the same DOGE trade on a synthetic market
//! (DOGE/USD [WETH-USDC]) and on a fully backed one (DOGE/USD [DOGE-USDC]),
//! and ADL on the synthetic market when its PnL-to-pool factor passes the cap.

use crate::common::{assert_close, column, run_traced, scenario};
use perpsim::engine::metrics::Metric;
use perpsim::engine::trace::EventKind;

/// Two $1M GM markets on the same prices: half of each pool in the long
/// token, half in USDC. No fees, impact, borrowing or funding, so every
/// number is PnL. The DOGE preset's caps: traders 60 %, ADL 55 % → 50 %.
/// At 60m ETH and DOGE jump by the given percentages.
fn pair(eth_move: f64, doge_move: f64, actions: &str) -> String {
    let market = |venue: &str, long: &str| {
        format!(
            r#"kind = "gm"
pool_usd = 1e6
[venues.{venue}.markets.DOGE]
preset = "doge"
long_token = "{long}"
short_token = "USDC"
weight = 1.0
fees = {{ position_positive = 0.0, position_negative = 0.0, liquidation = 0.0 }}
impact = {{ positive_factor = 0.0, negative_factor = 0.0 }}
borrow = {{ model = "curve", factor = 0.0 }}
funding = {{ model = "static", factor = 0.0 }}
"#
        )
    };
    format!(
        r#"name = "pair"
horizon = "3h"
step = "1m"
[assets.ETH]
price = 3300.0
process = {{ kind = "waypoints", points = [["0m", 0.0], ["59m", 0.0], ["60m", {eth_move}]] }}
[assets.DOGE]
price = 0.33
process = {{ kind = "waypoints", points = [["0m", 0.0], ["59m", 0.0], ["60m", {doge_move}]] }}
[assets.USDC]
stable = true
[scripted.whale]
actions = [{actions}]
[venues.synthetic]
{}
[venues.backed]
{}"#,
        market("synthetic", "ETH"),
        market("backed", "DOGE")
    )
}

/// A $100k DOGE long on $20k USDC opened at 1m; at 60m ETH falls 20 % and
/// DOGE rises 50 %; closed at 2h. PnL = +$50,000 on both venues.
///
/// Synthetic ([WETH-USDC]): 151.5152 ETH + 500k USDC.
///   At 61m the long pool is worth 151.5152 × 2640 = $400,000: PnL-to-pool 0.125.
///   The $50k is paid in ETH: 50,000 / 2640 = 18.9394 ETH leaves the pool;
///   pool value 132.5758 × 2640 + 500,000 = $850,000: LP −15 %;
///   holding the basket: 400,000 + 500,000 → −10 %.
/// Fully backed ([DOGE-USDC]): 1,515,151.5 DOGE + 500k USDC.
///   At 61m the long pool is worth $750,000: PnL-to-pool 0.0667.
///   The $50k is paid in DOGE (101,010.1 DOGE): 700,000 + 500,000 = $1.2M:
///   LP +20 %; holding: 750,000 + 500,000 → +25 %.
#[test]
fn synthetic_and_fully_backed_by_hand() {
    let text = pair(
        -20.0,
        50.0,
        r#"{ at = "1m", action = "open", market = "DOGE", side = "long", collateral = "USDC", size_usd = 100000.0, collateral_usd = 20000.0 },
  { at = "2h", action = "close", market = "DOGE", side = "long", collateral = "USDC" }"#,
    );
    let out = run_traced(&scenario(&text), 7);
    let (synth, backed) = (&out.metrics[0], &out.metrics[1]);
    assert_close(synth.get(Metric::LpReturn), -0.15, 1e-9);
    assert_close(synth.get(Metric::HoldReturn), -0.10, 1e-9);
    assert_close(backed.get(Metric::LpReturn), 0.20, 1e-9);
    assert_close(backed.get(Metric::HoldReturn), 0.25, 1e-9);
    for m in [synth, backed] {
        assert_close(m.get(Metric::TraderPnlUsd), 50_000.0, 1e-9);
        assert_eq!(m.get(Metric::AdlUsd), 0.0);
        assert!(m.get(Metric::ConservationError) < 1e-6);
    }
    let factor = |v: usize| column(&out.traces[v], "pnl_to_pool_long_DOGE")[61];
    assert_close(factor(0), 0.125, 1e-9);
    assert_close(factor(1), 50_000.0 / 750_000.0, 1e-9);
    // The synthetic pool paid the profit in ETH, the backed one in DOGE.
    let long_tokens = |v: usize| *column(&out.traces[v], "long_pool_tokens_DOGE").last().unwrap();
    assert_close(long_tokens(0), 500_000.0 / 3300.0 - 50_000.0 / 2640.0, 1e-9);
    assert_close(long_tokens(1), 500_000.0 / 0.33 - 50_000.0 / 0.495, 1e-9);
}

/// A $300k DOGE long on $100k USDC; at 60m ETH falls 40 % and DOGE doubles.
///
/// Synthetic: the long pool is 151.5152 ETH × 1980 = $300,000 and the PnL
/// $300,000: factor 1.0 > 0.55, so ADL closes part of the long. Closing a
/// fraction φ realizes φ · 300k of PnL, paid at the traders' cap share
/// 0.6 · 300k / 300k = 0.6: (300k − 300k φ) / (300k − 180k φ) = 0.5 gives
/// φ = 150 / 210 = 0.714286; the keeper closes 0.1 % more, φ = 0.715,
/// $214,500 of size, paying 0.715 · 180,000 = $128,700 in ETH. After it the
/// factor is 85,500 / 171,300 = 0.49912. The backed market's long pool is
/// worth $1M: factor 0.3, no ADL.
#[test]
fn adl_closes_the_synthetic_long_to_the_after_adl_level() {
    let text = pair(
        -40.0,
        100.0,
        r#"{ at = "1m", action = "open", market = "DOGE", side = "long", collateral = "USDC", size_usd = 300000.0, collateral_usd = 100000.0 }"#,
    );
    let out = run_traced(&scenario(&text), 7);
    let (synth, backed) = (&out.metrics[0], &out.metrics[1]);
    let phi = 150.0 / 210.0 * 1.001;
    assert_close(synth.get(Metric::AdlUsd), 300_000.0 * phi, 1e-9);
    assert_eq!(synth.get(Metric::AdlEvents), 1.0);
    assert_eq!(backed.get(Metric::AdlUsd), 0.0);
    let factor = column(&out.traces[0], "pnl_to_pool_long_DOGE");
    assert_close(factor[59], 0.0, 1e-9);
    let after = 300_000.0 * (1.0 - phi) / (300_000.0 - 180_000.0 * phi);
    assert_close(factor[60], after, 1e-9);
    assert!(factor[60] < 0.5);
    assert_close(column(&out.traces[1], "pnl_to_pool_long_DOGE")[60], 0.3, 1e-9);
    let adl: Vec<_> = out.traces[0]
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Adl)
        .collect();
    assert_eq!(adl.len(), 1);
    assert_close(adl[0].pnl_usd, 180_000.0 * phi, 1e-9);
    assert_close(adl[0].payout_usd, 180_000.0 * phi, 1e-9);
    for m in [synth, backed] {
        assert!(m.get(Metric::ConservationError) < 1e-6);
    }
}
