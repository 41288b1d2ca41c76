// Shilling-detection features, computed without an m x m similarity matrix
// or a dense m x n rating matrix:
//
// * Profile features (RDMA, WDMA, WDA, LengthVar, MeanVar) in one pass.
// * DegSim (Chirita, Nejdl and Zamfir 2005; Burke et al. 2006): a user's mean
//   Pearson similarity to its k nearest neighbours over co-rated items.
// * PCA variable selection (Mehta and Nejdl 2009; SDLib's PCASelectUsers):
//   each user's sum of squared loadings on the top principal components of
//   the item-standardized rating matrix, by subspace iteration on sparse
//   products.
//
// Rows of the ObservedIndex are users (normal then fake), columns are items.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <vector>

#include "linalg.hpp"
#include "observed.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace cfpoison {

// Per-user profile features (N_u: user u's number of ratings, NR_i: item i's,
// rbar_i: item i's mean rating, all over the rows of idx, real and fake):
//   RDMA_u = (1/N_u) sum_{i in I_u} |r_ui - rbar_i| / NR_i      (Chirita, Nejdl and Zamfir 2005)
//   WDMA_u = (1/N_u) sum_{i in I_u} |r_ui - rbar_i| / NR_i^2    (Burke et al. 2006)
//   WDA_u  = sum_{i in I_u} |r_ui - rbar_i| / NR_i              (Burke et al. 2006)
//   LengthVar_u = |N_u - mean N| / sum_v (N_v - mean N)^2      (Burke et al. 2006)
//   MeanVar_u = (1/|P_F|) sum_{j in P_F} (r_uj - rbar_j)^2     (Mobasher et al. 2007)
// with P_F the user's ratings farther than r_max_tolerance from r_max. Empty
// profiles (or empty P_F) give 0; equal lengths give LengthVar 0. O(ratings).
struct ProfileFeatures {
  std::vector<int> length;
  std::vector<double> rdma, wdma, wda, length_var, mean_var;
};

inline ProfileFeatures profile_features(const ObservedIndex& idx, const std::vector<double>& values, const double r_max,
                                        const double r_max_tolerance) {
  const std::size_t m = static_cast<std::size_t>(idx.n_rows);
  std::vector<double> item_mean(static_cast<std::size_t>(idx.n_cols), 0.0);
  for (int j = 0; j < idx.n_cols; ++j) {
    const std::size_t begin = idx.col_start[j], end = idx.col_start[j + 1];
    if (begin == end) continue;
    double sum = 0.0;
    for (std::size_t q = begin; q < end; ++q) sum += values[idx.pos_of_col_entry[q]];
    item_mean[j] = sum / static_cast<double>(end - begin);
  }
  ProfileFeatures out;
  out.length.assign(m, 0);
  out.rdma.assign(m, 0.0);
  out.wdma.assign(m, 0.0);
  out.wda.assign(m, 0.0);
  out.length_var.assign(m, 0.0);
  out.mean_var.assign(m, 0.0);
  for (std::size_t u = 0; u < m; ++u) {
    const std::size_t begin = idx.row_start[u], end = idx.row_start[u + 1];
    if (begin == end) continue;
    double by_count = 0.0, by_count_sq = 0.0, filler_sq = 0.0;
    int n_filler = 0;
    for (std::size_t p = begin; p < end; ++p) {
      const int item = idx.col_of[p];
      const double n_ratings = static_cast<double>(idx.col_start[item + 1] - idx.col_start[item]);
      const double deviation = values[p] - item_mean[item];
      by_count += std::abs(deviation) / n_ratings;
      by_count_sq += std::abs(deviation) / (n_ratings * n_ratings);
      if (std::abs(values[p] - r_max) > r_max_tolerance) {
        filler_sq += deviation * deviation;
        ++n_filler;
      }
    }
    const double n_u = static_cast<double>(end - begin);
    out.length[u] = static_cast<int>(end - begin);
    out.wda[u] = by_count;
    out.rdma[u] = by_count / n_u;
    out.wdma[u] = by_count_sq / n_u;
    if (n_filler > 0) out.mean_var[u] = filler_sq / n_filler;
  }
  const double mean_length = static_cast<double>(idx.n_observed()) / static_cast<double>(m);
  double spread = 0.0;
  for (const int n_u : out.length) spread += (n_u - mean_length) * (n_u - mean_length);
  if (spread > 0.0) {
    for (std::size_t u = 0; u < m; ++u) out.length_var[u] = std::abs(out.length[u] - mean_length) / spread;
  }
  return out;
}

// Rating minus its user's mean; a difference within rounding of the mean is 0,
// so a rating equal to its user's mean adds nothing to a sum of squares.
inline double deviation_from_mean(const double value, const double mean) {
  const double d = value - mean;
  return std::abs(d) <= 1e-12 * std::abs(mean) ? 0.0 : d;
}

