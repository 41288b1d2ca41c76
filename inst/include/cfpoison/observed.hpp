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
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace cfpoison {

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

// Builds the index from 0-based (row, col) pairs in any order. `order` receives,
// for each by-row position, the index of the input pair stored there, so callers
// can lay out the values to match. Duplicated pairs are rejected: they would
// count one rating twice in Eq. 2.
inline ObservedIndex build_index(int n_rows, int n_cols, const int* rows, const int* cols,
                                 std::size_t nnz, std::vector<std::size_t>& order) {
  ObservedIndex idx;
  idx.n_rows = n_rows;
  idx.n_cols = n_cols;

  // Counting sort by row, then by column within each row (stable two-pass sort:
  // first by column, then by row).
  std::vector<std::size_t> by_col(nnz);
  std::vector<std::size_t> col_count(static_cast<std::size_t>(n_cols) + 1, 0);
  for (std::size_t e = 0; e < nnz; ++e) {
    if (rows[e] < 0 || rows[e] >= n_rows || cols[e] < 0 || cols[e] >= n_cols)
      throw std::out_of_range("rating index outside the matrix");
    ++col_count[static_cast<std::size_t>(cols[e]) + 1];
  }
  for (int j = 0; j < n_cols; ++j) col_count[j + 1] += col_count[j];
  {
    std::vector<std::size_t> next(col_count.begin(), col_count.end() - 1);
    for (std::size_t e = 0; e < nnz; ++e) by_col[next[cols[e]]++] = e;
  }
  idx.row_start.assign(static_cast<std::size_t>(n_rows) + 1, 0);
  for (std::size_t e = 0; e < nnz; ++e) ++idx.row_start[static_cast<std::size_t>(rows[e]) + 1];
  for (int i = 0; i < n_rows; ++i) idx.row_start[i + 1] += idx.row_start[i];
  order.assign(nnz, 0);
  idx.col_of.assign(nnz, 0);
  {
    std::vector<std::size_t> next(idx.row_start.begin(), idx.row_start.end() - 1);
    for (const std::size_t e : by_col) {
      const std::size_t p = next[rows[e]]++;
      order[p] = e;
      idx.col_of[p] = cols[e];
    }
  }
  for (int i = 0; i < n_rows; ++i) {
    for (std::size_t p = idx.row_start[i] + 1; p < idx.row_start[i + 1]; ++p) {
      if (idx.col_of[p] == idx.col_of[p - 1])
        throw std::invalid_argument("duplicated (row, column) pair at row " + std::to_string(i + 1) +
                                    ", column " + std::to_string(idx.col_of[p] + 1));
    }
  }

  // By-column view over the by-row positions (rows ascend within each column).
  idx.col_start = col_count;
  idx.row_of_col_entry.assign(nnz, 0);
  idx.pos_of_col_entry.assign(nnz, 0);
  std::vector<std::size_t> next(idx.col_start.begin(), idx.col_start.end() - 1);
  for (int i = 0; i < n_rows; ++i) {
    for (std::size_t p = idx.row_start[i]; p < idx.row_start[i + 1]; ++p) {
      const std::size_t q = next[idx.col_of[p]]++;
      idx.row_of_col_entry[q] = i;
      idx.pos_of_col_entry[q] = p;
    }
  }
  return idx;
}

// Reorders input values into the by-row layout of an index built with `order`.
inline std::vector<double> values_in_row_order(const double* values,
                                               const std::vector<std::size_t>& order) {
  std::vector<double> out(order.size());
  for (std::size_t p = 0; p < order.size(); ++p) out[p] = values[order[p]];
  return out;
}

}  // namespace cfpoison
