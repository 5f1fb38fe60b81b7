//! GMX v2 ("synthetics") formulas as pure functions.
//!
//! Each follows MECHANISMS.md section 1 and is tested against the published
//! vectors of section 5 (G1 to G10). GMX computes in fixed point (USD and
//! factors ×1e30, token amounts in raw units, rounding chosen per call);
//! these functions use `f64` and no rounding, so they agree with GMX to the
//! rounding of its fixed point (about 1e-17 relative for the vectors), not
//! bit for bit. Rates "per second" are fractions of size per second.

use crate::units::gt0;
use crate::venue::Side;

/// GMX `applyExponentFactor` then `applyFactor`: `factor · diff^exponent`,
/// USD. Like GMX, a difference below $1 gives 0 (MECHANISMS.md 1.1).
pub fn apply_impact_factor(diff_usd: f64, exponent: f64, factor: f64) -> f64 {
    if diff_usd.is_nan() || diff_usd < 1.0 {
        return 0.0;
    }
    if exponent == 1.0 {
        factor * diff_usd
    } else if exponent == 2.0 {
        factor * diff_usd * diff_usd
    } else {
        factor * diff_usd.powf(exponent)
    }
}

/// Impact factors and exponents of one kernel (positions or swaps).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImpactFactors {
    /// Factor when the trade improves balance (USD^(1−e) per USD^e).
    pub positive: f64,
    /// Factor when the trade worsens balance.
    pub negative: f64,
    /// Exponent when balance improves (≥ 1).
    pub positive_exponent: f64,
    /// Exponent when balance worsens (≥ 1).
    pub negative_exponent: f64,
}

impl FundingParams {
    /// No funding.
    pub const NONE: FundingParams = FundingParams {
        factor: 0.0,
        exponent: 1.0,
        increase_per_s2: 0.0,
        decrease_per_s2: 0.0,
        threshold_stable: 0.0,
        threshold_decrease: 0.0,
        min_per_s: 0.0,
        max_per_s: 1.0,
    };
}

impl ImpactFactors {
    /// No impact.
    pub const ZERO: ImpactFactors = ImpactFactors {
        positive: 0.0,
        negative: 0.0,
        positive_exponent: 1.0,
        negative_exponent: 1.0,
    };

    /// GMX's `getAdjusted*` guard: the positive factor and exponent never
    /// exceed the negative ones, so round trips cannot earn impact.
    pub fn adjusted(&self) -> ImpactFactors {
        ImpactFactors {
            positive: self.positive.min(self.negative),
            negative: self.negative,
            positive_exponent: self.positive_exponent.min(self.negative_exponent),
            negative_exponent: self.negative_exponent,
        }
    }
}

/// The GMX price-impact kernel (`PricingUtils.getPriceImpactUsd`, MECHANISMS.md
/// 1.3) for a pair of amounts moving from (`a0`, `b0`) to (`a1`, `b1`), USD.
/// Positive when the imbalance shrinks.
///
/// Same-side rebalance: `±|f·D0^e − f·D1^e|` with the positive factor and
/// exponent if `D1 < D0`, else the negative ones. Crossover (the larger side
/// changes): `f⁺·D0^e⁺ − f⁻·D1^e⁻`. Factors are [`ImpactFactors::adjusted`].
pub fn price_impact_usd(a0: f64, b0: f64, a1: f64, b1: f64, f: &ImpactFactors) -> f64 {
    let f = f.adjusted();
    let d0 = (a0 - b0).abs();
    let d1 = (a1 - b1).abs();
    if (a0 <= b0) == (a1 <= b1) {
        if d1 < d0 {
            (apply_impact_factor(d0, f.positive_exponent, f.positive)
                - apply_impact_factor(d1, f.positive_exponent, f.positive))
            .abs()
        } else {
            -(apply_impact_factor(d0, f.negative_exponent, f.negative)
                - apply_impact_factor(d1, f.negative_exponent, f.negative))
            .abs()
        }
    } else {
        apply_impact_factor(d0, f.positive_exponent, f.positive)
            - apply_impact_factor(d1, f.negative_exponent, f.negative)
    }
}

/// Price impact of a position trade of `size_delta_usd` (positive opens,
/// negative closes) on `side`, given open interest before, USD
/// (`PositionPricingUtils.getPriceImpactUsd`). Open interest after a close is
/// floored at 0.
pub fn position_impact_usd(
    long_oi_usd: f64,
    short_oi_usd: f64,
    side: Side,
    size_delta_usd: f64,
    f: &ImpactFactors,
) -> f64 {
    let (l1, s1) = match side {
        Side::Long => ((long_oi_usd + size_delta_usd).max(0.0), short_oi_usd),
        Side::Short => (long_oi_usd, (short_oi_usd + size_delta_usd).max(0.0)),
    };
    price_impact_usd(long_oi_usd, short_oi_usd, l1, s1, f)
}

/// Execution price of an increase (`BaseOrderUtils.getExecutionPriceForIncrease`):
/// `size / (base_tokens ± impact_tokens)`, + for longs, − for shorts, where
/// `base_tokens = size / price` and `impact_tokens = impact_usd / price`.
/// `None` when the impact is larger than the order (`PriceImpactLargerThanOrderSize`).
pub fn increase_execution_price(size_delta_usd: f64, price: f64, impact_usd: f64, side: Side) -> Option<f64> {
    let base = size_delta_usd / price;
    let imp = impact_usd / price;
    let tokens = match side {
        Side::Long => base + imp,
        Side::Short => base - imp,
    };
    (tokens > 0.0).then(|| size_delta_usd / tokens)
}

