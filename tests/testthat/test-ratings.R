# Rating data: as_ratings(), summaries, splits, rescaling, readers, simulation.

# The observed entries of a cf_ratings as a data frame in a canonical order.
entries <- function(r) {
  df <- as.data.frame(r)
  df$user <- as.character(df$user)
  df$item <- as.character(df$item)
  df <- df[order(df$user, df$item), ]
  rownames(df) <- NULL
  df
}

expect_valid_ratings <- function(r) {
  expect_s3_class(r, "cf_ratings")
  expect_type(r$user, "integer")
  expect_type(r$item, "integer")
  expect_type(r$rating, "double")
  expect_length(r$item, length(r$user))
  expect_length(r$rating, length(r$user))
  expect_true(all(r$user >= 1L & r$user <= length(r$user_ids)))
  expect_true(all(r$item >= 1L & r$item <= length(r$item_ids)))
  # Sorted by user, then item, with no duplicated pair.
  expect_false(is.unsorted(r$user))
  key <- (r$user - 1) * length(r$item_ids) + r$item
  expect_false(is.unsorted(key, strictly = TRUE))
  expect_identical(dim(r), c(length(r$user_ids), length(r$item_ids)))
}

test_that("as_ratings() takes a data frame with integer, character or factor ids", {
  df <- data.frame(user = c(3L, 1L, 3L, 2L), item = c(20L, 10L, 10L, 30L), rating = c(1, 0, -1, 2))
  r <- as_ratings(df)
  expect_valid_ratings(r)
  expect_identical(r$user_ids, c(1L, 2L, 3L))
  expect_identical(r$item_ids, c(10L, 20L, 30L))
  expect_identical(r$user, c(1L, 2L, 3L, 3L))
  expect_identical(r$item, c(1L, 3L, 1L, 2L))
  expect_identical(r$rating, c(0, 2, -1, 1))
  expect_null(r$scale)

  chr <- data.frame(user = c("bob", "ann", "bob"), item = c("x", "y", "y"), rating = c(1, 2, 3))
  rc <- as_ratings(chr)
  expect_valid_ratings(rc)
  expect_setequal(rc$user_ids, c("ann", "bob"))
  expect_setequal(rc$item_ids, c("x", "y"))
  expect_identical(entries(rc), entries(as_ratings(chr[3:1, ])))
  back <- as.data.frame(rc)
  lookup <- paste(chr$user, chr$item)
  expect_identical(back$rating, chr$rating[match(paste(back$user, back$item), lookup)])

  fac <- data.frame(user = factor(c("bob", "ann", "bob")), item = factor(c("x", "y", "y")), rating = c(1, 2, 3))
  rf <- as_ratings(fac)
  expect_valid_ratings(rf)
  expect_type(rf$user_ids, "character")
  # Factors are read by their labels, not their integer codes.
  expect_identical(entries(rf), entries(rc))

  # Other column names.
  named <- data.frame(uid = c(5, 6), mid = c(1, 1), stars = c(4, 5), extra = "z")
  rn <- as_ratings(named, user = "uid", item = "mid", rating = "stars")
  expect_identical(as.data.frame(rn), data.frame(user = c(5, 6), item = c(1, 1), rating = c(4, 5)))
})

test_that("as.data.frame() round-trips ids and ratings", {
  df <- data.frame(
    user = c("u2", "u1", "u3", "u1", "u2"),
    item = c(7L, 3L, 3L, 9L, 3L),
    rating = c(-2, 0, 1.5, 2, 0)
  )
  r <- as_ratings(df)
  back <- as.data.frame(r)
  expect_named(back, c("user", "item", "rating"))
  expect_identical(nrow(back), nrow(df))
  expect_type(back$user, "character")
  expect_type(back$item, "integer")
  ord <- function(d) d[order(d$user, d$item), ]
  expect_equal(ord(back), ord(df), ignore_attr = TRUE)
  # Converting the data frame again gives the same object.
  expect_identical(as_ratings(back), r)
  expect_identical(as_ratings(r), r)
})

