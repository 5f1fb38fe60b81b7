//! Properties of the order-book venue (HLP and LLP rules) over random
//! parameters, order flow, depth and price paths: books thinned to nothing
//! on one side or both, outages, crashes past 90 % and 10x squeezes. After
//! every step the ledger balances and agrees with the venue's books, every
//! traced number is finite, and the liquidation cascade stops within its
//! bound. Nothing panics.

use crate::common::shock_move;
use perpsim::engine::trace::Trace;
use perpsim::venue::orderbook::formulas::{FundingRule, Tier};
use perpsim::venue::orderbook::{
    BookMarketParams, BookParams, BookVenue, DepthProfile, LiquidationRule, Margin, MarkParams, VaultParams,
};
use perpsim::venue::{AUTO_COLLATERAL, Clock, Cx, ExitPlan, Order, OrderKind, Side, Venue};
use proptest::prelude::*;

const STEP_S: u64 = 60;
const BTC: usize = 0;
const DOGE: usize = 1;
const USDC: usize = 2;
const ACCOUNTS: u32 = 6;

#[derive(Debug, Clone)]
enum Act {
    Open {
        account: u32,
        doge: bool,
        short: bool,
        cross: bool,
        size: f64,
        collateral: f64,
    },
    Close {
        account: u32,
        doge: bool,
        short: bool,
        size: Option<f64>,
    },
    AddCollateral {
        account: u32,
        doge: bool,
        short: bool,
        cross: bool,
        usd: f64,
    },
    Withdraw {
        account: u32,
        doge: bool,
        short: bool,
        cross: bool,
        usd: f64,
    },
}

fn act() -> impl Strategy<Value = Act> {
    let who = (0u32..ACCOUNTS, any::<bool>(), any::<bool>(), any::<bool>());
    let size = prop_oneof![1.0f64..1e3, 1e3f64..1e6, 1e6f64..5e7];
    let usd = prop_oneof![0.0f64..10.0, 10.0f64..1e4, 1e4f64..1e7];
    prop_oneof![
        5 => (who.clone(), size.clone(), usd.clone()).prop_map(|((account, doge, short, cross), size, collateral)| Act::Open {
            account, doge, short, cross, size, collateral
        }),
        2 => (who.clone(), prop::option::of(size)).prop_map(|((account, doge, short, _), size)| Act::Close {
            account, doge, short, size
        }),
        1 => (who.clone(), usd.clone()).prop_map(|((account, doge, short, cross), usd)| Act::AddCollateral {
            account, doge, short, cross, usd
        }),
        1 => (who, usd).prop_map(|((account, doge, short, cross), usd)| Act::Withdraw {
            account, doge, short, cross, usd
        }),
    ]
}

/// (seconds from start, multiplier) knots.
type Knots = Vec<(f64, f64)>;

/// A multiplier series: a few knots in the first hour, values from 0
/// (the side or book emptied) to 3.
fn knots() -> impl Strategy<Value = Knots> {
    prop::collection::vec(
        (
            0u64..3600,
            prop_oneof![2 => Just(0.0), 1 => 0.0f64..0.2, 3 => 0.2f64..3.0],
        ),
        0..4,
    )
    .prop_map(|mut v| {
        v.sort_by_key(|&(t, _)| t);
        v.dedup_by_key(|&mut (t, _)| t);
        v.into_iter().map(|(t, x)| (t as f64, x)).collect()
    })
}

#[derive(Debug, Clone)]
struct MarketKnobs {
    depth: (f64, f64, f64, f64),
    /// Both sides, bids, asks.
    multipliers: (Knots, Knots, Knots),
    vault_usd_per_bps: f64,
    noise: f64,
    oi_cap: Option<f64>,
    leverage: (f64, f64, f64),
    llp_fractions: (f64, f64),
}

fn market_knobs() -> impl Strategy<Value = MarketKnobs> {
    (
        (
            prop_oneof![1 => Just(0.0), 4 => 1.0f64..1e5],
            0.0f64..100.0,
            20.0f64..3000.0,
            0.0f64..15.0,
        ),
        (knots(), knots(), knots()),
        prop_oneof![1 => Just(0.0), 3 => 0.0f64..2e4],
        prop_oneof![1 => Just(0.0), 2 => 0.0f64..1e8],
        prop::option::of(1e4f64..1e8),
        (1.0f64..50.0, 0.2f64..1.0, 1e4f64..1e7),
        (0.005f64..0.2, 0.1f64..0.9),
    )
        .prop_map(
            |(depth, multipliers, vault_usd_per_bps, noise, oi_cap, leverage, llp_fractions)| MarketKnobs {
                depth,
                multipliers,
                vault_usd_per_bps,
                noise,
                oi_cap,
                leverage,
                llp_fractions,
            },
        )
}

