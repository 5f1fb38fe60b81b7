//! Properties over random venues, order sequences and price paths (prices
//! near zero and 10x jumps included): the ledger balances for every token
//! and the venue's books agree with it after every step, no metric is NaN,
//! and nothing panics. Because leverage is at least 1, the pool never pays
//! out more of a token than it owns, and with pegged stablecoins its value
//! never goes below zero.

use perpsim::engine::metrics::Metric;
use perpsim::engine::{RunOptions, Workspace};
use perpsim::market::{AssetSpec, KnotPath, Process};
use perpsim::scenario::{RunDefaults, Scenario};
use perpsim::trader::{Dist, DistKind, ExitRule, PopulationParams, ScriptedAction};
use perpsim::venue::jlp::formulas::{BorrowCurve, ImpactParams};
use perpsim::venue::jlp::{CustodyParams, JlpParams};
use perpsim::venue::{ExitPlan, Order, OrderKind, Side, VenueSpec};
use proptest::prelude::*;

const STEP_S: u64 = 60;

/// A log-price move per step: quiet, a 10x jump, a crash towards zero, or a
/// recovery.
fn step_move() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -0.05f64..0.05,
        1 => Just(10f64.ln()),
        1 => Just(-(1e5f64).ln()),
        1 => -3.0f64..3.0,
    ]
}

fn knots(moves: &[f64], noise_vol: f64) -> Process {
    let mut x = 0.0f64;
    let mut times = vec![0.0];
    let mut logs = vec![0.0];
    for (i, m) in moves.iter().enumerate() {
        // Keep prices within [1e-6, 1e4] of the start: 1e-4 USD for a $100 token.
        x = (x + m).clamp(-(1e6f64).ln(), (1e4f64).ln());
        times.push(((i + 1) as u64 * STEP_S) as f64);
        logs.push(x);
    }
    Process::Knots(KnotPath {
        times_s: times,
        log_rel: logs,
        noise_vol,
        origin: "property".into(),
    })
}

#[derive(Debug, Clone)]
struct RawAction {
    step: u64,
    account: u32,
    kind: u8,
    market: usize,
    short: bool,
    stable: usize,
    size: f64,
    amount: f64,
}

fn action(steps: u64) -> impl Strategy<Value = RawAction> {
    (
        1..=steps,
        0u32..4,
        0u8..5,
        0usize..2,
        any::<bool>(),
        0usize..2,
        prop_oneof![1.0f64..1e3, 1e3f64..1e6, 1e6f64..2e7],
        prop_oneof![0.0f64..10.0, 10.0f64..1e4, 1e4f64..1e7],
    )
        .prop_map(|(step, account, kind, market, short, stable, size, amount)| RawAction {
            step,
            account,
            kind,
            market,
            short,
            stable,
            size,
            amount,
        })
}

fn borrow() -> impl Strategy<Value = BorrowCurve> {
    (0.0f64..1.0, 0.0f64..2.0, 0.0f64..5.0, 0.05f64..0.95).prop_map(|(a, b, c, tu)| {
        let mut r = [a, b, c];
        r.sort_by(f64::total_cmp);
        BorrowCurve {
            min_rate: r[0],
            target_rate: r[1],
            max_rate: r[2],
            target_utilization: tu,
        }
    })
}

fn impact() -> impl Strategy<Value = ImpactParams> {
    (
        prop_oneof![Just(0.0f64), 1e5f64..1e10],
        0.0f64..2e6,
        0.0f64..1e-2,
        0.5f64..3.0,
        0.0f64..300.0,
        1u64..120,
    )
        .prop_map(|(scalar, thr, factor, exp, max_fee, window)| ImpactParams {
            scalar_usd: scalar,
            additive_threshold_usd: thr,
            additive_factor: factor,
            additive_exponent: exp,
            max_fee_bps: max_fee,
            window_s: window,
        })
}

