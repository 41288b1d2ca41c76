// Nuclear-norm minimization, Eq. 3 (Eq. 5 with fake users as extra rows):
//   min_X ||R_Omega(M - X)||_F^2 + 2 lambda ||X||_*.
//
// Since ||X||_* = min over X = A B' of (||A||_F^2 + ||B||_F^2) / 2, Eq. 3 equals
// Eq. 2 with lambda_U = lambda_V = lambda / 2 at any rank k >= rank(X*), and it is
// convex, so alternating ridge solves at rank_max reach its global optimum when
// the solution's rank is below rank_max (the maximum-margin factorization view of
// soft-impute, Hastie, Mazumder, Lee and Zadeh 2015). The final step is
// soft-impute's: one exact singular value thresholding of the completed matrix
// X* = R_Omega(M) + R_Omega^C(A B') restricted to B's row space, which returns
// the SVD X = U diag(d) V' that Appendix B's gradient needs.
#pragma once

#include <algorithm>
#include <vector>

#include "als.hpp"
#include "linalg.hpp"
#include "observed.hpp"

namespace cfpoison {

struct NuclearFactors {
  arma::mat U;  // k x n_rows, orthonormal rows (as columns of U')
  arma::vec d;  // singular values after thresholding, non-increasing; zeros are dropped directions
  arma::mat V;  // k x n_cols, orthonormal
};

// X = A' B with A (k x n_rows) and B (k x n_cols) from the factored fit.
inline NuclearFactors nuclear_threshold(const ObservedIndex& idx, const std::vector<double>& values,
                                        const arma::mat& A, const arma::mat& B, const double lambda,
                                        const int threads) {
  const int k = static_cast<int>(A.n_rows);
  arma::mat Q, R;
  arma::qr_econ(Q, R, B.t());  // n_cols x k, orthonormal basis of the item factors
  const arma::mat Qt = Q.t();
  // Z' = (X* Q)' = (B Q)' A + sum over observed (i, j) of residual_ij q_j e_i'.
  arma::mat Zt = (B * Q).t() * A;  // k x n_rows
#pragma omp parallel for num_threads(threads) schedule(dynamic, 256)
  for (int i = 0; i < idx.n_rows; ++i) {
    const double* a = A.colptr(i);
    double* z = Zt.colptr(i);
    for (std::size_t p = idx.row_start[i]; p < idx.row_start[i + 1]; ++p) {
      const int j = idx.col_of[p];
      const double residual = values[p] - dot(a, B.colptr(j), k);
      const double* q = Qt.colptr(j);
      for (int c = 0; c < k; ++c) z[c] += residual * q[c];
    }
  }
  arma::mat P, W;
  arma::vec s;
  arma::svd_econ(P, s, W, Zt.t());  // Z = P diag(s) W'
  NuclearFactors out;
  out.d = arma::clamp(s - lambda, 0.0, arma::datum::inf);
  out.U = P.t();
  out.V = (Q * W).t();
  return out;
}

// Eq. 3's objective for X = U' diag(d) V.
inline double nuclear_objective(const ObservedIndex& idx, const std::vector<double>& values,
                                const NuclearFactors& f, const double lambda, const int threads) {
  const arma::mat scaled_u = arma::diagmat(f.d) * f.U;
  return residual_sum_of_squares(idx, values, scaled_u, f.V, threads) + 2.0 * lambda * arma::accu(f.d);
}

}  // namespace cfpoison
