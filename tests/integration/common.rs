//! Helpers shared by the integration tests.

use perpsim::engine::trace::Trace;
use perpsim::engine::{PathOutput, RunOptions, Workspace};
use perpsim::scenario::{LoadedScenario, load_str};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// A scratch folder removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "perpsim-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Folder of the repository (for shipped scenarios and fixtures).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Loads a scenario from text, panicking with every issue on failure.
pub fn scenario(text: &str) -> LoadedScenario {
    match load_str(text, "test.toml", &repo()) {
        Ok(s) => s,
        Err(e) => panic!("scenario should load:\n{e}"),
    }
}

/// Runs one traced path with conservation checked at every step.
pub fn run_traced(loaded: &LoadedScenario, seed: u64) -> PathOutput {
    let opts = RunOptions { check_every_step: true };
    Workspace::with_options(&loaded.scenario, opts).run_path(seed, 0, true)
}

/// Column `name` of a trace's per-step series.
pub fn column(trace: &Trace, name: &str) -> Vec<f64> {
    let i = trace
        .columns
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no trace column {name}; have {:?}", trace.columns))
        + 2;
    trace.rows.chunks(trace.row_width()).map(|r| r[i]).collect()
}

/// Asserts `got` is within `rel` (relative) of `want`.
#[track_caller]
pub fn assert_close(got: f64, want: f64, rel: f64) {
    let tol = rel * want.abs().max(1e-12);
    assert!((got - want).abs() <= tol, "got {got}, want {want} (±{tol})");
}

/// Runs the perpsim binary.
pub fn perpsim(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perpsim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("perpsim runs")
}

/// A log-price move per step for property tests: quiet (within ±`quiet`),
/// a crash of more than 90 %, a 10x squeeze, or a large move either way
/// (within ±`wide`), weighted 6:1:1:1.
pub fn shock_move(quiet: f64, wide: f64) -> impl proptest::strategy::Strategy<Value = f64> {
    use proptest::prelude::*;
    prop_oneof![
        6 => -quiet..quiet,
        1 => -5.0f64..-2.4,
        1 => Just(10f64.ln()),
        1 => -wide..wide,
    ]
}
