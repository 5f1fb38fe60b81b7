//! Reading order-book venues (`kind = "hlp"` or `"llp"`).
//!
//! The two styles share every key; their defaults differ where the venues
//! do (fees, liquidation rule, margin). Checks: tiers start at $0 with
//! falling leverage, Lighter's close-out fraction is below its maintenance
//! fraction, depth levels lie within 100 %, outage windows do not overlap.

use super::reader::{Default, Node, Range, Reader, duration_value, spec, type_name};
use crate::market::AssetSpec;
use crate::venue::orderbook::formulas::{FundingRule, Tier};
use crate::venue::orderbook::{
    BookMarketParams, BookParams, DepthProfile, LiquidationRule, Margin, MarkParams, VaultParams,
};
use toml::Value;

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Float(x) if x.is_finite() => Some(*x),
        Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

/// `tiers = [[lower bound USD, max leverage], ...]`.
fn read_tiers(r: &mut Reader, t: &Node, default: &[Tier]) -> Option<Vec<Tier>> {
    let Some(list) = r.array(
        t,
        spec(
            "tiers",
            "[USD, x]",
            "Margin tiers `[notional lower bound, max leverage]`, from $0 up with falling leverage; maintenance is half the initial margin at max leverage, with Hyperliquid's deduction.",
        )
        .default_text("[[0, 20]]"),
        "array of [number, number]",
        false,
    ) else {
        return Some(default.to_vec());
    };
    let path = t.key_path("tiers");
    let mut out = Vec::new();
    let mut ok = true;
    for (i, v) in list.iter().enumerate() {
        let loc = format!("{path}[{i}]");
        match v {
            Value::Array(a) if a.len() == 2 => match (num(&a[0]), num(&a[1])) {
                (Some(lb), Some(lev)) if lb >= 0.0 && lev >= 1.0 => out.push(Tier {
                    lower_bound_usd: lb,
                    max_leverage: lev,
                }),
                _ => {
                    r.issue(&loc, "must be [lower bound ≥ 0, max leverage ≥ 1]");
                    ok = false;
                }
            },
            other => {
                r.issue(
                    &loc,
                    format!("must be a pair [lower bound, max leverage], was {}", type_name(other)),
                );
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    if out.first().is_none_or(|t| t.lower_bound_usd != 0.0) {
        r.issue(&path, "the first tier must start at 0");
        return None;
    }
    for w in out.windows(2) {
        if w[1].lower_bound_usd <= w[0].lower_bound_usd || w[1].max_leverage > w[0].max_leverage {
            r.issue(&path, "tiers must have increasing bounds and non-increasing leverage");
            return None;
        }
    }
    Some(out)
}

/// `[[duration, number], ...]` knots of a depth multiplier under `key`.
fn read_multiplier(r: &mut Reader, t: &Node, key: &'static str, doc: &'static str) -> Option<Vec<(f64, f64)>> {
    let Some(list) = r.array(t, spec(key, "[duration, x]", doc), "array of [duration, number]", false) else {
        return Some(Vec::new());
    };
    let path = t.key_path(key);
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (i, v) in list.iter().enumerate() {
        let loc = format!("{path}[{i}]");
        let pair = match v {
            Value::Array(a) if a.len() == 2 => match (duration_value(&a[0]), num(&a[1])) {
                (Ok(t), Some(x)) if x >= 0.0 => Ok((t as f64, x)),
                (Ok(_), _) => Err("the multiplier must be a number ≥ 0".to_string()),
                (Err(e), _) => Err(format!("time {e}")),
            },
            _ => Err("must be a pair [time, multiplier]".to_string()),
        };
        match pair {
            Ok((t, x)) => {
                if out.last().is_some_and(|&(p, _)| t <= p) {
                    r.issue(&loc, "times must increase");
                    return None;
                }
                out.push((t, x));
            }
            Err(e) => {
                r.issue(&loc, e);
                return None;
            }
        }
    }
    Some(out)
}

fn read_market(r: &mut Reader, key: &str, t: &Node, assets: &[AssetSpec], llp: bool) -> Option<BookMarketParams> {
    let asset = assets.iter().position(|a| a.name == key);
    if asset.is_none() {
        r.issue(&t.path, format!("no asset named {key:?}"));
    }
    let default_tier = [Tier {
        lower_bound_usd: 0.0,
        max_leverage: 20.0,
    }];
    let tiers = read_tiers(r, t, &default_tier);
    let mmf = r.f64(
        t,
        spec(
            "maintenance_fraction",
            "fraction",
            "Lighter's maintenance fraction M: MMR = notional · M (llp; hlp uses the tiers).",
        ),
        if llp { Default::Value(0.03) } else { Default::None },
        Range::OPEN_UNIT,
    );
    let cof = r.f64(
        t,
        spec(
            "close_out_fraction",
            "fraction",
            "Lighter's close-out fraction C < M: below it the vault takes the account over (llp).",
        ),
        if llp { Default::Value(0.02) } else { Default::None },
        Range::OPEN_UNIT,
    );
    let oi_cap = r.f64(
        t,
        spec(
            "oi_cap_usd",
            "USD",
            "Largest long (and short) open interest of tracked traders; orders beyond it are refused (none: no cap).",
        ),
        Default::None,
        Range::POS,
    );
    let impact = r.f64(
        t,
        spec(
            "impact_notional_usd",
            "USD",
            "Impact notional of the funding premium (Hyperliquid: 20,000 for BTC and ETH, 6,000 others).",
        ),
        Default::Value(6000.0),
        Range::POS,
    );
    let noise = r.f64(t, spec("noise_flow_usd_per_hour", "USD/hour", "Uninformed taker flow the venue does not track (the rest of the market's volume), half buys and half sells in small orders that fill at the best price: the vault fills its share and collects its share of the fees."), Default::Value(0.0), Range::NON_NEG);
    let vault_depth = r.f64(
        t,
        spec(
            "vault_usd_per_bps",
            "USD/bps",
            "The vault's quotes at the touch on each side, USD per bps, shaped like the other makers' depth.",
        ),
        Default::Value(0.0),
        Range::NON_NEG,
    );
    let depth = match r.table(t, "depth", true) {
        Some(d) => {
            let touch = r.f64(
                &d,
                spec(
                    "touch_usd_per_bps",
                    "USD/bps",
                    "Other makers' resting depth at the touch, USD per bps of distance, each side.",
                ),
                Default::Required,
                Range::NON_NEG,
            );
            let decay = r.f64(
                &d,
                spec("decay_bps", "bps", "E-folding distance of the depth (0: flat)."),
                Default::Value(0.0),
                Range::NON_NEG,
            );
            let max = r.f64(
                &d,
                spec(
                    "max_bps",
                    "bps",
                    "Distance of the last resting level; beyond it the side is empty (< 10,000).",
                ),
                Default::Value(1000.0),
                Range::POS,
            );
            let half = r.f64(
                &d,
                spec("half_spread_bps", "bps", "Half the bid-ask spread."),
                Default::Value(1.0),
                Range::NON_NEG,
            );
            r.finish(&d);
            let (touch, decay, max, half) = (touch?, decay?, max?, half?);
            if max >= 10_000.0 || max <= half {
                r.issue(
                    &d.key_path("max_bps"),
                    format!("must lie above half_spread_bps ({half}) and below 10,000, was {max}"),
                );
                None
            } else {
                Some(DepthProfile {
                    touch_usd_per_bps: touch,
                    decay_bps: decay,
                    max_bps: max,
                    half_spread_bps: half,
                })
            }
        }
        None => None,
    };
    let mult = read_multiplier(
        r,
        t,
        "depth_multiplier",
        "Other makers' depth over time, both sides: `[time from start, multiplier]`, times increasing, linear between, held after the last (none: 1). 0.1 is the Oct 10 thinning.",
    );
    let bid_mult = read_multiplier(
        r,
        t,
        "bid_multiplier",
        "Other makers' bids over time, on top of depth_multiplier (same form; 0 empties the side, as when bids vanish in a crash).",
    );
    let ask_mult = read_multiplier(
        r,
        t,
        "ask_multiplier",
        "Other makers' asks over time, on top of depth_multiplier (same form).",
    );
    r.finish(t);
    if !llp {
        for (key, x) in [("maintenance_fraction", mmf), ("close_out_fraction", cof)] {
            if x.is_some() {
                r.issue(
                    &t.key_path(key),
                    "only for kind = \"llp\" (hlp takes maintenance from the tiers)",
                );
            }
        }
    }
    if let (Some(m), Some(c)) = (mmf, cof)
        && c >= m
    {
        r.issue(
            &t.key_path("close_out_fraction"),
            format!("must be below maintenance_fraction ({m}), was {c}"),
        );
        return None;
    }
    Some(BookMarketParams {
        asset: asset?,
        margin: Margin {
            tiers: tiers?,
            maintenance_fraction: mmf,
            close_out_fraction: cof,
        },
        depth: depth?,
        depth_multiplier: mult?,
        side_multiplier: [bid_mult?, ask_mult?],
        vault_usd_per_bps: vault_depth?,
        oi_cap_usd: oi_cap.unwrap_or(f64::INFINITY),
        impact_notional_usd: impact?,
        noise_flow_usd_per_hour: noise?,
    })
}

/// Reads an `hlp` or `llp` venue.
pub(super) fn read_book(r: &mut Reader, v: &Node, name: &str, assets: &[AssetSpec], llp: bool) -> Option<BookParams> {
    let vault_usd = r.f64(
        v,
        spec(
            "vault_usd",
            "USD",
            "The vault's capital at t = 0; its LP token starts at $1.",
        ),
        Default::Required,
        Range::POS,
    );
    let first_stable = assets.iter().find(|a| a.stable).map(|a| a.name.clone());
    let settle = r.string(
        v,
        spec(
            "settlement",
            "asset",
            "Stablecoin margins, PnL and the vault settle in.",
        )
        .default_text("the first stable asset"),
        match first_stable.as_deref() {
            Some(s) => Default::Value(s),
            None => Default::Required,
        },
    );
    let taker = r.f64(
        v,
        spec(
            "taker_fee_bps",
            "bps",
            "Taker fee (Hyperliquid tier 0: 4.5; Lighter retail: 0).",
        )
        .default_text("4.5 (hlp), 0 (llp)"),
        Default::Value(if llp { 0.0 } else { 4.5 }),
        Range::NON_NEG,
    );
    let share = r.f64(
        v,
        spec(
            "vault_fee_share",
            "fraction",
            "Share of taker fees paid to the vault (Hyperliquid: about 7 %, a community estimate).",
        )
        .default_text("0.07 (hlp), 0 (llp)"),
        Default::Value(if llp { 0.0 } else { 0.07 }),
        Range::UNIT,
    );
    let arb = r.f64(
        v,
        spec(
            "arbitrage_per_hour",
            "1/hour",
            "Rate at which arbitrageurs pull the book mid to the oracle (360: half the gap closes in about 7 s).",
        ),
        Default::Value(360.0),
        Range::NON_NEG,
    );
    let rounds = r.u64(
        v,
        spec(
            "max_cascade_rounds",
            "count",
            "Most liquidation rounds in one step: the bound on the cascade loop.",
        ),
        Default::Value(64),
        1,
    );
    let outages = match r.array(
        v,
        spec("outages", "[duration, duration]", "Windows `[start, length]` in which nothing executes at the venue while prices move on (Lighter, Oct 10: about 4.5 h)."),
        "array of [duration, duration]",
        false,
    ) {
        None => Some(Vec::new()),
        Some(list) => {
            let path = v.key_path("outages");
            let mut out: Vec<(u64, u64)> = Vec::new();
            let mut ok = true;
            for (i, w) in list.iter().enumerate() {
                match w {
                    Value::Array(a) if a.len() == 2 => match (duration_value(&a[0]), duration_value(&a[1])) {
                        (Ok(s), Ok(len)) if len > 0 => {
                            if out.last().is_some_and(|&(_, e)| s < e) {
                                r.issue(&format!("{path}[{i}]"), "outages must be in time order and not overlap");
                                ok = false;
                            }
                            out.push((s, s + len));
                        }
                        _ => {
                            r.issue(&format!("{path}[{i}]"), "must be [start, length] durations with a length above 0");
                            ok = false;
                        }
                    },
                    _ => {
                        r.issue(&format!("{path}[{i}]"), "must be a pair [start, length]");
                        ok = false;
                    }
                }
            }
            ok.then_some(out)
        }
    };
    let liquidation = {
        let t = r.table(v, "liquidation", false);
        let read = |r: &mut Reader, t: &Node| -> Option<LiquidationRule> {
            let rule = if llp {
                let fee = r.f64(
                    t,
                    spec(
                        "fee_cap",
                        "fraction",
                        "llp: largest liquidation fee on fills better than the zero price, to the vault (1 %).",
                    ),
                    Default::Value(0.01),
                    Range::UNIT,
                );
                Some(LiquidationRule::Llp { fee_cap: fee? })
            } else {
                let above = r.f64(
                    t,
                    spec(
                        "slice_above_usd",
                        "USD",
                        "hlp: positions above this notional are liquidated in a first slice, then the rest ($100k).",
                    ),
                    Default::Value(100_000.0),
                    Range::NON_NEG,
                );
                let slice = r.f64(
                    t,
                    spec(
                        "first_slice",
                        "fraction",
                        "hlp: share of the size in the first slice (20 %).",
                    ),
                    Default::Value(0.2),
                    Range::UNIT_POS,
                );
                let cool = r.duration(
                    t,
                    spec(
                        "cooldown",
                        "duration",
                        "hlp: wait before the rest of a sliced liquidation (30 s).",
                    ),
                    Default::Value("30s"),
                );
                let bf = r.f64(
                    t,
                    spec(
                        "backstop_fraction",
                        "fraction",
                        "hlp: the vault takes over when equity falls below this share of maintenance (2/3).",
                    ),
                    Default::Value(2.0 / 3.0),
                    Range::UNIT,
                );
                Some(LiquidationRule::Hlp {
                    slice_above_usd: above?,
                    first_slice: slice?,
                    cooldown_s: cool?,
                    backstop_fraction: bf?,
                })
            };
            r.finish(t);
            rule
        };
        match t {
            Some(t) => read(r, &t),
            None => Some(if llp {
                LiquidationRule::Llp { fee_cap: 0.01 }
            } else {
                LiquidationRule::Hlp {
                    slice_above_usd: 100_000.0,
                    first_slice: 0.2,
                    cooldown_s: 30,
                    backstop_fraction: 2.0 / 3.0,
                }
            }),
        }
    };
    let mark = match r.table(v, "mark", false) {
        Some(t) => {
            let basis = r.duration(&t, spec("basis_ema", "duration", "Time constant of the EMA of (book mid − oracle) in the first mark input (150 s; 0: the current basis, so the input is the book mid)."), Default::Value("150s"));
            let ext = r.bool(&t, spec("external_reference", "boolean", "Use the exogenous price as the external perp reference (the third input); otherwise an EMA of the book."), true);
            let book = r.duration(
                &t,
                spec(
                    "book_ema",
                    "duration",
                    "Time constant of that book EMA (30 s; 0: the current book price).",
                ),
                Default::Value("30s"),
            );
            let lag = r.duration(
                &t,
                spec(
                    "oracle_lag",
                    "duration",
                    "Oracle delay behind the exogenous price (rounded down to whole steps).",
                ),
                Default::Value("0s"),
            );
            r.finish(&t);
            Some(MarkParams {
                basis_ema_s: basis? as f64,
                external_reference: ext,
                book_ema_s: book? as f64,
                oracle_lag_s: lag?,
            })
        }
        None => Some(MarkParams {
            basis_ema_s: 150.0,
            external_reference: true,
            book_ema_s: 30.0,
            oracle_lag_s: 0,
        }),
    };
    let funding = match r.table(v, "funding", false) {
        Some(t) => {
            let h = FundingRule::HYPERLIQUID;
            let i = r.f64(
                &t,
                spec(
                    "interest_8h",
                    "fraction",
                    "Interest component per 8 hours (0.0001 = 0.01 %).",
                ),
                Default::Value(h.interest_8h),
                Range::ANY,
            );
            let c = r.f64(
                &t,
                spec(
                    "clamp_8h",
                    "fraction",
                    "Clamp on interest − premium per 8 hours (0.0005).",
                ),
                Default::Value(h.clamp_8h),
                Range::NON_NEG,
            );
            let cap = r.f64(
                &t,
                spec("cap_hourly", "fraction", "Cap on the hourly rate (0.04)."),
                Default::Value(h.cap_hourly),
                Range::NON_NEG,
            );
            r.finish(&t);
            Some(FundingRule {
                interest_8h: i?,
                clamp_8h: c?,
                cap_hourly: cap?,
            })
        }
        None => Some(FundingRule::HYPERLIQUID),
    };
    let vault = {
        let t = r.table(v, "vault", false);
        let read = |r: &mut Reader, t: Option<&Node>| -> Option<VaultParams> {
            let Some(t) = t else {
                return Some(VaultParams {
                    skew: 0.5,
                    inventory_limit_usd: f64::INFINITY,
                    loss_limit_usd: f64::INFINITY,
                    pull_s: 3600,
                    unwind_per_hour: 0.1,
                    stale_share: 0.25,
                    backstop_loss_cap_usd: f64::INFINITY,
                });
            };
            let skew = r.f64(
                t,
                spec(
                    "skew",
                    "fraction",
                    "Quotes per side scale by 1 ± skew · inventory / limit.",
                ),
                Default::Value(0.5),
                Range::NON_NEG,
            );
            let inv = r.f64(t, spec("inventory_limit_usd", "USD", "Market-making inventory limit per market; beyond it the side that adds is pulled (none: no limit)."), Default::None, Range::POS);
            let loss = r.f64(
                t,
                spec(
                    "loss_limit_usd",
                    "USD",
                    "Market-making loss that makes the vault pull all quotes (none: no limit).",
                ),
                Default::None,
                Range::POS,
            );
            let pull = r.duration(
                t,
                spec("pull", "duration", "How long quotes stay pulled after the loss limit."),
                Default::Value("1h"),
            );
            let unwind = r.f64(
                t,
                spec(
                    "unwind_per_hour",
                    "fraction",
                    "Share of inherited inventory the liquidator sells into the book per hour.",
                ),
                Default::Value(0.1),
                Range::NON_NEG,
            );
            let stale = r.f64(t, spec("stale_share", "fraction", "Share of the vault's quotes still resting when arbitrageurs move the book to a new oracle price: the adverse selection it suffers (0: it always reprices first)."), Default::Value(0.25), Range::UNIT);
            let cap = r.f64(t, spec("backstop_loss_cap_usd", "USD", "Liquidator loss beyond which it stops taking positions and ADL closes its inventory (none: no cap)."), Default::None, Range::POS);
            r.finish(t);
            Some(VaultParams {
                skew: skew?,
                inventory_limit_usd: inv.unwrap_or(f64::INFINITY),
                loss_limit_usd: loss.unwrap_or(f64::INFINITY),
                pull_s: pull?,
                unwind_per_hour: unwind?,
                stale_share: stale?,
                backstop_loss_cap_usd: cap.unwrap_or(f64::INFINITY),
            })
        };
        read(r, t.as_ref())
    };
    let mt = r.table(v, "markets", true)?;
    let mut markets = Vec::new();
    let mut ok = true;
    for (key, t) in r.named_tables(&mt, "<market>") {
        match read_market(r, &key, &t, assets, llp) {
            Some(m) => markets.push(m),
            None => ok = false,
        }
    }
    r.finish(&mt);
    r.finish(v);
    if markets.is_empty() && ok {
        r.issue(&mt.path, "needs at least one market");
        return None;
    }
    let settlement = match settle {
        Some(s) => match assets.iter().position(|a| a.name == s) {
            Some(i) if assets[i].stable => Some(i),
            Some(_) => {
                r.issue(&v.key_path("settlement"), format!("{s:?} is not a stable asset"));
                None
            }
            None => {
                r.issue(&v.key_path("settlement"), format!("no asset named {s:?}"));
                None
            }
        },
        None => None,
    };
    if !ok {
        return None;
    }
    Some(BookParams {
        name: name.to_string(),
        style: if llp { "llp" } else { "hlp" },
        vault_usd: vault_usd?,
        settlement: settlement?,
        taker_fee_bps: taker?,
        vault_fee_share: share?,
        liquidation: liquidation?,
        funding: funding?,
        mark: mark?,
        arbitrage_per_hour: arb?,
        max_cascade_rounds: rounds? as u32,
        outages: outages?,
        vault: vault?,
        markets,
    })
}