/// Execution price shown for a decrease (`BaseOrderUtils.getExecutionPriceForDecrease`):
/// `price + (±impact)·sizeInUsd/sizeInTokens/sizeDelta`, + for longs, − for shorts.
pub fn decrease_execution_price(
    price: f64,
    size_in_usd: f64,
    size_in_tokens: f64,
    size_delta_usd: f64,
    impact_usd: f64,
    side: Side,
) -> f64 {
    if size_in_tokens <= 0.0 || size_delta_usd <= 0.0 {
        return price;
    }
    let adj = impact_usd * size_in_usd / size_in_tokens / size_delta_usd;
    match side {
        Side::Long => price + adj,
        Side::Short => price - adj,
    }
}

/// The price impact a decrease applies and the part moved to claimable
/// collateral, USD.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecreaseImpact {
    /// Impact applied to the trade: positive is paid by the pool, negative by the trader.
    pub applied_usd: f64,
    /// Negative impact beyond the cap, taken from the trader into claimable
    /// collateral (`priceImpactDiffUsd`, ≥ 0).
    pub claimable_usd: f64,
}

/// Caps the impact of a decrease (MECHANISMS.md 1.4, `processCollateral`):
/// `total = pending + close`; below `−max_negative·size` the excess goes to
/// claimable collateral; above 0 it is capped by `max_positive·size` and by
/// the impact pool's value. In the open-time flow `pending_usd` is 0.
pub fn cap_decrease_impact(
    close_impact_usd: f64,
    pending_usd: f64,
    size_delta_usd: f64,
    max_positive_factor: f64,
    max_negative_factor: f64,
    impact_pool_usd: f64,
) -> DecreaseImpact {
    let close = close_impact_usd.min(max_positive_factor * size_delta_usd);
    let total = pending_usd + close;
    if total < 0.0 {
        let floor = -max_negative_factor * size_delta_usd;
        if total < floor {
            return DecreaseImpact {
                applied_usd: floor,
                claimable_usd: floor - total,
            };
        }
        return DecreaseImpact {
            applied_usd: total,
            claimable_usd: 0.0,
        };
    }
    DecreaseImpact {
        applied_usd: total
            .min(max_positive_factor * size_delta_usd)
            .min(impact_pool_usd.max(0.0)),
        claimable_usd: 0.0,
    }
}

/// How a side's borrowing rate follows its reserved usage (MECHANISMS.md 1.7).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BorrowModel {
    /// `rate = factor · reservedUsd^exponent / poolUsd` per second.
    Curve {
        /// Borrowing factor (per second per USD^(exponent−1)).
        factor: f64,
        /// Exponent on reserved USD (≥ 1).
        exponent: f64,
    },
    /// Kink on usage `u`: `base·u + (u > opt ? (above − base)·(u − opt)/(1 − opt) : 0)` per second.
    Kink {
        /// Optimal usage, in (0, 1).
        optimal_usage: f64,
        /// Base borrowing factor per second (the lower slope's rate at u = 1).
        base_per_s: f64,
        /// Rate per second at full usage above the kink.
        above_optimal_per_s: f64,
    },
}

/// Usage of one side for the kink model (`getUsageFactor`): the larger of
/// `reservedUsd / (poolUsd · openInterestReserveFactor)` and
/// `openInterest / maxOpenInterest` (the latter unless ignored).
pub fn usage_factor(
    reserved_usd: f64,
    pool_usd: f64,
    oi_reserve_factor: f64,
    oi_usd: f64,
    max_oi_usd: f64,
    ignore_open_interest: bool,
) -> f64 {
    let max_reserved = pool_usd * oi_reserve_factor;
    let reserve_usage = if max_reserved > 0.0 {
        reserved_usd / max_reserved
    } else if reserved_usd > 0.0 {
        f64::INFINITY
    } else {
        0.0
    };
    if ignore_open_interest || !gt0(max_oi_usd) || max_oi_usd.is_infinite() {
        return reserve_usage;
    }
    reserve_usage.max(oi_usd / max_oi_usd)
}

/// Borrowing factor per second of one side (`getBorrowingFactorPerSecond`,
/// `getKinkBorrowingFactor`). `usage` is only used by the kink model. A side
/// with no pool (or nothing reserved) pays 0.
pub fn borrowing_factor_per_s(model: &BorrowModel, reserved_usd: f64, pool_usd: f64, usage: f64) -> f64 {
    if !gt0(pool_usd) || !gt0(reserved_usd) {
        return 0.0;
    }
    match *model {
        BorrowModel::Curve { factor, exponent } => apply_impact_factor(reserved_usd, exponent, factor) / pool_usd,
        BorrowModel::Kink {
            optimal_usage,
            base_per_s,
            above_optimal_per_s,
        } => {
            let u = if usage.is_finite() { usage } else { 1.0 };
            let mut r = base_per_s * u;
            if u > optimal_usage && optimal_usage < 1.0 {
                r += (above_optimal_per_s - base_per_s) * (u - optimal_usage) / (1.0 - optimal_usage);
            }
            r.max(0.0)
        }
    }
}

