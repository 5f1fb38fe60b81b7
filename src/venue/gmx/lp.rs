//! LP flows of a GM/GLV venue: GM deposits and withdrawals with swap impact
//! and fees, the LP token (a GLV, or a fixed basket of the venue's GM
//! tokens), and the GLV keeper's shifts (MECHANISMS.md 1.2, 1.5, 1.15).
//!
//! The LP token holds every GM token the venue's markets have issued, so
//! its value is the sum of the markets' pool values. GM is minted and burnt
//! at GMX's prices: deposits at the deposit PnL cap, withdrawals at the
//! withdrawal cap. A GLV prices its own token at the deposit cap (as
//! `GlvUtils.getGlvValue` does) and stops deposits, withdrawals and shifts
//! while any of its markets has a negative pool value.

use super::formulas::price_impact_usd;
use super::market::Market;
use super::{GmVenue, PnlCap};
use crate::engine::ledger::Account;
use crate::engine::trace::{Event, EventKind};
use crate::units::{ge0, gt0};
use crate::venue::{Cx, DepositMix, Reject, Side};

/// Result of one GM deposit.
struct Minted {
    gm: f64,
    /// GM price before the deposit (deposit cap), USD.
    price_before: f64,
}

impl GmVenue {
    /// Whether a GLV's operations are stopped: a market's pool value (deposit cap) is negative.
    fn glv_halted(&self, prices: &[f64]) -> bool {
        self.p.glv.is_some() && (0..self.mk.len()).any(|m| !ge0(self.pool_value_usd(m, prices, PnlCap::Deposits)))
    }

    /// Largest reserve usage of a market's two sides.
    fn utilization(mk: &Market, prices: &[f64]) -> f64 {
        let mut u: f64 = 0.0;
        for side in [Side::Long, Side::Short] {
            let pool = mk.side_pool_usd(side, prices) * mk.p.reserve_factor;
            let r = mk.reserved_usd(side, prices);
            if pool > 0.0 {
                u = u.max(r / pool);
            } else if r > 0.0 {
                u = f64::INFINITY;
            }
        }
        u
    }

    /// Deposits token `amounts` (per kind) into market `m`, paid from `from`,
    /// with swap impact and (unless `fee_free`) the deposit fee.
    fn gm_deposit(
        &mut self,
        m: usize,
        amounts: [f64; 2],
        from: Account,
        fee_free: bool,
        prices: &[f64],
    ) -> Result<Minted, Reject> {
        let pv = self.pool_value_usd(m, prices, PnlCap::Deposits);
        let mk = &self.mk[m];
        if !gt0(pv) || !gt0(mk.supply) {
            return Err(Reject::Halted);
        }
        let price_before = pv / mk.supply;
        let px = [prices[mk.tokens[0]], prices[mk.tokens[1]]];
        let usd = [amounts[0] * px[0], amounts[1] * px[1]];
        let total = usd[0] + usd[1];
        if !gt0(total) {
            return Err(Reject::Invalid);
        }
        let impact = if mk.single() {
            0.0
        } else {
            let (l, s) = (
                mk.side_pool_usd(Side::Long, prices),
                mk.side_pool_usd(Side::Short, prices),
            );
            price_impact_usd(l, s, l + usd[0], s + usd[1], &mk.p.swap_impact)
        };
        let fee_factor = if fee_free {
            0.0
        } else if impact > 0.0 {
            mk.p.swap_fee_positive
        } else {
            mk.p.swap_fee_negative
        };
        let receiver = self.p.fee_receivers.swap;
        let mut net_usd = 0.0;
        // Per kind: (fee, into the swap impact pool, out of it).
        let mut moves = [(0.0, 0.0, 0.0); 2];
        for k in 0..2 {
            if !gt0(amounts[k]) {
                continue;
            }
            let share = impact * usd[k] / total;
            let (to_swap, from_swap) = if share < 0.0 {
                ((-share / px[k]).min(amounts[k]), 0.0)
            } else {
                (0.0, (share / px[k]).min(mk.swap_pool[mk.slot(k)]))
            };
            let fee = (amounts[k] - to_swap) * fee_factor;
            net_usd += (amounts[k] - to_swap - fee + from_swap) * px[k];
            moves[k] = (fee, to_swap, from_swap);
        }
        let minted = mk.supply * net_usd / pv;
        let tokens = mk.tokens;
        for (k, &(fee, to_swap, from_swap)) in moves.iter().enumerate() {
            if !gt0(amounts[k]) {
                continue;
            }
            self.ledger.transfer(tokens[k], from, Account::Pool, amounts[k]);
            self.ledger
                .transfer(tokens[k], Account::Pool, Account::Protocol, fee * receiver);
            let mk = &mut self.mk[m];
            let slot = mk.slot(k);
            // The deposit net of the protocol's fee share and of negative
            // impact joins the pool, with any bonus from the swap impact pool.
            mk.amount[slot] += amounts[k] - to_swap - fee * receiver + from_swap;
            mk.swap_pool[slot] += to_swap - from_swap;
            self.counters.fees_to_protocol_usd += fee * receiver * px[k];
            self.counters.fees_to_pool_usd += fee * (1.0 - receiver) * px[k];
        }
        self.mk[m].supply += minted;
        Ok(Minted {
            gm: minted,
            price_before,
        })
    }

