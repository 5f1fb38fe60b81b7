//! The command line: `run`, `validate`, `bench`, help and exit codes.

use crate::common::{TempDir, perpsim, repo};
use std::fs;

#[test]
fn help_lists_commands_examples_and_exit_codes() {
    let o = perpsim(&["--help"], &repo());
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    for want in [
        "run",
        "validate",
        "bench",
        "sweep",
        "heatmap",
        "compare",
        "Examples:",
        "perpsim run scenarios/jlp_baseline.toml",
        "Exit codes: 0 success, 1",
    ] {
        assert!(text.contains(want), "missing {want:?} in help:\n{text}");
    }
    let o = perpsim(&["run", "--help"], &repo());
    assert_eq!(o.status.code(), Some(0));
    for flag in [
        "--paths",
        "--seed",
        "--threads",
        "--out",
        "--trace",
        "--quiet",
        "--no-plots",
    ] {
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(flag),
            "run --help lacks {flag}"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["run"],
        &["frobnicate"],
        &["run", "x.toml", "--paths", "0"],
        &["run", "x.toml", "--threads", "zero"],
    ] {
        let o = perpsim(args, &repo());
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = perpsim(&["validate", "no/such/file.toml"], &repo());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/file.toml: cannot read the file"));
}

#[test]
fn validate_prints_the_resolved_scenario() {
    let o = perpsim(&["validate", "scenarios/jlp_baseline.toml"], &repo());
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    for want in [
        "scenario jlp_baseline",
        "horizon 30d, step 1m (43200 steps)",
        "SOL",
        "weight 48.00%",
        "24 arrivals/hour",
    ] {
        assert!(text.contains(want), "missing {want:?}:\n{text}");
    }
    for preset in [
        "preset:jlp_baseline",
        "preset:jlp_crash",
        "scenarios/jlp_crash.toml",
        "scenarios/jlp_oct10_replay.toml",
    ] {
        let o = perpsim(&["validate", preset], &repo());
        assert_eq!(
            o.status.code(),
            Some(0),
            "{preset}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn run_writes_every_output_with_a_manifest() {
    let dir = TempDir::new("cli-run");
    let out = dir.path().join("out");
    let o = perpsim(
        &[
            "run",
            "tests/fixtures/small.toml",
            "--paths",
            "8",
            "--seed",
            "11",
            "--trace",
            "1",
            "--out",
            out.to_str().unwrap(),
        ],
        &repo(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("small: 8 paths × 576 steps"), "{stdout}");
    assert!(
        stdout.contains("venue") && stdout.contains("VaR95") && stdout.lines().any(|l| l.starts_with("jlp ")),
        "{stdout}"
    );

    let paths = fs::read_to_string(out.join("paths.csv")).unwrap();
    let header: Vec<&str> = paths.lines().next().unwrap().split(',').collect();
    for col in [
        "path",
        "venue",
        "seed",
        "lp_return",
        "lp_pnl_usd",
        "max_drawdown",
        "bad_debt_usd",
        "adl_usd",
        "liquidated_usd",
        "fees_usd",
        "borrow_fees_usd",
        "funding_usd",
        "impact_fees_usd",
        "trader_pnl_usd",
        "volume_usd",
        "conservation_error",
    ] {
        assert!(header.contains(&col), "paths.csv lacks {col}");
    }
    assert_eq!(paths.lines().count(), 9);
    let all = [&paths, &fs::read_to_string(out.join("summary.json")).unwrap()];
    for text in all {
        assert!(
            !text.to_lowercase().contains("nan") && !text.contains("inf"),
            "non-finite number in an output"
        );
    }

    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["scenario"]["name"], "small");
    assert_eq!(summary["seed"], 11);
    assert_eq!(summary["paths"], 8);
    let v = &summary["venues"][0];
    assert_eq!(v["name"], "jlp");
    for k in ["var_95", "cvar_95", "var_99", "cvar_99"] {
        assert!(v["risk"][k].is_number(), "{k}");
    }
    assert!(v["risk"]["p_lp_loss"]["p"].is_number() && v["risk"]["p_bad_debt"]["se"].is_number());
    for stat in ["mean", "std", "se", "p1", "p5", "p50", "p95", "p99"] {
        assert!(v["metrics"]["lp_return"][stat].is_number(), "lp_return.{stat}");
    }
    let ret_p5 = v["metrics"]["lp_return"]["p5"].as_f64().unwrap();
    assert!(
        (v["risk"]["var_95"].as_f64().unwrap() + ret_p5).abs() < 1e-12,
        "VaR95 = -p5 of LP return"
    );

    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["scenario"]["hash"], summary["scenario"]["hash"]);
    assert_eq!(manifest["scenario"]["hash"].as_str().unwrap().len(), 64);
    assert_eq!(manifest["paths"], 8);
    assert_eq!(manifest["seed"], 11);
    assert_eq!(manifest["perpsim_version"], env!("CARGO_PKG_VERSION"));
    assert!(
        manifest["command_line"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "--trace")
    );
    assert_eq!(manifest["conservation_failures"], 0);

    let steps = fs::read_to_string(out.join("trace/jlp/steps.csv")).unwrap();
    assert_eq!(steps.lines().count(), 1 + 577, "header plus steps 0..=576 of one path");
    assert!(steps.lines().next().unwrap().starts_with("path,step,t_s,price_SOL"));
    let events = fs::read_to_string(out.join("trace/jlp/events.csv")).unwrap();
    assert!(events.lines().count() > 10);
    assert!(events.contains(",open,") && events.contains(",close,"));
    let leftovers: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn bench_prints_throughput_and_a_digest() {
    let o = perpsim(
        &["bench", "tests/fixtures/small.toml", "--paths", "4", "--threads", "1"],
        &repo(),
    );
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("path-steps / s") && text.contains("result digest"),
        "{text}"
    );
    let again = perpsim(
        &["bench", "tests/fixtures/small.toml", "--paths", "4", "--threads", "2"],
        &repo(),
    );
    let digest = |t: &str| t.lines().find(|l| l.starts_with("result digest")).unwrap().to_string();
    assert_eq!(digest(&text), digest(&String::from_utf8_lossy(&again.stdout)));
}
