//! Charts, sweeps, the stress grid, comparisons and `report.html`.

use crate::common::{TempDir, perpsim, repo};
use perpsim::report::chart::{BarPanel, Chart, Figure, HEIGHT, WIDTH};
use std::collections::HashSet;
use std::fs;
use std::path::Path;

/// Decodes a PNG: (width, height, distinct RGB colours).
fn png_facts(bytes: &[u8]) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let colours: HashSet<&[u8]> = buf[..info.buffer_size()].chunks(3).collect();
    (info.width, info.height, colours.len())
}

/// Every chart type, with ordinary and awkward data.
fn every_chart() -> Vec<Figure> {
    let fig = |title: &str, chart| Figure {
        title: title.into(),
        x_label: "time (hours)".into(),
        y_label: "value (USD)".into(),
        chart,
    };
    vec![
        fig(
            "fan chart title",
            Chart::Fan(
                (0..10)
                    .map(|k| {
                        (
                            k as f64,
                            [0.9, 0.95, 1.0, 1.05, 1.1].map(|q| q * (1.0 + 0.01 * k as f64)),
                        )
                    })
                    .collect(),
            ),
        ),
        fig("flat fan title", Chart::Fan(vec![(0.0, [1.0; 5]), (1.0, [1.0; 5])])),
        fig(
            "histogram title",
            Chart::Histogram {
                bins: vec![(-2.0, -1.0, 3), (-1.0, 0.0, 10), (0.0, 1.0, 7)],
                markers: vec![("VaR 95%".into(), -1.5)],
                note: String::new(),
            },
        ),
        fig(
            "empty histogram title",
            Chart::Histogram {
                bins: Vec::new(),
                markers: Vec::new(),
                note: "no bad debt on any of 10 paths".into(),
            },
        ),
        fig(
            "lines title",
            Chart::Lines(vec![
                ("a".into(), vec![(0.0, 1.0), (1.0, f64::NAN), (2.0, 3.0)]),
                ("b".into(), vec![(0.0, 2.0), (2.0, 2.0)]),
            ]),
        ),
        fig(
            "bars title",
            Chart::Bars {
                categories: vec!["x/jlp".into(), "y/gm".into()],
                panels: vec![
                    BarPanel {
                        title: "lp_return (%)".into(),
                        values: vec![1.0, -2.0],
                        errors: vec![0.5, 0.5],
                    },
                    BarPanel {
                        title: "cvar_95 (%)".into(),
                        values: vec![3.0, f64::INFINITY],
                        errors: Vec::new(),
                    },
                ],
            },
        ),
        fig(
            "heatmap title",
            Chart::Heatmap {
                xs: vec!["0.1".into(), "0.2".into(), "0.3".into()],
                ys: vec!["a".into(), "b".into()],
                z: vec![Some(0.0), Some(0.5), Some(1.0), None, Some(f64::NAN), Some(2.0)],
                z_label: "ratio (fraction)".into(),
            },
        ),
        fig(
            "error bars title",
            Chart::ErrorBars(vec![(
                "jlp".into(),
                vec![(1.0, 0.1, 0.02), (2.0, 0.2, 0.03), (3.0, 0.15, 0.0)],
            )]),
        ),
        fig(
            "pareto title",
            Chart::Pareto(vec![(1.0, 5.0, true), (2.0, 2.0, true), (3.0, 3.0, false)]),
        ),
    ]
}

#[test]
fn every_chart_type_renders_to_png_and_svg_with_its_text() {
    for f in every_chart() {
        let png = f.png().unwrap_or_else(|e| panic!("{}: {e}", f.title));
        let (w, h, colours) = png_facts(&png);
        assert_eq!((w, h), (WIDTH, HEIGHT), "{}", f.title);
        assert!(colours > 1, "{}: the PNG is one colour", f.title);
        let svg = f.svg().unwrap();
        assert!(svg.contains(&format!("width=\"{WIDTH}\"")), "{}", f.title);
        assert!(svg.contains(&format!("height=\"{HEIGHT}\"")), "{}", f.title);
        assert!(svg.contains(&f.title), "the SVG lacks its title {:?}", f.title);
        assert!(svg.contains("<text"), "{}: no text drawn", f.title);
    }
}