// Each user's mean over its whole profile, and every rating's deviation from
// it in by-column order (the raters' side of the co-rating sums).
struct CenteredRatings {
  std::vector<double> user_mean;
  std::vector<double> by_col;
};

inline CenteredRatings center_by_user(const ObservedIndex& idx, const std::vector<double>& values) {
  CenteredRatings out;
  out.user_mean.assign(static_cast<std::size_t>(idx.n_rows), 0.0);
  for (int u = 0; u < idx.n_rows; ++u) {
    const std::size_t begin = idx.row_start[u], end = idx.row_start[u + 1];
    if (begin == end) continue;
    double sum = 0.0;
    for (std::size_t p = begin; p < end; ++p) sum += values[p];
    out.user_mean[u] = sum / static_cast<double>(end - begin);
  }
  out.by_col.resize(values.size());
  for (int j = 0; j < idx.n_cols; ++j) {
    for (std::size_t q = idx.col_start[j]; q < idx.col_start[j + 1]; ++q)
      out.by_col[q] = deviation_from_mean(values[idx.pos_of_col_entry[q]], out.user_mean[idx.row_of_col_entry[q]]);
  }
  return out;
}

// Sums over the items co-rated by user u and one other user v of x (u's
// deviation from its mean) and y (v's). 32 bytes, two to a cache line: the
// accumulation scatters over users and is bound by memory traffic.
struct alignas(32) CoRatingSums {
  double sum_xx = 0.0;
  double sum_yy = 0.0;
  double sum_xy = 0.0;
  int count = 0;
};

// Pearson similarity over the co-rated items with each user centred on its
// whole-profile mean: collaborative filtering's form (Resnick et al. 1994;
// Breese, Heckerman and Kadie 1998); the DegSim papers leave the means open.
// Undefined when one side's co-rated ratings all equal its mean: 0.
inline double pearson_from_sums(const CoRatingSums& s) {
  if (s.sum_xx == 0.0 || s.sum_yy == 0.0) return 0.0;
  return std::clamp(s.sum_xy / std::sqrt(s.sum_xx * s.sum_yy), -1.0, 1.0);
}

// Per-thread scratch of DegSim: O(m) memory, reset after every user.
struct DegSimScratch {
  std::vector<CoRatingSums> sums;  // indexed by the other user
  std::vector<int> touched;        // users sharing an item with the current one
  std::vector<double> top;         // min-heap of the k largest similarities
  explicit DegSimScratch(const int n_users) : sums(n_users), touched(n_users) {}
};

// DegSim of user u: accumulates the co-rating sums with every user who shares
// an item with u by walking the raters of each of u's items, then averages the
// k largest similarities among users with at least min_corated co-rated items
// (fewer than k such neighbours: their mean; none: 0). Cost: sum over u's
// items of NR_i; nothing for a user with fewer than min_corated ratings, who
// can have no neighbour.
inline double user_degsim(const ObservedIndex& idx, const std::vector<double>& values,
                          const CenteredRatings& centered, const int u, const int k, const int min_corated,
                          DegSimScratch& scratch) {
  if (idx.row_start[u + 1] - idx.row_start[u] < static_cast<std::size_t>(min_corated)) return 0.0;
  // The hot loop works on raw pointers: through the containers the compiler
  // would reload their data pointers after every store.
  CoRatingSums* const sums = scratch.sums.data();
  int* const touched = scratch.touched.data();
  const int* const raters = idx.row_of_col_entry.data();
  const double* const rater_deviation = centered.by_col.data();
  std::size_t n_touched = 0;
  for (std::size_t p = idx.row_start[u]; p < idx.row_start[u + 1]; ++p) {
    const int item = idx.col_of[p];
    const double x = deviation_from_mean(values[p], centered.user_mean[u]);
    const double xx = x * x;
    for (std::size_t q = idx.col_start[item]; q < idx.col_start[item + 1]; ++q) {
      const int v = raters[q];
      if (v == u) continue;
      CoRatingSums& s = sums[v];
      if (s.count == 0) touched[n_touched++] = v;
      const double y = rater_deviation[q];
      s.count += 1;
      s.sum_xx += xx;
      s.sum_yy += y * y;
      s.sum_xy += x * y;
    }
  }
  std::vector<double>& top = scratch.top;
  top.clear();
  const auto by_greater = std::greater<double>();
  for (std::size_t t = 0; t < n_touched; ++t) {
    CoRatingSums& s = sums[touched[t]];
    if (s.count >= min_corated) {
      const double similarity = pearson_from_sums(s);
      if (top.size() < static_cast<std::size_t>(k)) {
        top.push_back(similarity);
        std::push_heap(top.begin(), top.end(), by_greater);
      } else if (similarity > top.front()) {
        std::pop_heap(top.begin(), top.end(), by_greater);
        top.back() = similarity;
        std::push_heap(top.begin(), top.end(), by_greater);
      }
    }
    s = CoRatingSums();
  }
  if (top.empty()) return 0.0;
  // The k largest values are unique whatever the visiting order; summing them
  // sorted makes the mean bit-identical too.
  std::sort(top.begin(), top.end(), by_greater);
  double sum = 0.0;
  for (const double similarity : top) sum += similarity;
  return sum / static_cast<double>(top.size());
}