test_that("as_ratings() takes a matrix with NA for missing entries and keeps observed zeros", {
  m <- matrix(c(1, NA, 0, 2, NA, -1), 2, dimnames = list(c("u1", "u2"), c("i1", "i2", "i3")))
  r <- as_ratings(m)
  expect_valid_ratings(r)
  expect_identical(r$user_ids, c("u1", "u2"))
  expect_identical(r$item_ids, c("i1", "i2", "i3"))
  expect_length(r$rating, 4L)
  expect_identical(
    entries(r),
    data.frame(user = c("u1", "u1", "u2", "u2"), item = c("i1", "i2", "i2", "i3"), rating = c(1, 0, 2, -1))
  )
  # Without dimnames the ids are row and column numbers, and empty rows or
  # columns stay in the universe.
  bare <- matrix(c(NA, NA, 0, NA, NA, 3), 2)
  rb <- as_ratings(bare)
  expect_identical(rb$user_ids, 1:2)
  expect_identical(rb$item_ids, 1:3)
  expect_identical(as.data.frame(rb), data.frame(user = c(1L, 2L), item = c(2L, 3L), rating = c(0, 3)))
  expect_identical(summary(rb)$empty_items, 1L)
  # An integer matrix works too.
  ri <- as_ratings(matrix(c(1L, NA, 5L, 3L), 2))
  expect_identical(ri$rating, c(1, 5, 3))
})

test_that("as_ratings() keeps the stored zeros of dgCMatrix and dgTMatrix", {
  skip_if_not_installed("Matrix")
  # Stored entries, zeros included: (a, x) = 0, (b, y) = 1.5, (c, x) = -1, (c, z) = 0.
  tm <- methods::new("dgTMatrix",
    i = c(0L, 1L, 2L, 2L), j = c(0L, 1L, 0L, 2L), x = c(0, 1.5, -1, 0),
    Dim = c(4L, 3L), Dimnames = list(c("a", "b", "c", "d"), c("x", "y", "z"))
  )
  cm <- methods::as(tm, "CsparseMatrix")
  expect_s4_class(cm, "dgCMatrix")
  expect_length(cm@x, 4L) # the zeros are stored ...
  expect_length(Matrix::drop0(cm)@x, 2L) # ... and would be lost by drop0()
  want <- data.frame(user = c("a", "b", "c", "c"), item = c("x", "y", "x", "z"), rating = c(0, 1.5, -1, 0))
  for (x in list(cm, tm)) {
    r <- as_ratings(x)
    expect_valid_ratings(r)
    expect_identical(r$user_ids, c("a", "b", "c", "d"))
    expect_identical(r$item_ids, c("x", "y", "z"))
    expect_identical(entries(r), want)
    expect_identical(sum(r$rating == 0), 2L)
  }
  # Without dimnames: ids are indices, empty rows kept.
  r <- as_ratings(Matrix::sparseMatrix(i = c(1, 3), j = c(2, 2), x = c(0, 4), dims = c(3, 2)))
  expect_identical(r$user_ids, 1:3)
  expect_identical(as.data.frame(r), data.frame(user = c(1L, 3L), item = c(2L, 2L), rating = c(0, 4)))
})

test_that("the matrix, sparse and data frame paths agree", {
  skip_if_not_installed("Matrix")
  r <- simulate_ratings(15, 12, rank = 2, density = 0.3, seed = 11)
  df <- as.data.frame(r)
  dense <- matrix(NA_real_, 15, 12)
  dense[cbind(df$user, df$item)] <- df$rating
  sparse <- Matrix::sparseMatrix(i = df$user, j = df$item, x = df$rating, dims = c(15, 12))
  expect_identical(unclass(as_ratings(df, users = 1:15, items = 1:12))[1:5], unclass(r)[1:5])
  expect_identical(unclass(as_ratings(dense))[1:5], unclass(r)[1:5])
  expect_identical(unclass(as_ratings(sparse))[1:5], unclass(r)[1:5])
})

