//! Per-metric columns of every path, kept for quantiles.
//!
//! Small runs keep the columns in memory. When the columns would take more
//! than [`MEMORY_BUDGET_BYTES`], each is streamed to its own temporary file
//! and only one column is loaded (and sorted) at a time, so memory stays at
//! 8 bytes per path whatever the number of metrics.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Columns above this total size spill to disk.
pub const MEMORY_BUDGET_BYTES: u64 = 64 << 20;

/// A temporary folder removed when dropped, whether the run finished or not.
pub(crate) struct SpillDir(PathBuf);

impl Drop for SpillDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub(crate) enum ColumnStore {
    Memory(Vec<Vec<f64>>),
    Spill {
        dir: SpillDir,
        writers: Vec<BufWriter<File>>,
    },
}

impl ColumnStore {
    /// Columns for `n_cols` metrics of about `rows` paths.
    pub(crate) fn new(out_dir: &Path, n_cols: usize, rows: u64) -> io::Result<ColumnStore> {
        if (n_cols as u64).saturating_mul(rows).saturating_mul(8) <= MEMORY_BUDGET_BYTES {
            return Ok(ColumnStore::Memory(vec![Vec::new(); n_cols]));
        }
        let dir = SpillDir(out_dir.join(format!(".columns-{}", std::process::id())));
        fs::create_dir_all(&dir.0)?;
        let writers = (0..n_cols)
            .map(|k| File::create(dir.0.join(format!("{k}.bin"))).map(|f| BufWriter::with_capacity(1 << 15, f)))
            .collect::<io::Result<_>>()?;
        Ok(ColumnStore::Spill { dir, writers })
    }

    pub(crate) fn push(&mut self, k: usize, x: f64) -> io::Result<()> {
        match self {
            ColumnStore::Memory(cols) => {
                cols[k].push(x);
                Ok(())
            }
            ColumnStore::Spill { writers, .. } => writers[k].write_all(&x.to_le_bytes()),
        }
    }

    pub(crate) fn into_sorted(self) -> io::Result<SortedColumns> {
        match self {
            ColumnStore::Memory(mut cols) => {
                for c in &mut cols {
                    c.sort_by(f64::total_cmp);
                }
                Ok(SortedColumns::Memory(cols))
            }
            ColumnStore::Spill { dir, writers } => {
                for mut w in writers {
                    w.flush()?;
                }
                Ok(SortedColumns::Spill(dir))
            }
        }
    }
}

pub(crate) enum SortedColumns {
    Memory(Vec<Vec<f64>>),
    Spill(SpillDir),
}

impl SortedColumns {
    /// Column `k`, sorted ascending.
    pub(crate) fn column(&mut self, k: usize) -> io::Result<Vec<f64>> {
        match self {
            SortedColumns::Memory(cols) => Ok(cols[k].clone()),
            SortedColumns::Spill(dir) => {
                let mut bytes = Vec::new();
                BufReader::new(File::open(dir.0.join(format!("{k}.bin")))?).read_to_end(&mut bytes)?;
                let mut v: Vec<f64> = bytes
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8-byte chunk")))
                    .collect();
                v.sort_by(f64::total_cmp);
                Ok(v)
            }
        }
    }

    /// Removes temporary files (dropping does the same).
    pub(crate) fn cleanup(self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spilled_columns_equal_memory_columns() {
        let dir = std::env::temp_dir().join(format!("perpsim-cols-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let mut mem = ColumnStore::new(&dir, 2, 10).unwrap();
        let mut spill = ColumnStore::new(&dir, 2, MEMORY_BUDGET_BYTES).unwrap();
        assert!(matches!(spill, ColumnStore::Spill { .. }));
        for i in 0..1000 {
            let x = ((i * 7919) % 1000) as f64 - 500.0;
            for s in [&mut mem, &mut spill] {
                s.push(0, x).unwrap();
                s.push(1, -x).unwrap();
            }
        }
        let (mut a, mut b) = (mem.into_sorted().unwrap(), spill.into_sorted().unwrap());
        for k in 0..2 {
            let ca = a.column(k).unwrap();
            assert_eq!(ca, b.column(k).unwrap());
            assert!(ca.windows(2).all(|w| w[0] <= w[1]));
        }
        b.cleanup();
        a.cleanup();
        fs::remove_dir_all(&dir).unwrap();
    }
}
