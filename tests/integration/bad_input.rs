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

#[test]
fn each_bad_scenario_exits_2_naming_file_key_and_reason_and_writes_nothing() {
    let dir = TempDir::new("bad-input");
    dir.write("bad.csv", "time,price\n0,10\n60,11\n120,12x\n180,13\n");
    for (i, case) in CASES.iter().enumerate() {
        assert_eq!(
            VALID.matches(case.from).count(),
            1,
            "{}: base text must contain {:?} once",
            case.name,
            case.from
        );
        let file = dir.write(&format!("case{i}.toml"), &VALID.replace(case.from, case.to));
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
    assert!(String::from_utf8_lossy(&o.stderr).contains("no preset named \"nope\" (presets: jlp_baseline, jlp_crash)"));
}
