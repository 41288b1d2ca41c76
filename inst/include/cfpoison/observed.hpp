// The observed-entry layout shared by every learner and attack.
//
// Ratings are stored as explicit (row, column) positions, never inferred from
// non-zero values: after the paper's shift of 1..5 stars to [-2, 2] (Section 5)
// a 3-star rating is an observed 0.
//
// Rows are users: the m normal users first, then (when an attack is fitted)
// the m' fake users, so the fake block is the tail of the by-row arrays and
// its values can be rewritten in place while the support stays fixed.
// Values live in one vector in by-row order; the by-column view stores
// positions into it, so a value is written once and seen from both sides.
//
// Also here: the visitors of one row's or one column's entries and the Gram
// matrices built from them, which every ridge system (learners, Hessian
// blocks, Appendix B) shares.
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "linalg.hpp"

namespace cfpoison {

// Ratings in by-row order: entry e is user user[e] (0-based; for a fake
// block, among the fake users) rating item[e] with value[e], sorted by user
// and then item, as a cf_ratings is.
struct Triplets {
  std::vector<int> user;
  std::vector<int> item;
  std::vector<double> value;

  bool same_support(const Triplets& other) const { return user == other.user && item == other.item; }
};

struct ObservedIndex {
  int n_rows = 0;
  int n_cols = 0;
  // By row (CSR): entries of row i are positions row_start[i] .. row_start[i + 1] - 1.
  std::vector<std::size_t> row_start;
  std::vector<int> col_of;  // column of each position
  // By column (CSC): entries of column j are col_start[j] .. col_start[j + 1] - 1.
  std::vector<std::size_t> col_start;
  std::vector<int> row_of_col_entry;        // row of each by-column entry
  std::vector<std::size_t> pos_of_col_entry;  // its position in by-row order

