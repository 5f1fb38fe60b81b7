//! Reading GMX-style venues (`kind = "gm"` or `"glv"`) and LP flows (`[lps]`).
//!
//! Every market starts from a published configuration (`preset`, MECHANISMS.md
//! 1.14); each key the file sets overrides it. Checks follow GMX's own
//! constraints plus the ones a simulation needs: exponents of at least 1,
//! positive reserve factors, uncrossed thresholds, weights summing to 1.

use super::build::{DistUnit, read_dist};
use super::reader::{Default, Node, Range, Reader, spec};
use crate::market::AssetSpec;
use crate::trader::{LpFlowParams, MixRule, RunRule};
use crate::units::SECONDS_PER_YEAR;
use crate::units::gt0;
use crate::venue::gmx::formulas::{BorrowModel, FundingParams, ImpactFactors, Referral};
use crate::venue::gmx::{
    AdlRanking, FeeReceivers, GlvParams, GmMarketParams, GmParams, ImpactFlow, MarketPreset, PnlCap, PnlCaps,
};

const FROM_PRESET: &str = "from the market's preset";

/// A number that defaults to the preset's value.
fn num(
    r: &mut Reader,
    t: &Node,
    key: &'static str,
    unit: &'static str,
    doc: &'static str,
    preset: f64,
    range: Range,
) -> Option<f64> {
    r.f64(
        t,
        spec(key, unit, doc).default_text(FROM_PRESET),
        Default::Value(preset),
        range,
    )
}

/// An exponent: at least 1, as GMX's power laws require.
fn exponent(r: &mut Reader, t: &Node, key: &'static str, doc: &'static str, preset: f64) -> Option<f64> {
    let v = r.f64(
        t,
        spec(key, "power", doc).default_text(FROM_PRESET),
        Default::Value(preset),
        Range::ANY,
    )?;
    if v < 1.0 {
        r.issue(&t.key_path(key), format!("exponents must be at least 1, was {v}"));
        return None;
    }
    Some(v)
}

fn asset_ix(
    r: &mut Reader,
    t: &Node,
    key: &'static str,
    doc: &'static str,
    default: Option<&str>,
    assets: &[AssetSpec],
) -> Option<usize> {
    let name = r.string(
        t,
        spec(key, "asset", doc).default_text(match key {
            "index" => "the market's key",
            "long_token" => "the index",
            _ => "the first stable asset",
        }),
        match default {
            Some(d) => Default::Value(d),
            None => Default::Required,
        },
    )?;
    match assets.iter().position(|a| a.name == name) {
        Some(i) => Some(i),
        None => {
            r.issue(&t.key_path(key), format!("no asset named {name:?}"));
            None
        }
    }
}

fn read_impact(r: &mut Reader, m: &Node, p: &mut GmMarketParams) -> Option<()> {
    let Some(t) = r.table(m, "impact", false) else {
        return Some(());
    };
    let base = p.position_impact;
    let pos = num(
        r,
        &t,
        "positive_factor",
        "factor",
        "Position impact factor when a trade improves the OI balance (USD^(1-e)).",
        base.positive,
        Range::NON_NEG,
    );
    let neg = num(
        r,
        &t,
        "negative_factor",
        "factor",
        "Position impact factor when a trade worsens the OI balance.",
        base.negative,
        Range::NON_NEG,
    );
    let pe = exponent(
        r,
        &t,
        "positive_exponent",
        "Exponent on the OI imbalance when balance improves.",
        base.positive_exponent,
    );
    let ne = exponent(
        r,
        &t,
        "negative_exponent",
        "Exponent on the OI imbalance when balance worsens.",
        base.negative_exponent,
    );
    let max_pos = num(
        r,
        &t,
        "max_positive",
        "fraction",
        "Cap on positive impact, share of the trade's size.",
        p.max_positive_impact,
        Range::NON_NEG,
    );
    let max_neg = num(
        r,
        &t,
        "max_negative",
        "fraction",
        "Cap on negative impact charged at a decrease; the excess becomes claimable collateral.",
        p.max_negative_impact,
        Range::NON_NEG,
    );
    let max_liq = num(
        r,
        &t,
        "max_for_liquidations",
        "fraction",
        "Cap on negative impact counted in the liquidation check (mainnet: 0, impact ignored).",
        p.max_impact_for_liquidations,
        Range::NON_NEG,
    );
    let dist = num(
        r,
        &t,
        "pool_distribution_per_s",
        "index tokens/s",
        "Impact pool paid back to LPs per second (mainnet: 0 on most markets).",
        p.impact_pool_distribution_per_s,
        Range::NON_NEG,
    );
    let min_pool = num(
        r,
        &t,
        "min_pool_tokens",
        "index tokens",
        "Impact pool kept back from distribution.",
        p.min_impact_pool_tokens,
        Range::NON_NEG,
    );
    r.finish(&t);
    p.position_impact = ImpactFactors {
        positive: pos?,
        negative: neg?,
        positive_exponent: pe?,
        negative_exponent: ne?,
    };
    p.max_positive_impact = max_pos?;
    p.max_negative_impact = max_neg?;
    p.max_impact_for_liquidations = max_liq?;
    p.impact_pool_distribution_per_s = dist?;
    p.min_impact_pool_tokens = min_pool?;
    Some(())
}