#[derive(Debug, Clone)]
struct Case {
    btc: Vec<f64>,
    doge: Vec<f64>,
    acts: Vec<(u64, Act)>,
    markets: (MarketKnobs, MarketKnobs),
    llp: bool,
    hlp_rule: (f64, f64, u64, f64),
    fees: (f64, f64, f64),
    mark: (f64, bool, f64, u64),
    arbitrage_per_hour: f64,
    max_rounds: u32,
    outage: Option<(u64, u64)>,
    vault: (f64, f64, f64, u64, f64, f64, Option<f64>),
}

fn case() -> impl Strategy<Value = Case> {
    (10u64..70).prop_flat_map(|steps| {
        let n = steps as usize;
        (
            prop::collection::vec(shock_move(0.02, 1.0), n),
            prop::collection::vec(shock_move(0.02, 1.0), n),
            prop::collection::vec((1..=steps, act()), 0..60),
            (market_knobs(), market_knobs()),
            any::<bool>(),
            (0.0f64..1e6, 0.05f64..1.0, 0u64..300, 0.1f64..1.0),
            (0.0f64..10.0, 0.0f64..1.0, 0.0f64..0.02),
            (0.0f64..600.0, any::<bool>(), 0.0f64..120.0, 0u64..300),
            prop_oneof![1 => Just(0.0), 3 => 0.0f64..1e3],
            1u32..12,
            prop::option::of((0..steps * STEP_S, 0..steps * STEP_S)),
            (
                0.0f64..2.0,
                1e3f64..1e8,
                1e3f64..1e7,
                0u64..3600,
                0.0f64..5.0,
                0.0f64..1.0,
                prop::option::of(0.0f64..1e6),
            ),
        )
            .prop_map(
                |(
                    btc,
                    doge,
                    acts,
                    markets,
                    llp,
                    hlp_rule,
                    fees,
                    mark,
                    arbitrage_per_hour,
                    max_rounds,
                    outage,
                    vault,
                )| Case {
                    btc,
                    doge,
                    acts,
                    markets,
                    llp,
                    hlp_rule,
                    fees,
                    mark,
                    arbitrage_per_hour,
                    max_rounds,
                    outage: outage.map(|(a, b)| (a.min(b), a.max(b))),
                    vault,
                },
            )
    })
}

fn market(asset: usize, k: &MarketKnobs, llp: bool) -> BookMarketParams {
    let (touch, decay, max, half) = k.depth;
    let (lev, ratio, bound) = k.leverage;
    BookMarketParams {
        asset,
        margin: Margin {
            tiers: vec![
                Tier {
                    lower_bound_usd: 0.0,
                    max_leverage: lev,
                },
                Tier {
                    lower_bound_usd: bound,
                    max_leverage: (lev * ratio).max(1.0),
                },
            ],
            maintenance_fraction: llp.then_some(k.llp_fractions.0),
            close_out_fraction: llp.then_some(k.llp_fractions.0 * k.llp_fractions.1),
        },
        depth: DepthProfile {
            touch_usd_per_bps: touch,
            decay_bps: decay,
            max_bps: max,
            half_spread_bps: half.min(max * 0.5),
        },
        depth_multiplier: k.multipliers.0.clone(),
        side_multiplier: [k.multipliers.1.clone(), k.multipliers.2.clone()],
        vault_usd_per_bps: k.vault_usd_per_bps,
        oi_cap_usd: k.oi_cap.unwrap_or(f64::INFINITY),
        impact_notional_usd: 20_000.0,
        noise_flow_usd_per_hour: k.noise,
    }
}

fn params(c: &Case) -> BookParams {
    let (slice_above_usd, first_slice, cooldown_s, backstop_fraction) = c.hlp_rule;
    let (taker_fee_bps, vault_fee_share, fee_cap) = c.fees;
    let (basis_ema_s, external_reference, book_ema_s, oracle_lag_s) = c.mark;
    let (skew, inventory_limit_usd, loss_limit_usd, pull_s, unwind_per_hour, stale_share, cap) = c.vault;
    BookParams {
        name: "book".into(),
        style: if c.llp { "llp" } else { "hlp" },
        vault_usd: 1e7,
        settlement: USDC,
        taker_fee_bps,
        vault_fee_share,
        liquidation: if c.llp {
            LiquidationRule::Llp { fee_cap }
        } else {
            LiquidationRule::Hlp {
                slice_above_usd,
                first_slice,
                cooldown_s,
                backstop_fraction,
            }
        },
        funding: FundingRule::HYPERLIQUID,
        mark: MarkParams {
            basis_ema_s,
            external_reference,
            book_ema_s,
            oracle_lag_s,
        },
        arbitrage_per_hour: c.arbitrage_per_hour,
        max_cascade_rounds: c.max_rounds,
        outages: c.outage.into_iter().collect(),
        vault: VaultParams {
            skew,
            inventory_limit_usd,
            loss_limit_usd,
            pull_s,
            unwind_per_hour,
            stale_share,
            backstop_loss_cap_usd: cap.unwrap_or(f64::INFINITY),
        },
        markets: vec![market(BTC, &c.markets.0, c.llp), market(DOGE, &c.markets.1, c.llp)],
    }
}