/// Checks that elements nest and close (void HTML elements and `/>` aside).
fn assert_well_formed(html: &str) {
    const VOID: [&str; 6] = ["meta", "br", "hr", "img", "link", "input"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("a tag closes");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ':')
            .collect();
        if let Some(closing) = tag.strip_prefix('/') {
            let closing = closing.trim();
            let open = stack.pop().unwrap_or_else(|| panic!("</{closing}> closes nothing"));
            assert_eq!(open, name, "</{name}> closes <{open}>");
        } else if !tag.ends_with('/') && !VOID.contains(&name.as_str()) {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

/// No script, stylesheet, image, font or frame from anywhere: the only
/// URLs are XML namespace names, which browsers never fetch.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<script", "<link", "<img", "<iframe", "@import", "url(", " src=", "href=",
    ] {
        assert!(!lower.contains(bad), "report.html has {bad:?}");
    }
    for (i, _) in lower.match_indices("http") {
        let before = &lower[i.saturating_sub(7)..i];
        assert!(
            before.contains("xmlns"),
            "a URL outside a namespace: {}",
            &html[i..(i + 60).min(html.len())]
        );
    }
}

fn svg_titles(plots: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in fs::read_dir(plots).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "svg") {
            let svg = fs::read_to_string(&p).unwrap();
            let png = fs::read(p.with_extension("png")).unwrap();
            let (w, h, colours) = png_facts(&png);
            assert_eq!((w, h), (WIDTH, HEIGHT), "{}", p.display());
            assert!(colours > 1, "{}", p.display());
            out.push((p.file_stem().unwrap().to_string_lossy().to_string(), svg));
        }
    }
    out.sort();
    out
}

#[test]
fn a_run_draws_every_chart_and_a_self_contained_report() {
    let dir = TempDir::new("report-run");
    let out = dir.path().join("run");
    let o = perpsim(
        &[
            "run",
            "tests/fixtures/small.toml",
            "--paths",
            "12",
            "--trace",
            "1",
            "--out",
            out.to_str().unwrap(),
        ],
        &repo(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("report: "), "the summary names the report:\n{stdout}");
    let charts = svg_titles(&out.join("plots"));
    let stems: Vec<&str> = charts.iter().map(|c| c.0.as_str()).collect();
    for want in [
        "jlp_lp_price_fan",
        "jlp_lp_return_hist",
        "jlp_bad_debt",
        "jlp_liquidations",
        "jlp_trace_liquidations",
        "jlp_trace_utilization",
        "jlp_trace_rates",
    ] {
        assert!(stems.contains(&want), "missing chart {want}: {stems:?}");
    }
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_well_formed(&html);
    assert_self_contained(&html);
    for (stem, svg) in &charts {
        let body = &svg[svg.find("<svg").unwrap()..];
        assert!(html.contains(body.trim_end()), "report.html lacks the chart {stem}");
        assert!(
            svg.contains("small · seed 7, 12 paths"),
            "{stem}: the title names the scenario and seed"
        );
    }
    for section in [
        "Summary",
        "Model and limitations",
        "Resolved parameters",
        "scenario small",
    ] {
        assert!(html.contains(section), "report.html lacks {section:?}");
    }
    let manifest = fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"report.html\"") && manifest.contains("plots/jlp_lp_price_fan.svg"));

    // The data behind the fan: its last point is the horizon, where the LP
    // price is `end_lp_price`; the liquidations per interval add up to the
    // mean of `liquidated_usd`.
    let summary: serde_json::Value = serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    let metric = |name: &str, stat: &str| summary["venues"][0]["metrics"][name][stat].as_f64().unwrap();
    let table = fs::read_to_string(out.join("plots/jlp_over_time.csv")).unwrap();
    let rows: Vec<Vec<f64>> = table
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 65, "2 days of 5-minute steps: 64 intervals");
    assert_eq!(rows[0][0], 0.0);
    assert_eq!(rows[64][0], 172_800.0);
    let last = &rows[64];
    // serde_json's default float parser may land one ulp off; the values are the same.
    for (got, stat) in [(last[1], "p5"), (last[3], "p50"), (last[5], "p95")] {
        let want = metric("end_lp_price", stat);
        assert!((got - want).abs() <= 1e-14 * want.abs(), "{stat}: {got} against {want}");
    }
    assert!(
        rows.iter()
            .all(|r| r[1] <= r[2] && r[2] <= r[3] && r[3] <= r[4] && r[4] <= r[5])
    );
    let liquidated: f64 = rows.iter().map(|r| r[6]).sum();
    let want = metric("liquidated_usd", "mean");
    assert!(
        (liquidated - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{liquidated} against {want}"
    );
}

fn sweep(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["sweep", "tests/fixtures/small.toml", "--paths", "6", "--quiet", "--out"];
    args.push(dir.to_str().unwrap());
    args.extend_from_slice(extra);
    perpsim(&args, &repo())
}

