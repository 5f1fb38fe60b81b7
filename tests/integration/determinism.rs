//! The same scenario and seed give byte-identical outputs on one thread or
//! several, across runs, and with or without tracing.

use crate::common::{TempDir, perpsim, repo};
use std::fs;

fn run(out: &std::path::Path, extra: &[&str]) -> Vec<u8> {
    let scenario = repo().join("tests/fixtures/small.toml");
    let mut args = vec![
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let o = perpsim(&args, &repo());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    fs::read(out.join("paths.csv")).unwrap()
}

#[test]
fn paths_csv_is_identical_on_one_and_two_threads_and_across_runs() {
    let dir = TempDir::new("determinism");
    let one = run(&dir.path().join("t1"), &["--threads", "1"]);
    let two = run(&dir.path().join("t2"), &["--threads", "2"]);
    let again = run(&dir.path().join("t2b"), &["--threads", "2"]);
    assert_eq!(one.len(), two.len());
    assert!(one == two, "paths.csv differs between 1 and 2 threads");
    assert!(two == again, "paths.csv differs between two runs");
    let rows = String::from_utf8(one).unwrap().lines().count();
    assert_eq!(rows, 1 + 24, "header plus one row per path");
    let summary = |d: &str| fs::read(dir.path().join(d).join("summary.json")).unwrap();
    assert!(
        summary("t1") == summary("t2"),
        "summary.json differs between 1 and 2 threads"
    );
}

#[test]
fn tracing_does_not_change_results() {
    let dir = TempDir::new("trace-invariance");
    let plain = run(&dir.path().join("plain"), &["--paths", "6"]);
    let traced = run(&dir.path().join("traced"), &["--paths", "6", "--trace", "3"]);
    assert!(plain == traced, "tracing changed paths.csv");
    let events = fs::read_to_string(dir.path().join("traced/trace/jlp/events.csv")).unwrap();
    let paths: std::collections::BTreeSet<&str> =
        events.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(paths.into_iter().collect::<Vec<_>>(), ["0", "1", "2"]);
}

#[test]
fn a_different_seed_gives_different_paths() {
    let dir = TempDir::new("seed");
    let a = run(&dir.path().join("a"), &["--paths", "4", "--seed", "1"]);
    let b = run(&dir.path().join("b"), &["--paths", "4", "--seed", "2"]);
    assert!(a != b);
}

/// Runs `scenario` for `paths` paths on 1 and then 2 threads, checks that
/// paths.csv and summary.json are byte-identical, and returns paths.csv.
fn same_bytes_on_one_and_two_threads(dir: &TempDir, scenario: &str, paths: &str) -> String {
    let go = |threads: &str| {
        let out = dir.path().join(format!("t{threads}"));
        let o = perpsim(
            &[
                "run",
                scenario,
                "--paths",
                paths,
                "--threads",
                threads,
                "--out",
                out.to_str().unwrap(),
                "--quiet",
            ],
            &repo(),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (
            fs::read(out.join("paths.csv")).unwrap(),
            fs::read(out.join("summary.json")).unwrap(),
        )
    };
    let one = go("1");
    let two = go("2");
    assert!(one.0 == two.0, "paths.csv differs between 1 and 2 threads");
    assert!(one.1 == two.1, "summary.json differs between 1 and 2 threads");
    String::from_utf8(one.0).unwrap()
}

/// The GM venues too: the squeeze scenario (two GM venues, ADL, warm start)
/// gives the same bytes on one and two threads.
#[test]
fn gm_venues_are_deterministic_across_threads() {
    let dir = TempDir::new("determinism-gm");
    let text = same_bytes_on_one_and_two_threads(&dir, "preset:gm_synthetic_squeeze", "6");
    assert_eq!(text.lines().count(), 1 + 6 * 2, "one row per path and venue");
    assert!(text.lines().any(|l| l.contains(",doge_synthetic,")));
}

/// The order-book venues too: the LLP scenario (layered on the HLP one)
/// gives the same bytes on one and two threads, with a short horizon so
/// the test stays quick.
#[test]
fn book_venues_are_deterministic_across_threads() {
    let dir = TempDir::new("determinism-book");
    let file = dir.write("short.toml", "extends = \"preset:llp_baseline\"\nhorizon = \"2d\"\n");
    let text = same_bytes_on_one_and_two_threads(&dir, file.to_str().unwrap(), "4");
    assert_eq!(text.lines().count(), 1 + 4);
}