/// Funding parameters of a market (MECHANISMS.md 1.8). Static funding when
/// `increase_per_s2` is 0, adaptive otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FundingParams {
    /// Static funding factor (per second at imbalance factor 1).
    pub factor: f64,
    /// Exponent on the OI difference (≥ 1).
    pub exponent: f64,
    /// Adaptive: saved rate change per second, per unit imbalance factor (per s²).
    pub increase_per_s2: f64,
    /// Adaptive: rate decrease per second below the decrease threshold (per s²).
    pub decrease_per_s2: f64,
    /// Adaptive: above this imbalance factor the rate keeps increasing.
    pub threshold_stable: f64,
    /// Adaptive: below this imbalance factor the rate decreases.
    pub threshold_decrease: f64,
    /// Smallest rate used, per second.
    pub min_per_s: f64,
    /// Largest rate, per second.
    pub max_per_s: f64,
}

/// The funding rate for the next interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FundingRate {
    /// Rate paid per second by the paying side, fraction of its size.
    pub per_s: f64,
    /// Whether longs pay shorts.
    pub longs_pay: bool,
    /// The new saved (signed, + when longs pay) rate, per second.
    pub saved_per_s: f64,
}

/// One GMX unit of the saved factor (1e-30): what a decrease leaves so the sign survives.
const SAVED_FLOOR: f64 = 1e-30;

/// `sign(v)·clamp(|v|, lo, hi)` with sign + for 0 (`Calc.boundMagnitude`).
fn bound_magnitude(v: f64, lo: f64, hi: f64) -> f64 {
    let m = v.abs().max(lo).min(hi);
    if v < 0.0 { -m } else { m }
}

/// Imbalance factor `|L − S|^e / (L + S)` (`diffUsdToOpenInterestFactor`).
pub fn imbalance_factor(long_oi_usd: f64, short_oi_usd: f64, exponent: f64) -> f64 {
    let total = long_oi_usd + short_oi_usd;
    if !gt0(total) {
        return 0.0;
    }
    apply_impact_factor((long_oi_usd - short_oi_usd).abs(), exponent, 1.0) / total
}

/// Next funding rate after `dt_s` seconds (`getNextFundingFactorPerSecond`).
///
/// Static: `min(factor · imbalance, max)`, longs pay when long OI is larger.
/// Adaptive: the saved rate grows by `imbalance · increase · dt` toward the
/// skew when the skew is against it or above the stable threshold, shrinks
/// by `decrease · dt` below the decrease threshold (keeping its sign), and
/// is held otherwise; it is bounded by `max`, and the rate used by `[min, max]`.
pub fn next_funding(
    saved_per_s: f64,
    long_oi_usd: f64,
    short_oi_usd: f64,
    dt_s: f64,
    p: &FundingParams,
) -> FundingRate {
    let imb = imbalance_factor(long_oi_usd, short_oi_usd, p.exponent);
    if p.increase_per_s2 == 0.0 {
        return FundingRate {
            per_s: (p.factor * imb).min(p.max_per_s),
            longs_pay: long_oi_usd > short_oi_usd,
            saved_per_s: 0.0,
        };
    }
    let same_dir =
        (saved_per_s > 0.0 && long_oi_usd > short_oi_usd) || (saved_per_s < 0.0 && short_oi_usd > long_oi_usd);
    let mut next = saved_per_s;
    if !same_dir || imb > p.threshold_stable {
        let inc = imb * p.increase_per_s2 * dt_s;
        next += if long_oi_usd < short_oi_usd { -inc } else { inc };
    } else if imb < p.threshold_decrease {
        let dec = p.decrease_per_s2 * dt_s;
        let sign = if saved_per_s < 0.0 { -1.0 } else { 1.0 };
        next = if saved_per_s.abs() <= dec {
            sign * SAVED_FLOOR
        } else {
            sign * (saved_per_s.abs() - dec)
        };
    }
    let saved = bound_magnitude(next, 0.0, p.max_per_s);
    let used = bound_magnitude(saved, p.min_per_s, p.max_per_s);
    FundingRate {
        per_s: used.abs(),
        longs_pay: used > 0.0,
        saved_per_s: saved,
    }
}

/// Positive trader PnL capped at `max_factor · pool_usd` (`getCappedPnl`);
/// losses are not capped.
pub fn capped_pnl_usd(pnl_usd: f64, pool_usd: f64, max_factor: f64) -> f64 {
    if pnl_usd > 0.0 {
        pnl_usd.min((max_factor * pool_usd).max(0.0))
    } else {
        pnl_usd
    }
}

/// A position's share of its side's PnL after the traders' cap
/// (`getPositionPnlUsd`): positive PnL is scaled by `capped / uncapped` of
/// the side when the side's PnL exceeds `max_factor · pool_usd`.
pub fn position_pnl_after_cap(position_pnl_usd: f64, side_pnl_usd: f64, pool_usd: f64, max_factor: f64) -> f64 {
    if position_pnl_usd <= 0.0 || side_pnl_usd <= 0.0 {
        return position_pnl_usd;
    }
    let capped = capped_pnl_usd(side_pnl_usd, pool_usd, max_factor);
    if capped < side_pnl_usd {
        position_pnl_usd * capped / side_pnl_usd
    } else {
        position_pnl_usd
    }
}