fn prices_at(c: &Case, step: usize) -> [f64; 3] {
    let path = |moves: &[f64], p0: f64| {
        let x: f64 = moves[..step].iter().sum::<f64>().clamp(-(1e7f64).ln(), (1e4f64).ln());
        p0 * x.exp()
    };
    [path(&c.btc, 100_000.0), path(&c.doge, 0.2), 1.0]
}

fn order(account: u32, doge: bool, short: bool, cross: bool, kind: OrderKind) -> Order {
    Order {
        account,
        market: if doge { DOGE } else { BTC },
        side: if short { Side::Short } else { Side::Long },
        collateral: AUTO_COLLATERAL,
        kind,
        exit: ExitPlan {
            deadline_s: u64::MAX,
            stop_loss_roe: 0.5,
            take_profit_roe: 2.0,
        },
        cross,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn books_balance_nothing_is_nan_and_the_cascade_is_bounded(c in case()) {
        let p = params(&c);
        let max_rounds = u64::from(p.max_cascade_rounds);
        let mut v = BookVenue::new(p, 3, ACCOUNTS);
        let steps = c.btc.len() as u64;
        let p0 = prices_at(&c, 0);
        v.reset(&p0, Clock { step_s: STEP_S, steps });
        v.end_warm_start(0, &p0);
        let mut trace = Trace::recording();
        let mut row = Vec::new();
        let deposits: f64 = c.acts.iter().map(|(_, a)| match a {
            Act::Open { size, collateral, .. } => size + collateral,
            Act::AddCollateral { usd, .. } => *usd,
            _ => 0.0,
        }).sum();
        let scale = (1e7 + deposits) * 1e4;
        for step in 1..=steps {
            let px = prices_at(&c, step as usize);
            let t = step * STEP_S;
            let mut cx = Cx { t_s: t, prices: &px, trace: &mut trace, warm_start: false };
            v.accrue(&mut cx);
            for (_, a) in c.acts.iter().filter(|(s, _)| *s == step) {
                let (o, kind) = match *a {
                    Act::Open { account, doge, short, cross, size, collateral } => (
                        (account, doge, short, cross),
                        OrderKind::Increase { size_usd: size, collateral_usd: collateral },
                    ),
                    Act::Close { account, doge, short, size } => {
                        ((account, doge, short, false), OrderKind::Decrease { size_usd: size })
                    }
                    Act::AddCollateral { account, doge, short, cross, usd } => {
                        ((account, doge, short, cross), OrderKind::AddCollateral { usd })
                    }
                    Act::Withdraw { account, doge, short, cross, usd } => {
                        ((account, doge, short, cross), OrderKind::WithdrawCollateral { usd })
                    }
                };
                let _ = v.submit(&order(o.0, o.1, o.2, o.3, kind), &mut cx);
            }
            v.run_exits(&mut cx);
            v.liquidate(&mut cx);
            prop_assert!(
                v.counters().peak_cascade_depth <= max_rounds,
                "cascade depth {} past its bound {}", v.counters().peak_cascade_depth, max_rounds
            );
            v.deleverage(&mut cx);
            v.maintain(&mut cx);
            let err = v.conservation_error_usd(t, &px);
            prop_assert!(err <= 1e-9 * scale + 1e-6, "conservation error {} at step {}", err, step);
            row.clear();
            v.trace_row(t, &px, &mut row);
            prop_assert!(row.iter().all(|x| x.is_finite()), "non-finite trace row {:?}", row);
            prop_assert!(v.lp_value_usd(&px).is_finite());
        }
        let k = v.counters();
        for (name, x) in [
            ("bad debt", k.bad_debt_usd),
            ("liquidated through the book", k.liquidated_book_usd),
            ("liquidated through the backstop", k.liquidated_backstop_usd),
            ("ADL", k.adl_usd),
        ] {
            prop_assert!(x.is_finite() && x >= 0.0, "{} = {}", name, x);
        }
        for x in [k.vault_spread_usd, k.vault_inventory_usd, k.vault_funding_usd, k.vault_backstop_usd, k.vault_fees_usd] {
            prop_assert!(x.is_finite());
        }
        let trace_ok = trace.events.iter().all(|e| e.size_usd.is_finite() && e.price.is_finite() && e.payout_usd.is_finite());
        prop_assert!(trace_ok, "an event with a non-finite number");
    }
}
