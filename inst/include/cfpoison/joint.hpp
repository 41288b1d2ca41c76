// The joint data an attack refits: the normal users' ratings, then a fake
// block whose support the search changes (a bagged learner's bags hold one
// each, bagged.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <utility>
#include <vector>

#include "observed.hpp"

namespace cfpoison {

// Normal rows fixed, then a fake block: the index is laid out again only when
// the block's support changes; otherwise the fake values, the tail of the
// by-row values, are rewritten in place.
//
// A new support keeps the normal users' part of the index: their by-row
// entries come first and stay where they are, and in each column their
// entries precede the fake users' (rows ascend within a column). So the
// by-column view is the normal entries of each column, moved in place to the
// column's new extent, followed by the block's, and the result is bitwise the
// index build_index() makes of all the ratings, without building it again
// each time the search changes the support, and without keeping copies of the
// real users' rows, columns and values for it (the rows and columns were 0.8
// GB of the attack's peak memory at the MovieLens-20M shape).
//
// The values are also kept in by-column order (by_column(), what
// in_column_order() gives), for the fits' item steps (see ColVisitor), and
// the fake ones rewritten there too. Large buffers are kept, not allocated
// anew per refit or per support: on the 2-core machine of inst/bench/scale.R,
// allocating and writing 160 MB took 0.55 s when idle (0.7 s under load) and
// writing it again 0.01 s (each fresh page faults in, 13-17 us), so that the
// by-column values made per refit cost over half a second of each refit at
// the MovieLens-20M shape.
class JointData {
 public:
  JointData() = default;
  JointData(std::vector<int> rows, std::vector<int> cols, std::vector<double> values, const int n_normal,
            const int n_items, const int n_fake)
      : n_normal_(n_normal),
        n_items_(n_items),
        n_fake_(n_fake),
        n_normal_entries_(values.size()),
        values_(std::move(values)) {
    if (rows.size() != cols.size() || rows.size() != n_normal_entries_)
      throw std::invalid_argument("the ratings' rows, columns and values differ in length");
    idx_ = build_index(n_normal_ + n_fake_, n_items_, rows.data(), cols.data(), rows.size());
    normal_col_count_.resize(n_items_);
    for (int j = 0; j < n_items_; ++j) normal_col_count_[j] = idx_.col_start[j + 1] - idx_.col_start[j];
    by_column_ = in_column_order(idx_, values_);
  }

  int n_normal() const { return n_normal_; }
  int n_fake() const { return n_fake_; }
  const ObservedIndex& idx() const { return idx_; }
  const std::vector<double>& values() const { return values_; }
  const std::vector<double>& by_column() const { return by_column_; }

  // Lays out the joint data for `fake` (users among this data's fake rows,
  // sorted by user, then item).
  void set_block(const Triplets& fake) {
    if (!laid_out_ || !fake.same_support(support_)) {
      lay_out(fake);
      support_.user = fake.user;
      support_.item = fake.item;
      laid_out_ = true;
    }
    std::copy(fake.value.begin(), fake.value.end(), values_.begin() + static_cast<std::ptrdiff_t>(n_normal_entries_));
    for (std::size_t e = 0; e < fake.value.size(); ++e) by_column_[block_col_pos_[e]] = fake.value[e];
  }