#[derive(Debug, Clone)]
struct Case {
    steps: u64,
    sol: Vec<f64>,
    eth: Vec<f64>,
    usdc: Vec<f64>,
    usdc_pegged: bool,
    actions: Vec<RawAction>,
    weights: [f64; 4],
    base_fee_bps: f64,
    protocol_share: f64,
    maintenance: f64,
    max_leverage: f64,
    min_leverage: f64,
    max_utilization: f64,
    borrow: BorrowCurve,
    impact: ImpactParams,
    population: Option<(f64, f64, f64)>,
}

fn case() -> impl Strategy<Value = Case> {
    (20u64..100).prop_flat_map(|steps| {
        let n = steps as usize;
        (
            (
                Just(steps),
                prop::collection::vec(step_move(), n),
                prop::collection::vec(step_move(), n),
                prop::collection::vec(-0.02f64..0.02, n),
                any::<bool>(),
                prop::collection::vec(action(steps), 0..40),
                [0.05f64..1.0, 0.05f64..1.0, 0.05f64..1.0, 0.05f64..1.0],
            ),
            (
                0.0f64..50.0,
                0.0f64..1.0,
                0.0005f64..0.05,
                1.0f64..200.0,
                1.0f64..2.0,
                0.05f64..1.0,
                borrow(),
                impact(),
                prop::option::of((1.0f64..600.0, 1.0f64..100.0, 0.0f64..1.0)),
            ),
        )
            .prop_map(
                |(
                    (steps, sol, eth, usdc, usdc_pegged, actions, w),
                    (fee, share, mm, lev, min_lev, util, borrow, impact, population),
                )| {
                    let sum: f64 = w.iter().sum();
                    Case {
                        steps,
                        sol,
                        eth,
                        usdc,
                        usdc_pegged,
                        actions,
                        weights: [w[0] / sum, w[1] / sum, w[2] / sum, w[3] / sum],
                        base_fee_bps: fee,
                        protocol_share: share,
                        maintenance: mm,
                        max_leverage: lev.max(min_lev),
                        min_leverage: min_lev,
                        max_utilization: util,
                        borrow,
                        impact,
                        population,
                    }
                },
            )
    })
}

