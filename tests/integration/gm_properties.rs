//! Properties of the GM/GLV venue over random parameters, order and LP
//! sequences and price paths, moves past 90 % included. After every step:
//! the ledger balances and the venue's books agree with it, every pool value
//! is finite, no position the exact rule would liquidate is left after the
//! liquidation keeper, and after ADL no market side with a profitable
//! position is above its ADL cap. Nothing panics.

use crate::common::shock_move;
use perpsim::engine::metrics::Metric;
use perpsim::engine::trace::Trace;
use perpsim::engine::{RunOptions, Workspace};
use perpsim::market::{AssetSpec, KnotPath, Process};
use perpsim::scenario::{RunDefaults, Scenario};
use perpsim::trader::{Dist, DistKind, ExitRule, LpFlowParams, MixRule, PopulationParams, RunRule};
use perpsim::venue::gmx::formulas::{BorrowModel, FundingParams, ImpactFactors, Referral};
use perpsim::venue::gmx::{
    AdlRanking, FeeReceivers, GlvParams, GmMarketParams, GmParams, GmVenue, ImpactFlow, MarketPreset, PnlCap,
};
use perpsim::venue::{Clock, Cx, DepositMix, ExitPlan, Order, OrderKind, Side, Venue, VenueSpec};
use proptest::prelude::*;

const STEP_S: u64 = 60;
const ETH: usize = 0;
const DOGE: usize = 1;
const USDC: usize = 2;

#[derive(Debug, Clone)]
enum Act {
    Open {
        account: u32,
        doge: bool,
        short: bool,
        usdc: bool,
        size: f64,
        collateral: f64,
    },
    Close {
        account: u32,
        doge: bool,
        short: bool,
        usdc: bool,
        size: Option<f64>,
    },
    AddCollateral {
        account: u32,
        doge: bool,
        short: bool,
        usdc: bool,
        usd: f64,
    },
    Withdraw {
        account: u32,
        doge: bool,
        short: bool,
        usdc: bool,
        usd: f64,
    },
    LpDeposit {
        usd: f64,
        mix: u8,
    },
    LpWithdraw {
        fraction: f64,
    },
}

fn act() -> impl Strategy<Value = Act> {
    let who = (0u32..4, any::<bool>(), any::<bool>(), any::<bool>());
    let size = prop_oneof![1.0f64..1e3, 1e3f64..1e6, 1e6f64..2e7];
    let usd = prop_oneof![0.0f64..10.0, 10.0f64..1e4, 1e4f64..1e7];
    prop_oneof![
        4 => (who.clone(), size.clone(), usd.clone()).prop_map(|((account, doge, short, usdc), size, collateral)| Act::Open {
            account, doge, short, usdc, size, collateral
        }),
        2 => (who.clone(), prop::option::of(size)).prop_map(|((account, doge, short, usdc), size)| Act::Close {
            account, doge, short, usdc, size
        }),
        1 => (who.clone(), usd.clone()).prop_map(|((account, doge, short, usdc), usd)| Act::AddCollateral {
            account, doge, short, usdc, usd
        }),
        1 => (who, usd.clone()).prop_map(|((account, doge, short, usdc), usd)| Act::Withdraw {
            account, doge, short, usdc, usd
        }),
        1 => (usd, 0u8..3).prop_map(|(usd, mix)| Act::LpDeposit { usd, mix }),
        1 => (0.0f64..0.99).prop_map(|fraction| Act::LpWithdraw { fraction }),
    ]
}

#[derive(Debug, Clone)]
struct MarketKnobs {
    impact: (f64, f64, f64, f64),
    max_impact: (f64, f64, f64),
    fees: (f64, f64, f64),
    borrow: (bool, f64, f64, f64),
    funding: (bool, f64, f64, f64),
    reserve: (f64, f64),
    caps: (f64, f64, f64, f64, f64),
    min_collateral: f64,
    flow_pending: bool,
}

fn knobs() -> impl Strategy<Value = MarketKnobs> {
    (
        (0.0f64..1e-6, 0.0f64..1e-6, 1.0f64..3.0, 1.0f64..3.0),
        (0.0f64..0.05, 0.0f64..0.05, 0.0f64..0.02),
        (0.0f64..0.01, 0.0f64..0.01, 0.0f64..0.02),
        (any::<bool>(), 0.0f64..5.0, 0.05f64..0.95, 0.0f64..1e-7),
        (any::<bool>(), 0.0f64..1e-7, 0.0f64..1e-6, 0.0f64..0.2),
        (0.05f64..3.0, 0.05f64..3.0),
        (0.1f64..1.5, 0.2f64..1.5, 0.0f64..1.0, 0.1f64..1.5, 0.1f64..1.5),
        0.002f64..0.5,
        any::<bool>(),
    )
        .prop_map(
            |(impact, max_impact, fees, borrow, funding, reserve, caps, min_collateral, flow_pending)| MarketKnobs {
                impact,
                max_impact,
                fees,
                borrow,
                funding,
                reserve,
                caps,
                min_collateral,
                flow_pending,
            },
        )
}

