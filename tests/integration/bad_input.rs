//! Bad scenarios: every case exits 2, names the file, the key and the
//! reason, and creates no output.

use crate::common::{TempDir, perpsim, repo};

/// A small valid scenario; each case breaks one thing.
const VALID: &str = r#"
name = "bad"
horizon = "1h"
step = "1m"
[assets.SOL]
price = 100.0
process = { kind = "gbm", vol = 0.8 }
[assets.USDC]
stable = true
[traders]
arrival_rate_per_hour = 10.0
leverage = { dist = "fixed", value = 5.0 }
notional_usd = { dist = "fixed", value = 1000.0 }
holding = { dist = "fixed", value = "30m" }
[venues.jlp]
kind = "jlp"
aum_usd = 1e6
base_fee_bps = 6.0
max_leverage = 100.0
[venues.jlp.custodies.SOL]
weight = 0.5
[venues.jlp.custodies.USDC]
weight = 0.5
"#;

struct Case {
    name: &'static str,
    from: &'static str,
    to: &'static str,
    /// Substrings the error must contain (key path and reason).
    want: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "malformed TOML",
        from: "[assets.USDC]",
        to: "[assets.USDC",
        want: &["malformed TOML", "line"],
    },
    Case {
        name: "wrong type",
        from: "horizon = \"1h\"",
        to: "horizon = true",
        want: &["horizon: must be a duration", "a boolean"],
    },
    Case {
        name: "unknown key",
        from: "base_fee_bps = 6.0",
        to: "base_fee_bps = 6.0\nfee_bps = 3.0",
        want: &["venues.jlp.fee_bps: unknown key"],
    },
    Case {
        name: "negative fee",
        from: "base_fee_bps = 6.0",
        to: "base_fee_bps = -1.0",
        want: &["venues.jlp.base_fee_bps: must be ≥ 0, was -1"],
    },
    Case {
        name: "weights",
        from: "[venues.jlp.custodies.USDC]\nweight = 0.5",
        to: "[venues.jlp.custodies.USDC]\nweight = 0.4",
        want: &["venues.jlp.custodies: custody weights must sum to 1, sum is 0.9"],
    },
    Case {
        name: "leverage 0 (venue)",
        from: "max_leverage = 100.0",
        to: "max_leverage = 0",
        want: &["venues.jlp.max_leverage: must be ≥ 1, was 0"],
    },
    Case {
        name: "leverage 0 (traders)",
        from: "leverage = { dist = \"fixed\", value = 5.0 }",
        to: "leverage = { dist = \"fixed\", value = 0.0 }",
        want: &["traders.leverage.value: must be ≥ 1, was 0"],
    },
    Case {
        name: "nan",
        from: "aum_usd = 1e6",
        to: "aum_usd = nan",
        want: &["venues.jlp.aum_usd: must be a finite number, was NaN"],
    },
    Case {
        name: "inf",
        from: "price = 100.0",
        to: "price = inf",
        want: &["assets.SOL.price: must be a finite number, was inf"],
    },
    Case {
        name: "missing replay file",
        from: "process = { kind = \"gbm\", vol = 0.8 }",
        to: "process = { kind = \"replay\", file = \"nowhere.csv\" }",
        want: &["assets.SOL.process.file: cannot read", "nowhere.csv"],
    },
    Case {
        name: "bad replay row",
        from: "process = { kind = \"gbm\", vol = 0.8 }",
        to: "process = { kind = \"replay\", file = \"bad.csv\" }",
        want: &[
            "bad.csv: row 3 (line 4): column \"price\": not a number: \"12x\"",
            "assets.SOL.process.file",
        ],
    },
    Case {
        name: "crossed borrow curve",
        from: "base_fee_bps = 6.0",
        to: "base_fee_bps = 6.0\nborrow = { min_rate = 0.5, target_rate = 0.2, max_rate = 1.0 }",
        want: &["venues.jlp.borrow.target_rate: must lie between min_rate (0.5) and max_rate (1), was 0.2"],
    },
    Case {
        name: "step",
        from: "step = \"1m\"",
        to: "step = \"7m\"",
        want: &["step: must divide the horizon"],
    },
    Case {
        name: "unknown asset",
        from: "[venues.jlp.custodies.USDC]",
        to: "[venues.jlp.custodies.USDT]",
        want: &["venues.jlp.custodies.USDT: no asset named \"USDT\""],
    },
];