fn build(c: &Case) -> Scenario {
    let asset = |name: &str, price: f64, stable: bool, process: Process| AssetSpec {
        name: name.into(),
        price,
        stable,
        process,
    };
    let assets = vec![
        asset("SOL", 100.0, false, knots(&c.sol, 0.0)),
        asset("ETH", 3000.0, false, knots(&c.eth, 0.5)),
        asset(
            "USDC",
            1.0,
            true,
            if c.usdc_pegged {
                Process::Fixed
            } else {
                knots(&c.usdc, 0.0)
            },
        ),
        asset("USDT", 1.0, true, Process::Fixed),
    ];
    let custody = |i: usize| CustodyParams {
        asset: i,
        stable: i >= 2,
        weight: c.weights[i],
        target_weight: c.weights[i],
        borrow: c.borrow,
        impact: c.impact,
        max_position_usd: 5e6,
        max_global_long_usd: if i == 1 { 2e7 } else { f64::INFINITY },
        max_global_short_usd: if i == 0 { 1e7 } else { f64::INFINITY },
    };
    let venue = JlpParams {
        name: "jlp".into(),
        aum_usd: 1e7,
        lp_price_usd: 1.0,
        max_leverage: c.max_leverage,
        min_leverage: c.min_leverage,
        maintenance_margin: c.maintenance,
        base_fee_bps: c.base_fee_bps,
        protocol_share: c.protocol_share,
        max_utilization: c.max_utilization,
        custodies: (0..4).map(custody).collect(),
    };
    let pop_accounts = 3;
    let traders = c.population.map(|(rate, lev, long)| PopulationParams {
        accounts: pop_accounts,
        arrival_rate_per_hour: rate,
        markets: vec![0, 1],
        market_cum_weights: vec![0.5, 1.0],
        long_share: vec![long, long],
        short_collateral: vec![2, 3],
        short_collateral_cum_weights: vec![0.5, 1.0],
        leverage: Dist {
            kind: DistKind::Uniform { lo: 1.0, hi: lev },
            min: 1.0,
            max: f64::INFINITY,
        },
        notional_usd: Dist {
            kind: DistKind::Pareto {
                scale: 100.0,
                alpha: 1.1,
            },
            min: 0.0,
            max: 3e6,
        },
        holding_s: Dist {
            kind: DistKind::Exponential { mean: 600.0 },
            min: 0.0,
            max: f64::INFINITY,
        },
        stop_loss: Some(ExitRule {
            probability: 0.5,
            roe: 0.3,
        }),
        take_profit: Some(ExitRule {
            probability: 0.5,
            roe: 0.5,
        }),
        warm_start: true,
    });
    let first = traders.as_ref().map_or(0, |t| t.accounts);
    let mut scripted: Vec<ScriptedAction> = c
        .actions
        .iter()
        .map(|a| {
            let market = a.market;
            let (side, collateral) = if a.short {
                (Side::Short, 2 + a.stable)
            } else {
                (Side::Long, market)
            };
            let kind = match a.kind {
                0 | 1 => OrderKind::Increase {
                    size_usd: a.size,
                    collateral_usd: a.amount,
                },
                2 => OrderKind::Decrease {
                    size_usd: (a.size < 1e4).then_some(a.size),
                },
                3 => OrderKind::AddCollateral { usd: a.amount },
                _ => OrderKind::WithdrawCollateral { usd: a.amount },
            };
            ScriptedAction {
                at_s: a.step * STEP_S,
                order: Order {
                    account: first + a.account,
                    market,
                    side,
                    collateral,
                    kind,
                    exit: ExitPlan::NONE,
                    cross: false,
                },
            }
        })
        .collect();
    scripted.sort_by_key(|a| a.at_s);
    Scenario {
        name: "property".into(),
        description: String::new(),
        horizon_s: c.steps * STEP_S,
        step_s: STEP_S,
        assets,
        correlation: None,
        traders,
        lps: None,
        scripted,
        scripted_accounts: (0..4).map(|i| format!("s{i}")).collect(),
        venues: vec![VenueSpec::Jlp(venue)],
        run: RunDefaults { paths: 1, seed: 1 },
        reported: Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn ledger_balances_and_nothing_is_nan_on_any_path(c in case(), seed in any::<u64>()) {
        let scn = build(&c);
        let mut ws = Workspace::with_options(&scn, RunOptions { check_every_step: true });
        let out = ws.run_path(seed, 0, true);
        let m = &out.metrics[0];
        let trace = &out.traces[0];
        prop_assert_eq!(m.first_non_finite(), None, "{:?}", m.values);
        // Values can grow 1e4-fold: allow rounding on that scale.
        let max_mult = c.sol.iter().chain(&c.eth).map(|x| x.abs()).sum::<f64>().exp().min(1e4);
        let scale = 1e7 * max_mult + c.actions.iter().map(|a| a.size + a.amount).sum::<f64>() * max_mult;
        let err = m.get(Metric::ConservationError);
        prop_assert!(err <= 1e-9 * scale + 1e-6, "conservation error {err} on scale {scale}");
        for metric in [Metric::BadDebtUsd, Metric::FeesUsd, Metric::LiquidatedUsd, Metric::VolumeUsd, Metric::MaxDrawdown] {
            prop_assert!(m.get(metric) >= 0.0, "{metric:?} = {}", m.get(metric));
        }
        let tol = 1e-9 * scale + 1e-6;
        let owned = |name: &str| {
            let i = trace.columns.iter().position(|c| c == name).unwrap() + 2;
            trace.rows.chunks(trace.row_width()).map(move |r| r[i]).collect::<Vec<_>>()
        };
        let (sol_owned, sol_price) = (owned("owned_SOL"), owned("price_SOL"));
        for (q, p) in sol_owned.iter().zip(&sol_price) {
            prop_assert!(q * p >= -tol, "SOL custody owns {q} tokens");
        }
        let (eth_owned, eth_price) = (owned("owned_ETH"), owned("price_ETH"));
        for (q, p) in eth_owned.iter().zip(&eth_price) {
            prop_assert!(q * p >= -tol, "ETH custody owns {q} tokens");
        }
        if c.usdc_pegged {
            for aum in owned("aum_usd") {
                prop_assert!(aum >= -tol, "AUM {aum} with pegged stables");
            }
        }
    }
}