 private:
  void lay_out(const Triplets& fake) {
    if (idx_.row_start.empty()) throw std::logic_error("JointData: set_block() before the ratings were given");
    const std::size_t n_block = fake.user.size();
    if (fake.item.size() != n_block || fake.value.size() != n_block)
      throw std::invalid_argument("the fake block's users, items and values differ in length");
    // What build_index() checks: entries in range, sorted by user and item, no pair twice.
    for (std::size_t e = 0; e < n_block; ++e) {
      const int f = fake.user[e], j = fake.item[e];
      if (f < 0 || f >= n_fake_ || j < 0 || j >= n_items_) throw std::out_of_range("rating index outside the matrix");
      if (e > 0) check_pair_follows(n_normal_ + fake.user[e - 1], fake.item[e - 1], n_normal_ + f, j);
    }
    const std::size_t n_base = n_normal_entries_;
    const std::size_t n_total = n_base + n_block;
    // By row: the fake rows' extents and columns after the normal entries.
    for (int f = 0; f < n_fake_; ++f) idx_.row_start[n_normal_ + f + 1] = 0;
    for (const int f : fake.user) ++idx_.row_start[static_cast<std::size_t>(n_normal_) + f + 1];
    for (int f = 0; f < n_fake_; ++f) idx_.row_start[n_normal_ + f + 1] += idx_.row_start[n_normal_ + f];
    idx_.col_of.resize(n_total);
    std::copy(fake.item.begin(), fake.item.end(), idx_.col_of.begin() + static_cast<std::ptrdiff_t>(n_base));
    // By column: each column's normal entries (the first normal_col_count_[j]
    // of its old extent) move to the start of its new extent, then the
    // block's follow in user order.
    std::vector<std::size_t> col_start(static_cast<std::size_t>(n_items_) + 1, 0);
    for (const int j : fake.item) ++col_start[static_cast<std::size_t>(j) + 1];
    for (int j = 0; j < n_items_; ++j) col_start[j + 1] += col_start[j] + normal_col_count_[j];
    if (n_total > by_column_.size()) resize_by_column(n_total);
    move_normal_entries(col_start);
    if (n_total < by_column_.size()) resize_by_column(n_total);
    block_col_pos_.resize(n_block);
    std::vector<std::size_t> next(n_items_);
    for (int j = 0; j < n_items_; ++j) next[j] = col_start[j] + normal_col_count_[j];
    for (std::size_t e = 0; e < n_block; ++e) {
      const std::size_t q = next[fake.item[e]]++;
      idx_.row_of_col_entry[q] = n_normal_ + fake.user[e];
      idx_.pos_of_col_entry[q] = n_base + e;
      block_col_pos_[e] = q;
    }
    idx_.col_start = std::move(col_start);
    values_.resize(n_total);
  }

  // Moves every column's normal entries (rows, by-row positions, values) from
  // its extent in idx_.col_start to the one starting at to[j], in place, each
  // column wholly left or right. Those moving left go first, left to right:
  // each lands after the old entries of every earlier column still to move
  // (one moving right, whose new extent lies before this one's) and before
  // those of every later column (it ends before its own old end). Those
  // moving right go next, right to left: each lands after the old entries of
  // every earlier column (it starts after its own old start) and before the
  // new extent of every later one, which has moved already.
  void move_normal_entries(const std::vector<std::size_t>& to) {
    const auto move_column = [&](const int j) {
      const std::size_t from = idx_.col_start[j], count = normal_col_count_[j];
      const auto shift = [&](auto& v) {
        const auto first = v.begin() + static_cast<std::ptrdiff_t>(from);
        const auto last = first + static_cast<std::ptrdiff_t>(count);
        if (to[j] < from) {
          std::copy(first, last, v.begin() + static_cast<std::ptrdiff_t>(to[j]));
        } else {
          std::copy_backward(first, last, v.begin() + static_cast<std::ptrdiff_t>(to[j] + count));
        }
      };
      shift(idx_.row_of_col_entry);
      shift(idx_.pos_of_col_entry);
      shift(by_column_);
    };
    for (int j = 0; j < n_items_; ++j)
      if (to[j] < idx_.col_start[j]) move_column(j);
    for (int j = n_items_ - 1; j >= 0; --j)
      if (to[j] > idx_.col_start[j]) move_column(j);
  }

  void resize_by_column(const std::size_t n) {
    idx_.row_of_col_entry.resize(n);
    idx_.pos_of_col_entry.resize(n);
    by_column_.resize(n);
  }

  int n_normal_ = 0;
  int n_items_ = 0;
  int n_fake_ = 0;
  std::size_t n_normal_entries_ = 0;  // the real users' ratings, the head of values_ (declared before it)
  ObservedIndex idx_;
  std::vector<std::size_t> normal_col_count_;  // per column: its normal entries
  std::vector<double> values_;
  std::vector<double> by_column_;          // values_ in the index's by-column order
  std::vector<std::size_t> block_col_pos_;  // per block entry: its by-column position
  Triplets support_;
  bool laid_out_ = false;
};

}  // namespace cfpoison