fn read_swap(r: &mut Reader, m: &Node, p: &mut GmMarketParams) -> Option<()> {
    let Some(t) = r.table(m, "swap", false) else {
        return Some(());
    };
    let base = p.swap_impact;
    let pos = num(
        r,
        &t,
        "positive_factor",
        "factor",
        "Swap impact factor of LP deposits that improve the pool's token balance.",
        base.positive,
        Range::NON_NEG,
    );
    let neg = num(
        r,
        &t,
        "negative_factor",
        "factor",
        "Swap impact factor of LP deposits that worsen it.",
        base.negative,
        Range::NON_NEG,
    );
    let e = exponent(
        r,
        &t,
        "exponent",
        "Exponent on the pool's token imbalance (one for both signs).",
        base.negative_exponent,
    );
    let fp = num(
        r,
        &t,
        "fee_positive",
        "fraction",
        "Deposit fee when balance improves.",
        p.swap_fee_positive,
        Range::UNIT,
    );
    let fnn = num(
        r,
        &t,
        "fee_negative",
        "fraction",
        "Deposit fee when balance worsens; also the withdrawal fee.",
        p.swap_fee_negative,
        Range::UNIT,
    );
    r.finish(&t);
    let e = e?;
    p.swap_impact = ImpactFactors {
        positive: pos?,
        negative: neg?,
        positive_exponent: e,
        negative_exponent: e,
    };
    p.swap_fee_positive = fp?;
    p.swap_fee_negative = fnn?;
    Some(())
}

fn read_fees(r: &mut Reader, m: &Node, p: &mut GmMarketParams) -> Option<()> {
    let Some(t) = r.table(m, "fees", false) else {
        return Some(());
    };
    let pp = num(
        r,
        &t,
        "position_positive",
        "fraction",
        "Position fee when the trade improves the OI balance (mainnet 0.04 %).",
        p.position_fee_positive,
        Range::UNIT,
    );
    let pn = num(
        r,
        &t,
        "position_negative",
        "fraction",
        "Position fee when it worsens the balance (mainnet 0.06 %).",
        p.position_fee_negative,
        Range::UNIT,
    );
    let liq = num(
        r,
        &t,
        "liquidation",
        "fraction",
        "Liquidation fee, share of size (mainnet 0.2 %, synthetic 0.3 %).",
        p.liquidation_fee,
        Range::UNIT,
    );
    r.finish(&t);
    p.position_fee_positive = pp?;
    p.position_fee_negative = pn?;
    p.liquidation_fee = liq?;
    Some(())
}

