//! One path: the step loop, the ledger and the recorder.
//!
//! The engine knows no file format. Given a [`Scenario`], a master seed and
//! a path index, [`Workspace::run_path`] returns one [`PathMetrics`] row per
//! venue (and, when asked, a [`Trace`] per venue).
//!
//! Step order, fixed for every step and venue:
//! 1. prices: every asset advances to the step's time;
//! 2. accruals: borrow and funding ([`Venue::accrue`]);
//! 3. trader actions: scripted orders due, then exit triggers (stop loss,
//!    take profit, holding deadline), then new arrivals of the population;
//! 4. LP flows: deposits, withdrawals and the run rule;
//! 5. liquidations;
//! 6. auto-deleveraging;
//! 7. venue keepers (GLV shifts);
//! 8. recording: LP token price, drawdown, optional trace row.
//!
//! Before step 1 every venue is reset to its t = 0 state and, if the
//! population asks for it, the stationary starting book is placed at t = 0
//! prices ("warm start"); metrics start after that.

pub mod ledger;
pub mod metrics;
pub mod trace;

use self::metrics::{Metric, N_METRICS, PathMetrics};
use self::trace::Trace;
use crate::market::Market;
use crate::montecarlo::seed::{Stream, path_seed, stream_seed};
use crate::scenario::Scenario;
use crate::trader::{LpFlows, Population, Script};
use crate::venue::{Clock, Cx, Reject, Venue};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// How strictly a path is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunOptions {
    /// Check conservation after every step (slow; for tests), not only at the end.
    pub check_every_step: bool,
}

/// Most intervals of the chart grid: every path samples its [`Series`] at
/// `min(CHART_INTERVALS, steps) + 1` evenly spaced steps, the first and the
/// last included.
pub const CHART_INTERVALS: u64 = 64;

/// A per-path series sampled at the chart points (for fan charts and
/// time profiles over all paths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Series {
    /// LP token price, USD.
    LpPrice,
    /// Liquidated notional since t = 0, USD (cumulative).
    Liquidated,
    /// Auto-deleveraged notional since t = 0, USD (cumulative).
    Adl,
}

/// Number of [`Series`].
pub const N_SERIES: usize = 3;

/// The steps at which chart points are sampled: 0, then `min(CHART_INTERVALS,
/// steps)` steps evenly spaced (rounded up) ending at `steps`.
pub fn chart_steps(steps: u64) -> Vec<u64> {
    let g = CHART_INTERVALS.min(steps);
    let mut out = vec![0];
    out.extend((1..=g).map(|k| (k * steps).div_ceil(g)));
    out
}

/// What one path produced.
#[derive(Debug, Clone)]
pub struct PathOutput {
    /// One row per venue, in scenario order.
    pub metrics: Vec<PathMetrics>,
    /// One trace per venue (empty unless tracing was asked for).
    pub traces: Vec<Trace>,
    /// Every venue's [`Series`] at the chart points ([`chart_steps`]):
    /// venue-major, then series, then point.
    pub series: Vec<f64>,
}

impl PathOutput {
    /// Series `s` of venue `v` at the chart points.
    pub fn series(&self, v: usize, s: Series) -> &[f64] {
        let p = self.series.len() / (self.metrics.len() * N_SERIES).max(1);
        let start = (v * N_SERIES + s as usize) * p;
        &self.series[start..start + p]
    }
}

/// Traders' claim on the pool as a fraction of the pool's size: what the
/// LPs' starting tokens would be worth held (the pool's size had traders
/// made nothing), less what the LP token is worth, over the former, per LP
/// token: `1 − lp_growth / hold_growth`. It nets realised and open trader
/// PnL, fees and bad debt; 0 means the pool kept pace with holding, 1 means
/// traders' profit has consumed the pool. Growths are price ratios to t = 0;
/// a venue with no hold benchmark uses `1 − lp_growth`.
pub fn trader_pnl_to_pool(lp_growth: f64, hold_growth: f64) -> f64 {
    let base = if hold_growth > 0.0 && hold_growth.is_finite() {
        hold_growth
    } else {
        1.0
    };
    let r = 1.0 - lp_growth / base;
    if r.is_finite() { r } else { 0.0 }
}

/// The largest conservation error tolerated on a pool of `scale_usd`:
/// 1e-9 of the pool plus a micro-dollar, far above f64 rounding and far
/// below any real accounting slip.
pub fn conservation_tolerance_usd(scale_usd: f64) -> f64 {
    1e-9 * scale_usd.abs() + 1e-6
}

