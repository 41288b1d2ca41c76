// Predictions u_i' v_j at arbitrary (user, item) pairs, never forming U V'.
#pragma once

#include <cstddef>
#include <vector>

#include "linalg.hpp"

namespace cfpoison {

// U: k x n_users (already scaled by the singular values for nuclear fits), V: k x n_items;
// the pairs' indices count from `base` (0, or R's 1).
inline void predict_pairs(const arma::mat& U, const arma::mat& V, const int* users, const int* items,
                          const std::size_t n, double* out, const int threads, const int base = 0) {
  const int k = static_cast<int>(U.n_rows);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::ptrdiff_t e = 0; e < static_cast<std::ptrdiff_t>(n); ++e)
    out[e] = dot(U.colptr(users[e] - base), V.colptr(items[e] - base), k);
}

}  // namespace cfpoison