fn read_borrow(r: &mut Reader, m: &Node, p: &mut GmMarketParams) -> Option<()> {
    let Some(t) = r.table(m, "borrow", false) else {
        return Some(());
    };
    let preset_model = match p.borrow {
        BorrowModel::Curve { .. } => "curve",
        BorrowModel::Kink { .. } => "kink",
    };
    let model = r.choice(
        &t,
        spec(
            "model",
            "text",
            "Borrowing model: `kink` on usage, or `curve` (factor · reserved^exponent / pool).",
        )
        .default_text(FROM_PRESET),
        &["kink", "curve"],
        Default::Value(preset_model),
    );
    let (kopt, kbase, kabove) = match p.borrow {
        BorrowModel::Kink {
            optimal_usage,
            base_per_s,
            above_optimal_per_s,
        } => (
            optimal_usage,
            base_per_s * SECONDS_PER_YEAR,
            above_optimal_per_s * SECONDS_PER_YEAR,
        ),
        BorrowModel::Curve { .. } => (0.75, 0.5, 1.0),
    };
    let (cf, ce) = match p.borrow {
        BorrowModel::Curve { factor, exponent } => (factor, exponent),
        BorrowModel::Kink { .. } => (6.25e-9, 1.0),
    };
    let opt = num(
        r,
        &t,
        "optimal_usage",
        "fraction",
        "Kink: usage of the kink, in (0, 1).",
        kopt,
        Range::OPEN_UNIT,
    );
    let base = num(
        r,
        &t,
        "base_apr",
        "APR",
        "Kink: base rate, the lower slope's rate at usage 1.",
        kbase,
        Range::NON_NEG,
    );
    let above = num(
        r,
        &t,
        "above_optimal_apr",
        "APR",
        "Kink: rate at full usage above the kink.",
        kabove,
        Range::NON_NEG,
    );
    let factor = num(
        r,
        &t,
        "factor",
        "1/s per USD^(e-1)",
        "Curve: borrowing factor.",
        cf,
        Range::NON_NEG,
    );
    let exp = exponent(r, &t, "exponent", "Curve: exponent on reserved USD.", ce);
    p.ignore_oi_for_usage = r.bool(
        &t,
        spec(
            "ignore_open_interest",
            "boolean",
            "Kink usage ignores open interest / max open interest (`IGNORE_OPEN_INTEREST_FOR_USAGE_FACTOR`).",
        ),
        p.ignore_oi_for_usage,
    );
    r.finish(&t);
    p.borrow = match model? {
        "curve" => BorrowModel::Curve {
            factor: factor?,
            exponent: exp?,
        },
        _ => {
            let (base, above) = (base?, above?);
            BorrowModel::Kink {
                optimal_usage: opt?,
                base_per_s: base / SECONDS_PER_YEAR,
                above_optimal_per_s: above / SECONDS_PER_YEAR,
            }
        }
    };
    Some(())
}