/// Reusable state for running paths of one scenario on one thread.
pub struct Workspace<'s> {
    scn: &'s Scenario,
    market: Market,
    venues: Vec<Box<dyn Venue>>,
    opts: RunOptions,
    asset_names: Vec<String>,
    chart_steps: Vec<u64>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Track {
    lp0: f64,
    /// LP token price recorded at the last step.
    last_lp: f64,
    hold0: f64,
    peak: f64,
    max_drawdown: f64,
    max_conservation: f64,
    peak_pnl_to_pool: f64,
}

impl<'s> Workspace<'s> {
    /// A workspace for `scn` with default options.
    pub fn new(scn: &'s Scenario) -> Workspace<'s> {
        Workspace::with_options(scn, RunOptions::default())
    }

    /// A workspace with explicit options.
    pub fn with_options(scn: &'s Scenario, opts: RunOptions) -> Workspace<'s> {
        let n_assets = scn.assets.len();
        let accounts = scn.max_accounts();
        Workspace {
            scn,
            market: Market::new(&scn.assets, scn.correlation.as_ref()),
            venues: scn.venues.iter().map(|v| v.build(n_assets, accounts)).collect(),
            opts,
            asset_names: scn.asset_names(),
            chart_steps: chart_steps(scn.steps()),
        }
    }

    /// Runs path `index` under `master_seed`. With `trace`, every venue
    /// records its per-step series and events.
    pub fn run_path(&mut self, master_seed: u64, index: u64, trace: bool) -> PathOutput {
        let scn = self.scn;
        let seed = path_seed(master_seed, index);
        let trader_seed = stream_seed(seed, Stream::Traders);
        let mut price_rng = Xoshiro256PlusPlus::seed_from_u64(stream_seed(seed, Stream::Prices));
        let Workspace {
            market,
            venues,
            opts,
            asset_names,
            chart_steps,
            ..
        } = self;
        let points = chart_steps.len();
        let mut series = vec![0.0; scn.venues.len() * N_SERIES * points];
        market.reset(&mut price_rng, scn.step_s);
        let nv = venues.len();
        let mut traces: Vec<Trace> = (0..nv)
            .map(|_| if trace { Trace::recording() } else { Trace::off() })
            .collect();
        let mut pops: Vec<Option<Population>> = (0..nv)
            .map(|_| scn.traders.as_ref().map(|p| Population::new(p, trader_seed)))
            .collect();
        let mut scripts: Vec<Script> = (0..nv).map(|_| Script::new(&scn.scripted)).collect();
        let lp_seed = stream_seed(seed, Stream::Lps);
        let mut lps: Vec<Option<LpFlows>> = (0..nv)
            .map(|_| scn.lps.as_ref().map(|p| LpFlows::new(p, lp_seed)))
            .collect();
        let mut track = vec![Track::default(); nv];
        let mut row = Vec::new();

        for v in 0..nv {
            let venue = venues[v].as_mut();
            let prices = market.prices();
            venue.reset(
                prices,
                Clock {
                    step_s: scn.step_s,
                    steps: scn.steps(),
                },
            );
            let mut cx = Cx {
                t_s: 0,
                prices,
                trace: &mut traces[v],
                warm_start: true,
            };
            if let Some(pop) = pops[v].as_mut() {
                pop.warm_start(venue, &mut cx);
            }
            venue.end_warm_start(0, prices);
            let lp0 = venue.lp_value_usd(prices) / venue.lp_supply();
            let hold0 = basket_value(venue.hold_basket(), prices);
            track[v] = Track {
                lp0,
                last_lp: lp0,
                hold0,
                peak: lp0,
                peak_pnl_to_pool: f64::NEG_INFINITY,
                ..Track::default()
            };
            sample(venue, &mut track[v], &mut series, v, points, 0, prices);
            if trace {
                let mut cols: Vec<String> = asset_names.iter().map(|a| format!("price_{a}")).collect();
                cols.extend(venue.trace_columns(asset_names));
                traces[v].columns = cols;
                record_row(&mut traces[v], &mut row, venue, 0, 0, prices);
            }
        }

        let mut next_point = 1.min(points - 1);
        for step in 1..=scn.steps() {
            let t_s = step * scn.step_s;
            market.advance(&mut price_rng, t_s);
            let prices = market.prices();
            for v in 0..nv {
                let venue = venues[v].as_mut();
                let mut cx = Cx {
                    t_s,
                    prices,
                    trace: &mut traces[v],
                    warm_start: false,
                };
                venue.accrue(&mut cx);
                scripts[v].run_due(venue, &mut cx);
                venue.run_exits(&mut cx);
                if let Some(pop) = pops[v].as_mut() {
                    pop.arrivals(venue, &mut cx);
                }
                if let Some(flows) = lps[v].as_mut() {
                    flows.step(venue, scn.step_s, track[v].last_lp, &mut cx);
                }
                venue.liquidate(&mut cx);
                venue.deleverage(&mut cx);
                venue.maintain(&mut cx);

                let tr = &mut track[v];
                let lp = venue.lp_value_usd(prices) / venue.lp_supply();
                tr.last_lp = lp;
                if lp > tr.peak {
                    tr.peak = lp;
                } else if tr.peak > 0.0 {
                    let dd = 1.0 - lp / tr.peak;
                    if dd > tr.max_drawdown {
                        tr.max_drawdown = dd;
                    }
                }
                if opts.check_every_step {
                    tr.max_conservation = tr.max_conservation.max(venue.conservation_error_usd(t_s, prices));
                }
                if trace {
                    record_row(&mut traces[v], &mut row, venue, step, t_s, prices);
                }
            }
            if chart_steps[next_point] == step {
                for v in 0..nv {
                    sample(
                        venues[v].as_ref(),
                        &mut track[v],
                        &mut series,
                        v,
                        points,
                        next_point,
                        prices,
                    );
                }
                next_point = (next_point + 1).min(points - 1);
            }
        }

        let t_end = scn.steps() * scn.step_s;
        let prices = market.prices();
        let metrics = (0..nv)
            .map(|v| {
                let venue = venues[v].as_ref();
                let tr = &track[v];
                let conservation = tr.max_conservation.max(venue.conservation_error_usd(t_end, prices));
                finish_metrics(venue, tr, index, v, seed, t_end, prices, conservation)
            })
            .collect();
        PathOutput {
            metrics,
            traces,
            series,
        }
    }
}

/// Records venue `v`'s series at chart point `k` and its peak claim on the pool.
fn sample(venue: &dyn Venue, tr: &mut Track, series: &mut [f64], v: usize, points: usize, k: usize, prices: &[f64]) {
    let c = venue.counters();
    let lp = venue.lp_value_usd(prices) / venue.lp_supply();
    let hold = basket_value(venue.hold_basket(), prices);
    let hold_growth = if tr.hold0 > 0.0 { hold / tr.hold0 } else { 1.0 };
    let ratio = trader_pnl_to_pool(lp / tr.lp0, hold_growth);
    tr.peak_pnl_to_pool = tr.peak_pnl_to_pool.max(ratio);
    let values = [lp, c.liquidated_usd, c.adl_usd];
    for (s, x) in values.into_iter().enumerate() {
        series[(v * N_SERIES + s) * points + k] = x;
    }
}

fn basket_value(tokens: &[f64], prices: &[f64]) -> f64 {
    tokens.iter().zip(prices).map(|(q, p)| q * p).sum()
}

fn record_row(trace: &mut Trace, row: &mut Vec<f64>, venue: &dyn Venue, step: u64, t_s: u64, prices: &[f64]) {
    row.clear();
    row.push(step as f64);
    row.push(t_s as f64);
    row.extend_from_slice(prices);
    venue.trace_row(t_s, prices, row);
    trace.rows.extend_from_slice(row);
}

#[allow(clippy::too_many_arguments)]
fn finish_metrics(
    venue: &dyn Venue,
    tr: &Track,
    path: u64,
    v: usize,
    seed: u64,
    t_end: u64,
    prices: &[f64],
    conservation: f64,
) -> PathMetrics {
    let c = venue.counters();
    let lp_end = venue.lp_value_usd(prices) / venue.lp_supply();
    let hold_end = basket_value(venue.hold_basket(), prices);
    let lp_return = lp_end / tr.lp0 - 1.0;
    let hold_return = if tr.hold0 > 0.0 { hold_end / tr.hold0 - 1.0 } else { 0.0 };
    let mut values = [0.0; N_METRICS];
    let mut set = |m: Metric, x: f64| values[m as usize] = x;
    set(Metric::LpReturn, lp_return);
    set(Metric::HoldReturn, hold_return);
    set(Metric::ExcessReturn, lp_return - hold_return);
    set(Metric::LpPnlUsd, (lp_end - tr.lp0) * venue.lp_supply());
    set(Metric::MaxDrawdown, tr.max_drawdown);
    set(Metric::EndLpPrice, lp_end);
    set(Metric::BadDebtUsd, c.bad_debt_usd);
    set(Metric::AdlUsd, c.adl_usd);
    set(Metric::AdlEvents, c.adl_events as f64);
    set(Metric::LiquidatedUsd, c.liquidated_usd);
    set(Metric::Liquidations, c.liquidations as f64);
    set(Metric::FeesUsd, c.fees_total_usd());
    set(Metric::OpenCloseFeesUsd, c.fees_open_close_usd);
    set(Metric::ImpactFeesUsd, c.fees_impact_usd);
    set(Metric::BorrowFeesUsd, c.fees_borrow_usd);
    set(Metric::LiquidationFeesUsd, c.fees_liquidation_usd);
    set(Metric::FundingUsd, c.funding_usd);
    set(Metric::FeesToPoolUsd, c.fees_to_pool_usd);
    set(Metric::FeesToProtocolUsd, c.fees_to_protocol_usd);
    set(
        Metric::TraderPnlUsd,
        c.trader_payouts_usd + venue.open_equity_usd(t_end, prices) - c.trader_deposits_usd,
    );
    set(Metric::VolumeUsd, c.volume_usd);
    set(Metric::Trades, c.trades as f64);
    set(Metric::PeakOiUsd, c.peak_oi_usd);
    set(Metric::PeakUtilization, c.peak_utilization);
    set(Metric::OpenPositionsEnd, venue.open_positions() as f64);
    set(Metric::RejectedOrders, c.rejected_total() as f64);
    set(
        Metric::RejectedPositionSize,
        c.rejected[Reject::MaxPositionSize as usize] as f64,
    );
    set(
        Metric::RejectedOpenInterest,
        (c.rejected[Reject::MaxGlobalLong as usize] + c.rejected[Reject::MaxGlobalShort as usize]) as f64,
    );
    set(
        Metric::RejectedUtilization,
        c.rejected[Reject::Utilization as usize] as f64,
    );
    set(Metric::RejectedLeverage, c.rejected[Reject::Leverage as usize] as f64);
    set(Metric::RejectedReserve, c.rejected[Reject::Reserve as usize] as f64);
    set(Metric::LpDepositsUsd, c.lp_deposits_usd);
    set(Metric::LpWithdrawalsUsd, c.lp_withdrawals_usd);
    set(Metric::ShiftedUsd, c.shifted_usd);
    set(Metric::VaultSpreadUsd, c.vault_spread_usd);
    set(Metric::VaultInventoryUsd, c.vault_inventory_usd);
    set(Metric::VaultFundingUsd, c.vault_funding_usd);
    set(Metric::VaultBackstopUsd, c.vault_backstop_usd);
    set(Metric::VaultFeesUsd, c.vault_fees_usd);
    set(Metric::LiquidatedBookUsd, c.liquidated_book_usd);
    set(Metric::LiquidatedBackstopUsd, c.liquidated_backstop_usd);
    set(Metric::PeakCascadeDepth, c.peak_cascade_depth as f64);
    set(Metric::PeakTraderPnlToPool, tr.peak_pnl_to_pool);
    set(Metric::ConservationError, conservation);
    PathMetrics {
        path,
        venue: v,
        seed,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_steps_are_evenly_spaced_and_end_at_the_horizon() {
        assert_eq!(chart_steps(1), vec![0, 1]);
        assert_eq!(
            chart_steps(10),
            (0..=10).collect::<Vec<u64>>(),
            "every step when there are few"
        );
        let s = chart_steps(43_200);
        assert_eq!(s.len(), 65);
        assert_eq!((s[1], s[32], s[64]), (675, 21_600, 43_200));
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        let odd = chart_steps(100);
        assert_eq!((odd[1], odd[63], odd[64]), (2, 99, 100), "rounded up");
    }

    #[test]
    fn the_claim_on_the_pool_matches_chaos_labs_example() {
        // PEERS.md A.2: reserve factor 0.5, a 25 % short skew, an 80 % drop on a
        // single-token pool of 1: open interest 0.5, shorts 0.3125 gain 0.25,
        // longs 0.1875 lose 0.15, the pool's tokens are worth 0.2 and the LPs'
        // 0.2 - 0.25 + 0.15 = 0.1; traders' PnL is half the pool.
        let hold_growth = 0.2;
        let lp_growth = 0.2 - 0.3125 * 0.8 + 0.1875 * 0.8;
        assert!((trader_pnl_to_pool(lp_growth, hold_growth) - 0.5).abs() < 1e-12);
        // A 90 % drop is past the pool: the claim exceeds 1 (bad debt).
        assert!(trader_pnl_to_pool(0.1 - 0.3125 * 0.9 + 0.1875 * 0.9, 0.1) > 1.0);
        assert_eq!(trader_pnl_to_pool(1.05, 1.0), 1.0 - 1.05, "a pool that beat holding");
        assert_eq!(trader_pnl_to_pool(0.9, 0.0), 1.0 - 0.9, "no hold benchmark");
        assert_eq!(trader_pnl_to_pool(f64::NAN, 1.0), 0.0);
    }
}
