//! The scenario key reference, generated from the documentation the reader
//! records while reading (so it cannot drift from the code).

use super::reader::KeyDoc;

/// Introduction of each top-level section, in reference order.
const SECTIONS: &[(&str, &str, &str)] = &[
    (
        "",
        "Top level",
        "A scenario names itself, sets the horizon and the time step, and may start from another file or a preset.",
    ),
    (
        "run",
        "`[run]`",
        "Defaults of `perpsim run`; `--paths` and `--seed` override them.",
    ),
    (
        "assets",
        "`[assets.<asset>]`",
        "One table per asset, named by its ticker; the order of the tables is the asset order in outputs. Every asset has a price process: `fixed` (stablecoins by default), `gbm`, `merton` (jump diffusion), `waypoints` (time offsets and percent changes) or `replay` (a CSV file). `waypoints` and `replay` are knot paths: log-linear between knots, plus optional Brownian-bridge noise pinned at every knot.",
    ),
    (
        "correlation",
        "`[correlation]`",
        "Correlates the diffusion drivers (GBM and Merton diffusion, knot-path noise) of the listed assets; assets not listed move independently.",
    ),
    (
        "traders",
        "`[traders]`",
        "A population of traders arriving at random (Poisson) and trading every venue with the same random draws. `leverage`, `notional_usd` and `holding` are distribution tables sharing the keys below (`traders.<distribution>`): leverage in x, notional in USD, holding as a duration.",
    ),
    (
        "lps",
        "`[lps]`",
        "LP flows: deposits and withdrawals arriving at random (Poisson), the same draws for every venue, and a run rule: while the LP token price is more than `run.drawdown` below its peak (the price recorded at the previous step), LPs withdraw `run.rate_per_hour` of the supply an hour until `run.max_fraction` of it has left. `deposit_usd` and `withdraw_usd` are distribution tables (USD). GM and GLV venues take LP flows; the JLP venue refuses them.",
    ),
    (
        "scripted",
        "`[scripted.<account>]`",
        "Accounts that submit timed orders, for exact tests and adversaries. An order that a venue refuses is counted as rejected, like any other.",
    ),
    (
        "venues",
        "`[venues.<venue>]`",
        "One table per venue, named freely; every venue runs on the same prices and the same trader draws. `kind = \"jlp\"` is a Jupiter-style multi-asset pool (MECHANISMS.md section 2): `borrow` and `impact` set defaults for every custody; a custody's own `borrow` and `impact` tables override them key by key. `kind = \"gm\"` is one or more GMX-style GM markets whose tokens the LPs hold, `kind = \"glv\"` the same markets wrapped in a GLV with keeper shifts (MECHANISMS.md section 1): each market (`markets.<market>`) starts from a published `preset` and every key set overrides it; market keys marked \"from the market's preset\" default to the preset's value. `kind = \"hlp\"` and `kind = \"llp\"` are order books whose vault is one market maker and the liquidation backstop, in the style of Hyperliquid's HLP and Lighter's LLP (MECHANISMS.md sections 3 and 4.1): the two share every key and differ in the defaults and the liquidation rule; each market (`markets.<market>`) sets its margin tiers, the other makers' depth and its thinning over time, and the vault's quotes.",
    ),
    (
        "reported[]",
        "`[[reported]]`",
        "Published figures of the event a scenario replays, one table each. `report.html` sets each beside the simulated value of the same statistic, with a 95 % interval where a standard error is estimated (means and probabilities). Values are in the metric's unit: fractions for returns (0.10 = +10 %).",
    ),
];

/// The reference as Markdown.
pub fn reference_markdown(docs: &[KeyDoc]) -> String {
    let mut out = String::from(
        "# Scenario reference\n\n\
         Generated from the scenario reader (`cargo test reference` checks it; \
         `PERPSIM_UPDATE_REFERENCE=1 cargo test reference` rewrites it).\n\n\
         - A scenario is a TOML file. Unknown keys are errors; every problem is reported at once with the file, \
         the key path and the reason.\n\
         - `extends = \"file.toml\"` (relative to the scenario) or `extends = \"preset:NAME\"` starts from another \
         scenario: tables merge key by key and other values replace, except that a table whose `kind` or `dist` \
         differs from the inherited one replaces it whole. Presets: `jlp_baseline`, `jlp_crash`, `glv_baseline`, `gm_synthetic_squeeze`, `hlp_baseline`, `llp_baseline`, `hlp_crash`, `llp_crash`.\n\
         - Durations are strings with a unit (`\"90s\"`, `\"15m\"`, `\"4h\"`, `\"30d\"`, `\"2w\"`; `m` is minutes) \
         or whole seconds. Rates are annual fractions (APR: 0.35 = 35 %/year); volatilities are annualized; fees \
         in `_bps` keys are basis points (1 bps = 0.01 %).\n\
         - `required` keys have no default; `none` means absent (no cap, no value); `inherited` takes the value \
         of the enclosing table.\n",
    );
    for (section, title, intro) in SECTIONS {
        let rows: Vec<&KeyDoc> = docs
            .iter()
            .filter(|d| match d.pattern.split_once('.') {
                Some((head, _)) => head == *section,
                None => section.is_empty() || d.pattern == *section,
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n## {title}\n\n{intro}\n\n| key | type | unit | default | meaning |\n|---|---|---|---|---|\n"
        ));
        for d in rows {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                d.pattern,
                d.kind,
                d.unit,
                d.default.replace('|', "\\|"),
                d.doc.replace('|', "\\|")
            ));
        }
    }
    out
}