test_that("users = and items = universes keep users and items without ratings", {
  df <- data.frame(user = c("b", "d"), item = c(2L, 2L), rating = c(1, -1))
  r <- as_ratings(df, users = c("d", "c", "b", "a"), items = 1:3)
  expect_valid_ratings(r)
  # The universe is kept as given, order included.
  expect_identical(r$user_ids, c("d", "c", "b", "a"))
  expect_identical(r$item_ids, 1:3)
  expect_identical(dim(r), c(4L, 3L))
  expect_identical(r$user, c(1L, 3L))
  expect_identical(r$rating, c(-1, 1))
  s <- summary(r)
  expect_identical(s$empty_users, 2L)
  expect_identical(s$empty_items, 2L)
  expect_equal(s$density, 2 / 12)
  expect_identical(
    entries(r),
    data.frame(user = c("b", "d"), item = c("2", "2"), rating = c(1, -1))
  )
  # A matrix with a wider universe.
  m <- matrix(c(1, NA), 1, dimnames = list("u", c("i1", "i2")))
  rm <- as_ratings(m, users = c("u", "v"), items = c("i0", "i1", "i2"))
  expect_identical(dim(rm), c(2L, 3L))
  expect_identical(rm$item, 2L)
})

test_that("print() and summary() report users, items, ratings, density and range", {
  r <- as_ratings(
    data.frame(user = c(1, 1, 2, 3), item = c(1, 2, 2, 4), rating = c(-1.5, 0, 2, 0.5)),
    items = 1:5
  )
  s <- summary(r)
  expect_s3_class(s, "summary.cf_ratings")
  expect_identical(s$n_users, 3L)
  expect_identical(s$n_items, 5L)
  expect_identical(s$n_ratings, 4L)
  expect_equal(s$density, 4 / 15)
  expect_identical(s$range, c(-1.5, 2))
  expect_equal(s$mean, 0.25)
  expect_identical(s$ratings_per_user, c(1, 1, 2))
  expect_identical(s$empty_items, 2L)
  expect_identical(s$empty_users, 0L)

  lines <- cli::cli_fmt(out <- print(r))
  expect_identical(out, r)
  text <- paste(lines, collapse = "\n")
  expect_match(text, "4 ratings by 3 users of 5 items", fixed = TRUE)
  expect_match(text, "26.7%", fixed = TRUE)
  expect_match(text, "[-1.5, 2]", fixed = TRUE)
  expect_match(text, "scale: not set", fixed = TRUE)
  cli::cli_fmt(shown <- withVisible(print(r)))
  expect_false(shown$visible)

  lines <- cli::cli_fmt(out <- print(s))
  expect_identical(out, s)
  text <- paste(lines, collapse = "\n")
  expect_match(text, "3 users x 5 items, 4 ratings (density 26.7%)", fixed = TRUE)
  expect_match(text, "[-1.5, 2]", fixed = TRUE)
  expect_match(text, "items without ratings: 2", fixed = TRUE)

  scaled <- as_ratings(data.frame(user = 1, item = 1, rating = 1), scale = c(-2, 2))
  expect_match(paste(cli::cli_fmt(print(scaled)), collapse = "\n"), "scale: [-2, 2]", fixed = TRUE)
})

test_that("summary() density does not overflow on MovieLens-20M-sized universes", {
  r <- as_ratings(data.frame(user = 1L, item = 1L, rating = 1), users = 1:138493, items = 1:26744)
  s <- expect_silent(summary(r))
  expect_equal(s$density, 1 / (138493 * 26744))
  expect_false(is.na(s$density))
})