  std::size_t n_observed() const { return col_of.size(); }
};

// Checks that the pair (row, col) follows (prev_row, prev_col) in by-row
// order: sorted by row, then column, and not the same pair twice (it would
// count one rating twice in Eq. 2). Rows and columns are 0-based, reported
// 1-based.
inline void check_pair_follows(const int prev_row, const int prev_col, const int row, const int col) {
  if (row > prev_row || (row == prev_row && col > prev_col)) return;
  if (row == prev_row && col == prev_col)
    throw std::invalid_argument("duplicated (row, column) pair at row " + std::to_string(row + 1) + ", column " +
                                std::to_string(col + 1));
  throw std::invalid_argument("ratings must be sorted by user, then item, as a cf_ratings is");
}

// Builds the index of 0-based (row, col) pairs sorted by row, then column (a
// cf_ratings' order, in which every caller holds its ratings), so that the
// by-row order is the input order and the values need no reordering. The
// order is checked, not assumed (check_pair_follows()), and so is every
// index against the bounds.
// One pass, no sort and no permutation: at the MovieLens-20M shape the
// sorting version allocated 0.3 GB more per index, and an attack builds one
// per learner. The row pointers are counted in that pass too, not carried
// by cf_ratings: carried ones would need the same pass to be trusted (and
// it counts the columns anyway), so they would save nothing.
inline ObservedIndex build_index(const int n_rows, const int n_cols, const int* rows, const int* cols,
                                 const std::size_t nnz) {
  ObservedIndex idx;
  idx.n_rows = n_rows;
  idx.n_cols = n_cols;
  idx.row_start.assign(static_cast<std::size_t>(n_rows) + 1, 0);
  idx.col_start.assign(static_cast<std::size_t>(n_cols) + 1, 0);
  for (std::size_t e = 0; e < nnz; ++e) {
    const int i = rows[e], j = cols[e];
    if (i < 0 || i >= n_rows || j < 0 || j >= n_cols) throw std::out_of_range("rating index outside the matrix");
    if (e > 0) check_pair_follows(rows[e - 1], cols[e - 1], i, j);
    ++idx.row_start[static_cast<std::size_t>(i) + 1];
    ++idx.col_start[static_cast<std::size_t>(j) + 1];
  }
  for (int i = 0; i < n_rows; ++i) idx.row_start[i + 1] += idx.row_start[i];
  for (int j = 0; j < n_cols; ++j) idx.col_start[j + 1] += idx.col_start[j];
  idx.col_of.assign(cols, cols + nnz);
  // By-column view over the by-row positions (rows ascend within each column).
  idx.row_of_col_entry.resize(nnz);
  idx.pos_of_col_entry.resize(nnz);
  std::vector<std::size_t> next(idx.col_start.begin(), idx.col_start.end() - 1);
  for (std::size_t p = 0; p < nnz; ++p) {
    const std::size_t q = next[cols[p]]++;
    idx.row_of_col_entry[q] = rows[p];
    idx.pos_of_col_entry[q] = p;
  }
  return idx;
}

// How many entries ahead a prefetching visit asks for the other side's
// factor (see RowVisitor): far enough to hide a miss behind the work on the
// entries between, near enough that the line is still cached when it is
// read (16 was no faster at the MovieLens-20M shape).
constexpr std::size_t kPrefetchDistance = 8;

// Factors up to this size sit mostly in a core's L2 cache (512 KiB on this
// project's AMD EPYC), and prefetching them showed no gain: on
// `movielens_small()` at rank 10 the item factors take 725 KB, the users'
// 54 KB. At the MovieLens-20M shape (2.1 and 11 MB) it made sweeps 20% faster.
constexpr std::size_t kPrefetchBytes = std::size_t{1} << 20;

// Asks the cache for column j of `factors` (its k values may straddle two lines).
inline void prefetch_column(const arma::mat& factors, const int j) {
  const double* column = factors.colptr(j);
  __builtin_prefetch(column);
  __builtin_prefetch(column + factors.n_rows - 1);
}

// Visits the entries of one row (user) or one column (item): f(other, value),
// or with_positions: f(other, value, position), the entry's position in by-row
// order, which indexes per-entry data kept beside the values (IRLS weights).
//
// A Prefetch visitor (prefetching()) also asks for the factor, in `ahead`
// (the other side's factors), of the entry kPrefetchDistance positions on: a
// ridge system reads each entry's factor once, from a place in memory the
// hardware cannot predict (at MovieLens-20M's size a cache miss each). It is
// a type of its own so that a visit that does not prefetch runs the plain
// loop, with no test per entry.
template <bool Prefetch = false>
struct RowVisitor {
  const ObservedIndex& idx;
  const std::vector<double>& values;
  const arma::mat* ahead = nullptr;
  int count() const { return idx.n_rows; }
  int size(const int i) const { return static_cast<int>(idx.row_start[i + 1] - idx.row_start[i]); }
  template <class F>
  void with_positions(const int i, F&& f) const {
    const std::size_t end = idx.row_start[i + 1];
    std::size_t p = idx.row_start[i];
    if constexpr (Prefetch) {
      for (; p + kPrefetchDistance < end; ++p) {
        prefetch_column(*ahead, idx.col_of[p + kPrefetchDistance]);
        f(idx.col_of[p], values[p], p);
      }
    }
    for (; p < end; ++p) f(idx.col_of[p], values[p], p);
  }
  template <class F>
  void operator()(const int i, F&& f) const {
    with_positions(i, [&](const int o, const double value, std::size_t) { f(o, value); });
  }
};
using RowEntries = RowVisitor<false>;

// A column's values are gathered from the by-row vector through
// pos_of_col_entry, one cache miss each once the ratings outgrow the cache;
// a fit that visits every column once per sweep reads them in sequence from
// `by_column` instead (in_column_order(), made once per fit), when given.
template <bool Prefetch = false>
struct ColVisitor {
  const ObservedIndex& idx;
  const std::vector<double>& values;
  const std::vector<double>* by_column = nullptr;
  const arma::mat* ahead = nullptr;  // as for RowVisitor
  int count() const { return idx.n_cols; }
  int size(const int j) const { return static_cast<int>(idx.col_start[j + 1] - idx.col_start[j]); }
  template <class F>
  void with_positions(const int j, F&& f) const {
    const std::size_t end = idx.col_start[j + 1];
    std::size_t q = idx.col_start[j];
    if constexpr (Prefetch) {
      for (; q + kPrefetchDistance < end; ++q) {
        prefetch_column(*ahead, idx.row_of_col_entry[q + kPrefetchDistance]);
        visit(q, f);
      }
    }
    for (; q < end; ++q) visit(q, f);
  }
  template <class F>
  void operator()(const int j, F&& f) const {
    with_positions(j, [&](const int o, const double value, std::size_t) { f(o, value); });
  }