    /// Burns `gm` tokens of market `m`; pays the pool's tokens pro rata to
    /// `to` at the withdrawal price, less (unless `fee_free`) the withdrawal fee.
    /// Returns the tokens paid per kind.
    fn gm_withdraw(
        &mut self,
        m: usize,
        gm: f64,
        to: Account,
        fee_free: bool,
        prices: &[f64],
    ) -> Result<[f64; 2], Reject> {
        let pv = self.pool_value_usd(m, prices, PnlCap::Withdrawals);
        let mk = &self.mk[m];
        if !gt0(pv) || !gt0(gm) || gm > mk.supply * (1.0 + 1e-12) {
            return Err(Reject::Halted);
        }
        // GMX `validateMaxPnl`: no withdrawal while a side's PnL is above the withdrawal cap.
        let cap = mk.p.pnl_caps.withdrawals;
        if [Side::Long, Side::Short]
            .iter()
            .any(|&s| mk.pnl_to_pool_factor(s, prices) > cap)
        {
            return Err(Reject::PnlCap);
        }
        let usd = gm.min(mk.supply) * pv / mk.supply;
        let px = [prices[mk.tokens[0]], prices[mk.tokens[1]]];
        let mut out = [0.0; 2];
        if mk.single() {
            out[0] = usd / px[0];
        } else {
            let (l, s) = (
                mk.side_pool_usd(Side::Long, prices),
                mk.side_pool_usd(Side::Short, prices),
            );
            if !gt0(l + s) {
                return Err(Reject::Halted);
            }
            out[0] = usd * l / (l + s) / px[0];
            out[1] = usd * s / (l + s) / px[1];
        }
        // The pool must hold the tokens and still cover what positions reserve.
        if out.iter().zip(mk.amount).take(mk.kinds()).any(|(o, a)| *o > a) {
            return Err(Reject::Reserve);
        }
        let mut after = mk.amount;
        for k in 0..mk.kinds() {
            after[k] -= out[k];
        }
        for side in [Side::Long, Side::Short] {
            let slot = mk.pnl_kind(side);
            let pool_usd = after[slot] / mk.divisor * px[slot];
            let reserved = mk.reserved_usd(side, prices);
            if reserved > mk.p.reserve_factor * pool_usd {
                return Err(Reject::Reserve);
            }
        }
        let fee_factor = if fee_free { 0.0 } else { mk.p.swap_fee_negative };
        let receiver = self.p.fee_receivers.swap;
        let tokens = mk.tokens;
        let mut paid = [0.0; 2];
        for k in 0..2 {
            if !gt0(out[k]) {
                continue;
            }
            let fee = out[k] * fee_factor;
            paid[k] = out[k] - fee;
            self.ledger.transfer(tokens[k], Account::Pool, to, paid[k]);
            self.ledger
                .transfer(tokens[k], Account::Pool, Account::Protocol, fee * receiver);
            let mk = &mut self.mk[m];
            let slot = mk.slot(k);
            mk.amount[slot] -= paid[k] + fee * receiver;
            self.counters.fees_to_protocol_usd += fee * receiver * px[k];
            self.counters.fees_to_pool_usd += fee * (1.0 - receiver) * px[k];
        }
        self.mk[m].supply -= gm.min(self.mk[m].supply);
        Ok(paid)
    }

    /// Token amounts per kind for a deposit of `usd` into market `m`.
    fn deposit_amounts(&self, m: usize, usd: f64, mix: DepositMix, prices: &[f64]) -> [f64; 2] {
        let mk = &self.mk[m];
        let px = [prices[mk.tokens[0]], prices[mk.tokens[1]]];
        if mk.single() {
            return [usd / px[0], 0.0];
        }
        match mix {
            DepositMix::LongToken => [usd / px[0], 0.0],
            DepositMix::ShortToken => [0.0, usd / px[1]],
            DepositMix::Balanced => {
                let (l, s) = (
                    mk.side_pool_usd(Side::Long, prices),
                    mk.side_pool_usd(Side::Short, prices),
                );
                let w = if l + s > 0.0 { l / (l + s) } else { 0.5 };
                [usd * w / px[0], usd * (1.0 - w) / px[1]]
            }
        }
    }

