# The hit ratio by partial selection, one user at a time, against the dense
# m x n computation it replaces.

# The share of users who have not rated each target whose top-N unrated
# items hold it; ties count against the target.
dense_hit_ratio <- function(r, u, v, targets, top_n) {
  x <- u %*% t(v)
  rated <- matrix(FALSE, nrow(u), nrow(v))
  rated[cbind(r$user, r$item)] <- TRUE
  vapply(targets, function(target) {
    hits <- vapply(which(!rated[, target]), function(i) {
      others <- x[i, !rated[i, ] & seq_len(nrow(v)) != target]
      sum(others >= x[i, target]) < top_n
    }, logical(1))
    if (length(hits) == 0L) NaN else mean(hits)
  }, numeric(1))
}

test_that("hit ratios equal the dense computation for several targets and list lengths", {
  r <- simulate_ratings(80, 50, rank = 3, density = 0.3, seed = 8)
  set.seed(1)
  fit <- fit_cf(r, learner_als(rank = 3, lambda_u = 1))
  targets <- c(2L, 17L, 40L, 50L)
  for (top_n in c(1L, 5L, 10L)) {
    got <- cfpoison:::.hit_ratio(cfpoison:::core_ratings(r), fit$u, fit$v, targets - 1L, top_n, 1L)
    expected <- dense_hit_ratio(r, fit$u, fit$v, targets, top_n)
    expect_equal(got, expected)
    # Neither all hits nor none, so the comparison can tell them apart.
    expect_true(any(got > 0 & got < 1))
  }
  expect_identical(
    cfpoison:::.hit_ratio(cfpoison:::core_ratings(r), fit$u, fit$v, targets - 1L, 5L, 2L),
    cfpoison:::.hit_ratio(cfpoison:::core_ratings(r), fit$u, fit$v, targets - 1L, 5L, 1L)
  )
})

test_that("ties at the cutoff count against the target, and short lists hold every item", {
  # Rank 1 with item factors 1, 1, 1, 0.5, 2: items 1-3 tie for every user.
  r <- as_ratings(data.frame(user = c(1, 2, 3), item = c(5, 5, 4), rating = 1), items = 1:5)
  u <- matrix(c(1, 2, 3), 3, 1)
  v <- matrix(c(1, 1, 1, 0.5, 2), 5, 1)
  core <- cfpoison:::core_ratings(r)
  # Top 2 of users 1 and 2 (unrated 1-4): two items tie with item 1: a miss;
  # user 3 (unrated 1, 2, 3, 5) has item 5 above the ties: a miss too.
  expect_equal(cfpoison:::.hit_ratio(core, u, v, 0L, 2L, 1L), 0)
  # Top 3: users 1 and 2 rank item 1 within the three tied items (a hit);
  # user 3 has item 5 and two ties above it (a miss).
  expect_equal(cfpoison:::.hit_ratio(core, u, v, 0L, 3L, 1L), 2 / 3)
  expect_equal(cfpoison:::.hit_ratio(core, u, v, 0:4, 3L, 1L), dense_hit_ratio(r, u, v, 1:5, 3L))
  # A list as long as the unrated items holds them all.
  expect_equal(cfpoison:::.hit_ratio(core, u, v, 3L, 4L, 1L), 1)
  # Item 5 is rated by two users; user 3 has it on top.
  expect_equal(cfpoison:::.hit_ratio(core, u, v, 4L, 1L, 1L), 1)
})

test_that("a target every user rated has no hit ratio, and bad indices are errors", {
  r <- as_ratings(data.frame(user = c(1, 2), item = c(1, 1), rating = 1), items = 1:3)
  u <- matrix(1, 2, 1)
  v <- matrix(c(1, 2, 3), 3, 1)
  core <- cfpoison:::core_ratings(r)
  expect_identical(cfpoison:::.hit_ratio(core, u, v, 0L, 1L, 1L), NaN)
  expect_error(cfpoison:::.hit_ratio(core, u, v, 3L, 1L, 1L), "out of range")
  expect_error(cfpoison:::.hit_ratio(core, u, v, 0L, 0L, 1L), "top_n")
})