/// A valid GM/GLV scenario; each case breaks one thing.
const VALID_GM: &str = r#"
name = "bad_gm"
horizon = "1h"
step = "1m"
[assets.ETH]
price = 3000.0
process = { kind = "gbm", vol = 0.6 }
[assets.DOGE]
price = 0.3
process = { kind = "gbm", vol = 0.9 }
[assets.USDC]
stable = true
[venues.gm]
kind = "glv"
pool_usd = 1e6
[venues.gm.markets.ETH]
preset = "eth"
weight = 0.6
reserve_factor = 2.75
funding = { threshold_stable = 0.04, threshold_decrease = 0.0 }
impact = { negative_exponent = 2.0 }
[venues.gm.markets.DOGE]
preset = "doge"
long_token = "ETH"
weight = 0.4
pnl_caps = { adl = 0.55, after_adl = 0.5 }
"#;

const GM_CASES: &[Case] = &[
    Case {
        name: "crossed funding thresholds",
        from: "threshold_decrease = 0.0",
        to: "threshold_decrease = 0.05",
        want: &[
            "venues.gm.markets.ETH.funding.threshold_decrease: must not exceed threshold_stable (0.04): the thresholds are crossed, was 0.05",
        ],
    },
    Case {
        name: "crossed ADL thresholds",
        from: "after_adl = 0.5",
        to: "after_adl = 0.6",
        want: &[
            "venues.gm.markets.DOGE.pnl_caps.after_adl: must be below pnl_caps.adl (0.55): the thresholds are crossed, was 0.6",
        ],
    },
    Case {
        name: "exponent below 1",
        from: "negative_exponent = 2.0",
        to: "negative_exponent = 0.5",
        want: &["venues.gm.markets.ETH.impact.negative_exponent: exponents must be at least 1, was 0.5"],
    },
    Case {
        name: "reserve factor 0",
        from: "reserve_factor = 2.75",
        to: "reserve_factor = 0.0",
        want: &["venues.gm.markets.ETH.reserve_factor: must be > 0, was 0"],
    },
    Case {
        name: "negative reserve factor",
        from: "reserve_factor = 2.75",
        to: "reserve_factor = -1.0",
        want: &["venues.gm.markets.ETH.reserve_factor: must be > 0, was -1"],
    },
    Case {
        name: "weights that do not add up",
        from: "weight = 0.4",
        to: "weight = 0.3",
        want: &["venues.gm.markets: market weights must sum to 1, sum is 0.9"],
    },
    Case {
        name: "GLV markets on different tokens",
        from: "long_token = \"ETH\"",
        to: "long_token = \"DOGE\"",
        want: &["venues.gm.markets.DOGE: GLV markets must share the long and short tokens of the first market"],
    },
    Case {
        name: "unknown preset",
        from: "preset = \"doge\"",
        to: "preset = \"shib\"",
        want: &["venues.gm.markets.DOGE.preset: must be one of base, synthetic"],
    },
    Case {
        name: "unknown market key",
        from: "weight = 0.6",
        to: "weight = 0.6\nmax_oi_usd = 1e6",
        want: &["venues.gm.markets.ETH.max_oi_usd: unknown key"],
    },
];

/// A valid order-book scenario; each case breaks one thing.
const VALID_BOOK: &str = r#"
name = "bad_book"
horizon = "1h"
step = "1m"
[assets.BTC]
price = 100000.0
process = { kind = "gbm", vol = 0.6 }
[assets.USDC]
stable = true
[venues.hl]
kind = "hlp"
vault_usd = 1e8
outages = [["10m", "5m"]]
[venues.hl.vault]
stale_share = 0.25
[venues.hl.markets.BTC]
tiers = [[0.0, 40.0], [1.5e8, 20.0]]
depth = { touch_usd_per_bps = 1e5, max_bps = 500.0 }
depth_multiplier = [["0m", 1.0], ["30m", 0.1]]
bid_multiplier = [["20m", 0.0]]
"#;

