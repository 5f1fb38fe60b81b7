//! LP flows: Poisson deposits and withdrawals into a venue's LP token, and a
//! run rule (LPs withdraw while the LP price is in a drawdown deeper than a
//! threshold).
//!
//! Like the trader population, the flows draw a fixed sequence of random
//! numbers per event whatever the venue answers, so every venue of a path
//! sees the same demand. Venues that take no LP flows refuse them (JLP).

use super::population::Dist;
use crate::units::gt0;
use crate::venue::{Cx, DepositMix, Venue};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Which tokens deposits bring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MixRule {
    /// The pool's current proportion (no swap impact).
    Balanced,
    /// Only the long token.
    LongToken,
    /// Only the short token.
    ShortToken,
    /// Long or short token with equal probability, per deposit.
    Random,
}

impl MixRule {
    /// Name in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            MixRule::Balanced => "balanced",
            MixRule::LongToken => "long",
            MixRule::ShortToken => "short",
            MixRule::Random => "random",
        }
    }
}

/// LPs leave while the LP price is below its running peak by more than a threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunRule {
    /// Drawdown of the LP price from its peak that starts the run, fraction.
    pub drawdown: f64,
    /// Share of the LP supply withdrawn per hour during the run.
    pub rate_per_hour: f64,
    /// The run ends when it has withdrawn this share of the supply it started from.
    pub max_fraction: f64,
}

/// LP flow parameters of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct LpFlowParams {
    /// Deposits per hour (Poisson).
    pub deposits_per_hour: f64,
    /// Deposit size, USD.
    pub deposit_usd: Dist,
    /// Which tokens deposits bring.
    pub deposit_mix: MixRule,
    /// Withdrawals per hour (Poisson).
    pub withdrawals_per_hour: f64,
    /// Withdrawal size, USD at the LP price.
    pub withdraw_usd: Dist,
    /// The run, if any.
    pub run: Option<RunRule>,
}

/// LP flows on one path for one venue.
#[derive(Debug, Clone)]
pub struct LpFlows<'a> {
    p: &'a LpFlowParams,
    rng: Xoshiro256PlusPlus,
    next_deposit_s: f64,
    next_withdrawal_s: f64,
    peak_price: f64,
    run_start_supply: f64,
    run_withdrawn: f64,
    run_over: bool,
}

fn exp_gap(rng: &mut Xoshiro256PlusPlus, per_hour: f64) -> f64 {
    if !gt0(per_hour) {
        return f64::INFINITY;
    }
    let u: f64 = 1.0 - rng.random::<f64>();
    -u.ln() * 3600.0 / per_hour
}

impl<'a> LpFlows<'a> {
    /// Flows drawing from the stream seeded by `seed`.
    pub fn new(p: &'a LpFlowParams, seed: u64) -> LpFlows<'a> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let next_deposit_s = exp_gap(&mut rng, p.deposits_per_hour);
        let next_withdrawal_s = exp_gap(&mut rng, p.withdrawals_per_hour);
        LpFlows {
            p,
            rng,
            next_deposit_s,
            next_withdrawal_s,
            peak_price: 0.0,
            run_start_supply: 0.0,
            run_withdrawn: 0.0,
            run_over: false,
        }
    }

    /// Executes the deposits and withdrawals due by `cx.t_s`, then the run
    /// rule for a step of `step_s` seconds. The run reacts to `lp_price`,
    /// the LP token price recorded at the end of the previous step (USD).
    pub fn step(&mut self, venue: &mut dyn Venue, step_s: u64, lp_price: f64, cx: &mut Cx) {
        let t = cx.t_s as f64;
        while self.next_deposit_s <= t {
            let usd = self.p.deposit_usd.sample(&mut self.rng);
            let u: f64 = self.rng.random();
            let mix = match self.p.deposit_mix {
                MixRule::Balanced => DepositMix::Balanced,
                MixRule::LongToken => DepositMix::LongToken,
                MixRule::ShortToken => DepositMix::ShortToken,
                MixRule::Random if u < 0.5 => DepositMix::LongToken,
                MixRule::Random => DepositMix::ShortToken,
            };
            let _ = venue.lp_deposit(usd, mix, cx);
            self.next_deposit_s += exp_gap(&mut self.rng, self.p.deposits_per_hour);
        }
        while self.next_withdrawal_s <= t {
            let usd = self.p.withdraw_usd.sample(&mut self.rng);
            let price = venue.lp_value_usd(cx.prices) / venue.lp_supply();
            if price > 0.0 {
                let _ = venue.lp_withdraw(usd / price, cx);
            }
            self.next_withdrawal_s += exp_gap(&mut self.rng, self.p.withdrawals_per_hour);
        }
        let Some(run) = self.p.run else {
            return;
        };
        if self.run_over {
            return;
        }
        let supply = venue.lp_supply();
        let price = lp_price;
        if !gt0(price) {
            return;
        }
        if price > self.peak_price {
            self.peak_price = price;
        }
        if 1.0 - price / self.peak_price <= run.drawdown {
            return;
        }
        if self.run_start_supply == 0.0 {
            self.run_start_supply = supply;
        }
        let room = run.max_fraction * self.run_start_supply - self.run_withdrawn;
        let tokens = (supply * run.rate_per_hour * step_s as f64 / 3600.0).min(room);
        if tokens > 0.0 && venue.lp_withdraw(tokens, cx).is_ok() {
            self.run_withdrawn += tokens;
        }
        if self.run_withdrawn >= run.max_fraction * self.run_start_supply * (1.0 - 1e-12) {
            self.run_over = true;
        }
    }
}