/// Referral and pro-tier discounts on position fees (`getPositionFeesAfterReferral`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Referral {
    /// Share of the fee paid to the affiliate.
    pub affiliate_reward_factor: f64,
    /// Share of the fee returned to the trader by the referral code.
    pub trader_discount_factor: f64,
    /// Pro-tier discount share (replaces the referral discount if larger).
    pub pro_discount_factor: f64,
    /// Floor of the affiliate's share when a pro discount caps it.
    pub min_affiliate_reward_factor: f64,
}

/// How one position fee is split, in the fee's unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeeSplit {
    /// The fee before discounts.
    pub fee: f64,
    /// Returned to the trader (referral or pro discount).
    pub trader_discount: f64,
    /// Paid to the affiliate.
    pub affiliate_reward: f64,
    /// Protocol's share (the fee receiver).
    pub fee_receiver: f64,
    /// LPs' share (added to the pool).
    pub pool: f64,
}

impl FeeSplit {
    /// What the trader pays net of the discount.
    pub fn paid(&self) -> f64 {
        self.fee - self.trader_discount
    }
}

/// Splits a position fee (MECHANISMS.md 1.6): `protocolFee = fee − affiliate
/// − discount`; the receiver takes `receiver_factor` of it, the pool the rest.
/// With a referral code, a pro discount above the referral discount caps the
/// affiliate at `max(total rebate − pro, min affiliate)`; the discount is
/// the larger of the two.
pub fn split_position_fee(fee: f64, receiver_factor: f64, r: &Referral) -> FeeSplit {
    let has_code = r.affiliate_reward_factor > 0.0 || r.trader_discount_factor > 0.0;
    let mut affiliate_factor = 0.0;
    let mut referral_discount = 0.0;
    if has_code {
        affiliate_factor = r.affiliate_reward_factor;
        let total = r.affiliate_reward_factor + r.trader_discount_factor;
        if r.pro_discount_factor > r.trader_discount_factor {
            affiliate_factor = if r.pro_discount_factor > total {
                r.min_affiliate_reward_factor
            } else {
                total - r.pro_discount_factor
            };
            affiliate_factor = affiliate_factor.max(r.min_affiliate_reward_factor);
        }
        referral_discount = fee * r.trader_discount_factor;
    }
    let affiliate = fee * affiliate_factor;
    let discount = referral_discount.max(fee * r.pro_discount_factor);
    let protocol = fee - affiliate - discount;
    let receiver = protocol * receiver_factor;
    FeeSplit {
        fee,
        trader_discount: discount,
        affiliate_reward: affiliate,
        fee_receiver: receiver,
        pool: protocol - receiver,
    }
}

/// Pool value of a GM market, USD (`getPoolValueInfo`, MECHANISMS.md 1.2):
/// token value, plus the LPs' share of pending borrowing fees, minus capped
/// trader PnL per side, minus the impact pool's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolValueInputs {
    /// USD value of the long-side pool amount.
    pub long_pool_usd: f64,
    /// USD value of the short-side pool amount.
    pub short_pool_usd: f64,
    /// Pending borrowing fees of both sides, USD.
    pub pending_borrowing_usd: f64,
    /// Share of borrowing fees that goes to the protocol.
    pub borrowing_receiver_factor: f64,
    /// Trader PnL of longs and shorts, USD (uncapped).
    pub long_pnl_usd: f64,
    /// Trader PnL of shorts, USD (uncapped).
    pub short_pnl_usd: f64,
    /// PnL cap factor applied (deposits, withdrawals, traders).
    pub max_pnl_factor: f64,
    /// Impact pool value, USD.
    pub impact_pool_usd: f64,
}

/// See [`PoolValueInputs`].
pub fn pool_value_usd(v: &PoolValueInputs) -> f64 {
    v.long_pool_usd + v.short_pool_usd + (1.0 - v.borrowing_receiver_factor) * v.pending_borrowing_usd
        - capped_pnl_usd(v.long_pnl_usd, v.long_pool_usd, v.max_pnl_factor)
        - capped_pnl_usd(v.short_pnl_usd, v.short_pool_usd, v.max_pnl_factor)
        - v.impact_pool_usd
}

