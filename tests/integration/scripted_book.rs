//! Scripted traders on an HLP-style order book with deterministic prices,
//! checked against numbers worked out by hand: a liquidation cascade within
//! one step, a backstop takeover and its unwind, and ADL of a bankrupt
//! account when the backstop is capped.
//!
//! Every book here is flat (the same depth per bps at every distance) with
//! no spread unless said otherwise, the vault posts no quotes and there is
//! no untracked flow, so every fill is a hand calculation. Arbitrage is
//! fast enough that each step's book re-forms exactly at the oracle. The
//! first 20 minutes have a book a million times deeper, so the opening
//! orders fill at the oracle to within 1e-8.

use crate::common::{assert_close, column, run_traced, scenario};
use perpsim::engine::metrics::Metric;
use perpsim::engine::trace::{Event, EventKind};

/// One BTC market: 5 % maintenance (10x), no fees, no funding. `mark` is the
/// `[venues.hl.mark]` table, `vault` the `[venues.hl.vault]` one.
fn book(points: &str, half_spread_bps: f64, mark: &str, vault: &str, accounts: &str) -> String {
    format!(
        r#"name = "book"
horizon = "3h"
step = "1m"
[assets.BTC]
price = 100000.0
process = {{ kind = "waypoints", points = [{points}] }}
[assets.USDC]
stable = true
{accounts}
[venues.hl]
kind = "hlp"
vault_usd = 1e6
taker_fee_bps = 0.0
arbitrage_per_hour = 1e6
[venues.hl.liquidation]
slice_above_usd = 1e12
[venues.hl.funding]
interest_8h = 0.0
[venues.hl.mark]
{mark}
[venues.hl.vault]
{vault}
[venues.hl.markets.BTC]
tiers = [[0.0, 10.0]]
vault_usd_per_bps = 0.0
depth = {{ touch_usd_per_bps = 10000.0, decay_bps = 0.0, max_bps = 5000.0, half_spread_bps = {half_spread_bps} }}
depth_multiplier = [["0m", 1e6], ["20m", 1e6], ["21m", 1.0]]
"#
    )
}

fn open(at: &str, side: &str, size: f64, collateral: f64) -> String {
    format!(
        r#"{{ at = "{at}", action = "open", market = "BTC", side = "{side}", size_usd = {size:?}, collateral_usd = {collateral:?} }}"#
    )
}

fn account(name: &str, actions: &[String]) -> String {
    format!("[scripted.{name}]\nactions = [{}]\n", actions.join(", "))
}

fn events(out: &perpsim::engine::PathOutput, kind: EventKind) -> Vec<&Event> {
    out.traces[0].events.iter().filter(|e| e.kind == kind).collect()
}

/// The two longs of the cascade test, BTC gapping 11 % at 30m, the mark
/// taken from the book alone; `more` adds accounts.
fn cascade_book(more: &str) -> String {
    book(
        r#"["0m", 0.0], ["29m", 0.0], ["30m", -11.0]"#,
        0.0,
        r#"basis_ema = "0s"
external_reference = false
book_ema = "0s""#,
        "unwind_per_hour = 0.0",
        &(account("whale", &[open("1m", "long", 1e6, 150_000.0)])
            + &account("small", &[open("2m", "long", 1e5, 16_020.0)])
            + more),
    )
}

/// A 10 BTC long (entry $100k, margin $150k: liquidation at $89,473.68)
/// and a 1 BTC long (margin $16,020: liquidation at 83,980 / 0.95 =
/// $88,400). At 30m BTC gaps to $89,000: the first is under maintenance
/// (equity $40k < $44.5k, above 2/3 of it, so through the book), the
/// second is not ($5,020 > $4,450).
///
/// With both mark EMAs at zero and no external reference the mark is the
/// book price, median(best bid, best ask, last). The book has $10k per bps
/// and no spread. Round 1 sells 10 BTC = $890k: 89 bps, on average 44.5
/// bps below $89,000 = $88,603.95, last $88,207.90: the mark falls to
/// $88,207.90, below $88,400. Round 2 sells the second's 1 BTC ($89k, 8.9
/// bps) from 89 to 97.9 bps: average 93.45 bps = $88,168.30, last
/// $88,128.69. Round 3 finds nothing: a cascade two rounds deep, in one
/// step.
///
/// Payouts: 150,000 − 10 · 11,396.05 = $36,039.50 and 16,020 − 11,831.70 =
/// $4,188.30.
#[test]
fn cascade_liquidates_a_second_account_in_the_same_step() {
    let out = run_traced(&scenario(&cascade_book("")), 1);
    let m = &out.metrics[0];
    assert_eq!(m.get(Metric::Liquidations), 2.0);
    assert_eq!(m.get(Metric::PeakCascadeDepth), 2.0);
    let fills = [10.0 * 89_000.0 * (1.0 - 44.5e-4), 89_000.0 * (1.0 - 93.45e-4)];
    assert_close(m.get(Metric::LiquidatedBookUsd), fills[0] + fills[1], 1e-7);
    assert_eq!(m.get(Metric::LiquidatedBackstopUsd), 0.0);
    assert_eq!(m.get(Metric::BadDebtUsd), 0.0);
    let liq = events(&out, EventKind::Liquidation);
    assert_eq!(liq.len(), 2);
    for (e, (account, fill, payout)) in liq.iter().zip([(0, fills[0], 36_039.5), (1, fills[1], 4_188.295)]) {
        assert_eq!(e.t_s, 1800, "both in the step of the gap");
        assert_eq!(e.account, account);
        assert_close(e.size_usd, fill, 1e-7);
        assert_close(e.payout_usd, payout, 1e-6);
    }
    // The mark at the end of the step is the last fill; the next step's
    // book re-forms at the oracle.
    let mark = column(&out.traces[0], "mark_BTC");
    assert_close(mark[30], 89_000.0 * (1.0 - 97.9e-4), 1e-9);
    assert_close(mark[31], 89_000.0, 1e-9);
    assert!(m.get(Metric::ConservationError) < 1e-6);
}