fn market(name: &str, index: usize, long: usize, short: usize, k: &MarketKnobs, weight: f64) -> GmMarketParams {
    let mut p = MarketPreset::Base.params();
    p.name = name.into();
    p.index = index;
    p.long_token = long;
    p.short_token = short;
    p.weight = weight;
    p.impact_flow = if k.flow_pending {
        ImpactFlow::Pending
    } else {
        ImpactFlow::OpenTime
    };
    p.position_impact = ImpactFactors {
        positive: k.impact.0,
        negative: k.impact.1,
        positive_exponent: k.impact.2,
        negative_exponent: k.impact.3,
    };
    p.swap_impact = p.position_impact;
    (
        p.max_positive_impact,
        p.max_negative_impact,
        p.max_impact_for_liquidations,
    ) = k.max_impact;
    (p.position_fee_positive, p.position_fee_negative, p.liquidation_fee) = k.fees;
    p.borrow = if k.borrow.0 {
        BorrowModel::Kink {
            optimal_usage: k.borrow.2,
            base_per_s: k.borrow.1 * 1e-8,
            above_optimal_per_s: k.borrow.1 * 3e-8,
        }
    } else {
        BorrowModel::Curve {
            factor: k.borrow.3,
            exponent: 1.0 + k.borrow.2,
        }
    };
    p.funding = FundingParams {
        factor: k.funding.1,
        increase_per_s2: if k.funding.0 { k.funding.2 * 1e-3 } else { 0.0 },
        decrease_per_s2: k.funding.2 * 1e-5,
        threshold_stable: k.funding.3,
        threshold_decrease: k.funding.3 / 2.0,
        min_per_s: 0.0,
        max_per_s: 1e-6,
        ..FundingParams::NONE
    };
    (p.reserve_factor, p.oi_reserve_factor) = k.reserve;
    let (traders, adl, after, deposits, withdrawals) = k.caps;
    p.pnl_caps.traders = traders;
    p.pnl_caps.adl = adl;
    p.pnl_caps.after_adl = adl * after.min(0.99);
    p.pnl_caps.deposits = deposits;
    p.pnl_caps.withdrawals = withdrawals;
    p.min_collateral_factor = k.min_collateral;
    p.min_collateral_factor_for_liquidation = k.min_collateral * 0.5;
    p
}

#[derive(Debug, Clone)]
struct Case {
    eth: Vec<f64>,
    doge: Vec<f64>,
    acts: Vec<(u64, Act)>,
    eth_knobs: MarketKnobs,
    doge_knobs: MarketKnobs,
    single_token: bool,
    glv: bool,
    ranking: u8,
    receivers: f64,
}

fn case() -> impl Strategy<Value = Case> {
    (10u64..60).prop_flat_map(|steps| {
        let n = steps as usize;
        (
            prop::collection::vec(shock_move(0.03, 2.0), n),
            prop::collection::vec(shock_move(0.03, 2.0), n),
            prop::collection::vec((1..=steps, act()), 0..50),
            knobs(),
            knobs(),
            any::<bool>(),
            any::<bool>(),
            0u8..3,
            0.0f64..1.0,
        )
            .prop_map(
                |(eth, doge, acts, eth_knobs, doge_knobs, single_token, glv, ranking, receivers)| Case {
                    eth,
                    doge,
                    acts,
                    eth_knobs,
                    doge_knobs,
                    single_token,
                    glv,
                    ranking,
                    receivers,
                },
            )
    })
}

fn params(c: &Case) -> GmParams {
    // ETH fully backed (or single-token ETH-ETH) and DOGE synthetic on the same tokens.
    let short = if c.single_token { ETH } else { USDC };
    GmParams {
        name: "gm".into(),
        pool_usd: 1e7,
        glv: c.glv.then_some(GlvParams {
            shift_min_interval_s: 120,
            shift_max_loss_factor: 0.01,
            shift_utilization_gap: 0.0,
            shift_fraction: 0.2,
        }),
        lp_price_cap: if c.glv { PnlCap::Deposits } else { PnlCap::Withdrawals },
        fee_receivers: FeeReceivers {
            position: c.receivers,
            swap: c.receivers,
            borrowing: c.receivers,
            liquidation: c.receivers,
        },
        referral: Referral {
            affiliate_reward_factor: 0.05,
            trader_discount_factor: 0.05,
            pro_discount_factor: 0.0,
            min_affiliate_reward_factor: 0.0,
        },
        skip_borrowing_for_smaller_side: true,
        claimable_delay_s: 300,
        adl_ranking: [AdlRanking::MostProfitable, AdlRanking::HighestRoe, AdlRanking::Largest][c.ranking as usize],
        markets: vec![
            market("ETH", ETH, ETH, short, &c.eth_knobs, 0.6),
            market("DOGE", DOGE, ETH, short, &c.doge_knobs, 0.4),
        ],
    }
}