// DegSim of `users` (0-based rows of idx), in batches of users spread over
// `threads` threads (users are independent, so the result does not depend on
// the thread count). `after_batch(done)` runs on the calling thread between
// batches (the R glue checks for interrupts there). Time O(sum over the users'
// items of NR_i) (all users: O(sum over items of NR_i^2)); memory O(threads m).
inline std::vector<double> degsim(const ObservedIndex& idx, const std::vector<double>& values,
                                  const std::vector<int>& users, const int k, const int min_corated,
                                  const int threads, const std::function<void(std::size_t)>& after_batch) {
  if (k < 1 || min_corated < 1) throw std::invalid_argument("k and min_corated must be 1 or more");
  for (const int u : users)
    if (u < 0 || u >= idx.n_rows) throw std::out_of_range("user index out of range");
  const CenteredRatings centered = center_by_user(idx, values);
  std::vector<DegSimScratch> scratch(static_cast<std::size_t>(threads), DegSimScratch(idx.n_rows));
  std::vector<double> out(users.size(), 0.0);
  const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(users.size());
  const std::ptrdiff_t batch = 256 * static_cast<std::ptrdiff_t>(threads);
  for (std::ptrdiff_t first = 0; first < n; first += batch) {
    const std::ptrdiff_t last = std::min(n, first + batch);
#pragma omp parallel num_threads(threads)
    {
#ifdef _OPENMP
      DegSimScratch& mine = scratch[static_cast<std::size_t>(omp_get_thread_num())];
#else
      DegSimScratch& mine = scratch[0];
#endif
#pragma omp for schedule(dynamic, 1)
      for (std::ptrdiff_t b = first; b < last; ++b) out[b] = user_degsim(idx, values, centered, users[b], k, min_corated, mine);
    }
    if (after_batch) after_batch(static_cast<std::size_t>(last));
  }
  return out;
}

// X_z = (X - 1 mu') D^-1: the users x items rating matrix X with missing
// entries 0, each item column centred on its mean mu_j (over all users,
// missing counted as 0) and divided by its population standard deviation
// (1 / D_j = 0 for a constant column, as SDLib's z-scoring leaves it at 0).
// Products with X_z and X_z' use the sparse X and the rank-one shift in
// factored form. Blocks are stored transposed (b x m, b x n), one contiguous
// column per user or item. Holds references to `idx` and `values`, which must
// outlive it.
class StandardizedRatings {
 public:
  StandardizedRatings(const ObservedIndex& idx, const std::vector<double>& values, const int threads)
      : idx_(idx), values_(values), threads_(threads), values_by_col_(values.size()) {
    for (std::size_t q = 0; q < values.size(); ++q) values_by_col_[q] = values[idx.pos_of_col_entry[q]];
    const double m = static_cast<double>(idx.n_rows);
    col_mean_.zeros(static_cast<arma::uword>(idx.n_cols));
    col_inv_sd_.zeros(static_cast<arma::uword>(idx.n_cols));
    for (int j = 0; j < idx.n_cols; ++j) {
      const std::size_t begin = idx.col_start[j], end = idx.col_start[j + 1];
      if (begin == end) continue;
      // The column is constant exactly when its ratings are all equal and
      // either everyone rated it or the common rating is the missing entries' 0;
      // tested on the ratings, since a rounded variance is rarely exactly 0.
      const double first = values_by_col_[begin];
      bool all_equal = true;
      double sum = 0.0;
      for (std::size_t q = begin; q < end; ++q) {
        sum += values_by_col_[q];
        all_equal = all_equal && values_by_col_[q] == first;
      }
      const double n_missing = m - static_cast<double>(end - begin);
      const double mean = sum / m;
      col_mean_[j] = mean;
      if (all_equal && (n_missing == 0.0 || first == 0.0)) continue;
      // Two-pass variance: observed deviations plus the missing entries' (0 - mean)^2.
      double squares = n_missing * mean * mean;
      for (std::size_t q = begin; q < end; ++q) squares += (values_by_col_[q] - mean) * (values_by_col_[q] - mean);
      col_inv_sd_[j] = 1.0 / std::sqrt(squares / m);
    }
  }

