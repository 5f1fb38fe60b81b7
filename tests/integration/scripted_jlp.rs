//! Scripted traders on a JLP-style pool with deterministic prices: every fee,
//! the PnL and the pool value at each step, checked against numbers worked
//! out by hand below (MECHANISMS.md section 2 formulas).

use crate::common::{assert_close, column, run_traced, scenario};
use perpsim::engine::metrics::Metric;
use perpsim::engine::trace::{Event, EventKind, Trace};

/// The trace's trades, liquidations and refusals, without accruals.
fn trades(trace: &Trace) -> Vec<Event> {
    trace
        .events
        .iter()
        .filter(|e| e.kind != EventKind::Accrual)
        .cloned()
        .collect()
}

/// Pool: $1,000,000, half SOL at $100 (5,000 SOL), half USDC (500,000).
/// Fees: base 6 bps, linear impact S = $1e9, additive threshold $750k
/// (never reached here), protocol share 25 %. Borrow curve J1: 10 % APR at
/// u = 0, slope (60 − 10) / 80 = 0.625 below the 80 % kink.
const POOL: &str = r#"
horizon = "4h"
step = "1h"
[assets.USDC]
stable = true
[venues.jlp]
kind = "jlp"
aum_usd = 1e6
max_utilization = 1.0
impact = { scalar_usd = 1e9 }
[venues.jlp.custodies.SOL]
weight = 0.5
[venues.jlp.custodies.USDC]
weight = 0.5
"#;

