// Metrics of an attack's effect that need every (user, item) prediction,
// computed one user at a time so no m x n matrix is formed.
#pragma once

#include <vector>

#include "linalg.hpp"
#include "observed.hpp"

namespace cfpoison {

// Hit ratio at N of each target item: among the normal users who have not rated
// it, the share whose top-N list of unrated items (by predicted rating)
// contains it. P: k x m, Q: k x n. Ties count against the target.
inline std::vector<double> hit_ratio(const ObservedIndex& idx, const arma::mat& P, const arma::mat& Q,
                                     const std::vector<int>& targets, const int top_n, const int threads) {
  const int m = idx.n_rows;
  const int n = idx.n_cols;
  const int k = static_cast<int>(P.n_rows);
  const std::size_t n_targets = targets.size();
  std::vector<int> hits(n_targets * m, 0), eligible(n_targets * m, 0);
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> scores(n);
    std::vector<char> rated(n, 0);
#pragma omp for schedule(dynamic, 16)
    for (int i = 0; i < m; ++i) {
      for (std::size_t p = idx.row_start[i]; p < idx.row_start[i + 1]; ++p) rated[idx.col_of[p]] = 1;
      for (int j = 0; j < n; ++j) scores[j] = dot(P.colptr(i), Q.colptr(j), k);
      for (std::size_t t = 0; t < n_targets; ++t) {
        const int target = targets[t];
        if (rated[target]) continue;
        eligible[t * m + i] = 1;
        int better = 0;
        for (int j = 0; j < n && better < top_n; ++j)
          if (j != target && !rated[j] && scores[j] >= scores[target]) ++better;
        hits[t * m + i] = better < top_n;
      }
      for (std::size_t p = idx.row_start[i]; p < idx.row_start[i + 1]; ++p) rated[idx.col_of[p]] = 0;
    }
  }
  std::vector<double> out(n_targets, 0.0);
  for (std::size_t t = 0; t < n_targets; ++t) {
    double h = 0.0, e = 0.0;
    for (int i = 0; i < m; ++i) {
      h += hits[t * m + i];
      e += eligible[t * m + i];
    }
    out[t] = e > 0 ? h / e : NAN;
  }
  return out;
}

}  // namespace cfpoison