 private:
  template <class F>
  void visit(const std::size_t q, F& f) const {
    const std::size_t p = idx.pos_of_col_entry[q];
    f(idx.row_of_col_entry[q], by_column != nullptr ? (*by_column)[q] : values[p], p);
  }
};
using ColEntries = ColVisitor<false>;

// The same visits, prefetching `other`'s columns (see RowVisitor).
inline RowVisitor<true> prefetching(const RowEntries& entries, const arma::mat& other) {
  return {entries.idx, entries.values, &other};
}
inline ColVisitor<true> prefetching(const ColEntries& entries, const arma::mat& other) {
  return {entries.idx, entries.values, entries.by_column, &other};
}

// Per-entry data of `idx` (values, loss terms), given in its by-row order,
// in its by-column order (see ColEntries); empty stays empty.
inline std::vector<double> in_column_order(const ObservedIndex& idx, const std::vector<double>& by_row) {
  std::vector<double> out(by_row.size());
  for (std::size_t q = 0; q < out.size(); ++q) out[q] = by_row[idx.pos_of_col_entry[q]];
  return out;
}

// Per-entry weights of the ridge systems, looked up by by-row position: 1 for
// Eq. 2's squared loss, IRLS weights for the Huber loss. The squared-loss
// instantiation multiplies by the constant 1.0, which the compiler removes, so
// that path costs and computes exactly what the unweighted solve did.
struct UnitWeights {
  double operator()(std::size_t) const { return 1.0; }
};

struct EntryWeights {
  const std::vector<double>& w;  // by-row order, like the values
  double operator()(const std::size_t p) const { return w[p]; }
};

// A ridge on a Gram matrix's diagonal: one value for every coordinate (Eq. 2),
// or one per coordinate (a biased model's bias has a penalty of its own).
inline double ridge_at(const double ridge, int) { return ridge; }
inline double ridge_at(const std::vector<double>& ridge, const int c) { return ridge[static_cast<std::size_t>(c)]; }

// The ridge's value when it is the same on every coordinate, else -1.
inline double uniform_ridge(const double ridge) { return ridge; }
inline double uniform_ridge(const std::vector<double>& ridge) {
  for (const double r : ridge)
    if (r != ridge.front()) return -1.0;
  return ridge.empty() ? -1.0 : ridge.front();
}

// rhs += w r f: one entry's term of a ridge system's right-hand side, `weighted`
// = w r and f the other side's factor (k values).
// (`simd`: rhs and f never overlap, which the compiler cannot see.)
inline void add_rhs_term(double* rhs, const double weighted, const double* f, const int k) {
#pragma omp simd
  for (int c = 0; c < k; ++c) rhs[c] += weighted * f[c];
}

// gram = sum over the entries of target t of w f f' + diag(ridge), f the other
// side's factors and w the entry's weight (k x k, column-major; only its
// lower triangle is meaningful), and, when `rhs` is given, rhs = sum of w r f
// over the same entries (r the rating): a ridge system's both sides from one
// pass over the entries, whose factors are scattered over memory (at
// MovieLens-20M's size each one a cache miss).
//
// The rank-one updates are bound by loads and stores of the Gram matrix, not
// by their multiplications, so they are applied four entries per pass over it
// (1.5x faster for k = 5..20 at R's -O2). Each coordinate still adds the
// entries' terms one at a time in entry order: the result is bitwise the one
// of a pass per entry.
template <class Entries, class Weights = UnitWeights, class Ridge = double>
void gram_matrix(const Entries& entries, const int t, const arma::mat& other, const Ridge& ridge, double* gram,
                 const Weights& weight = Weights{}, double* rhs = nullptr) {
  const int k = static_cast<int>(other.n_rows);
  std::fill(gram, gram + static_cast<std::size_t>(k) * k, 0.0);
  if (rhs != nullptr) std::fill(rhs, rhs + k, 0.0);
  // Only the lower triangle is summed: every consumer factors the matrix by
  // cholesky_factor(), which reads nothing else. Each column starts at an even
  // row, so that pairs of rows stay aligned for the vector unit.
  const auto lower_from = [](const int c) { return c & ~1; };
  constexpr int batch = 4;
  const double* f[batch];
  double w[batch];
  int held = 0;
  const auto add_held = [&]() {
    if (held == batch) {
      for (int c = 0; c < k; ++c) {
        const double c0 = w[0] * f[0][c], c1 = w[1] * f[1][c], c2 = w[2] * f[2][c], c3 = w[3] * f[3][c];
        double* column = gram + static_cast<std::size_t>(c) * k;
#pragma omp simd
        for (int r = lower_from(c); r < k; ++r)
          column[r] = (((column[r] + f[0][r] * c0) + f[1][r] * c1) + f[2][r] * c2) + f[3][r] * c3;
      }
    } else {
      for (int e = 0; e < held; ++e) {
        for (int c = 0; c < k; ++c) {
          const double vc = w[e] * f[e][c];
          double* column = gram + static_cast<std::size_t>(c) * k;
#pragma omp simd
          for (int r = lower_from(c); r < k; ++r) column[r] += f[e][r] * vc;
        }
      }
    }
    held = 0;
  };
  entries.with_positions(t, [&](const int o, const double value, const std::size_t p) {
    f[held] = other.colptr(o);
    w[held] = weight(p);
    if (rhs != nullptr) add_rhs_term(rhs, w[held] * value, f[held], k);
    if (++held == batch) add_held();
  });
  add_held();
  for (int c = 0; c < k; ++c) gram[c + c * k] += ridge_at(ridge, c);
}

}  // namespace cfpoison
