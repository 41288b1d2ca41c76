# simulate_ratings() and read_movielens() at scale: the fast paths give what
# the straightforward computations give.

test_that("simulate_ratings() observes the first distinct pairs of R's stream of draws", {
  # The straightforward sampler (unique() over keys in draw order), as
  # simulate_ratings() did it before pairs were deduplicated in C++.
  reference_pairs <- function(n_users, n_items, density, zipf_exponent, seed) {
    set.seed(seed)
    rank <- 3
    stats::rnorm((n_users + n_items) * rank) # the factors come first
    popularity <- seq_len(n_items)^(-zipf_exponent)
    n_ratings <- round(density * n_users * n_items)
    keys <- numeric(0)
    while (length(keys) < n_ratings) {
      draw <- ceiling(1.1 * (n_ratings - length(keys))) + 10
      user <- sample.int(n_users, draw, replace = TRUE)
      item <- sample.int(n_items, draw, replace = TRUE, prob = popularity)
      keys <- unique(c(keys, (user - 1) * n_items + item))
    }
    keys <- sort(keys[seq_len(n_ratings)])
    list(user = as.integer((keys - 1) %/% n_items) + 1L, item = as.integer((keys - 1) %% n_items) + 1L)
  }
  # Zipf over 300 items: R samples them with Walker's alias method; over 40,
  # by inversion. Both draw several batches (popular items saturate).
  for (shape in list(c(400, 300, 0.05, 1), c(60, 40, 0.3, 1.5))) {
    r <- simulate_ratings(shape[1], shape[2], rank = 3, density = shape[3], zipf_exponent = shape[4], seed = 11)
    expected <- reference_pairs(shape[1], shape[2], shape[3], shape[4], seed = 11)
    expect_identical(r$user, expected$user)
    expect_identical(r$item, expected$item)
  }
})

test_that("simulate_ratings() lays its ratings out sorted, without sorting them, from both of its samplers", {
  # At density 0.9 the stream saturates and the pairs left are drawn without
  # replacement in R; the ratings are then never sorted again.
  for (density in c(0.05, 0.9)) {
    r <- simulate_ratings(60, 40, rank = 3, density = density, seed = 2)
    expect_identical(length(r$rating), as.integer(round(density * 60 * 40)))
    expect_identical(cfpoison:::check_ratings(r), r) # sorted by user, then item, one rating per pair
    expect_true(all(r$rating >= -2 & r$rating <= 2))
  }
  # Without noise or clamping the values are the true model's predictions.
  plain <- simulate_ratings(60, 40, rank = 3, density = 0.3, noise_sd = 0, scale = NULL, seed = 2)
  truth <- attr(plain, "truth")
  expect_equal(plain$rating, rowSums(truth$u[plain$user, ] * truth$v[plain$item, ]), tolerance = 1e-12)
  expect_gt(max(abs(plain$rating)), 0)
})

test_that("simulate_ratings()'s user_mean gives the users a shared taste, and 0 keeps the former stream", {
  shape <- list(n_users = 400, n_items = 60, rank = 4, density = 0.3, noise_sd = 0, scale = NULL, seed = 5)
  plain <- do.call(simulate_ratings, shape)
  # user_mean = 0 draws the same numbers as before it existed: the factors
  # as rnorm() with sd rank^(-1/4), then the pairs.
  set.seed(5)
  sd <- 4^(-1 / 4)
  expect_identical(attr(plain, "truth")$u, matrix(stats::rnorm(400 * 4, sd = sd), 400, 4))
  expect_identical(attr(do.call(simulate_ratings, c(shape, user_mean = 0)), "truth"), attr(plain, "truth"))
  # Without a shared taste every item's average over all users is near 0
  # (sd 1 / sqrt(400) = 0.05); with user_mean = 0.5 their spread is
  # about 0.5 * 4^(1/4) = 0.71, and the users' mean factor is 0.5.
  item_averages <- function(r) colMeans(attr(r, "truth")$u %*% t(attr(r, "truth")$v))
  tasted <- do.call(simulate_ratings, c(shape, user_mean = 0.5))
  expect_lt(max(abs(item_averages(plain))), 0.3)
  expect_gt(stats::sd(item_averages(tasted)), 0.45)
  expect_equal(colMeans(attr(tasted, "truth")$u), rep(0.5, 4), tolerance = 0.1)
  expect_identical(tasted$user, plain$user)
  expect_error(simulate_ratings(50, 20, user_mean = NA), class = "cfpoison_error_type")
  expect_error(simulate_ratings(50, 20, user_mean = c(0, 1)), class = "cfpoison_error_type")
})

test_that("read_movielens() gives the same ratings through fread() and scan()", {
  skip_if_not_installed("data.table")
  dir <- tempfile("ml")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  set.seed(3)
  n <- 600
  rows <- data.frame(
    user = sample.int(60, n, replace = TRUE), item = sample.int(5000, n, replace = TRUE) * 7L,
    rating = sample(seq(0.5, 5, by = 0.5), n, replace = TRUE), time = 1.2e9 + sample.int(1e8, n)
  )
  rows <- rows[!duplicated(rows[c("user", "item")]), ]
  csv <- file.path(dir, "ratings.csv")
  writeLines(c("userId,movieId,rating,timestamp", sprintf("%d,%d,%.1f,%.0f", rows$user, rows$item, rows$rating, rows$time)), csv)
  tab <- file.path(dir, "u.data")
  writeLines(c(sprintf("%d\t%d\t%g\t%.0f", rows$user, rows$item, rows$rating, rows$time), ""), tab)
  read_both <- function(...) {
    old <- options(cfpoison.fread = FALSE)
    on.exit(options(old))
    slow <- read_movielens(...)
    options(cfpoison.fread = TRUE)
    list(fast = read_movielens(...), slow = slow)
  }
  for (path in c(csv, tab)) {
    got <- read_both(path, min_ratings = 10)
    expect_identical(got$fast, got$slow)
    expect_gt(length(got$fast$rating), 300)
    expect_lt(length(got$fast$user_ids), 60) # some users have fewer than 10
  }
  expect_identical(read_both(csv, min_ratings = 1, paper_scale = FALSE)$fast$rating, rows$rating[order(rows$user, rows$item)])

  # Both refuse a line with a field missing, and a field that is not a number.
  writeLines(c("userId,movieId,rating,timestamp", "1,10,4,1", "1,20,3", "2,10,5,1"), csv)
  for (fast in c(TRUE, FALSE)) {
    old <- options(cfpoison.fread = fast)
    expect_cfp_error(read_movielens(csv, min_ratings = 1), "file", c("ratings.csv", "4 fields"))
    options(old)
  }
  writeLines(c("1\t10\t4\t1", "1\tx2\t3\t1"), tab)
  expect_cfp_error(read_movielens(tab, min_ratings = 1), "file", c("u.data", "x2"))
})
