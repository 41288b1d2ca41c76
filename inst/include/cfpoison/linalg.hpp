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

}  // namespace cfpoison