/// A 1 BTC long on $10k of margin and another on $12,500, both bought 1
/// bps above $100k (the half spread; the deep book adds 5e-11 more). At
/// 30m BTC gaps to $92,000; maintenance is $4,600. The first has
/// $1,990 < 2/3 · $4,600: the vault takes it over at the mark and keeps
/// the $1,990. The second has $4,490, above 2/3 of maintenance: it is sold
/// into the book ($92k at $10k per bps from 1 bps out: average 1 + 4.6 =
/// 5.6 bps below the mark) and keeps the rest of its margin.
///
/// The vault unwinds 60 % of the inherited coin an hour, 0.01 BTC ($920)
/// a step, each sale 1 + 0.046 bps below $92,000, except the first: it
/// comes in the takeover's step, after the second account's sale took 9.2
/// bps of bids, so it fills 10.2 + 0.046 bps below. The vault ends
/// 1,990 − 920 · (99 · 1.046 + 10.246) · 1e-4 = $1,979.53 up.
#[test]
fn backstop_takes_over_below_two_thirds_of_maintenance_and_unwinds() {
    let text = book(
        r#"["0m", 0.0], ["29m", 0.0], ["30m", -8.0]"#,
        1.0,
        "",
        "unwind_per_hour = 0.6",
        &(account("taken", &[open("1m", "long", 1e5, 10_000.0)])
            + &account("sold", &[open("2m", "long", 1e5, 12_500.0)])),
    );
    let out = run_traced(&scenario(&text), 1);
    let m = &out.metrics[0];
    assert_eq!(m.get(Metric::Liquidations), 2.0);
    assert_close(m.get(Metric::LiquidatedBackstopUsd), 92_000.0, 1e-9);
    let sold = 92_000.0 * (1.0 - 5.6e-4);
    assert_close(m.get(Metric::LiquidatedBookUsd), sold, 1e-7);
    assert_eq!(m.get(Metric::BadDebtUsd), 0.0);
    let liq = events(&out, EventKind::Liquidation);
    let entry = events(&out, EventKind::Open)[0].price;
    assert_close(entry, 100_010.0, 1e-9);
    let taken = liq.iter().find(|e| e.account == 0).unwrap();
    assert_eq!(taken.note, "backstop");
    assert_close(taken.price, 92_000.0, 1e-9);
    let buffer = 10_000.0 - (entry - 92_000.0);
    assert_close(taken.collateral_usd, buffer, 1e-9);
    assert_eq!(taken.payout_usd, 0.0);
    let by_book = liq.iter().find(|e| e.account == 1).unwrap();
    assert_close(by_book.payout_usd, 12_500.0 - (entry - sold), 1e-9);
    // Inherited: 1 BTC at the mark, then 0.01 BTC sold every step from
    // the takeover's own.
    let inherited = column(&out.traces[0], "inherited_usd_BTC");
    assert_eq!(inherited[29], 0.0);
    assert_close(inherited[30], 0.99 * 92_000.0, 1e-9);
    assert_close(inherited[79], 0.5 * 92_000.0, 1e-9);
    assert!(inherited[130].abs() < 1e-6);
    let cost = 920.0 * (99.0 * 1.046 + 10.246) * 1e-4;
    assert_close(m.get(Metric::VaultBackstopUsd), buffer - cost, 1e-9);
    // The vault is the LPs': its whole result is the backstop's.
    assert_close(m.get(Metric::LpPnlUsd), buffer - cost, 1e-9);
    assert!(m.get(Metric::ConservationError) < 1e-6);
}