fn read_funding(r: &mut Reader, m: &Node, p: &mut GmMarketParams) -> Option<()> {
    let Some(t) = r.table(m, "funding", false) else {
        return Some(());
    };
    let f = p.funding;
    let per_hour = SECONDS_PER_YEAR * 3600.0;
    let model = r.choice(
        &t,
        spec(
            "model",
            "text",
            "`adaptive` (the saved rate moves with the skew) or `static` (factor · imbalance).",
        )
        .default_text(FROM_PRESET),
        &["adaptive", "static"],
        Default::Value(if f.increase_per_s2 > 0.0 { "adaptive" } else { "static" }),
    );
    let factor = num(
        r,
        &t,
        "factor",
        "1/s",
        "Static funding factor per second at full imbalance (2e-8 ≈ 63 %/yr).",
        f.factor,
        Range::NON_NEG,
    );
    let exp = exponent(r, &t, "exponent", "Exponent on the OI difference.", f.exponent);
    let inc = num(
        r,
        &t,
        "increase_apr_per_hour",
        "APR/hour",
        "Adaptive: rate added per hour at full imbalance (mainnet: the max in 3 h).",
        f.increase_per_s2 * per_hour,
        Range::NON_NEG,
    );
    let dec = num(
        r,
        &t,
        "decrease_apr_per_hour",
        "APR/hour",
        "Adaptive: rate removed per hour below the decrease threshold.",
        f.decrease_per_s2 * per_hour,
        Range::NON_NEG,
    );
    let stable = num(
        r,
        &t,
        "threshold_stable",
        "fraction",
        "Adaptive: above this imbalance the rate keeps rising (mainnet 4 %).",
        f.threshold_stable,
        Range::UNIT,
    );
    let decrease = num(
        r,
        &t,
        "threshold_decrease",
        "fraction",
        "Adaptive: below this imbalance the rate falls (mainnet 0: never).",
        f.threshold_decrease,
        Range::UNIT,
    );
    let min = num(
        r,
        &t,
        "min_apr",
        "APR",
        "Smallest rate used.",
        f.min_per_s * SECONDS_PER_YEAR,
        Range::NON_NEG,
    );
    let max = num(
        r,
        &t,
        "max_apr",
        "APR",
        "Largest rate.",
        f.max_per_s * SECONDS_PER_YEAR,
        Range::NON_NEG,
    );
    r.finish(&t);
    let (stable, decrease, min, max) = (stable?, decrease?, min?, max?);
    let mut ok = true;
    if decrease > stable {
        r.issue(
            &t.key_path("threshold_decrease"),
            format!("must not exceed threshold_stable ({stable}): the thresholds are crossed, was {decrease}"),
        );
        ok = false;
    }
    if min > max {
        r.issue(
            &t.key_path("min_apr"),
            format!("must not exceed max_apr ({max}), was {min}"),
        );
        ok = false;
    }
    let adaptive = model? == "adaptive";
    let inc = inc?;
    if adaptive && inc <= 0.0 {
        r.issue(&t.key_path("increase_apr_per_hour"), "must be > 0 for adaptive funding");
        ok = false;
    }
    if !ok {
        return None;
    }
    p.funding = FundingParams {
        factor: factor?,
        exponent: exp?,
        increase_per_s2: if adaptive { inc / per_hour } else { 0.0 },
        decrease_per_s2: dec? / per_hour,
        threshold_stable: stable,
        threshold_decrease: decrease,
        min_per_s: min / SECONDS_PER_YEAR,
        max_per_s: max / SECONDS_PER_YEAR,
    };
    Some(())
}

fn read_caps(r: &mut Reader, m: &Node, p: &mut GmMarketParams) -> Option<()> {
    let Some(t) = r.table(m, "pnl_caps", false) else {
        return Some(());
    };
    let c = p.pnl_caps;
    let range = Range::POS;
    let traders = num(
        r,
        &t,
        "traders",
        "fraction",
        "Closing traders' PnL is scaled down above this share of the side's pool.",
        c.traders,
        range,
    );
    let adl = num(
        r,
        &t,
        "adl",
        "fraction",
        "ADL starts when a side's PnL exceeds this share of its pool.",
        c.adl,
        range,
    );
    let after = num(
        r,
        &t,
        "after_adl",
        "fraction",
        "ADL closes positions until the factor is at or below this; below `adl`.",
        c.after_adl,
        range,
    );
    let deposits = num(
        r,
        &t,
        "deposits",
        "fraction",
        "PnL cap in the GM price for deposits and GLV valuation.",
        c.deposits,
        range,
    );
    let withdrawals = num(
        r,
        &t,
        "withdrawals",
        "fraction",
        "PnL cap in the GM price for withdrawals.",
        c.withdrawals,
        range,
    );
    r.finish(&t);
    p.pnl_caps = PnlCaps {
        traders: traders?,
        adl: adl?,
        after_adl: after?,
        deposits: deposits?,
        withdrawals: withdrawals?,
    };
    Some(())
}