const BOOK_CASES: &[Case] = &[
    Case {
        name: "leverage rising with the tier",
        from: "[1.5e8, 20.0]",
        to: "[1.5e8, 50.0]",
        want: &["venues.hl.markets.BTC.tiers: tiers must have increasing bounds and non-increasing leverage"],
    },
    Case {
        name: "first tier above 0",
        from: "[[0.0, 40.0]",
        to: "[[1.0, 40.0]",
        want: &["venues.hl.markets.BTC.tiers: the first tier must start at 0"],
    },
    Case {
        name: "last level inside the spread",
        from: "max_bps = 500.0",
        to: "max_bps = 500.0, half_spread_bps = 600.0",
        want: &["venues.hl.markets.BTC.depth.max_bps: must lie above half_spread_bps (600) and below 10,000, was 500"],
    },
    Case {
        name: "negative depth multiplier",
        from: r#"["30m", 0.1]"#,
        to: r#"["30m", -0.1]"#,
        want: &["venues.hl.markets.BTC.depth_multiplier[1]: the multiplier must be a number ≥ 0"],
    },
    Case {
        name: "multiplier times out of order",
        from: r#"["30m", 0.1]"#,
        to: r#"["0m", 0.1]"#,
        want: &["venues.hl.markets.BTC.depth_multiplier[1]: times must increase"],
    },
    Case {
        name: "bid multiplier without a value",
        from: r#"bid_multiplier = [["20m", 0.0]]"#,
        to: r#"bid_multiplier = [["20m"]]"#,
        want: &["venues.hl.markets.BTC.bid_multiplier[0]: must be a pair [time, multiplier]"],
    },
    Case {
        name: "empty outage",
        from: r#"outages = [["10m", "5m"]]"#,
        to: r#"outages = [["10m", "0m"]]"#,
        want: &["venues.hl.outages[0]: must be [start, length] durations with a length above 0"],
    },
    Case {
        name: "overlapping outages",
        from: r#"outages = [["10m", "5m"]]"#,
        to: r#"outages = [["10m", "5m"], ["12m", "5m"]]"#,
        want: &["venues.hl.outages[1]: outages must be in time order and not overlap"],
    },
    Case {
        name: "stale share above 1",
        from: "stale_share = 0.25",
        to: "stale_share = 1.5",
        want: &["venues.hl.vault.stale_share: must be in [0, 1], was 1.5"],
    },
    Case {
        name: "unknown vault key",
        from: "stale_share = 0.25",
        to: "stale_share = 0.25\nbackstop_cap = 1.0",
        want: &["venues.hl.vault.backstop_cap: unknown key"],
    },
    Case {
        name: "LLP fractions on an HLP venue",
        from: "depth_multiplier =",
        to: "close_out_fraction = 0.03\ndepth_multiplier =",
        want: &[r#"venues.hl.markets.BTC.close_out_fraction: only for kind = "llp""#],
    },
    Case {
        name: "close-out above maintenance",
        from: "kind = \"hlp\"\nvault_usd = 1e8\noutages = [[\"10m\", \"5m\"]]\n[venues.hl.vault]\nstale_share = 0.25\n[venues.hl.markets.BTC]\n",
        to: "kind = \"llp\"\nvault_usd = 1e8\n[venues.hl.markets.BTC]\nmaintenance_fraction = 0.02\nclose_out_fraction = 0.03\n",
        want: &["venues.hl.markets.BTC.close_out_fraction: must be below maintenance_fraction (0.02), was 0.03"],
    },
    Case {
        name: "no depth",
        from: "depth = { touch_usd_per_bps = 1e5, max_bps = 500.0 }\n",
        to: "",
        want: &["venues.hl.markets.BTC.depth: required table is missing"],
    },
    Case {
        name: "negative vault",
        from: "vault_usd = 1e8",
        to: "vault_usd = -1.0",
        want: &["venues.hl.vault_usd: must be > 0, was -1"],
    },
    Case {
        name: "market on an unknown asset",
        from: "[venues.hl.markets.BTC]",
        to: "[venues.hl.markets.ETH]",
        want: &["venues.hl.markets.ETH: no asset named \"ETH\""],
    },
    Case {
        name: "no cascade round",
        from: "vault_usd = 1e8",
        to: "vault_usd = 1e8\nmax_cascade_rounds = 0",
        want: &["venues.hl.max_cascade_rounds: must be an integer ≥ 1, was 0"],
    },
];

/// Writes each case's scenario, runs `run` and `validate`, and checks exit
/// code 2, the file, the key and the reason, and that no output was made.
fn check_cases(valid: &str, cases: &[Case], tag: &str) {
    let dir = TempDir::new(tag);
    dir.write("bad.csv", "time,price\n0,10\n60,11\n120,12x\n180,13\n");
    for (i, case) in cases.iter().enumerate() {
        assert_eq!(
            valid.matches(case.from).count(),
            1,
            "{}: base text must contain {:?} once",
            case.name,
            case.from
        );
        let file = dir.write(&format!("case{i}.toml"), &valid.replace(case.from, case.to));
        let out = dir.path().join(format!("out{i}"));
        for cmd in ["run", "validate"] {
            let mut args = vec![cmd, file.to_str().unwrap()];
            if cmd == "run" {
                args.extend(["--out", out.to_str().unwrap(), "--quiet"]);
            }
            let o = perpsim(&args, &repo());
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{} ({cmd}): {stderr}", case.name);
            assert!(
                stderr.contains(&format!("case{i}.toml")) || case.want[0].contains(".csv"),
                "{}: no file name in {stderr}",
                case.name
            );
            for w in case.want {
                assert!(
                    stderr.contains(w),
                    "{} ({cmd}): expected {w:?} in:\n{stderr}",
                    case.name
                );
            }
            assert!(!stderr.contains("panicked"), "{}: {stderr}", case.name);
        }
        assert!(!out.exists(), "{}: output folder was created", case.name);
    }
}

#[test]
fn each_bad_scenario_exits_2_naming_file_key_and_reason_and_writes_nothing() {
    check_cases(VALID, CASES, "bad-input");
}

#[test]
fn each_bad_gm_scenario_exits_2_naming_file_key_and_reason() {
    let dir = TempDir::new("valid-gm");
    let ok = dir.write("ok.toml", VALID_GM);
    let o = perpsim(&["validate", ok.to_str().unwrap()], &repo());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    check_cases(VALID_GM, GM_CASES, "bad-gm");
}

#[test]
fn each_bad_book_scenario_exits_2_naming_file_key_and_reason() {
    let dir = TempDir::new("valid-book");
    for (name, text) in [
        ("hlp.toml", VALID_BOOK.to_string()),
        ("llp.toml", VALID_BOOK.replace(r#"kind = "hlp""#, r#"kind = "llp""#)),
    ] {
        let ok = dir.write(name, &text);
        let o = perpsim(&["validate", ok.to_str().unwrap()], &repo());
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
    }
    check_cases(VALID_BOOK, BOOK_CASES, "bad-book");
}

#[test]
fn every_problem_is_reported_at_once() {
    let dir = TempDir::new("all-at-once");
    let text = VALID
        .replace("base_fee_bps = 6.0", "base_fee_bps = -1.0\nfee_bps = 3.0")
        .replace("aum_usd = 1e6", "aum_usd = nan")
        .replace("vol = 0.8", "vol = -0.8");
    let file = dir.write("many.toml", &text);
    let o = perpsim(&["validate", file.to_str().unwrap()], &repo());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    for key in [
        "venues.jlp.base_fee_bps",
        "venues.jlp.fee_bps",
        "venues.jlp.aum_usd",
        "assets.SOL.process.vol",
    ] {
        assert!(
            stderr.contains(&format!("many.toml: {key}:")),
            "missing {key} in:\n{stderr}"
        );
    }
    assert!(stderr.contains("(4 problems)"), "{stderr}");
}

#[test]
fn problems_inherited_through_extends_name_the_file_that_wrote_them() {
    let dir = TempDir::new("extends-blame");
    dir.write(
        "parent.toml",
        &VALID.replace("base_fee_bps = 6.0", "base_fee_bps = -2.0"),
    );
    let child = dir.write(
        "child.toml",
        "extends = \"parent.toml\"\nname = \"child\"\n[venues.jlp]\nmax_leverage = 0.5\n",
    );
    let o = perpsim(&["validate", child.to_str().unwrap()], &repo());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr.contains("parent.toml: venues.jlp.base_fee_bps"), "{stderr}");
    assert!(stderr.contains("child.toml: venues.jlp.max_leverage"), "{stderr}");
}

#[test]
fn extends_cycles_and_missing_presets_are_errors() {
    let dir = TempDir::new("extends-cycle");
    let a = dir.write("a.toml", "extends = \"b.toml\"\n");
    dir.write("b.toml", "extends = \"a.toml\"\n");
    let o = perpsim(&["validate", a.to_str().unwrap()], &repo());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("extends forms a cycle"));
    let p = dir.write("p.toml", "extends = \"preset:nope\"\n");
    let o = perpsim(&["validate", p.to_str().unwrap()], &repo());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(
            "no preset named \"nope\" (presets: jlp_baseline, jlp_crash, glv_baseline, gm_synthetic_squeeze, hlp_baseline, llp_baseline, hlp_crash, llp_crash)"
        )
    );
}

#[test]
fn reported_figures_name_a_venue_a_known_metric_and_a_finite_value() {
    let dir = TempDir::new("reported");
    let text = format!(
        "{VALID}\n[[reported]]\nvenue = \"nowhere\"\nmetric = \"lp_gain\"\nstatistic = \"p42\"\nvalue = nan\nsource = \"x\"\n"
    );
    let file = dir.write("rep.toml", &text);
    let o = perpsim(&["validate", file.to_str().unwrap()], &repo());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    for want in [
        "rep.toml: reported[0].venue: no venue named \"nowhere\"",
        "rep.toml: reported[0].metric",
        "rep.toml: reported[0].statistic",
        "rep.toml: reported[0].value",
    ] {
        assert!(stderr.contains(want), "expected {want:?} in\n{stderr}");
    }
    assert!(stderr.contains("(4 problems)"), "{stderr}");
}
