//! Monte Carlo: many paths in parallel, results in path order.
//!
//! Paths run on rayon in chunks; within a chunk results are collected in
//! path order and handed to the caller's sink one by one, so what is written
//! (and every sum over paths) is the same whatever the number of threads.
//! Memory is bounded by the chunk: nothing per step is kept unless a path is
//! traced.

pub mod seed;

use crate::engine::{PathOutput, RunOptions, Workspace};
use crate::scenario::Scenario;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::Mutex;

/// A Monte Carlo run of one scenario under one master seed.
#[derive(Debug, Clone, Copy)]
pub struct MonteCarlo<'s> {
    scn: &'s Scenario,
    seed: u64,
    opts: RunOptions,
}

impl<'s> MonteCarlo<'s> {
    /// A run of `scn` under `seed`.
    pub fn new(scn: &'s Scenario, seed: u64) -> MonteCarlo<'s> {
        MonteCarlo {
            scn,
            seed,
            opts: RunOptions::default(),
        }
    }

    /// The same run with other options.
    pub fn with_options(self, opts: RunOptions) -> MonteCarlo<'s> {
        MonteCarlo { opts, ..self }
    }

    /// Runs paths `paths` on the current rayon pool. Paths with index below
    /// `trace_below` are traced. `sink` receives every path's output in path
    /// order; `progress` is called with the number of paths just finished.
    ///
    /// # Errors
    /// The first error returned by `sink`; no later path is run.
    pub fn run<E>(
        &self,
        paths: Range<u64>,
        trace_below: u64,
        progress: &(dyn Fn(u64) + Sync),
        mut sink: impl FnMut(PathOutput) -> Result<(), E>,
    ) -> Result<(), E> {
        // One workspace per worker thread for the whole run: containers keep
        // their capacity from path to path, so a path allocates nothing once
        // its thread has warmed up.
        let threads = rayon::current_num_threads();
        let spaces: Vec<Mutex<Workspace>> = (0..threads)
            .map(|_| Mutex::new(Workspace::with_options(self.scn, self.opts)))
            .collect();
        let chunk = (64 * threads as u64).max(64);
        let mut start = paths.start;
        while start < paths.end {
            let end = (start + chunk).min(paths.end);
            let outputs: Vec<PathOutput> = (start..end)
                .into_par_iter()
                .map(|i| {
                    let slot = rayon::current_thread_index().unwrap_or(0) % threads;
                    let mut ws = spaces[slot].lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    let out = ws.run_path(self.seed, i, i < trace_below);
                    drop(ws);
                    progress(1);
                    out
                })
                .collect();
            for out in outputs {
                sink(out)?;
            }
            start = end;
        }
        Ok(())
    }

    /// Runs one path on the calling thread.
    pub fn run_one(&self, index: u64, trace: bool) -> PathOutput {
        Workspace::with_options(self.scn, self.opts).run_path(self.seed, index, trace)
    }
}
