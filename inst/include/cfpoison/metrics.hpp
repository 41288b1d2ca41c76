// Metrics of an attack's effect that need every (user, item) prediction,
// computed one user at a time so no m x n matrix is formed.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <vector>

#include "linalg.hpp"
#include "observed.hpp"

namespace cfpoison {

// Hit ratio at N of each target item: among the normal users who have not
// rated it, the share whose top-N list of unrated items (by predicted rating)
// contains it. P: k x m (a column per user), Q: n x k (a column per factor).
// NaN for a target every user rated.
//
// Ties count against the target: it is a hit when fewer than N other unrated
// items score at least as high. Equivalently, with x_(N+1) the (N+1)-th
// largest score among all the user's unrated items (the target among them),
// it is a hit when its score exceeds x_(N+1), or when the user has at most N
// unrated items. So one partial selection (a heap of N + 1) per user serves
// every target: O(n k) per user for the scores, O(n) memory per thread. Users are
// independent, so the result does not depend on the number of threads.
// `after_batch` runs on the calling thread between batches of users (the R
// glue checks for interrupts there).
inline std::vector<double> hit_ratio(const ObservedIndex& idx, const arma::mat& P, const arma::mat& Q,
                                     const std::vector<int>& targets, const int top_n, const int threads,
                                     const std::function<void()>& after_batch = {}) {
  const int m = idx.n_rows;
  const int n = idx.n_cols;
  const int k = static_cast<int>(P.n_rows);
  if (static_cast<int>(P.n_cols) != m || static_cast<int>(Q.n_rows) != n || static_cast<int>(Q.n_cols) != k)
    throw std::invalid_argument("the factors do not match the ratings' users and items");
  if (top_n < 1) throw std::invalid_argument("top_n must be 1 or more");
  for (const int target : targets)
    if (target < 0 || target >= n) throw std::out_of_range("target index out of range");
  const std::size_t n_targets = targets.size();
  std::vector<int> hits(n_targets, 0), eligible(n_targets, 0);
  const std::size_t heap_size = static_cast<std::size_t>(top_n) + 1;
  const int batch = 1024;
  const int chunk = 512;
  for (int first = 0; first < m; first += batch) {
    const int last = std::min(m, first + batch);
#pragma omp parallel num_threads(threads)
    {
      std::vector<double> scores(n), top;
      std::vector<char> rated(n, 0);
      top.reserve(heap_size);
      std::vector<int> my_hits(n_targets, 0), my_eligible(n_targets, 0);
#pragma omp for schedule(dynamic, 16) nowait
      for (int i = first; i < last; ++i) {
        for (std::size_t e = idx.row_start[i]; e < idx.row_start[i + 1]; ++e) rated[idx.col_of[e]] = 1;
        // x_(N+1), the (N+1)-th largest unrated score (none with N or fewer):
        // the least of a min-heap of the N + 1 largest seen. Most scores fail
        // the first comparison, so this costs little more than one pass. The
        // scores are computed a chunk of items at a time, factor by factor:
        // the chunk stays in cache and the inner loop vectorizes.
        const double* p = P.colptr(i);
        double* const score = scores.data();
        top.clear();
        for (int a = 0; a < n; a += chunk) {
          const int b = std::min(n, a + chunk);
          std::fill(scores.begin() + a, scores.begin() + b, 0.0);
          for (int c = 0; c < k; ++c) {
            const double pc = p[c];
            const double* q = Q.colptr(c);
            // R builds with -O2, which vectorizes only loops of known length.
#pragma omp simd
            for (int j = a; j < b; ++j) score[j] += pc * q[j];
          }
          for (int j = a; j < b; ++j) {
            if (rated[j]) continue;
            if (top.size() < heap_size) {
              top.push_back(scores[j]);
              std::push_heap(top.begin(), top.end(), std::greater<double>());
            } else if (scores[j] > top.front()) {
              std::pop_heap(top.begin(), top.end(), std::greater<double>());
              top.back() = scores[j];
              std::push_heap(top.begin(), top.end(), std::greater<double>());
            }
          }
        }
        const bool short_list = top.size() < heap_size;
        const double cutoff = short_list ? 0.0 : top.front();
        for (std::size_t t = 0; t < n_targets; ++t) {
          const int target = targets[t];
          if (rated[target]) continue;
          ++my_eligible[t];
          if (short_list || scores[target] > cutoff) ++my_hits[t];
        }
        for (std::size_t e = idx.row_start[i]; e < idx.row_start[i + 1]; ++e) rated[idx.col_of[e]] = 0;
      }
      // Counts are integers: their sum is the same in any order.
#pragma omp critical
      for (std::size_t t = 0; t < n_targets; ++t) {
        hits[t] += my_hits[t];
        eligible[t] += my_eligible[t];
      }
    }
    if (after_batch) after_batch();
  }
  std::vector<double> out(n_targets, NAN);
  for (std::size_t t = 0; t < n_targets; ++t)
    if (eligible[t] > 0) out[t] = static_cast<double>(hits[t]) / eligible[t];
  return out;
}

}  // namespace cfpoison
