// Armadillo for the core. Inside the R package RcppArmadillo must be included
// first (it configures Armadillo for R's BLAS/LAPACK); a standalone build of the
// core (benchmarks, sanitizers) defines CFPOISON_STANDALONE and uses plain Armadillo.
#pragma once

#ifdef CFPOISON_STANDALONE
#include <armadillo>
#else
#include <RcppArmadillo.h>
#endif

#include <cstddef>

namespace cfpoison {

inline double dot(const double* a, const double* b, const int k) {
  double s = 0.0;
  for (int c = 0; c < k; ++c) s += a[c] * b[c];
  return s;
}

}  // namespace cfpoison