fn prices_at(c: &Case, step: usize) -> [f64; 3] {
    let path = |moves: &[f64], p0: f64| {
        let x: f64 = moves[..step].iter().sum::<f64>().clamp(-(1e7f64).ln(), (1e4f64).ln());
        p0 * x.exp()
    };
    [path(&c.eth, 3000.0), path(&c.doge, 0.3), 1.0]
}

fn order(account: u32, doge: bool, short: bool, usdc: bool, kind: OrderKind, single: bool) -> Order {
    Order {
        account,
        market: if doge { DOGE } else { ETH },
        side: if short { Side::Short } else { Side::Long },
        collateral: if usdc && !single { USDC } else { ETH },
        kind,
        exit: ExitPlan {
            deadline_s: u64::MAX,
            stop_loss_roe: 0.5,
            take_profit_roe: 2.0,
        },
        cross: false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn books_balance_adl_holds_and_no_liquidation_is_missed(c in case()) {
        let p = params(&c);
        let caps: Vec<_> = p.markets.iter().map(|m| m.pnl_caps).collect();
        let mut v = GmVenue::new(p, 3, 4);
        let steps = c.eth.len() as u64;
        let p0 = prices_at(&c, 0);
        v.reset(&p0, Clock { step_s: STEP_S, steps });
        v.end_warm_start(0, &p0);
        let mut trace = Trace::recording();
        let mut row = Vec::new();
        let single = c.single_token;
        for step in 1..=steps {
            let px = prices_at(&c, step as usize);
            let t = step * STEP_S;
            let mut cx = Cx { t_s: t, prices: &px, trace: &mut trace, warm_start: false };
            v.accrue(&mut cx);
            for (_, a) in c.acts.iter().filter(|(s, _)| *s == step) {
                match *a {
                    Act::Open { account, doge, short, usdc, size, collateral } => {
                        let k = OrderKind::Increase { size_usd: size, collateral_usd: collateral };
                        let _ = v.submit(&order(account, doge, short, usdc, k, single), &mut cx);
                    }
                    Act::Close { account, doge, short, usdc, size } => {
                        let k = OrderKind::Decrease { size_usd: size };
                        let _ = v.submit(&order(account, doge, short, usdc, k, single), &mut cx);
                    }
                    Act::AddCollateral { account, doge, short, usdc, usd } => {
                        let k = OrderKind::AddCollateral { usd };
                        let _ = v.submit(&order(account, doge, short, usdc, k, single), &mut cx);
                    }
                    Act::Withdraw { account, doge, short, usdc, usd } => {
                        let k = OrderKind::WithdrawCollateral { usd };
                        let _ = v.submit(&order(account, doge, short, usdc, k, single), &mut cx);
                    }
                    Act::LpDeposit { usd, mix } => {
                        let mix = [DepositMix::Balanced, DepositMix::LongToken, DepositMix::ShortToken][mix as usize];
                        let _ = v.lp_deposit(usd, mix, &mut cx);
                    }
                    Act::LpWithdraw { fraction } => {
                        let _ = v.lp_withdraw(fraction * v.lp_supply(), &mut cx);
                    }
                }
            }
            v.run_exits(&mut cx);
            v.liquidate(&mut cx);
            prop_assert_eq!(v.liquidatable_positions(&px), 0, "a liquidatable position survived the keeper at step {}", step);
            v.deleverage(&mut cx);
            for (m, cap) in caps.iter().enumerate() {
                for side in [Side::Long, Side::Short] {
                    let f = v.pnl_to_pool_factor(m, side, &px);
                    prop_assert!(
                        f <= cap.adl * (1.0 + 1e-9) || !v.has_profitable(m, side, &px),
                        "market {} {:?}: PnL-to-pool {} above the ADL cap {} with profitable positions left", m, side, f, cap.adl
                    );
                }
            }
            v.maintain(&mut cx);
            for m in 0..v.market_count() {
                for cap in [PnlCap::Deposits, PnlCap::Withdrawals, PnlCap::Traders, PnlCap::Uncapped] {
                    prop_assert!(v.pool_value_usd(m, &px, cap).is_finite());
                }
            }
            let scale = 1e7 * 1e4 + c.acts.iter().map(|(_, a)| match a {
                Act::Open { size, collateral, .. } => size + collateral,
                Act::LpDeposit { usd, .. } | Act::AddCollateral { usd, .. } => *usd,
                _ => 0.0,
            }).sum::<f64>() * 1e4;
            let err = v.conservation_error_usd(t, &px);
            prop_assert!(err <= 1e-9 * scale + 1e-6, "conservation error {} at step {}", err, step);
            row.clear();
            v.trace_row(t, &px, &mut row);
            prop_assert!(row.iter().all(|x| x.is_finite()), "non-finite trace row {:?}", row);
        }
        prop_assert!(v.counters().bad_debt_usd >= 0.0);
        prop_assert!(v.lp_value_usd(&prices_at(&c, steps as usize)).is_finite());
    }
}

/// The same random venues through the whole engine, with a trader
/// population and LP flows (deposits, withdrawals and a run): conservation
/// holds at every step and no metric is NaN.
fn engine_scenario(c: &Case) -> Scenario {
    let knots = |moves: &[f64]| {
        let mut x = 0.0f64;
        let mut times = vec![0.0];
        let mut logs = vec![0.0];
        for (i, m) in moves.iter().enumerate() {
            x = (x + m).clamp(-(1e7f64).ln(), (1e4f64).ln());
            times.push(((i + 1) as u64 * STEP_S) as f64);
            logs.push(x);
        }
        Process::Knots(KnotPath {
            times_s: times,
            log_rel: logs,
            noise_vol: 0.5,
            origin: "property".into(),
        })
    };
    let asset = |name: &str, price: f64, stable: bool, process: Process| AssetSpec {
        name: name.into(),
        price,
        stable,
        process,
    };
    let dist = |kind| Dist {
        kind,
        min: 0.0,
        max: f64::INFINITY,
    };
    Scenario {
        name: "gm-property".into(),
        description: String::new(),
        horizon_s: c.eth.len() as u64 * STEP_S,
        step_s: STEP_S,
        assets: vec![
            asset("ETH", 3000.0, false, knots(&c.eth)),
            asset("DOGE", 0.3, false, knots(&c.doge)),
            asset("USDC", 1.0, true, Process::Fixed),
        ],
        correlation: None,
        traders: Some(PopulationParams {
            accounts: 20,
            arrival_rate_per_hour: 300.0,
            markets: vec![ETH, DOGE],
            market_cum_weights: vec![0.5, 1.0],
            long_share: vec![0.6, 0.6],
            short_collateral: vec![USDC],
            short_collateral_cum_weights: vec![1.0],
            leverage: Dist {
                kind: DistKind::Uniform { lo: 1.0, hi: 80.0 },
                min: 1.0,
                max: f64::INFINITY,
            },
            notional_usd: dist(DistKind::Pareto {
                scale: 1000.0,
                alpha: 1.2,
            }),
            holding_s: dist(DistKind::Exponential { mean: 900.0 }),
            stop_loss: Some(ExitRule {
                probability: 0.5,
                roe: 0.4,
            }),
            take_profit: Some(ExitRule {
                probability: 0.5,
                roe: 0.8,
            }),
            warm_start: true,
        }),
        lps: Some(LpFlowParams {
            deposits_per_hour: 30.0,
            deposit_usd: dist(DistKind::Exponential { mean: 2e5 }),
            deposit_mix: MixRule::Random,
            withdrawals_per_hour: 30.0,
            withdraw_usd: dist(DistKind::Exponential { mean: 2e5 }),
            run: Some(RunRule {
                drawdown: 0.02,
                rate_per_hour: 0.5,
                max_fraction: 0.5,
            }),
        }),
        scripted: Vec::new(),
        scripted_accounts: Vec::new(),
        venues: vec![VenueSpec::Gm(params(c))],
        run: RunDefaults { paths: 1, seed: 1 },
        reported: Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn engine_paths_with_traders_and_lp_flows_balance(c in case(), seed in any::<u64>()) {
        let scn = engine_scenario(&c);
        let mut ws = Workspace::with_options(&scn, RunOptions { check_every_step: true });
        let out = ws.run_path(seed, 0, false);
        let m = &out.metrics[0];
        prop_assert_eq!(m.first_non_finite(), None, "{:?}", m.values);
        let err = m.get(Metric::ConservationError);
        prop_assert!(err <= 1e-9 * 1e11 + 1e-6, "conservation error {}", err);
        prop_assert!(m.get(Metric::BadDebtUsd) >= 0.0);
    }
}