test_that("split_ratings() partitions the entries and keeps every user and item in training", {
  r <- simulate_ratings(60, 40, rank = 3, density = 0.08, seed = 3)
  s <- split_ratings(r, test_fraction = 0.4, seed = 9)
  expect_named(s, c("train", "test"))
  expect_valid_ratings(s$train)
  expect_valid_ratings(s$test)
  for (part in s) {
    expect_identical(part$user_ids, r$user_ids)
    expect_identical(part$item_ids, r$item_ids)
    expect_identical(part$scale, r$scale)
  }
  all <- rbind(entries(s$train), entries(s$test))
  expect_identical(nrow(all), length(r$rating))
  key <- function(d) paste(d$user, d$item)
  expect_false(anyDuplicated(key(all)) > 0)
  expect_identical(entries(as_ratings(all)), entries(r))
  # Every user and every item that has ratings keeps at least one in training.
  has_ratings <- tabulate(r$user, 60) > 0
  expect_true(all(tabulate(s$train$user, 60)[has_ratings] >= 1))
  has_ratings <- tabulate(r$item, 40) > 0
  expect_true(all(tabulate(s$train$item, 40)[has_ratings] >= 1))
  # The test share is near the requested one (give-backs only lower it).
  share <- length(s$test$rating) / length(r$rating)
  expect_lte(share, 0.4 + 1e-9)
  expect_gt(share, 0.2)
  # Ratings travel with their entries.
  truth <- stats::setNames(r$rating, key(as.data.frame(r)))
  expect_identical(s$test$rating, unname(truth[key(as.data.frame(s$test))]))
})

test_that("split_ratings() gives back the only rating of users and items that would starve", {
  # User 1 and item 3 have a single rating each: they must stay in training.
  df <- data.frame(
    user = c(1, 2, 2, 2, 3, 3, 3, 4, 4),
    item = c(1, 1, 2, 3, 1, 2, 4, 2, 4),
    rating = 1:9
  )
  r <- as_ratings(df)
  for (seed in 1:30) {
    s <- split_ratings(r, test_fraction = 0.9, seed = seed)
    train <- as.data.frame(s$train)
    expect_true(all(1:4 %in% train$user))
    expect_true(all(c(1, 2, 3, 4) %in% train$item))
    expect_identical(length(s$train$rating) + length(s$test$rating), 9L)
    expect_gte(length(s$test$rating), 1L)
  }
})

test_that("split_ratings() is reproducible with a seed and leaves the caller's RNG alone", {
  r <- simulate_ratings(50, 30, rank = 2, density = 0.2, seed = 4)
  a <- split_ratings(r, test_fraction = 0.3, seed = 42)
  b <- split_ratings(r, test_fraction = 0.3, seed = 42)
  c <- split_ratings(r, test_fraction = 0.3, seed = 43)
  expect_identical(a, b)
  expect_false(identical(a$test$rating, c$test$rating))

  set.seed(100)
  expected <- stats::runif(3)
  set.seed(100)
  split_ratings(r, test_fraction = 0.3, seed = 42)
  expect_identical(stats::runif(3), expected)

  # Without a seed it draws from (and so follows) the current RNG state.
  set.seed(7)
  d <- split_ratings(r, test_fraction = 0.3)
  set.seed(7)
  e <- split_ratings(r, test_fraction = 0.3)
  expect_identical(d, e)
})

test_that("rescale_ratings() maps 1..5 to [-2, 2] as r - 3", {
  r <- as_ratings(data.frame(user = 1:9, item = 1L, rating = seq(1, 5, by = 0.5)), scale = c(1, 5))
  out <- rescale_ratings(r, to = c(-2, 2))
  expect_identical(out$rating, r$rating - 3)
  expect_identical(out$scale, c(-2, 2))
  expect_identical(out$user, r$user)
  expect_identical(out$user_ids, r$user_ids)
  expect_identical(sum(out$rating == 0), 1L)
  # Explicit from =, another target and a round trip.
  expect_equal(rescale_ratings(r, from = c(1, 5), to = c(0, 1))$rating, (r$rating - 1) / 4)
  expect_equal(rescale_ratings(out, to = c(1, 5))$rating, r$rating)
  # Without a scale, from = the range of the ratings.
  bare <- as_ratings(data.frame(user = 1:3, item = 1L, rating = c(10, 20, 30)))
  expect_equal(rescale_ratings(bare, to = c(-1, 1))$rating, c(-1, 0, 1))
  # The input is not modified.
  expect_identical(r$rating, seq(1, 5, by = 0.5))
  expect_identical(r$scale, c(1, 5))
})