    /// Value of the LP token's holdings at deposit-cap GM prices, USD.
    fn deposit_value(&self, prices: &[f64]) -> f64 {
        (0..self.mk.len())
            .map(|m| self.pool_value_usd(m, prices, PnlCap::Deposits))
            .sum()
    }

    pub(super) fn deposit_lp(&mut self, usd: f64, mix: DepositMix, cx: &mut Cx) -> Result<f64, Reject> {
        let prices = cx.prices;
        if !(usd > 0.0 && usd.is_finite()) {
            return Err(Reject::Invalid);
        }
        if self.glv_halted(prices) {
            return Err(Reject::Halted);
        }
        let value_before = self.deposit_value(prices);
        if !gt0(value_before) {
            return Err(Reject::Halted);
        }
        let mut added_usd = 0.0;
        if self.p.glv.is_some() {
            // Into the most used market with room under its cap.
            let mut best: Option<(f64, usize)> = None;
            for m in 0..self.mk.len() {
                let pv = self.pool_value_usd(m, prices, PnlCap::Deposits);
                if pv + usd > self.mk[m].p.glv_max_usd {
                    continue;
                }
                let u = Self::utilization(&self.mk[m], prices);
                if best.is_none_or(|(bu, _)| u > bu) {
                    best = Some((u, m));
                }
            }
            let (_, m) = best.ok_or(Reject::Reserve)?;
            let amounts = self.deposit_amounts(m, usd, mix, prices);
            let r = self.gm_deposit(m, amounts, Account::Lps, false, prices)?;
            added_usd += r.gm * r.price_before;
        } else {
            let mut weights = std::mem::take(&mut self.weights);
            weights.clear();
            weights.extend(
                (0..self.mk.len()).map(|m| self.pool_value_usd(m, prices, PnlCap::Deposits).max(0.0) / value_before),
            );
            for (m, &w) in weights.iter().enumerate() {
                if !gt0(w) {
                    continue;
                }
                let amounts = self.deposit_amounts(m, usd * w, mix, prices);
                if let Ok(r) = self.gm_deposit(m, amounts, Account::Lps, false, prices) {
                    added_usd += r.gm * r.price_before;
                }
            }
            self.weights = weights;
        }
        let minted = self.lp_supply * added_usd / value_before;
        self.lp_supply += minted;
        self.counters.lp_deposits_usd += usd;
        let t = cx.t_s;
        cx.trace.event(|| Event::lp_flow(t, true, usd));
        Ok(minted)
    }

    pub(super) fn withdraw_lp(&mut self, lp_tokens: f64, cx: &mut Cx) -> Result<f64, Reject> {
        let prices = cx.prices;
        if !gt0(lp_tokens) || lp_tokens >= self.lp_supply {
            return Err(Reject::Invalid);
        }
        if self.glv_halted(prices) {
            return Err(Reject::Halted);
        }
        let frac = lp_tokens / self.lp_supply;
        let mut paid_usd = 0.0;
        let mut burnt = lp_tokens;
        if self.p.glv.is_some() {
            // GLV tokens redeem at the GLV value; GM comes from the least used markets first.
            let target_usd = frac * self.deposit_value(prices);
            let mut want_usd = target_usd;
            let mut order = std::mem::take(&mut self.order);
            order.clear();
            order.extend((0..self.mk.len()).map(|m| (Self::utilization(&self.mk[m], prices), m)));
            order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for &(_, m) in &order {
                if !gt0(want_usd) {
                    break;
                }
                let pv = self.pool_value_usd(m, prices, PnlCap::Deposits);
                let supply = self.mk[m].supply;
                if !(gt0(pv) && gt0(supply)) {
                    continue;
                }
                let take_usd = want_usd.min(pv * 0.999);
                if let Ok(paid) = self.gm_withdraw(m, take_usd * supply / pv, Account::Lps, false, prices) {
                    paid_usd += self.token_value(m, paid, prices);
                    want_usd -= take_usd;
                }
            }
            self.order = order;
            // Only the part that could be redeemed is burnt.
            burnt = lp_tokens * ((target_usd - want_usd.max(0.0)) / target_usd).clamp(0.0, 1.0);
        } else {
            for m in 0..self.mk.len() {
                let gm = frac * self.mk[m].supply;
                if let Ok(paid) = self.gm_withdraw(m, gm, Account::Lps, false, prices) {
                    paid_usd += self.token_value(m, paid, prices);
                }
            }
        }
        if !gt0(paid_usd) {
            return Err(Reject::Reserve);
        }
        self.lp_supply -= burnt;
        self.counters.lp_withdrawals_usd += paid_usd;
        let t = cx.t_s;
        cx.trace.event(|| Event::lp_flow(t, false, paid_usd));
        Ok(paid_usd)
    }