#[test]
fn a_three_by_two_sweep_has_six_rows_and_the_same_bytes_on_one_and_two_threads() {
    let dir = TempDir::new("sweep-3x2");
    let grid = [
        "--set",
        "venues.jlp.base_fee_bps=4,6,8",
        "--set",
        "venues.jlp.borrow.target_rate=0.3..0.6:2",
    ];
    let mut csvs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("t{threads}"));
        let mut args = grid.to_vec();
        args.extend(["--threads", threads]);
        let o = sweep(&out, &args);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        csvs.push(fs::read(out.join("sweep.csv")).unwrap());
    }
    assert_eq!(csvs[0], csvs[1], "sweep.csv differs between 1 and 2 threads");
    let text = String::from_utf8(csvs.remove(0)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &header[..5],
        [
            "point",
            "venues.jlp.base_fee_bps",
            "venues.jlp.borrow.target_rate",
            "venue",
            "pareto"
        ]
    );
    for col in [
        "cvar_95",
        "p_bad_debt",
        "trader_cost",
        "lp_return_mean",
        "lp_return_se",
        "lp_return_p5",
        "bad_debt_usd_p99",
    ] {
        assert!(header.contains(&col), "no column {col}");
    }
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 6);
    let params: Vec<(&str, &str)> = rows.iter().map(|r| (r[1], r[2])).collect();
    assert_eq!(
        params,
        [
            ("4", "0.3"),
            ("4", "0.6"),
            ("6", "0.3"),
            ("6", "0.6"),
            ("8", "0.3"),
            ("8", "0.6")
        ]
    );
    assert!(rows.iter().all(|r| r.len() == header.len()));
    assert!(rows.iter().any(|r| r[4] == "1"), "some point is on the frontier");
    // A higher base fee costs traders more per dollar, at the same seeds.
    let cost = |r: &Vec<&str>| {
        r[header.iter().position(|h| *h == "trader_cost").unwrap()]
            .parse::<f64>()
            .unwrap()
    };
    assert!(cost(&rows[0]) < cost(&rows[2]) && cost(&rows[2]) < cost(&rows[4]));
    let out = dir.path().join("t1");
    for stem in [
        "jlp_lp_return_heatmap",
        "jlp_cvar_95_heatmap",
        "jlp_p_bad_debt_heatmap",
        "jlp_trader_cost_heatmap",
        "jlp_pareto",
    ] {
        assert!(out.join("plots").join(format!("{stem}.png")).exists(), "{stem}");
    }
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert_well_formed(&html);
    assert_self_contained(&html);
    assert_eq!(html.matches("<svg").count(), svg_titles(&out.join("plots")).len());
}

#[test]
fn a_parameter_that_changes_nothing_gives_identical_rows() {
    // Traders never ask for more than 100x, so a cap of 150x or 200x binds no one.
    let dir = TempDir::new("sweep-noop");
    let o = sweep(
        dir.path(),
        &["--set", "venues.jlp.max_leverage=150,200", "--metric", "lp_return"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = fs::read_to_string(dir.path().join("sweep.csv")).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0][1], rows[1][1]), ("150", "200"));
    assert_eq!(
        rows[0][2..],
        rows[1][2..],
        "common random numbers: the same paths give the same results"
    );
    assert!(
        dir.path().join("plots/sweep_lp_return.svg").exists(),
        "one axis draws error bars"
    );
}