fn read_market(r: &mut Reader, key: &str, t: &Node, assets: &[AssetSpec]) -> Option<GmMarketParams> {
    let names: Vec<&'static str> = MarketPreset::ALL.iter().map(|(n, _)| *n).collect();
    let preset = r.choice(
        t,
        spec(
            "preset",
            "text",
            "Published configuration the market starts from (MECHANISMS.md 1.14); every key below overrides it.",
        ),
        &names,
        Default::Value("base"),
    );
    let mut p = MarketPreset::ALL
        .iter()
        .find(|(n, _)| Some(*n) == preset)
        .map_or(MarketPreset::Base, |(_, p)| *p)
        .params();
    p.name = key.to_string();
    let first_stable = assets.iter().find(|a| a.stable).map(|a| a.name.clone());
    let index = asset_ix(r, t, "index", "Asset traded.", Some(key), assets);
    let index_name = index.map(|i| assets[i].name.clone());
    let long = asset_ix(
        r,
        t,
        "long_token",
        "Token backing longs; the index for a fully backed market, another token for a synthetic one.",
        index_name.as_deref().or(Some(key)),
        assets,
    );
    let short = match first_stable.as_deref() {
        Some(s) => asset_ix(
            r,
            t,
            "short_token",
            "Token backing shorts; equal to long_token for a single-token market.",
            Some(s),
            assets,
        ),
        None => asset_ix(
            r,
            t,
            "short_token",
            "Token backing shorts; equal to long_token for a single-token market.",
            None,
            assets,
        ),
    };
    let weight = r.f64(
        t,
        spec(
            "weight",
            "fraction",
            "Share of the venue's starting pool value; weights sum to 1.",
        ),
        Default::Required,
        Range::UNIT,
    );
    let long_share = r.f64(
        t,
        spec(
            "long_share",
            "fraction",
            "Share of the market's starting pool value held in the long token (single-token markets: ignored).",
        ),
        Default::Value(0.5),
        Range::UNIT,
    );
    let flow = r.choice(
        t,
        spec("impact_flow", "text", "`pending`: GMX v2.2, impact stored on the position and settled at close; `open_time`: GMX ≤ v2.1 and GMX-Solana, impact applied to the size at open."),
        &["pending", "open_time"],
        Default::Value("pending"),
    );
    let reserve = num(
        r,
        t,
        "reserve_factor",
        "fraction",
        "Reserved USD (long: OI tokens · price; short: OI) must stay ≤ this · the side's pool USD; > 0.",
        p.reserve_factor,
        Range::ANY,
    );
    let oi_reserve = num(
        r,
        t,
        "oi_reserve_factor",
        "fraction",
        "Open-interest reserve factor: the same check, and the kink's usage denominator; > 0.",
        p.oi_reserve_factor,
        Range::ANY,
    );
    let max_long = num(
        r,
        t,
        "max_oi_long_usd",
        "USD",
        "Largest long open interest.",
        p.max_oi_long_usd,
        Range::POS,
    );
    let max_short = num(
        r,
        t,
        "max_oi_short_usd",
        "USD",
        "Largest short open interest.",
        p.max_oi_short_usd,
        Range::POS,
    );
    let mcf = num(
        r,
        t,
        "min_collateral_factor",
        "fraction",
        "Collateral at open ≥ this share of size (1 / max leverage).",
        p.min_collateral_factor,
        Range::UNIT_POS,
    );
    let mcf_liq = num(
        r,
        t,
        "min_collateral_factor_for_liquidation",
        "fraction",
        "Liquidation below this share of size; at most min_collateral_factor.",
        p.min_collateral_factor_for_liquidation,
        Range::UNIT_POS,
    );
    let mult = num(
        r,
        t,
        "min_collateral_oi_multiplier",
        "1/USD",
        "Opening needs collateral ≥ size · side OI · this, when above min_collateral_factor.",
        p.min_collateral_oi_multiplier,
        Range::NON_NEG,
    );
    let min_usd = num(
        r,
        t,
        "min_collateral_usd",
        "USD",
        "Smallest collateral.",
        p.min_collateral_usd,
        Range::NON_NEG,
    );
    let glv_max = r.f64(
        t,
        spec(
            "glv_max_usd",
            "USD",
            "GLV's largest holding of this market (GLV only; none: no cap).",
        ),
        Default::None,
        Range::POS,
    );
    let parts = [
        read_impact(r, t, &mut p),
        read_swap(r, t, &mut p),
        read_fees(r, t, &mut p),
        read_borrow(r, t, &mut p),
        read_funding(r, t, &mut p),
        read_caps(r, t, &mut p),
    ];
    r.finish(t);
    let (index, long, short, weight, long_share) = (index?, long?, short?, weight?, long_share?);
    let (reserve, oi_reserve) = (reserve?, oi_reserve?);
    let mut ok = parts.iter().all(Option::is_some);
    for (k, v) in [("reserve_factor", reserve), ("oi_reserve_factor", oi_reserve)] {
        if !gt0(v) {
            r.issue(&t.key_path(k), format!("must be > 0, was {v}"));
            ok = false;
        }
    }
    let (mcf, mcf_liq) = (mcf?, mcf_liq?);
    if mcf_liq > mcf {
        r.issue(
            &t.key_path("min_collateral_factor_for_liquidation"),
            format!("must not exceed min_collateral_factor ({mcf}), was {mcf_liq}"),
        );
        ok = false;
    }
    if ok && p.pnl_caps.after_adl >= p.pnl_caps.adl {
        r.issue(
            &t.key_path("pnl_caps.after_adl"),
            format!(
                "must be below pnl_caps.adl ({}): the thresholds are crossed, was {}",
                p.pnl_caps.adl, p.pnl_caps.after_adl
            ),
        );
        ok = false;
    }
    if index == short && long != short {
        r.issue(
            &t.key_path("short_token"),
            "must differ from the index unless the market is single-token",
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    p.index = index;
    p.long_token = long;
    p.short_token = short;
    p.weight = weight;
    p.long_share = long_share;
    p.impact_flow = if flow? == "open_time" {
        ImpactFlow::OpenTime
    } else {
        ImpactFlow::Pending
    };
    p.reserve_factor = reserve;
    p.oi_reserve_factor = oi_reserve;
    p.max_oi_long_usd = max_long?;
    p.max_oi_short_usd = max_short?;
    p.min_collateral_factor = mcf;
    p.min_collateral_factor_for_liquidation = mcf_liq;
    p.min_collateral_oi_multiplier = mult?;
    p.min_collateral_usd = min_usd?;
    p.glv_max_usd = glv_max.unwrap_or(f64::INFINITY);
    Some(p)
}

/// Reads a `gm` or `glv` venue.
pub(super) fn read_gm(r: &mut Reader, v: &Node, name: &str, assets: &[AssetSpec], glv: bool) -> Option<GmParams> {
    let pool = r.f64(
        v,
        spec(
            "pool_usd",
            "USD",
            "LP deposits at t = 0, split across markets by weight; GM and GLV tokens start at $1.",
        ),
        Default::Required,
        Range::POS,
    );
    let cap = r.choice(
        v,
        spec("lp_price_cap", "text", "PnL cap in the reported LP token price: what a withdrawing LP gets (`withdrawals`) for gm, the GLV valuation (`deposits`) for glv.").default_text("withdrawals (gm), deposits (glv)"),
        &["withdrawals", "deposits", "traders", "none"],
        Default::Value(if glv { "deposits" } else { "withdrawals" }),
    );
    let skip = r.bool(
        v,
        spec(
            "skip_borrowing_for_smaller_side",
            "boolean",
            "The side with less open interest pays no borrowing fee (mainnet: true).",
        ),
        true,
    );
    let delay = r.duration(
        v,
        spec(
            "claimable_delay",
            "duration",
            "Impact beyond the cap is claimable after this delay (mainnet: 5 days).",
        ),
        Default::Value("5d"),
    );
    let ranking = r.choice(
        v,
        spec(
            "adl_ranking",
            "text",
            "Which positions the ADL keeper closes first (GMX leaves it to keepers).",
        ),
        &["most_profitable", "highest_roe", "largest"],
        Default::Value("most_profitable"),
    );
    let receivers = match r.table(v, "fee_receivers", false) {
        Some(t) => {
            let m = FeeReceivers::MAINNET;
            let d = |r: &mut Reader, k: &'static str, doc: &'static str, x: f64| {
                r.f64(&t, spec(k, "fraction", doc), Default::Value(x), Range::UNIT)
            };
            let position = d(
                r,
                "position",
                "Protocol's share of position fees (mainnet 37 %).",
                m.position,
            );
            let swap = d(r, "swap", "Protocol's share of deposit and withdrawal fees.", m.swap);
            let borrowing = d(r, "borrowing", "Protocol's share of borrowing fees.", m.borrowing);
            let liquidation = d(r, "liquidation", "Protocol's share of liquidation fees.", m.liquidation);
            r.finish(&t);
            Some(FeeReceivers {
                position: position?,
                swap: swap?,
                borrowing: borrowing?,
                liquidation: liquidation?,
            })
        }
        None => Some(FeeReceivers::MAINNET),
    };
    let referral = match r.table(v, "referral", false) {
        Some(t) => {
            let d = |r: &mut Reader, k: &'static str, doc: &'static str| {
                r.f64(&t, spec(k, "fraction", doc), Default::Value(0.0), Range::UNIT)
            };
            let aff = d(r, "affiliate_reward", "Share of every position fee paid to affiliates.");
            let disc = d(
                r,
                "trader_discount",
                "Share of every position fee returned to traders by referral codes.",
            );
            let pro = d(
                r,
                "pro_discount",
                "Pro-tier discount share (replaces the referral discount if larger).",
            );
            let min_aff = d(
                r,
                "min_affiliate_reward",
                "Floor of the affiliate's share when a pro discount caps it.",
            );
            r.finish(&t);
            Some(Referral {
                affiliate_reward_factor: aff?,
                trader_discount_factor: disc?,
                pro_discount_factor: pro?,
                min_affiliate_reward_factor: min_aff?,
            })
        }
        None => Some(Referral::default()),
    };
    let glv_params = if glv {
        let t = r.table(v, "glv", false);
        let read = |r: &mut Reader, t: &Node| {
            let interval = r.duration(
                t,
                spec(
                    "shift_min_interval",
                    "duration",
                    "Least time between two shifts (Arbitrum: 30 min).",
                ),
                Default::Value("30m"),
            );
            let loss = r.f64(
                t,
                spec(
                    "shift_max_loss",
                    "fraction",
                    "Largest share of a shift's value lost to price impact (Arbitrum: 0.025 %).",
                ),
                Default::Value(0.00025),
                Range::UNIT,
            );
            let gap = r.f64(
                t,
                spec(
                    "shift_utilization_gap",
                    "fraction",
                    "The keeper shifts when the most and least used markets' reserve usage differ by more than this.",
                ),
                Default::Value(0.10),
                Range::NON_NEG,
            );
            let frac = r.f64(
                t,
                spec(
                    "shift_fraction",
                    "fraction",
                    "Share of the source market's value moved by one shift.",
                ),
                Default::Value(0.05),
                Range::UNIT_POS,
            );
            r.finish(t);
            Some(GlvParams {
                shift_min_interval_s: interval?,
                shift_max_loss_factor: loss?,
                shift_utilization_gap: gap?,
                shift_fraction: frac?,
            })
        };
        match t {
            Some(t) => Some(read(r, &t)),
            None => Some(Some(GlvParams {
                shift_min_interval_s: 1800,
                shift_max_loss_factor: 0.00025,
                shift_utilization_gap: 0.10,
                shift_fraction: 0.05,
            })),
        }
    } else {
        Some(None)
    };
    let mt = r.table(v, "markets", true)?;
    let mut markets = Vec::new();
    let mut ok = true;
    for (key, t) in r.named_tables(&mt, "<market>") {
        match read_market(r, &key, &t, assets) {
            Some(m) => markets.push(m),
            None => ok = false,
        }
    }
    r.finish(&mt);
    r.finish(v);
    let glv_params = glv_params?;
    if !ok {
        return None;
    }
    if markets.is_empty() {
        r.issue(&mt.path, "needs at least one market");
        return None;
    }
    let sum: f64 = markets.iter().map(|m| m.weight).sum();
    if (sum - 1.0).abs() > 1e-6 {
        r.issue(
            &mt.path,
            format!("market weights must sum to 1, sum is {}", (sum * 1e9).round() / 1e9),
        );
        ok = false;
    }
    for (i, m) in markets.iter().enumerate() {
        if markets[..i].iter().any(|o| o.index == m.index) {
            r.issue(
                &mt.key_path(&m.name),
                format!(
                    "another market of this venue already trades {}; use a separate venue",
                    assets[m.index].name
                ),
            );
            ok = false;
        }
        if glv_params.is_some() && (m.long_token != markets[0].long_token || m.short_token != markets[0].short_token) {
            r.issue(
                &mt.key_path(&m.name),
                "GLV markets must share the long and short tokens of the first market",
            );
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    let cap = match cap? {
        "deposits" => PnlCap::Deposits,
        "traders" => PnlCap::Traders,
        "none" => PnlCap::Uncapped,
        _ => PnlCap::Withdrawals,
    };
    Some(GmParams {
        name: name.to_string(),
        pool_usd: pool?,
        glv: glv_params,
        lp_price_cap: cap,
        fee_receivers: receivers?,
        referral: referral?,
        skip_borrowing_for_smaller_side: skip,
        claimable_delay_s: delay?,
        adl_ranking: match ranking? {
            "highest_roe" => AdlRanking::HighestRoe,
            "largest" => AdlRanking::Largest,
            _ => AdlRanking::MostProfitable,
        },
        markets,
    })
}

/// Reads `[lps]`.
pub(super) fn read_lps(r: &mut Reader, t: &Node) -> Option<LpFlowParams> {
    let dep_rate = r.f64(
        t,
        spec("deposits_per_hour", "1/hour", "LP deposits per hour (Poisson)."),
        Default::Value(0.0),
        Range::NON_NEG,
    );
    let wd_rate = r.f64(
        t,
        spec("withdrawals_per_hour", "1/hour", "LP withdrawals per hour (Poisson)."),
        Default::Value(0.0),
        Range::NON_NEG,
    );
    let fixed = |v| crate::trader::Dist {
        kind: crate::trader::DistKind::Fixed { value: v },
        min: 0.0,
        max: f64::INFINITY,
    };
    let dep = if t.has("deposit_usd") {
        read_dist(r, t, "deposit_usd", DistUnit::Number, 0.0)
    } else {
        Some(fixed(0.0))
    };
    let wd = if t.has("withdraw_usd") {
        read_dist(r, t, "withdraw_usd", DistUnit::Number, 0.0)
    } else {
        Some(fixed(0.0))
    };
    let mix = r.choice(
        t,
        spec("deposit_mix", "text", "Tokens deposits bring: the pool's mix (`balanced`, no swap impact), `long`, `short`, or `random` (long or short, half each)."),
        &["balanced", "long", "short", "random"],
        Default::Value("random"),
    );
    let run = match r.table(t, "run", false) {
        Some(rt) => {
            let dd = r.f64(
                &rt,
                spec(
                    "drawdown",
                    "fraction",
                    "LP price drawdown from its peak that starts the run.",
                ),
                Default::Required,
                Range::OPEN_UNIT,
            );
            let rate = r.f64(
                &rt,
                spec(
                    "rate_per_hour",
                    "fraction",
                    "Share of the LP supply withdrawn per hour while the run lasts.",
                ),
                Default::Value(0.05),
                Range::POS,
            );
            let max = r.f64(
                &rt,
                spec(
                    "max_fraction",
                    "fraction",
                    "The run ends once it has withdrawn this share of the supply it started from; below 1.",
                ),
                Default::Value(0.5),
                Range::OPEN_UNIT,
            );
            r.finish(&rt);
            Some(Some(RunRule {
                drawdown: dd?,
                rate_per_hour: rate?,
                max_fraction: max?,
            }))
        }
        None => Some(None),
    };
    let (dep_rate, wd_rate) = (dep_rate?, wd_rate?);
    if dep_rate > 0.0 && !t.has("deposit_usd") {
        r.issue(&t.key_path("deposit_usd"), "required when deposits_per_hour > 0");
        return None;
    }
    if wd_rate > 0.0 && !t.has("withdraw_usd") {
        r.issue(&t.key_path("withdraw_usd"), "required when withdrawals_per_hour > 0");
        return None;
    }
    Some(LpFlowParams {
        deposits_per_hour: dep_rate,
        deposit_usd: dep?,
        deposit_mix: match mix? {
            "balanced" => MixRule::Balanced,
            "long" => MixRule::LongToken,
            "short" => MixRule::ShortToken,
            _ => MixRule::Random,
        },
        withdrawals_per_hour: wd_rate,
        withdraw_usd: wd?,
        run: run?,
    })
}