    /// USD value of token amounts per kind of market `m`.
    fn token_value(&self, m: usize, amounts: [f64; 2], prices: &[f64]) -> f64 {
        let mk = &self.mk[m];
        amounts[0] * prices[mk.tokens[0]] + amounts[1] * prices[mk.tokens[1]]
    }

    /// The GLV keeper: looks once per minimum interval and moves value from
    /// the least to the most used market when their usage differs by more
    /// than the gap, within the destination's cap and the max loss factor.
    pub(super) fn glv_shift(&mut self, cx: &mut Cx) {
        let Some(g) = self.p.glv else {
            return;
        };
        let t = cx.t_s;
        let prices = cx.prices;
        if self
            .last_keeper_check_s
            .is_some_and(|last| t < last.saturating_add(g.shift_min_interval_s))
        {
            return;
        }
        self.last_keeper_check_s = Some(t);
        if self.mk.len() < 2 || self.glv_halted(prices) {
            return;
        }
        let (mut src, mut dst) = (usize::MAX, usize::MAX);
        let (mut u_min, mut u_max) = (f64::INFINITY, f64::NEG_INFINITY);
        for m in 0..self.mk.len() {
            let u = Self::utilization(&self.mk[m], prices);
            let pv = self.pool_value_usd(m, prices, PnlCap::Deposits);
            if u < u_min && pv > 0.0 {
                (u_min, src) = (u, m);
            }
            if u > u_max && pv < self.mk[m].p.glv_max_usd {
                (u_max, dst) = (u, m);
            }
        }
        if src == usize::MAX
            || dst == usize::MAX
            || src == dst
            || u_max - u_min <= g.shift_utilization_gap
            || u_max.is_nan()
        {
            return;
        }
        let pv_src = self.pool_value_usd(src, prices, PnlCap::Deposits);
        let room = self.mk[dst].p.glv_max_usd - self.pool_value_usd(dst, prices, PnlCap::Deposits);
        let amount_usd = (g.shift_fraction * pv_src).min(room);
        if !gt0(amount_usd) {
            return;
        }
        // The loss check: value received at deposit-cap prices against value sent.
        let gm = amount_usd * self.mk[src].supply / pv_src;
        let pv_w = self.pool_value_usd(src, prices, PnlCap::Withdrawals);
        let out_usd = gm * pv_w / self.mk[src].supply;
        let mk = &self.mk[dst];
        let received_usd = if mk.single() {
            out_usd
        } else {
            let (l, s) = (
                mk.side_pool_usd(Side::Long, prices),
                mk.side_pool_usd(Side::Short, prices),
            );
            let (sl, ss) = (
                self.mk[src].side_pool_usd(Side::Long, prices),
                self.mk[src].side_pool_usd(Side::Short, prices),
            );
            let w = if sl + ss > 0.0 { sl / (sl + ss) } else { 0.5 };
            out_usd + price_impact_usd(l, s, l + out_usd * w, s + out_usd * (1.0 - w), &mk.p.swap_impact).min(0.0)
        };
        if (amount_usd - received_usd) / amount_usd > g.shift_max_loss_factor {
            return;
        }
        if !(gt0(self.pool_value_usd(dst, prices, PnlCap::Deposits)) && gt0(self.mk[dst].supply)) {
            return;
        }
        let Ok(tokens) = self.gm_withdraw(src, gm, Account::Pool, true, prices) else {
            return;
        };
        // GLV markets share their long and short tokens, so the kinds match.
        let amounts = if self.mk[dst].single() {
            [tokens[0] + tokens[1], 0.0]
        } else {
            tokens
        };
        if self.gm_deposit(dst, amounts, Account::Pool, true, prices).is_err() {
            return;
        }
        self.counters.shifted_usd += amount_usd;
        let index = self.mk[dst].p.index;
        cx.trace.event(|| Event {
            size_usd: amount_usd,
            note: "glv_shift",
            ..Event::new(t, EventKind::Shift, u32::MAX, index, Side::Long)
        });
    }
}