/// One long: open $10,000 with $1,000 at $100 (1h), price +10 % at 3h, close at 3h.
///
/// Open (t = 1h, P = 100):
///   base fee 6 bps × 10,000 = 6.00; linear 10,000 / 1e9 × 10,000 = 0.10; total 6.10
///   collateral 1,000 − 6.10 = 993.90; 10 SOL deposited; protocol 0.25 × 6.10 = 1.525 (0.01525 SOL)
///   owned = 5,000 + 10 − 0.01525 = 5,009.98475 SOL; locked = 100 SOL; guaranteedUsd = 9,006.10
///   AUM = (5,009.98475 − 100) × 100 + 9,006.10 + 500,000 = 1,000,004.575 → LP price 1.000004575
/// Hold 1h → 3h (2 h): u = 100 / 5,009.98475 = 0.0199601406; APR = 0.10 + 0.625 u = 0.1124750879
///   borrow = 10,000 × 0.1124750879 × 7,200 / 31,536,000 = 0.2567924381
/// Close (t = 3h, P = 110): PnL = 1,000; close fee 6.10 (the 1h open left the 60 s window)
///   payout = 993.90 + 1,000 − 0.2567924381 − 6.10 = 1,987.5432075619 → 18.0685746142 SOL
///   protocol 0.25 × (6.10 + 0.2567924381) = 1.5891981095 → 0.0144472555 SOL
///   owned = 5,009.98475 − 18.0685746142 − 0.0144472555 = 4,991.9017281303 SOL
///   AUM = 4,991.9017281303 × 110 + 500,000 = 1,049,109.1900943 → LP return 4.910919009 %
///   (holding the basket: 5,000 × 110 + 500,000 → +5 %)
///   trader PnL = 1,987.5432075619 − 1,000 = 987.5432075619
///   fees = 6.10 + 6.10 + 0.2567924381 = 12.4567924381 (pool 75 %: 9.3425943286, protocol 3.1141981095)
#[test]
fn long_round_trip_fees_pnl_and_pool_value_by_hand() {
    let text = format!(
        "{POOL}
[assets.SOL]
price = 100.0
process = {{ kind = \"waypoints\", points = [[\"0h\", 0.0], [\"2h\", 0.0], [\"3h\", 10.0]] }}
[scripted.alice]
actions = [
  {{ at = \"1h\", action = \"open\", market = \"SOL\", side = \"long\", size_usd = 10000.0, collateral_usd = 1000.0 }},
  {{ at = \"3h\", action = \"close\", market = \"SOL\", side = \"long\" }},
]
"
    );
    let loaded = scenario(&text);
    let out = run_traced(&loaded, 1);
    let trace = &out.traces[0];
    let m = &out.metrics[0];

    // Pool value at every step.
    let lp = column(trace, "lp_price_usd");
    let want = [1.0, 1.000004575, 1.000004575, 1.0491091900943285, 1.0491091900943285];
    assert_eq!(lp.len(), want.len());
    for (got, want) in lp.iter().zip(want) {
        assert_close(*got, want, 1e-12);
    }
    let sol = column(trace, "price_SOL");
    assert_eq!(&sol[..3], &[100.0, 100.0, 100.0]);
    assert_close(sol[3], 110.0, 1e-14);
    assert_close(column(trace, "owned_SOL")[1], 5009.98475, 1e-14);
    assert_close(column(trace, "owned_SOL")[3], 4991.9017281302595, 1e-12);
    assert_close(column(trace, "utilization_SOL")[1], 0.019960140597234353, 1e-12);
    assert_close(column(trace, "borrow_apr_SOL")[1], 0.11247508787327148, 1e-12);

    // Every fee component of both trades; the accrual logged when the close
    // touches the SOL custody is exactly the borrow fee the close settles.
    let ev = &trace.events;
    let kinds: Vec<_> = ev.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::Open, EventKind::Accrual, EventKind::Close],
        "{ev:#?}"
    );
    assert_close(ev[1].borrow_fee_usd, 0.2567924380668299, 1e-9);
    assert_close(ev[1].size_usd, 10_000.0, 1e-12);
    let ev = [ev[0].clone(), ev[2].clone()];
    assert_eq!(ev[0].kind, EventKind::Open);
    assert_close(ev[0].base_fee_usd, 6.0, 1e-12);
    assert_close(ev[0].linear_impact_usd, 0.1, 1e-12);
    assert_eq!(ev[0].additive_impact_usd, 0.0);
    assert_close(ev[0].collateral_usd, 993.9, 1e-12);
    assert_eq!(ev[1].kind, EventKind::Close);
    assert_close(ev[1].pnl_usd, 1000.0, 1e-12);
    assert_close(ev[1].borrow_fee_usd, 0.2567924380668299, 1e-9);
    assert_close(ev[1].base_fee_usd, 6.0, 1e-12);
    assert_close(ev[1].linear_impact_usd, 0.1, 1e-12);
    assert_close(ev[1].payout_usd, 1987.5432075619342, 1e-12);

    // Path metrics.
    assert_close(m.get(Metric::LpReturn), 0.04910919009432857, 1e-10);
    assert_close(m.get(Metric::HoldReturn), 0.05, 1e-12);
    assert_close(m.get(Metric::TraderPnlUsd), 987.5432075619342, 1e-10);
    assert_close(m.get(Metric::FeesUsd), 12.456792438066827, 1e-10);
    assert_close(m.get(Metric::OpenCloseFeesUsd), 12.0, 1e-12);
    assert_close(m.get(Metric::ImpactFeesUsd), 0.2, 1e-12);
    assert_close(m.get(Metric::BorrowFeesUsd), 0.2567924380668299, 1e-9);
    assert_close(m.get(Metric::FeesToPoolUsd), 9.34259432855012, 1e-10);
    assert_close(m.get(Metric::FeesToProtocolUsd), 3.114198109516707, 1e-10);
    assert_close(m.get(Metric::VolumeUsd), 20_000.0, 1e-12);
    assert_eq!(m.get(Metric::Trades), 2.0);
    assert_eq!(m.get(Metric::Liquidations), 0.0);
    assert_eq!(m.get(Metric::BadDebtUsd), 0.0);
    assert_close(m.get(Metric::PeakOiUsd), 10_000.0, 1e-12);
    assert!(
        m.get(Metric::ConservationError) < 1e-6,
        "{}",
        m.get(Metric::ConservationError)
    );
}

/// A 50x long and a 10x short at $100; the price gaps to $90 in one step.
///
/// t = 1h, P = 100: alice opens long 10,000 with 200 (fee 6.10 → collateral
/// 193.90); bob opens short 10,000 with 1,000 USDC (fee 6.10 → 993.90; the
/// window now nets +10,000 − 10,000 = 0, so no additive impact). USDC owned
/// = 500,000 + 0.75 × 6.10 = 500,004.575, locked 10,000 → u = 0.0199998170,
/// APR 0.1124998856.
/// t = 2h, P = 90: alice's equity is 193.90 − 1,000 = −806.10 < 0.2 % × 10,000:
/// liquidated; nothing is left to pay fees, the bad debt is 806.10 and the
/// pool's AUM drops by exactly that (949,989.3025 → 949,183.2025).
/// t = 3h, P = 90: bob closes: PnL +1,000; borrow over 2 h =
/// 10,000 × 0.1124998856 × 7,200 / 31,536,000 = 0.2568490539; close fee 6.10;
/// payout = 993.90 + 1,000 − 0.2568490539 − 6.10 = 1,987.5431509461.
/// End: owned USDC = 500,004.575 + 993.90 − 1,987.5431509461 − 0.25 × 6.3568490539
/// = 499,009.3426367905; AUM = 5,001.98475 × 90 + 499,009.3426367905
/// = 949,187.9701367905 → LP return −5.0812029863 % (basket −5 %).
#[test]
fn gap_through_bankruptcy_records_bad_debt_and_a_short_is_paid_in_stables() {
    let text = format!(
        "{POOL}
[assets.SOL]
price = 100.0
process = {{ kind = \"waypoints\", points = [[\"0h\", 0.0], [\"1h\", 0.0], [\"2h\", -10.0]] }}
[scripted.alice]
actions = [{{ at = \"1h\", action = \"open\", market = \"SOL\", side = \"long\", size_usd = 10000.0, collateral_usd = 200.0 }}]
[scripted.bob]
actions = [
  {{ at = \"1h\", action = \"open\", market = \"SOL\", side = \"short\", size_usd = 10000.0, collateral_usd = 1000.0, collateral = \"USDC\" }},
  {{ at = \"3h\", action = \"close\", market = \"SOL\", side = \"short\" }},
]
"
    );
    let loaded = scenario(&text);
    let out = run_traced(&loaded, 1);
    let trace = &out.traces[0];
    let m = &out.metrics[0];
    let aum = column(trace, "aum_usd");
    assert_close(aum[2], 949183.2025, 1e-12);
    assert_close(aum[4], 949187.9701367905, 1e-12);
    let kinds: Vec<_> = trace.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Open,
            EventKind::Open,
            EventKind::Accrual,
            EventKind::Liquidation,
            EventKind::Accrual,
            EventKind::Close
        ]
    );
    // Bob's two hours of borrow on the USDC custody, logged before his close.
    assert_close(trace.events[4].borrow_fee_usd, 0.2568490539407455, 1e-9);
    let events = trades(trace);
    let liq = &events[2];
    assert_close(liq.bad_debt_usd, 806.1, 1e-12);
    assert_eq!(liq.liquidation_fee_usd, 0.0);
    assert_eq!(liq.base_fee_usd + liq.linear_impact_usd + liq.borrow_fee_usd, 0.0);
    let close = &events[3];
    assert_close(close.borrow_fee_usd, 0.2568490539407455, 1e-9);
    assert_close(close.payout_usd, 1987.5431509460595, 1e-12);
    assert_close(column(trace, "short_avg_price_SOL")[1], 100.0, 1e-15);

    assert_close(m.get(Metric::BadDebtUsd), 806.1, 1e-12);
    assert_eq!(m.get(Metric::Liquidations), 1.0);
    assert_close(m.get(Metric::LiquidatedUsd), 10_000.0, 1e-12);
    assert_close(m.get(Metric::LpReturn), -0.05081202986320943, 1e-10);
    assert_close(m.get(Metric::TraderPnlUsd), 787.5431509460595, 1e-10);
    assert_close(m.get(Metric::FeesUsd), 18.556849053940745, 1e-10);
    assert_close(m.get(Metric::VolumeUsd), 40_000.0, 1e-12);
    assert!(m.get(Metric::ConservationError) < 1e-6);
}

/// Partial close, added and withdrawn collateral, a refused withdrawal and
/// a refused over-cap order keep the books consistent; the refusals are
/// counted by reason.
#[test]
fn collateral_changes_partial_close_and_refusals() {
    let text = format!(
        "{POOL}
[assets.SOL]
price = 100.0
process = {{ kind = \"waypoints\", points = [[\"0h\", 0.0], [\"4h\", 5.0]] }}
[scripted.carol]
actions = [
  {{ at = \"1h\", action = \"open\", market = \"SOL\", side = \"long\", size_usd = 20000.0, collateral_usd = 2000.0 }},
  {{ at = \"1h\", action = \"open\", market = \"SOL\", side = \"long\", size_usd = 3000000.0, collateral_usd = 300000.0 }},
  {{ at = \"2h\", action = \"add_collateral\", market = \"SOL\", side = \"long\", amount_usd = 500.0 }},
  {{ at = \"2h\", action = \"withdraw_collateral\", market = \"SOL\", side = \"long\", amount_usd = 2400.0 }},
  {{ at = \"2h\", action = \"withdraw_collateral\", market = \"SOL\", side = \"long\", amount_usd = 300.0 }},
  {{ at = \"3h\", action = \"close\", market = \"SOL\", side = \"long\", size_usd = 5000.0 }},
  {{ at = \"3h\", action = \"close\", market = \"SOL\", side = \"short\" }},
]
"
    );
    let loaded = scenario(&text);
    let out = run_traced(&loaded, 1);
    let trace = &out.traces[0];
    let m = &out.metrics[0];
    let events = trades(trace);
    let kinds: Vec<_> = events.iter().map(|e| (e.kind, e.note)).collect();
    assert_eq!(
        kinds,
        [
            (EventKind::Open, ""),
            (EventKind::Reject, "max_position_size"),
            (EventKind::AddCollateral, ""),
            (EventKind::Reject, "insufficient_collateral"),
            (EventKind::WithdrawCollateral, ""),
            (EventKind::PartialClose, ""),
            (EventKind::Reject, "no_position"),
        ]
    );
    // Open at P = 100·1.05^(1/4) = 101.2272: fee 12 + 20,000²/1e9 = 12.40 → 1,987.60.
    // 1 h of borrow at u = 197.577 / 5,019.727 = 0.039360, APR 0.124600: 0.2844745613,
    // settled when 500 is added → 2,487.3155254387; the 2,400 withdrawal would leave
    // 87.32 (229x) and is refused; 300 is withdrawn → 2,187.3155254387.
    let after = events[4].collateral_usd;
    assert_close(after, 2187.3155254386643, 1e-10);
    // A quarter closed: size 15,000 remains with three quarters of the collateral.
    let partial = &events[5];
    assert_close(partial.size_usd, 5000.0, 1e-12);
    assert_close(partial.collateral_usd, 1640.4866440789983, 1e-10);
    assert_eq!(m.get(Metric::RejectedOrders), 3.0);
    assert_eq!(m.get(Metric::RejectedPositionSize), 1.0);
    assert_eq!(m.get(Metric::OpenPositionsEnd), 1.0);
    assert!(m.get(Metric::ConservationError) < 1e-6);
}
