// Dense primitives of the core: Armadillo, dot products and the small
// Cholesky solves of every ridge system.
//
// Armadillo for the core. Inside the R package RcppArmadillo must be included
// first (it configures Armadillo for R's BLAS/LAPACK); a standalone build of the
// core (benchmarks, sanitizers) defines CFPOISON_STANDALONE and uses plain Armadillo.
#pragma once

#ifdef CFPOISON_STANDALONE
#include <armadillo>
#else
#include <RcppArmadillo.h>
#endif

#include <cmath>
#include <cstddef>
#include <deque>
#include <vector>

namespace cfpoison {

inline double dot(const double* a, const double* b, const int k) {
  double s = 0.0;
  for (int c = 0; c < k; ++c) s += a[c] * b[c];
  return s;
}

// Cholesky factorization G = L L' in place for a symmetric positive definite
// k x k matrix (column-major; only the lower triangle is read and written).
// Returns false when G is not numerically positive definite. Hand-written: for
// k around 10 a LAPACK call costs more in overhead than the factorization.
inline bool cholesky_factor(double* G, const int k) {
  for (int j = 0; j < k; ++j) {
    const double scale = G[j + j * k];
    double d = scale;
    for (int p = 0; p < j; ++p) d -= G[j + p * k] * G[j + p * k];
    if (!(d > 1e-12 * scale) || !std::isfinite(d)) return false;
    d = std::sqrt(d);
    G[j + j * k] = d;
    for (int i = j + 1; i < k; ++i) {
      double s = G[i + j * k];
      for (int p = 0; p < j; ++p) s -= G[i + p * k] * G[j + p * k];
      G[i + j * k] = s / d;
    }
  }
  return true;
}

// Solves L L' x = b in place with a factor from cholesky_factor().
inline void cholesky_substitute(const double* L, double* b, const int k) {
  for (int i = 0; i < k; ++i) {
    double s = b[i];
    for (int p = 0; p < i; ++p) s -= L[i + p * k] * b[p];
    b[i] = s / L[i + i * k];
  }
  for (int i = k - 1; i >= 0; --i) {
    double s = b[i];
    for (int p = i + 1; p < k; ++p) s -= L[p + i * k] * b[p];
    b[i] = s / L[i + i * k];
  }
}

inline bool cholesky_solve(double* G, double* b, const int k) {
  if (!cholesky_factor(G, k)) return false;
  cholesky_substitute(G, b, k);
  return true;
}

// Anderson acceleration of a fixed-point iteration x <- g(x) (Anderson 1965;
// in the form of Walker & Ni 2011, "Anderson acceleration for fixed-point
// iterations", SIAM J. Numer. Anal. 49(4)): from the last memory + 1 pairs
// (x_i, g_i = g(x_i)), with residuals f_i = g_i - x_i, the next iterate is
//   g_h - sum_c gamma_c (g_{c+1} - g_c),
//   gamma = argmin || f_h - sum_c gamma_c (f_{c+1} - f_c) ||.
// The sums run in a fixed order (no BLAS), so the result does not depend on
// the thread count.
class AndersonAcceleration {
 public:
  explicit AndersonAcceleration(const int memory) : memory_(memory) {}

  // Records x and its image g; returns the next iterate (g itself until two
  // pairs are known, or when the least-squares problem is degenerate).
  arma::mat next(const arma::mat& x, const arma::mat& g) {
    x_.push_back(x);
    g_.push_back(g);
    if (static_cast<int>(x_.size()) > memory_ + 1) {
      x_.pop_front();
      g_.pop_front();
    }
    const std::size_t h = x_.size();
    if (h < 2) return g;
    const arma::uword d = h - 1;
    const arma::uword n = g.n_elem;
    std::vector<arma::mat> df(d);
    for (arma::uword c = 0; c < d; ++c) df[c] = (g_[c + 1] - x_[c + 1]) - (g_[c] - x_[c]);
    const arma::mat f = g - x;
    arma::mat gram(d, d);
    arma::vec rhs(d);
    for (arma::uword a = 0; a < d; ++a) {
      for (arma::uword b = 0; b <= a; ++b) gram(a, b) = gram(b, a) = dot(df[a].memptr(), df[b].memptr(), static_cast<int>(n));
      rhs(a) = dot(df[a].memptr(), f.memptr(), static_cast<int>(n));
    }
    // A tiny ridge keeps nearly parallel differences (a converging iteration)
    // from blowing gamma up.
    gram.diag() += 1e-10 * arma::trace(gram);
    arma::vec gamma;
    if (!(arma::trace(gram) > 0.0) || !arma::solve(gamma, gram, rhs, arma::solve_opts::no_approx) ||
        !gamma.is_finite())
      return g;
    arma::mat out = g;
    for (arma::uword c = 0; c < d; ++c) out -= gamma(c) * (g_[c + 1] - g_[c]);
    return out;
  }

  void reset() {
    x_.clear();
    g_.clear();
  }

 private:
  int memory_;
  std::deque<arma::mat> x_;
  std::deque<arma::mat> g_;
};

}  // namespace cfpoison
