//! Correlation of diffusion drivers across assets.

/// A validated correlation matrix over a group of assets, with its Cholesky
/// factor.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    /// Asset indices (scenario order) of the group, in matrix order.
    pub assets: Vec<usize>,
    /// Row-major k×k correlation matrix.
    pub matrix: Vec<f64>,
    /// Row-major lower-triangular Cholesky factor L with L·Lᵀ = matrix.
    pub cholesky: Vec<f64>,
}

impl Correlation {
    /// Validates `matrix` (k×k, row-major, k = `assets.len()`) and factors it.
    ///
    /// # Errors
    /// A reason if the matrix has the wrong size, is not symmetric, has a
    /// diagonal other than 1, an entry outside [-1, 1], or is not positive
    /// definite.
    pub fn new(assets: Vec<usize>, matrix: Vec<f64>) -> Result<Correlation, String> {
        let k = assets.len();
        if matrix.len() != k * k {
            return Err(format!("must be {k}×{k}, has {} entries", matrix.len()));
        }
        for i in 0..k {
            if (matrix[i * k + i] - 1.0).abs() > 1e-12 {
                return Err(format!(
                    "diagonal entry [{i}][{i}] must be 1, was {}",
                    matrix[i * k + i]
                ));
            }
            for j in 0..k {
                let v = matrix[i * k + j];
                if !(-1.0..=1.0).contains(&v) {
                    return Err(format!("entry [{i}][{j}] must be in [-1, 1], was {v}"));
                }
                if (v - matrix[j * k + i]).abs() > 1e-12 {
                    return Err(format!(
                        "must be symmetric: [{i}][{j}] = {v} but [{j}][{i}] = {}",
                        matrix[j * k + i]
                    ));
                }
            }
        }
        let cholesky = cholesky(&matrix, k)
            .ok_or_else(|| "must be positive definite (its Cholesky factorisation fails)".to_string())?;
        Ok(Correlation {
            assets,
            matrix,
            cholesky,
        })
    }
}

/// Cholesky factor of a symmetric positive-definite k×k matrix (row-major).
/// Returns `None` when a pivot is not positive.
pub fn cholesky(a: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let mut sum = a[i * k + j];
            for p in 0..j {
                sum -= l[i * k + p] * l[j * k + p];
            }
            if i == j {
                if sum <= 1e-12 {
                    return None;
                }
                l[i * k + i] = sum.sqrt();
            } else {
                l[i * k + j] = sum / l[j * k + j];
            }
        }
    }
    Some(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reproduces_the_matrix() {
        let a = [1.0, 0.7, 0.6, 0.7, 1.0, 0.8, 0.6, 0.8, 1.0];
        let l = cholesky(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|p| l[i * 3 + p] * l[j * 3 + p]).sum();
                assert!((v - a[i * 3 + j]).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn invalid_matrices_are_rejected_with_the_reason() {
        let cases: [(&[f64], &str); 4] = [
            (&[1.0, 0.5, 0.4, 1.0], "symmetric"),
            (&[1.0, 1.2, 1.2, 1.0], "[-1, 1]"),
            (&[0.9, 0.0, 0.0, 1.0], "diagonal"),
            (&[1.0, 0.9, 0.9, 0.9, 1.0, -0.9, 0.9, -0.9, 1.0], "positive definite"),
        ];
        for (m, want) in cases {
            let k = (m.len() as f64).sqrt() as usize;
            let err = Correlation::new((0..k).collect(), m.to_vec()).unwrap_err();
            assert!(err.contains(want), "{err} should mention {want}");
        }
    }
}