test_that("rescale_ratings() clamps only when asked", {
  r <- as_ratings(data.frame(user = 1:4, item = 1L, rating = c(0.5, 1, 3, 5)))
  expect_error(
    rescale_ratings(r, from = c(1, 5), to = c(-2, 2)),
    class = "cfpoison_error_range"
  )
  expect_error(rescale_ratings(r, from = c(1, 5), to = c(-2, 2)), "clamp")
  clamped <- rescale_ratings(r, from = c(1, 5), to = c(-2, 2), clamp = TRUE)
  expect_identical(clamped$rating, c(-2, -2, 0, 2))
  expect_identical(clamped$scale, c(-2, 2))
  expect_error(rescale_ratings(r, clamp = NA), class = "cfpoison_error_type")
  expect_error(rescale_ratings(r, to = c(2, -2)), "`to` must", fixed = TRUE, class = "cfpoison_error_value")
})

# Writes lines to a file with the given name in a fresh folder.
write_release <- function(name, lines) {
  dir <- tempfile("ml")
  dir.create(dir)
  path <- file.path(dir, name)
  writeLines(lines, path)
  path
}

# Three users: 1 rates 3 movies, 2 rates 2, 3 rates 1 (movie 40 only).
ml_rows <- data.frame(
  user = c(1L, 1L, 1L, 2L, 2L, 3L),
  item = c(10L, 20L, 30L, 10L, 30L, 40L),
  stars = c(5, 3, 1, 4, 2, 3.5),
  time = c(881250949, 881250950, 881250951, 891717742, 891717743, 891717744)
)

test_that("read_movielens() reads ml-100k u.data (tab separated, no header)", {
  path <- write_release("u.data", sprintf("%d\t%d\t%g\t%.0f", ml_rows$user, ml_rows$item, ml_rows$stars, ml_rows$time))
  raw <- read_movielens(path, min_ratings = 1, paper_scale = FALSE)
  expect_valid_ratings(raw)
  expect_identical(raw$user_ids, 1:3)
  expect_identical(raw$item_ids, c(10L, 20L, 30L, 40L))
  expect_null(raw$scale)
  expect_identical(entries(raw), entries(as_ratings(ml_rows, rating = "stars")))
  # The paper's shift: r - 3, so a 3-star rating is an observed 0.
  shifted <- read_movielens(path, min_ratings = 1)
  expect_identical(shifted$rating, raw$rating - 3)
  expect_identical(shifted$scale, c(-2, 2))
  expect_identical(sum(shifted$rating == 0), 1L)
  # A release folder works as well.
  expect_identical(read_movielens(dirname(path), min_ratings = 1), shifted)
})

test_that("read_movielens() reads ml-1m/10m ratings.dat ('::' separated)", {
  path <- write_release("ratings.dat", sprintf("%d::%d::%g::%.0f", ml_rows$user, ml_rows$item, ml_rows$stars, ml_rows$time))
  raw <- read_movielens(path, min_ratings = 1, paper_scale = FALSE)
  expect_valid_ratings(raw)
  expect_identical(entries(raw), entries(as_ratings(ml_rows, rating = "stars")))
  shifted <- read_movielens(dirname(path), min_ratings = 1)
  expect_identical(shifted$rating, raw$rating - 3)
})

test_that("read_movielens() reads ml-20m/latest ratings.csv (with header)", {
  lines <- c(
    "userId,movieId,rating,timestamp",
    sprintf("%d,%d,%.1f,%.0f", ml_rows$user, ml_rows$item, ml_rows$stars, ml_rows$time),
    "4,10,0.5,1"
  )
  path <- write_release("ratings.csv", lines)
  raw <- read_movielens(path, min_ratings = 1, paper_scale = FALSE)
  expect_valid_ratings(raw)
  expect_identical(length(raw$rating), 7L)
  expect_identical(raw$user_ids, 1:4)
  # The header is not read as a rating.
  expect_identical(entries(raw)[1:6, ], entries(as_ratings(ml_rows, rating = "stars")))
  # Half stars below 1 are clipped to -2 by the shift.
  shifted <- read_movielens(path, min_ratings = 1)
  expect_identical(shifted$rating, pmax(raw$rating - 3, -2))
  expect_identical(min(shifted$rating), -2)
})