#[test]
fn bad_sweep_specs_exit_2_naming_the_problem_before_anything_runs() {
    let dir = TempDir::new("sweep-bad");
    let cases: [(&[&str], &str); 7] = [
        (&["--set", "venues.jlp.no_such_key=1,2"], "venues.jlp.no_such_key"),
        (
            &["--set", "venues.jlp.base_fee_bps=4,six"],
            "\"six\" is not a finite number",
        ),
        (&["--set", "venues.jlp.base_fee_bps=1..2:0"], "is empty"),
        (&["--set", "venues.jlp.base_fee_bps="], "no values"),
        (
            &[
                "--set",
                "venues.jlp.base_fee_bps=0..10:101",
                "--set",
                "venues.jlp.max_leverage=2..200:100",
            ],
            "10100 points, more than 10000: pass --force",
        ),
        (&["--set", "venues.jlp.base_fee_bps=-5,5"], "venues.jlp.base_fee_bps"),
        (
            &["--set", "run.seed=1,2"],
            "run.seed: every point runs the same paths and seed",
        ),
    ];
    for (i, (args, needle)) in cases.iter().enumerate() {
        let out = dir.path().join(format!("case{i}"));
        let o = sweep(&out, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: expected {needle:?} in\n{err}");
        assert!(!out.exists(), "{args:?}: an output folder was created");
    }
}

#[test]
fn the_stress_grid_rises_with_the_shock_and_the_skew() {
    let dir = TempDir::new("heatmap");
    let o = perpsim(
        &[
            "heatmap",
            "--paths",
            "8",
            "--shocks",
            "0.2,0.5",
            "--skews",
            "0.1,0.5",
            "--reserve-factors",
            "0.5,0.85",
            "--quiet",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        &repo(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = fs::read_to_string(dir.path().join("sweep.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let ratio = col("peak_trader_pnl_to_pool_mean");
    let rows: Vec<Vec<f64>> = lines
        .map(|l| {
            l.split(',')
                .enumerate()
                .filter(|(i, _)| *i != col("venue"))
                .map(|(_, x)| x.parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 8);
    let at = |shock: f64, skew: f64, rf: f64| {
        let r = rows
            .iter()
            .find(|r| r[1] == shock && r[2] == skew && r[3] == rf)
            .unwrap();
        r[ratio - 1]
    };
    for rf in [0.5, 0.85] {
        for skew in [0.1, 0.5] {
            assert!(
                at(0.5, skew, rf) > at(0.2, skew, rf),
                "a deeper drop takes more of the pool"
            );
        }
        for shock in [0.2, 0.5] {
            assert!(
                at(shock, 0.5, rf) > at(shock, 0.1, rf),
                "more skew takes more of the pool"
            );
        }
    }
    for shock in [0.2, 0.5] {
        assert!(
            at(shock, 0.5, 0.85) > at(shock, 0.5, 0.5),
            "more open interest takes more of the pool"
        );
    }
    for k in 1..=2 {
        assert!(
            dir.path()
                .join(format!("plots/gm_peak_trader_pnl_to_pool_heatmap_{k}.png"))
                .exists()
        );
        assert!(dir.path().join(format!("plots/gm_p_bad_debt_heatmap_{k}.svg")).exists());
    }
}

#[test]
fn compare_sets_designs_side_by_side_on_the_same_seeds() {
    let dir = TempDir::new("compare");
    let other = dir.write(
        "dear.toml",
        &format!(
            "extends = \"{}\"\nname = \"dear\"\n[venues.jlp]\nbase_fee_bps = 12.0\n",
            repo().join("tests/fixtures/small.toml").display()
        ),
    );
    let out = dir.path().join("out");
    let o = perpsim(
        &[
            "compare",
            "tests/fixtures/small.toml",
            other.to_str().unwrap(),
            "--paths",
            "6",
            "--out",
            out.to_str().unwrap(),
        ],
        &repo(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("small/jlp") && stdout.contains("dear/jlp") && stdout.contains("report: "));
    let text = fs::read_to_string(out.join("compare.csv")).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[1].starts_with("small,jlp,jlp,") && rows[2].starts_with("dear,jlp,jlp,"));
    let charts = svg_titles(&out.join("plots"));
    assert_eq!(charts.len(), 1);
    assert!(
        charts[0].1.contains("small vs dear · seed 7, 6 paths"),
        "the title names the scenarios and the seed"
    );
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert_well_formed(&html);
    assert_self_contained(&html);
    assert!(html.contains("<svg"));
}

#[test]
fn a_grid_over_ten_thousand_points_runs_when_forced() {
    let dir = TempDir::new("sweep-force");
    let scn = dir.write(
        "tiny.toml",
        "name = \"tiny\"\nhorizon = \"1m\"\nstep = \"1m\"\n\
         [assets.SOL]\nprice = 100.0\nprocess = { kind = \"gbm\", vol = 0.8 }\n\
         [assets.USDC]\nstable = true\n\
         [venues.jlp]\nkind = \"jlp\"\naum_usd = 1e6\n\
         [venues.jlp.custodies.SOL]\nweight = 0.5\n[venues.jlp.custodies.USDC]\nweight = 0.5\n",
    );
    let out = dir.path().join("out");
    let o = perpsim(
        &[
            "sweep",
            scn.to_str().unwrap(),
            "--set",
            "venues.jlp.base_fee_bps=0..10:101",
            "--set",
            "venues.jlp.max_leverage=2..200:100",
            "--force",
            "--paths",
            "1",
            "--quiet",
            "--no-plots",
            "--out",
            out.to_str().unwrap(),
        ],
        &repo(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = fs::read_to_string(out.join("sweep.csv")).unwrap().lines().count();
    assert_eq!(rows, 1 + 10_100);
    assert!(out.join("manifest.json").exists());
}