/// A 1 BTC long at $100k on $10k of margin is bankrupt when BTC gaps from
/// $95,500 (29m) to $88,000 (30m): equity −$2,000. The backstop's loss cap
/// is $1,000, so it cannot take the position: ADL. The shorts are ranked
/// by (entry / mark) · (notional / account value): 1 BTC on $50k of
/// margin scores (100/88) · (88k / 62k) = 1.613, 2 BTC on $150k scores
/// (100/88) · (176k / 174k) = 1.149. The first closes against the long at
/// the previous mark, $95,500: it is paid 50,000 + 4,500 = $54,500. The
/// long ends at zero; the $5,500 its margin still held at the previous
/// mark goes to the vault. The second short, a same-side long and an
/// account that had closed its short before are untouched.
#[test]
fn adl_closes_the_top_ranked_short_at_the_previous_mark() {
    let text = book(
        r#"["0m", 0.0], ["28m", 0.0], ["29m", -4.5], ["30m", -12.0]"#,
        0.0,
        "",
        "unwind_per_hour = 0.0\nbackstop_loss_cap_usd = 1000.0",
        &(account("bankrupt", &[open("1m", "long", 1e5, 10_000.0)])
            + &account("top", &[open("2m", "short", 1e5, 50_000.0)])
            + &account("second", &[open("3m", "short", 2e5, 150_000.0)])
            + &account("same_side", &[open("4m", "long", 1e5, 50_000.0)])
            + &account(
                "flat",
                &[
                    open("5m", "short", 5e4, 10_000.0),
                    r#"{ at = "10m", action = "close", market = "BTC", side = "short" }"#.to_string(),
                ],
            )),
    );
    let out = run_traced(&scenario(&text), 1);
    let m = &out.metrics[0];
    assert_eq!(m.get(Metric::AdlEvents), 1.0);
    assert_close(m.get(Metric::AdlUsd), 95_500.0, 1e-9);
    assert_eq!(m.get(Metric::BadDebtUsd), 0.0);
    assert_eq!(m.get(Metric::LiquidatedBackstopUsd), 0.0);
    let adl = events(&out, EventKind::Adl);
    assert_eq!(adl.len(), 1);
    assert_eq!(adl[0].account, 1);
    assert_close(adl[0].price, 95_500.0, 1e-12);
    assert_close(adl[0].payout_usd, 54_500.0, 1e-6);
    let bankrupt: Vec<_> = out.traces[0]
        .events
        .iter()
        .filter(|e| e.account == 0 && e.kind == EventKind::Liquidation)
        .collect();
    assert_eq!(bankrupt.len(), 1);
    assert_eq!(bankrupt[0].payout_usd, 0.0);
    assert_close(bankrupt[0].collateral_usd, 5_500.0, 1e-6);
    // No one else traded after the opens (and the flat account's close).
    for e in &out.traces[0].events {
        if e.t_s > 600 {
            assert!(e.account <= 1 || e.account == u32::MAX, "{e:?}");
        }
    }
    // The vault kept the bankrupt account's margin at the previous mark.
    assert_close(m.get(Metric::LpPnlUsd), 5_500.0, 1e-6);
    assert!(m.get(Metric::ConservationError) < 1e-6);
}

/// The cascade of the first test, but the venue is down from 25m to 35m:
/// the gap at 30m happens in the outage, an order sent at 27m is refused,
/// and nothing is liquidated until the venue resumes at 35m, where the
/// same cascade runs on the price it finds (BTC held at $89,000).
#[test]
fn an_outage_stops_everything_and_the_venue_resumes_with_what_happened() {
    let text = cascade_book(&account("late", &[open("27m", "long", 1e4, 5_000.0)])).replace(
        "arbitrage_per_hour = 1e6",
        "arbitrage_per_hour = 1e6\noutages = [[\"25m\", \"10m\"]]",
    );
    let out = run_traced(&scenario(&text), 1);
    let m = &out.metrics[0];
    let rejects = events(&out, EventKind::Reject);
    assert_eq!(rejects.len(), 1);
    assert_eq!(
        (rejects[0].account, rejects[0].t_s, rejects[0].note),
        (2, 1620, "halted")
    );
    let liq = events(&out, EventKind::Liquidation);
    assert_eq!(liq.len(), 2);
    let fills = [10.0 * 89_000.0 * (1.0 - 44.5e-4), 89_000.0 * (1.0 - 93.45e-4)];
    for (e, fill) in liq.iter().zip(fills) {
        assert_eq!(e.t_s, 2100, "at the first step after the outage");
        assert_close(e.size_usd, fill, 1e-7);
    }
    assert_eq!(m.get(Metric::PeakCascadeDepth), 2.0);
    // The mark froze with the venue and moves again at 35m.
    let mark = column(&out.traces[0], "mark_BTC");
    assert_close(mark[30], 100_000.0, 1e-9);
    assert_close(mark[34], 100_000.0, 1e-9);
    assert!(m.get(Metric::ConservationError) < 1e-6);
}