test_that("read_movielens() keeps users with at least min_ratings ratings", {
  path <- write_release("u.data", sprintf("%d\t%d\t%g\t%.0f", ml_rows$user, ml_rows$item, ml_rows$stars, ml_rows$time))
  r2 <- read_movielens(path, min_ratings = 2, paper_scale = FALSE)
  expect_valid_ratings(r2)
  expect_identical(r2$user_ids, 1:2)
  # Movie 40 was rated by user 3 only and leaves with it.
  expect_identical(r2$item_ids, c(10L, 20L, 30L))
  expect_identical(length(r2$rating), 5L)
  r3 <- read_movielens(path, min_ratings = 3, paper_scale = FALSE)
  expect_identical(r3$user_ids, 1L)
  expect_identical(r3$rating, c(5, 3, 1))
  expect_identical(read_movielens(path, min_ratings = 0), read_movielens(path, min_ratings = 1))
  expect_error(read_movielens(path, min_ratings = 4), class = "cfpoison_error_empty")
  # The default follows the paper: 20 ratings.
  expect_error(read_movielens(path), class = "cfpoison_error_empty")
})

test_that("simulate_ratings() draws exactly round(density * m * n) distinct pairs", {
  for (case in list(c(50, 40, 0.1), c(30, 20, 0.333), c(12, 7, 1), c(200, 150, 0.02))) {
    r <- simulate_ratings(case[1], case[2], rank = 2, density = case[3], seed = 1)
    expect_valid_ratings(r)
    expect_identical(length(r$rating), as.integer(round(case[3] * case[1] * case[2])))
    expect_identical(r$user_ids, seq_len(case[1]))
    expect_identical(r$item_ids, seq_len(case[2]))
    expect_false(anyDuplicated(paste(r$user, r$item)) > 0)
  }
  # Default scale clips to [-2, 2].
  r <- simulate_ratings(40, 30, rank = 2, density = 0.5, noise_sd = 3, seed = 2)
  expect_identical(r$scale, c(-2, 2))
  expect_true(all(r$rating >= -2 & r$rating <= 2))
  expect_true(any(r$rating == 2) && any(r$rating == -2))
})

test_that("simulate_ratings() favours popular items under Zipf popularity", {
  r <- simulate_ratings(300, 100, rank = 2, density = 0.05, zipf_exponent = 1, seed = 8)
  per_item <- tabulate(r$item, 100)
  expect_gt(sum(per_item[1:10]), sum(per_item[91:100]) * 3)
  flat <- simulate_ratings(300, 100, rank = 2, density = 0.05, zipf_exponent = 0, seed = 8)
  per_item <- tabulate(flat$item, 100)
  expect_lt(sum(per_item[1:10]), sum(per_item[91:100]) * 2)
})

test_that("simulate_ratings() is reproducible and leaves the caller's RNG alone", {
  a <- simulate_ratings(40, 30, rank = 3, density = 0.2, seed = 12)
  b <- simulate_ratings(40, 30, rank = 3, density = 0.2, seed = 12)
  c <- simulate_ratings(40, 30, rank = 3, density = 0.2, seed = 13)
  expect_identical(a, b)
  expect_false(identical(a$rating, c$rating))

  set.seed(2024)
  expected <- stats::runif(5)
  set.seed(2024)
  simulate_ratings(40, 30, rank = 3, density = 0.2, seed = 12)
  expect_identical(stats::runif(5), expected)

  # With no RNG state yet, a seeded call leaves none behind.
  old <- get(".Random.seed", envir = globalenv())
  on.exit(assign(".Random.seed", old, envir = globalenv()), add = TRUE)
  rm(".Random.seed", envir = globalenv())
  simulate_ratings(10, 10, rank = 2, density = 0.5, seed = 1)
  expect_false(exists(".Random.seed", envir = globalenv(), inherits = FALSE))
  assign(".Random.seed", old, envir = globalenv())

  # Without a seed it follows the current RNG state.
  set.seed(5)
  d <- simulate_ratings(20, 10, rank = 2, density = 0.3)
  set.seed(5)
  expect_identical(simulate_ratings(20, 10, rank = 2, density = 0.3), d)
})