  // (X_z W)' for W' = Wt (b x n): column u is sum_j x_uj w_j / sd_j - sum_j mu_j w_j / sd_j.
  arma::mat times(const arma::mat& Wt) const {
    const arma::mat scaled = Wt.each_row() % col_inv_sd_.t();
    const arma::vec shift = scaled * col_mean_;
    const arma::uword b = Wt.n_rows;
    arma::mat out(b, static_cast<arma::uword>(idx_.n_rows));
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 256)
    for (int u = 0; u < idx_.n_rows; ++u) {
      double* acc = out.colptr(static_cast<arma::uword>(u));
      for (arma::uword c = 0; c < b; ++c) acc[c] = -shift[c];
      for (std::size_t p = idx_.row_start[u]; p < idx_.row_start[u + 1]; ++p) {
        const double x = values_[p];
        const double* w = scaled.colptr(static_cast<arma::uword>(idx_.col_of[p]));
        for (arma::uword c = 0; c < b; ++c) acc[c] += x * w[c];
      }
    }
    return out;
  }

  // (X_z' Q)' for Q' = Qt (b x m): column j is (sum_u x_uj q_u - mu_j sum_u q_u) / sd_j.
  arma::mat times_transpose(const arma::mat& Qt) const {
    const arma::vec total = arma::sum(Qt, 1);
    const arma::uword b = Qt.n_rows;
    arma::mat out(b, static_cast<arma::uword>(idx_.n_cols));
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 256)
    for (int j = 0; j < idx_.n_cols; ++j) {
      double* acc = out.colptr(static_cast<arma::uword>(j));
      for (arma::uword c = 0; c < b; ++c) acc[c] = -col_mean_[j] * total[c];
      for (std::size_t q = idx_.col_start[j]; q < idx_.col_start[j + 1]; ++q) {
        const double x = values_by_col_[q];
        const double* w = Qt.colptr(static_cast<arma::uword>(idx_.row_of_col_entry[q]));
        for (arma::uword c = 0; c < b; ++c) acc[c] += x * w[c];
      }
      for (arma::uword c = 0; c < b; ++c) acc[c] *= col_inv_sd_[j];
    }
    return out;
  }

 private:
  const ObservedIndex& idx_;
  const std::vector<double>& values_;
  const int threads_;
  std::vector<double> values_by_col_;
  arma::vec col_mean_;
  arma::vec col_inv_sd_;
};

struct PcaSelection {
  arma::vec score;            // per user: sum of squared loadings on the top components
  arma::vec singular_values;  // of X_z, the top n_components
  int iterations = 0;
  bool converged = false;
};

// Top left singular vectors of X_z by subspace iteration with Rayleigh-Ritz
// (Halko, Martinsson and Tropp 2011, Alg. 4.3 with re-orthonormalization):
// Q <- orth(X_z X_z' Q) from Q = orth(X_z G) for the start G (n x b, b >=
// n_components; extra columns speed convergence), until the Ritz subspace of
// the top n_components moves by at most `tol` (sqrt of the sum of squared sines
// of the principal angles) between iterations. `after_iteration` runs on the
// calling thread after each iteration.
inline PcaSelection pca_select_users(const StandardizedRatings& Xz, const arma::mat& start, const int n_components,
                                     const int max_iter, const double tol,
                                     const std::function<void()>& after_iteration) {
  PcaSelection res;
  const arma::uword c = static_cast<arma::uword>(n_components);
  arma::mat Q, R;
  arma::qr_econ(Q, R, Xz.times(start.t()).t());
  arma::mat previous;
  for (int it = 1; it <= max_iter; ++it) {
    const arma::mat Zt = Xz.times_transpose(Q.t());  // Q' X_z, b x n
    // Q' X_z = Ub S Vb', so X_z ~ (Q Ub) S Vb' on the span of Q.
    arma::mat Ub, Vb;
    arma::vec s;
    // svd_econ() fails, leaving Ub empty, on non-finite input (ratings so
    // large that their squares overflow).
    if (!arma::svd_econ(Ub, s, Vb, Zt, "left"))
      throw std::runtime_error("the SVD in PCA variable selection failed: are the ratings finite and moderate?");
    const arma::mat ritz = Q * Ub.head_cols(c);
    res.iterations = it;
    res.singular_values = s.head(c);
    // sqrt(sum of squared sines) as the part of the new basis outside the old
    // span: sqrt(c - ||previous' ritz||^2) would lose every angle below ~1e-8.
    if (!previous.is_empty() && arma::norm(ritz - previous * (previous.t() * ritz), "fro") <= tol)
      res.converged = true;
    previous = ritz;
    if (after_iteration) after_iteration();
    if (res.converged) break;
    arma::qr_econ(Q, R, Xz.times(Zt).t());
  }
  res.score = arma::sum(arma::square(previous), 1);
  return res;
}

}  // namespace cfpoison