/// Side PnL, USD: longs `tokens·P − usd`, shorts `usd − tokens·P`.
pub fn side_pnl_usd(side: Side, oi_usd: f64, oi_tokens: f64, price: f64) -> f64 {
    match side {
        Side::Long => oi_tokens * price - oi_usd,
        Side::Short => oi_usd - oi_tokens * price,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want.abs().max(1e-300)
    }

    #[track_caller]
    fn check(got: f64, want: f64, rel: f64) {
        assert!(close(got, want, rel), "got {got}, want {want} (rel tol {rel})");
    }

    /// G1: `test/pricing/PricingUtils.ts`. GMX results are ×1e30 in fixed
    /// point; they differ from the exact values by PRBMath's 18-decimal pow
    /// (at most 2.8e-17 relative here), so 1e-9 relative is a strict check.
    #[test]
    fn g1_apply_impact_factor() {
        let rows: [(f64, f64, f64, &str); 8] = [
            (10_000.0, 2.0, 1e-8, "999999999999999981235216490000"),
            (100_000.0, 2.0, 1e-8, "99999999999999998147004678330000"),
            (100_000.0, 1.75, 1e-7, "56234132519034907150467965500000"),
            (1_000.0, 1.5, 1e-6, "31622776601683792872691000000"),
            (1.0, 1.5, 1e-6, "1000000000000000000000000"),
            (0.001, 1.5, 1e-6, "0"),
            (10_000.0, 1.0, 1e-4, "1000000000000000000000000000000"),
            (10_000.0, 3.0, 1e-12, "999999999999999971996569854874"),
        ];
        for (diff, e, f, want) in rows {
            let want: f64 = want.parse::<f64>().unwrap() / 1e30;
            let got = apply_impact_factor(diff, e, f);
            if want == 0.0 {
                assert_eq!(got, 0.0);
            } else {
                check(got, want, 1e-9);
            }
        }
    }

    /// G2: `test/exchange/PositionPriceImpact/PairMarket.ts`: ETH at $5000,
    /// positive 5e-9, negative 1e-8, exponent 2. Impacts in USD (GMX ×1e30),
    /// execution prices in USD (GMX ×1e12 per wei), pending amounts in ETH.
    #[test]
    fn g2_pair_market_position_impact() {
        let f = ImpactFactors {
            positive: 5e-9,
            negative: 1e-8,
            positive_exponent: 2.0,
            negative_exponent: 2.0,
        };
        let p = 5000.0;
        // (a) long $200k from zero OI.
        let a = position_impact_usd(0.0, 0.0, Side::Long, 200_000.0, &f);
        check(a, -399999999999999992588018713340000.0 / 1e30, 1e-9);
        check(
            increase_execution_price(200_000.0, p, a, Side::Long).unwrap(),
            5010.02004008016,
            1e-12,
        );
        check(a / p * 1e18, -79999999999999999.0, 1e-9); // wei
        // (b) a second long, OI 200k -> 400k.
        let b = position_impact_usd(200_000.0, 0.0, Side::Long, 200_000.0, &f);
        check(b, -1199999999999999977764056140040000.0 / 1e30, 1e-9);
        check(
            increase_execution_price(200_000.0, p, b, Side::Long).unwrap(),
            5030.181086519114,
            1e-12,
        );
        check(b / p * 1e18, -239999999999999996.0, 1e-9); // wei
        // (c) a $10k short improves balance.
        let c = position_impact_usd(400_000.0, 0.0, Side::Short, 10_000.0, &f);
        check(c, 39500000000000000326409486835000.0 / 1e30, 1e-9);
        check(
            increase_execution_price(10_000.0, p, c, Side::Short).unwrap(),
            5019.828321871391,
            1e-12,
        );
        check(c / p, 0.0079, 1e-9);
        // (d) closing that short worsens it again: close impact -$79, pending +$39.5.
        let d = position_impact_usd(400_000.0, 10_000.0, Side::Short, -10_000.0, &f);
        check(d, -79000000000000000652818973670000.0 / 1e30, 1e-9);
        let size_tokens = 10_000.0 / p; // impact excluded from sizeInTokens (v2.2)
        check(
            decrease_execution_price(p, 10_000.0, size_tokens, 10_000.0, d, Side::Short),
            5039.5,
            1e-12,
        );
    }

    /// Crossover: the larger side flips, so the improvement up to balance is
    /// priced with the positive factor and the rest with the negative one.
    #[test]
    fn crossover_prices_each_leg_with_its_own_factor() {
        let f = ImpactFactors {
            positive: 1e-8,
            negative: 2e-8,
            positive_exponent: 2.0,
            negative_exponent: 2.0,
        };
        // long OI 100k, short 0; a 150k short moves D from +100k to -50k.
        let got = position_impact_usd(100_000.0, 0.0, Side::Short, 150_000.0, &f);
        check(got, 1e-8 * 1e10 - 2e-8 * 2.5e9, 1e-12); // 100 - 50 = +50
        // The adjustment: a positive factor above the negative one is lowered.
        let g = ImpactFactors {
            positive: 5e-8,
            negative: 1e-8,
            positive_exponent: 3.0,
            negative_exponent: 2.0,
        };
        let got = price_impact_usd(100_000.0, 0.0, 50_000.0, 0.0, &g);
        check(got, 1e-8 * (1e10 - 2.5e9), 1e-12);
    }

    /// G9 (swap): a balanced $50k/$50k pool with f = 0.01/50,000 and e = 2;
    /// depositing $50k of ETH costs $500, withdrawing $25k of it earns $375.
    #[test]
    fn g9_swap_impact_readme_example() {
        let f = ImpactFactors {
            positive: 0.01 / 50_000.0,
            negative: 0.01 / 50_000.0,
            positive_exponent: 2.0,
            negative_exponent: 2.0,
        };
        check(
            price_impact_usd(50_000.0, 50_000.0, 100_000.0, 50_000.0, &f),
            -500.0,
            1e-12,
        );
        check(
            price_impact_usd(100_000.0, 50_000.0, 75_000.0, 50_000.0, &f),
            375.0,
            1e-12,
        );
    }

    /// G9 (position, pre-v2.2): a $50k long at $5000 with -0.1 % impact gets
    /// 9.99 ETH, an entry of about $5005, and 0.01 ETH goes to the impact pool.
    #[test]
    fn g9_open_time_position_example() {
        let impact = -0.001 * 50_000.0;
        let exec = increase_execution_price(50_000.0, 5000.0, impact, Side::Long).unwrap();
        check(50_000.0 / exec, 9.99, 1e-12);
        check(exec, 5005.005005005005, 1e-12);
        check(-impact / 5000.0, 0.01, 1e-12);
    }

    /// G10: `test/exchange/DecreasePosition/CappedPriceImpact.ts`. Closing
    /// $20k of a $200k long whose pending impact is -0.8 ETH ($4000): close
    /// impact -$40 plus a tenth of the pending ($400). With the fixture's 2 %
    /// cap, $400 is applied and $40 made claimable ("uncapped" test); with a
    /// 0.1 % cap, $20 applied and $420 claimable ("capped" test).
    #[test]
    fn g10_decrease_impact_caps() {
        let f = ImpactFactors {
            positive: 5e-8,
            negative: 1e-7,
            positive_exponent: 2.0,
            negative_exponent: 2.0,
        };
        check(position_impact_usd(0.0, 0.0, Side::Long, 200_000.0, &f), -4000.0, 1e-12);
        check(
            position_impact_usd(200_000.0, 0.0, Side::Short, 200_000.0, &f),
            2000.0,
            1e-12,
        );
        let close_impact = position_impact_usd(200_000.0, 200_000.0, Side::Long, -20_000.0, &f);
        check(close_impact, -40.0, 1e-12);
        let pending = -4000.0 * 20_000.0 / 200_000.0;
        let uncapped = cap_decrease_impact(close_impact, pending, 20_000.0, 0.02, 0.02, 0.0);
        check(uncapped.applied_usd, -400.0, 1e-12);
        check(uncapped.claimable_usd, 40.0, 1e-12);
        let capped = cap_decrease_impact(close_impact, pending, 20_000.0, 5e-4, 1e-3, 0.0);
        check(capped.applied_usd, -20.0, 1e-12);
        check(capped.claimable_usd, 420.0, 1e-12);
        // The short's opening impact under the capped test's 0.05 % positive cap: $100 = 0.02 ETH.
        check(2000f64.min(5e-4 * 200_000.0) / 5000.0, 0.02, 1e-12);
        // Positive totals are capped by the impact pool.
        let pos = cap_decrease_impact(300.0, 100.0, 100_000.0, 0.01, 0.01, 250.0);
        check(pos.applied_usd, 250.0, 1e-12);
        assert_eq!(pos.claimable_usd, 0.0);
    }

    /// G3: `test/exchange/BorrowingFees.ts`: 1000 ETH at $5000 and 1M USDC;
    /// factors long 1e-7, short 2e-7, exponent 1; a $200k long and a $150k
    /// short for 14 days pay $967.68 and $5443.2.
    #[test]
    fn g3_borrowing_curve() {
        let days14 = 14.0 * 86_400.0;
        let long = BorrowModel::Curve {
            factor: 1e-7,
            exponent: 1.0,
        };
        let short = BorrowModel::Curve {
            factor: 2e-7,
            exponent: 1.0,
        };
        let r_long = borrowing_factor_per_s(&long, 200_000.0, 5_000_000.0, 0.0);
        check(r_long, 4e-9, 1e-12);
        check(r_long * days14 * 200_000.0, 967.68, 1e-12);
        let r_short = borrowing_factor_per_s(&short, 150_000.0, 1_000_000.0, 0.0);
        check(r_short * days14 * 150_000.0, 5443.2, 1e-12);
        // A second $200k long for 14 more days: the first long pays 1935.3632 more.
        let r2 = borrowing_factor_per_s(&long, 400_000.0, 5_000_000.0, 0.0);
        check(r2 * days14 * 200_000.0, 1935.36, 1e-12);
        check((r_long + r2) * days14 * 200_000.0, 2903.04, 1e-12);
    }

    /// Kink model, by hand: base 45 %/yr, above 90 %/yr, optimal 85 %.
    #[test]
    fn kink_borrowing_by_hand() {
        let yr = crate::units::SECONDS_PER_YEAR;
        let k = BorrowModel::Kink {
            optimal_usage: 0.85,
            base_per_s: 0.45 / yr,
            above_optimal_per_s: 0.90 / yr,
        };
        check(borrowing_factor_per_s(&k, 1.0e6, 2.0e6, 0.5) * yr, 0.225, 1e-12);
        check(borrowing_factor_per_s(&k, 1.0e6, 2.0e6, 1.0) * yr, 0.90, 1e-12);
        check(
            borrowing_factor_per_s(&k, 1.0e6, 2.0e6, 0.925) * yr,
            0.45 * 0.925 + 0.45 * 0.075 / 0.15,
            1e-12,
        );
        // Usage: reserve usage against OI usage.
        check(usage_factor(450.0, 1000.0, 0.9, 100.0, 1000.0, false), 0.5, 1e-15);
        check(usage_factor(450.0, 1000.0, 0.9, 800.0, 1000.0, false), 0.8, 1e-15);
        check(usage_factor(450.0, 1000.0, 0.9, 800.0, 1000.0, true), 0.5, 1e-15);
    }

    /// G4: `test/exchange/FundingFees/PairMarket.ts`: factor 1e-10, exponent
    /// 1; long $200k pays short $100k for 14 days: $8.064 = 0.0016128 ETH.
    /// GMX's 0.001612804 ETH includes 3 more seconds of block time.
    #[test]
    fn g4_static_funding() {
        let p = FundingParams {
            factor: 1e-10,
            ..FundingParams::NONE
        };
        let r = next_funding(0.0, 200_000.0, 100_000.0, 0.0, &p);
        assert!(r.longs_pay);
        let usd = |secs: f64| 200_000.0 * r.per_s * secs;
        check(usd(1_209_600.0), 8.064, 1e-12);
        check(usd(1_209_600.0) / 5000.0, 0.0016128, 1e-12);
        check(usd(1_209_603.0) / 5000.0, 1612804000000000.0 / 1e18, 1e-12);
    }

    fn g5_params() -> FundingParams {
        FundingParams {
            factor: 1e-10,
            increase_per_s2: 1e-6,
            decrease_per_s2: 2e-8,
            threshold_stable: 0.05,
            threshold_decrease: 0.03,
            ..FundingParams::NONE
        }
    }

    /// G5: `test/exchange/FundingFees/AdaptiveFunding.ts`, step by step. The
    /// test's orders land a few seconds apart (block time); the steps use
    /// the test's timings where its expected value reveals them.
    #[test]
    fn g5_adaptive_funding_sequence() {
        let p = g5_params();
        // $106k long, $94k short: 6 % imbalance, 600 s -> 0.0036 %/s.
        let r = next_funding(0.0, 106_000.0, 94_000.0, 600.0, &p);
        assert!(r.longs_pay);
        check(r.saved_per_s, 36000000000000000000000000.0 / 1e30, 1e-12);
        check(r.per_s, 3.6e-5, 1e-12);
        // The $1 short lands at 604 s: 0.003624 %/s.
        let r = next_funding(0.0, 106_000.0, 94_000.0, 604.0, &p);
        check(r.saved_per_s, 36240000000000000000000000.0 / 1e30, 1e-12);
        // 600 s more at 11,999 / 200,001.
        let r = next_funding(r.saved_per_s, 106_000.0, 94_001.0, 600.0, &p);
        check(r.saved_per_s, 72236820015899920500397200.0 / 1e30, 1e-12);
        // At 4 % (104k / 96k) between the thresholds: unchanged.
        let held = next_funding(r.saved_per_s, 104_000.0, 96_001.0, 600.0, &p);
        assert_eq!(held.saved_per_s, r.saved_per_s);
        // The test's 72618803095782552410311774 after more swings; at 2 %
        // (102k / 98k) it decreases by 2e-8 · 600 = 1.2e-5 to 60618803....
        let before = 72618803095782552410311774.0 / 1e30;
        let r = next_funding(before, 102_000.0, 98_001.0, 600.0, &p);
        check(r.saved_per_s, 60618803095782552410311774.0 / 1e30, 1e-12);
        assert!(r.longs_pay);
    }

    /// G6: README "Funding Fees": static factor 1/50,000 at $150k/$50k gives
    /// 0.001 %/s paid by longs; adaptive steps of 600 s from +0.0036 %.
    #[test]
    fn g6_readme_funding_examples() {
        let p = FundingParams {
            factor: 1.0 / 50_000.0,
            ..FundingParams::NONE
        };
        let r = next_funding(0.0, 150_000.0, 50_000.0, 1.0, &p);
        assert!(r.longs_pay);
        check(r.per_s, 0.00001, 1e-12);
        // Shorts receive what longs pay: 150k · 0.001 % = $1.5/s over $50k = 0.003 %.
        check(150_000.0 * r.per_s / 50_000.0, 0.00003, 1e-12);

        let p = g5_params();
        let s0 = 0.000036;
        let six = next_funding(0.0, 106_000.0, 94_000.0, 600.0, &p);
        check(six.saved_per_s, s0, 1e-12);
        let four = next_funding(s0, 104_000.0, 96_000.0, 600.0, &p);
        assert_eq!(four.saved_per_s, s0);
        let two = next_funding(s0, 102_000.0, 98_000.0, 600.0, &p);
        check(two.saved_per_s - s0, -0.000012, 1e-12);
        // Skew flipped at 1 %: funding moves toward shorts paying by 1 % · 1e-6 · 600.
        let flipped = next_funding(s0, 99_000.0, 101_000.0, 600.0, &p);
        check(flipped.saved_per_s - s0, -0.000006, 1e-12);
        // Keeps flipping: past zero the shorts pay.
        let r = next_funding(0.000002, 90_000.0, 110_000.0, 600.0, &p);
        assert!(!r.longs_pay);
        check(r.saved_per_s, 0.000002 - 0.1 * 1e-6 * 600.0, 1e-12);
        // A decrease larger than the rate leaves one unit with the sign kept.
        let r = next_funding(
            -1e-7,
            99_000.0,
            101_000.0,
            600.0,
            &FundingParams {
                threshold_decrease: 0.03,
                ..p
            },
        );
        assert!(r.saved_per_s < 0.0 && r.saved_per_s > -1e-20, "{r:?}");
        // Bounded by max, and the rate used by [min, max].
        let q = FundingParams {
            min_per_s: 1e-9,
            max_per_s: 2e-5,
            ..p
        };
        let r = next_funding(0.0, 200_000.0, 100_000.0, 1e6, &q);
        check(r.saved_per_s, 2e-5, 1e-12);
        let r = next_funding(0.0, 100_000.0, 100_000.0, 600.0, &q);
        check(r.per_s, 1e-9, 1e-12);
    }

    /// G7: `test/exchange/DecreasePosition/CappedPnl.ts`: a USDC-USDC market
    /// with $1M per side; two $250k longs at $5000 gain 50 % ($125k each).
    #[test]
    fn g7_capped_pnl() {
        // Withdrawal cap 50 % of $1M does not bind: pool value 2M - 250k.
        let pv = pool_value_usd(&PoolValueInputs {
            long_pool_usd: 1_000_000.0,
            short_pool_usd: 1_000_000.0,
            pending_borrowing_usd: 0.0,
            borrowing_receiver_factor: 0.0,
            long_pnl_usd: 250_000.0,
            short_pnl_usd: 0.0,
            max_pnl_factor: 0.5,
            impact_pool_usd: 0.0,
        });
        check(pv, 1_750_000.0, 1e-15);
        check(pv / 2_000_000.0, 0.875, 1e-15);
        // Traders' cap 7 %: user0's 125k is scaled by 70k / 250k.
        let pnl0 = position_pnl_after_cap(125_000.0, 250_000.0, 1_000_000.0, 0.07);
        check(pnl0, 35_000.0, 1e-12);
        check(100_000.0 + pnl0, 135_000.0, 1e-12);
        // The pool pays 35k: 1,965,000 left, 982,500 per side; GM price 0.92.
        let side = (2_000_000.0 - pnl0) / 2.0;
        let pv = pool_value_usd(&PoolValueInputs {
            long_pool_usd: side,
            short_pool_usd: side,
            pending_borrowing_usd: 0.0,
            borrowing_receiver_factor: 0.0,
            long_pnl_usd: 125_000.0,
            short_pnl_usd: 0.0,
            max_pnl_factor: 0.5,
            impact_pool_usd: 0.0,
        });
        check(pv / 2_000_000.0, 0.92, 1e-12);
        let pnl1 = position_pnl_after_cap(125_000.0, 125_000.0, side, 0.07);
        check(100_000.0 + pnl1, 168_775.0, 1e-12);
        check((2_000_000.0 - pnl0 - pnl1) / 2_000_000.0, 0.9481125, 1e-12);
    }

    /// G8: `test/exchange/PositionFees.ts`: a 0.05 % fee on $200k at $5000 is
    /// 0.02 ETH; referral tier 1 (10 % rebate, 20 % of it to the trader).
    #[test]
    fn g8_position_fee_referral_split() {
        let fee = 200_000.0 * 0.0005 / 5000.0;
        check(fee, 0.02, 1e-12);
        let tier1 = Referral {
            affiliate_reward_factor: 0.08,
            trader_discount_factor: 0.02,
            pro_discount_factor: 0.0,
            min_affiliate_reward_factor: 0.03,
        };
        let s = split_position_fee(fee, 0.2, &tier1);
        check(s.trader_discount, 0.0004, 1e-12);
        check(s.affiliate_reward, 0.0016, 1e-12);
        check(s.pool, 0.8 * (0.02 - 0.0016 - 0.0004), 1e-12);
        check(s.fee_receiver, 0.2 * (0.02 - 0.0016 - 0.0004), 1e-12);
        // Pro tier 90 %: the affiliate falls to the 3 % minimum, the discount is 90 %.
        let pro90 = split_position_fee(
            fee,
            0.2,
            &Referral {
                pro_discount_factor: 0.9,
                ..tier1
            },
        );
        check(pro90.affiliate_reward, 0.03 * fee, 1e-12);
        check(pro90.trader_discount, 0.9 * fee, 1e-12);
        // Pro tier 1 % (below the referral's 2 %): affiliate 8 %, discount 2 %.
        let pro1 = split_position_fee(
            fee,
            0.2,
            &Referral {
                pro_discount_factor: 0.01,
                ..tier1
            },
        );
        check(pro1.affiliate_reward, 0.08 * fee, 1e-12);
        check(pro1.trader_discount, 0.02 * fee, 1e-12);
        // No referral: 37 % to the receiver, 63 % to LPs.
        let plain = split_position_fee(100.0, 0.37, &Referral::default());
        check(plain.pool, 63.0, 1e-12);
        check(plain.fee_receiver, 37.0, 1e-12);
    }

    #[test]
    fn pool_value_includes_lp_share_of_borrowing_and_subtracts_impact_pool() {
        // G3's pool after 14 days of a lone $200k long with no receiver share: $6,000,967.68.
        let v = PoolValueInputs {
            long_pool_usd: 5_000_000.0,
            short_pool_usd: 1_000_000.0,
            pending_borrowing_usd: 967.68,
            borrowing_receiver_factor: 0.0,
            long_pnl_usd: 0.0,
            short_pnl_usd: 0.0,
            max_pnl_factor: 0.9,
            impact_pool_usd: 0.0,
        };
        check(pool_value_usd(&v), 6_000_967.68, 1e-15);
        check(pool_value_usd(&v) / 6_000_000.0, 1.00016128, 1e-12);
        let w = PoolValueInputs {
            borrowing_receiver_factor: 0.37,
            impact_pool_usd: 400.0,
            short_pnl_usd: -1000.0,
            ..v
        };
        check(pool_value_usd(&w), 6_000_000.0 + 0.63 * 967.68 - 400.0 + 1000.0, 1e-15);
        assert_eq!(side_pnl_usd(Side::Long, 200.0, 0.05, 5000.0), 50.0);
        assert_eq!(side_pnl_usd(Side::Short, 200.0, 0.05, 5000.0), -50.0);
    }
}