test_that("simulate_ratings() with no noise and no scale is exactly the low-rank truth", {
  r <- simulate_ratings(60, 45, rank = 4, density = 0.25, noise_sd = 0, scale = NULL, seed = 6)
  expect_null(r$scale)
  truth <- attr(r, "truth")
  expect_named(truth, c("u", "v"))
  expect_identical(dim(truth$u), c(60L, 4L))
  expect_identical(dim(truth$v), c(45L, 4L))
  full <- truth$u %*% t(truth$v)
  expect_equal(r$rating, full[cbind(r$user, r$item)], tolerance = 1e-12)
  # Noise moves the ratings away from the truth by about noise_sd.
  noisy <- simulate_ratings(60, 45, rank = 4, density = 0.25, noise_sd = 0.5, scale = NULL, seed = 6)
  resid <- noisy$rating - (attr(noisy, "truth")$u %*% t(attr(noisy, "truth")$v))[cbind(noisy$user, noisy$item)]
  expect_equal(stats::sd(resid), 0.5, tolerance = 0.15)
  # The truth has unit variance by construction: entries of U V' have variance ~1.
  expect_equal(stats::var(as.vector(full)), 1, tolerance = 0.3)
})

test_that("movielens_small() keeps every dslabs rating, the observed zeros included", {
  skip_if_not_installed("dslabs")
  ml <- movielens_small()
  expect_valid_ratings(ml)
  expect_identical(length(ml$rating), 100004L)
  expect_identical(sum(ml$rating == 0), 20064L)
  expect_identical(dim(ml), c(671L, 9066L))
  expect_identical(range(ml$rating), c(-2, 2))
  expect_identical(ml$scale, c(-2, 2))
  # Each rating is its star count minus 3, clipped at -2.
  raw <- dslabs::movielens
  back <- as.data.frame(ml)
  stars <- raw$rating[match(paste(back$user, back$item), paste(raw$userId, raw$movieId))]
  expect_false(anyNA(stars))
  expect_identical(back$rating, pmax(stars - 3, -2))
  # min_ratings drops lighter users.
  heavy <- movielens_small(min_ratings = 100)
  expect_lt(length(heavy$user_ids), 671L)
  expect_gte(min(tabulate(heavy$user, length(heavy$user_ids))), 100L)
})

test_that("positive integer ids (counted, not hashed) give the ratings other ids give", {
  set.seed(4)
  df <- data.frame(user = sample(c(3L, 9L, 40L, 41L), 60, TRUE), item = sample(c(2L, 7L, 1000L), 60, TRUE))
  df <- df[!duplicated(df), ]
  df$rating <- seq_len(nrow(df)) / 10
  fast <- as_ratings(df)
  general <- as_ratings(transform(df, user = as.numeric(user), item = as.numeric(item)))
  expect_identical(fast$user, general$user)
  expect_identical(fast$item, general$item)
  expect_identical(fast$rating, general$rating)
  expect_identical(as.numeric(fast$user_ids), general$user_ids)
  expect_identical(as.numeric(fast$item_ids), general$item_ids)
  # Given universes, with ids the data lacks.
  within <- as_ratings(df, users = c(1L, 3L, 9L, 40L, 41L, 50L), items = c(2L, 7L, 1000L, 5000L))
  expect_identical(within$user_ids[within$user], df$user[order(df$user, df$item)])
  expect_identical(within$item_ids[within$item], df$item[order(df$user, df$item)])
  twice <- rbind(df, df[5, ])
  expect_cfp_error(as_ratings(twice), "duplicate", c(as.character(df$user[5]), as.character(df$item[5])))
})
