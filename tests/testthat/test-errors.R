# Every bad input gets a classed error that names the argument: never a crash,
# never a bare base-R error.

tiny <- function() {
  as_ratings(data.frame(
    user = c("a", "a", "b", "b", "c", "c"),
    item = c(1L, 2L, 2L, 3L, 1L, 3L),
    rating = c(1, -1, 0, 2, -2, 0.5)
  ))
}

test_that("ratings that are NA, NaN or infinite are classed errors", {
  for (bad in list(NA_real_, NaN, Inf, -Inf)) {
    df <- data.frame(user = 1:3, item = 1L, rating = c(1, bad, 2))
    expect_cfp_error(as_ratings(df), "missing", c("NA, NaN or infinite", "entry 2"))
  }
  m <- matrix(c(1, NaN, NA, 2), 2)
  expect_cfp_error(as_ratings(m), "missing", "NaN or infinite")
  expect_cfp_error(as_ratings(matrix(c(1, Inf), 1)), "missing")
  skip_if_not_installed("Matrix")
  sparse <- Matrix::sparseMatrix(i = 1:2, j = 1:2, x = c(1, NA))
  expect_cfp_error(as_ratings(sparse), "missing")
})

test_that("duplicated (user, item) pairs are classed errors", {
  df <- data.frame(user = c("a", "b", "a"), item = c(7, 7, 7), rating = c(1, 2, 3))
  expect_cfp_error(as_ratings(df), "duplicate", c("\"a\"", "7", "more than once"))
  skip_if_not_installed("Matrix")
  # A dgTMatrix may store a pair twice (Matrix would add them up).
  tm <- methods::new("dgTMatrix", i = c(0L, 0L), j = c(1L, 1L), x = c(1, 2), Dim = c(2L, 2L))
  expect_cfp_error(as_ratings(tm), "duplicate", "more than once")
})

test_that("empty data is a classed error", {
  df <- data.frame(user = integer(), item = integer(), rating = numeric())
  expect_cfp_error(as_ratings(df), "empty", "no ratings")
  expect_cfp_error(as_ratings(matrix(NA_real_, 3, 2)), "empty")
  expect_cfp_error(as_ratings(matrix(numeric(), 0, 0)), "empty")
  skip_if_not_installed("Matrix")
  none <- Matrix::sparseMatrix(i = integer(), j = integer(), x = numeric(), dims = c(3, 3))
  expect_s4_class(none, "dgCMatrix")
  expect_cfp_error(as_ratings(none), "empty")
})

test_that("wrong column names list the columns there are", {
  df <- data.frame(userId = 1, movieId = 2, stars = 3)
  expect_cfp_error(as_ratings(df), "column", c("\"user\"", "userId", "movieId", "stars"))
  expect_cfp_error(
    as_ratings(df, user = "userId", item = "movieId"),
    "column",
    c("\"rating\"", "the rating column", "stars", "rating = ")
  )
  expect_cfp_error(as_ratings(df, user = "userId", item = "itemId", rating = "stars"), "column", "itemId")
  expect_cfp_error(as_ratings(df, user = 1), "type", "`user`")
  expect_cfp_error(as_ratings(df, user = "userId", item = c("a", "b")), "type", "`item`")
  expect_cfp_error(as_ratings(df, user = "userId", item = "movieId", rating = NA), "type", "`rating`")
})

test_that("non-numeric ratings are classed errors", {
  df <- data.frame(user = 1:2, item = 1L, rating = c("4", "5"))
  expect_cfp_error(as_ratings(df), "type", c("numeric", "as.numeric"))
  df$rating <- factor(df$rating)
  expect_cfp_error(as_ratings(df), "type", "numeric")
  df$rating <- c(TRUE, FALSE)
  expect_cfp_error(as_ratings(df), "type", "numeric")
  expect_cfp_error(as_ratings(matrix(c("1", "2"), 1)), "type", "numeric")
  expect_cfp_error(as_ratings(list(user = 1, item = 1, rating = 1)), "type", "data frame")
  expect_cfp_error(as_ratings(NULL), "type")
  expect_cfp_error(as_ratings(1:3), "type")
})

test_that("NA ids are classed errors", {
  expect_cfp_error(as_ratings(data.frame(user = c(1, NA), item = 1:2, rating = 1)), "missing", "NA")
  expect_cfp_error(as_ratings(data.frame(user = c("a", "b"), item = c(NA, "x"), rating = 1)), "missing", "NA")
  expect_cfp_error(as_ratings(data.frame(user = factor(c("a", NA)), item = 1:2, rating = 1)), "missing")
})

test_that("ids outside the universes and bad universes are classed errors", {
  df <- data.frame(user = c("a", "b"), item = 1:2, rating = 1)
  expect_cfp_error(as_ratings(df, users = "a"), "value", c("`users`", "\"b\""))
  expect_cfp_error(as_ratings(df, items = 2:5), "value", c("`items`", "1"))
  expect_cfp_error(as_ratings(df, users = c("a", "b", "a")), "value", "`users`")
  expect_cfp_error(as_ratings(df, items = c(1, 2, NA)), "value", "`items`")
  # Duplicated dimnames would make two rows the same user.
  m <- matrix(1, 2, 2, dimnames = list(c("u", "u"), c("i", "j")))
  expect_cfp_error(as_ratings(m), "value", "row names")
  colnames(m) <- c("i", NA)
  rownames(m) <- c("u", "v")
  expect_cfp_error(as_ratings(m), "value", "column names")
})

test_that("sparse matrices that are not general numeric ones are classed errors", {
  skip_if_not_installed("Matrix")
  pattern <- Matrix::sparseMatrix(i = 1:2, j = 1:2, dims = c(2, 2))
  expect_cfp_error(as_ratings(pattern), "type", "dgCMatrix")
  symmetric <- Matrix::sparseMatrix(i = 1:2, j = c(2, 2), x = c(1, 2), symmetric = TRUE)
  expect_cfp_error(as_ratings(symmetric), "type")
  # A unit-triangular matrix does not store its diagonal: it would lose ratings.
  unit <- methods::new("dtCMatrix", Dim = c(2L, 2L), i = 0L, p = c(0L, 0L, 1L), x = 2, uplo = "U", diag = "U")
  expect_cfp_error(as_ratings(unit), "type")
})

test_that("ratings outside `scale` and bad scales are classed errors", {
  df <- data.frame(user = 1:3, item = 1L, rating = c(1, 6, 0))
  expect_cfp_error(as_ratings(df, scale = c(1, 5)), "range", c("2 ratings", "`scale`", "[1, 5]", "first: 6"))
  expect_cfp_error(as_ratings(df, scale = c(5, 1)), "value", "`scale`")
  expect_cfp_error(as_ratings(df, scale = c(0, NA)), "value", "`scale`")
  expect_cfp_error(as_ratings(df, scale = 5), "value", "`scale`")
  expect_cfp_error(as_ratings(df, scale = c("0", "6")), "value", "`scale`")
  # In range is fine, bounds included.
  expect_identical(as_ratings(df, scale = c(0, 6))$scale, c(0, 6))
})

test_that("bad learner arguments are classed errors naming the argument", {
  expect_cfp_error(learner_als(rank = 0), "value", "`rank`")
  expect_cfp_error(learner_als(rank = -2), "value", "`rank`")
  expect_cfp_error(learner_als(rank = 2.5), "type", c("`rank`", "whole number"))
  expect_cfp_error(learner_als(rank = "3"), "type", "`rank`")
  expect_cfp_error(learner_als(rank = NA), "type", "`rank`")
  expect_cfp_error(learner_als(rank = 1:2), "type", "`rank`")
  expect_cfp_error(learner_als(lambda_u = -1), "value", "`lambda_u`")
  expect_cfp_error(learner_als(lambda_v = -0.1), "value", "`lambda_v`")
  expect_cfp_error(learner_als(lambda_u = NaN), "type", "`lambda_u`")
  expect_cfp_error(learner_als(lambda_u = Inf), "type", "`lambda_u`")
  expect_cfp_error(learner_nuclear(lambda = -1), "value", "`lambda`")
  expect_cfp_error(learner_nuclear(lambda = NA_real_), "type", "`lambda`")
  expect_cfp_error(learner_nuclear(lambda = 1, rank_max = 0), "value", "`rank_max`")
  expect_cfp_error(learner_als(max_iter = 0), "value", "`max_iter`")
  expect_cfp_error(learner_nuclear(lambda = 1, max_iter = 0), "value", "`max_iter`")
  expect_cfp_error(learner_als(max_iter = 1.5), "type", "`max_iter`")
  expect_cfp_error(learner_als(tol = -1), "value", "`tol`")
  expect_cfp_error(learner_als(init_sd = 0), "value", "`init_sd`")
})

test_that("a rank larger than min(users, items) is a classed error at fit time", {
  r <- tiny() # 3 users x 3 items
  expect_cfp_error(fit_cf(r, learner_als(rank = 4, lambda_u = 1)), "rank", c("(4)", "min(users, items) = 3"))
  expect_cfp_error(fit_cf(r, learner_nuclear(lambda = 1, rank_max = 4)), "rank")
  wide <- as_ratings(data.frame(user = 1:2, item = 1:2, rating = 1), items = 1:10)
  expect_cfp_error(fit_cf(wide, learner_als(rank = 3, lambda_u = 1)), "rank", "= 2")
  # Fake users count as users.
  fake <- as_ratings(data.frame(user = "f", item = 1:3, rating = 1), items = wide$item_ids)
  expect_s3_class(fit_cf(wide, learner_als(rank = 3, lambda_u = 1, max_iter = 3), attack = fake), "cf_fit")
})

test_that("fit_cf() rejects wrong learners, ratings and fakes with classed errors", {
  r <- tiny()
  learner <- learner_als(rank = 2, lambda_u = 1, max_iter = 5)
  expect_cfp_error(fit_cf(r, list(rank = 2)), "type", "`learner`")
  # The old order, learner first, is told its ratings are wrong.
  expect_cfp_error(fit_cf(learner, r), "type", "`ratings`")
  expect_cfp_error(fit_cf(r, structure(list(), class = "cf_learner_als")), "type", "`learner`")
  expect_cfp_error(fit_cf(as.data.frame(r), learner), "type", c("`ratings`", "as_ratings()"))
  expect_cfp_error(fit_cf(matrix(1, 3, 3), learner), "type", "`ratings`")
  # Fake users over other items.
  fake <- as_ratings(data.frame(user = "f1", item = 1:2, rating = 1))
  expect_cfp_error(fit_cf(r, learner, attack = fake), "shape", c("`attack`", "items = ratings$item_ids"))
  fake_other <- as_ratings(data.frame(user = "f1", item = 1:3, rating = 1), items = 3:1)
  expect_cfp_error(fit_cf(r, learner, attack = fake_other), "shape", "`attack`")
  expect_cfp_error(fit_cf(r, learner, attack = data.frame(user = "f", item = 1, rating = 1)), "type", "`attack`")
  fake_ok <- as_ratings(data.frame(user = "f1", item = 1:2, rating = 1), items = r$item_ids)
  fit <- fit_cf(r, learner, attack = fake_ok)
  expect_identical(dim(fit$fake_u), c(1L, 2L))
})

test_that("bad `init` warm starts are classed errors", {
  r <- tiny()
  learner <- learner_als(rank = 2, lambda_u = 1, max_iter = 5)
  expect_cfp_error(fit_cf(r, learner, init = matrix(0.1, 2, 2)), "shape", c("`init`", "3 x 2", "It is 2 x 2"))
  expect_cfp_error(fit_cf(r, learner, init = matrix(0.1, 3, 3)), "shape", "`init`")
  expect_cfp_error(fit_cf(r, learner, init = t(matrix(0.1, 3, 2))), "shape", "`init`")
  expect_cfp_error(fit_cf(r, learner, init = matrix(c(0.1, NA, 0.2, 0.3, 0.1, 0.2), 3, 2)), "missing", "`init`")
  expect_cfp_error(fit_cf(r, learner, init = matrix(c(0.1, Inf, 0.2, 0.3, 0.1, 0.2), 3, 2)), "missing", "`init`")
  expect_cfp_error(fit_cf(r, learner, init = "warm"), "type", "`init`")
  expect_cfp_error(fit_cf(r, learner, init = list(v = matrix(0.1, 3, 2))), "type", "`init`")
  expect_cfp_error(fit_cf(r, learner, init = data.frame(a = 1:3, b = 1:3)), "type", "`init`")
  expect_cfp_error(fit_cf(r, learner, init = matrix("a", 3, 2)), "type", "`init`")
  expect_cfp_error(fit_cf(r, learner, init = rep(0.1, 6)), "type", "`init`")
  # A fit over other items.
  other <- as_ratings(data.frame(user = 1:4, item = 1:4, rating = 1))
  other_fit <- fit_cf(other, learner_als(rank = 2, lambda_u = 1, max_iter = 3))
  expect_cfp_error(fit_cf(r, learner, init = other_fit), "shape", "`init`")
})

test_that("bad `threads` are classed errors everywhere", {
  r <- tiny()
  learner <- learner_als(rank = 2, lambda_u = 1, max_iter = 5)
  expect_cfp_error(fit_cf(r, learner, threads = 0), "value", "`threads`")
  expect_cfp_error(fit_cf(r, learner, threads = -1), "value", "`threads`")
  expect_cfp_error(fit_cf(r, learner, threads = 1.5), "type", "`threads`")
  expect_cfp_error(fit_cf(r, learner, threads = NA), "type", "`threads`")
  expect_cfp_error(fit_cf(r, learner, threads = "2"), "type", "`threads`")
  fit <- fit_cf(r, learner)
  expect_cfp_error(predict(fit, user = "a", threads = 0), "value", "`threads`")
  expect_cfp_error(simulate_ratings(10, 10, rank = 2, threads = 0), "value", "`threads`")
  # The default comes from the cfpoison.threads option.
  old <- options(cfpoison.threads = 0)
  on.exit(options(old), add = TRUE)
  expect_cfp_error(fit_cf(r, learner), "value", "`threads`")
  options(old)
})

test_that("predict() with unknown ids or ambiguous requests gives classed errors", {
  r <- tiny()
  fit <- fit_cf(r, learner_als(rank = 2, lambda_u = 1, max_iter = 5))
  expect_cfp_error(predict(fit, data.frame(user = c("a", "zz"), item = 1L)), "value", c("user id", "\"zz\""))
  expect_cfp_error(predict(fit, data.frame(user = "a", item = 99L)), "value", c("item id", "99"))
  expect_cfp_error(predict(fit, data.frame(user = NA, item = 1L)), "value", "user id")
  expect_cfp_error(predict(fit, user = "nobody"), "value", c("user id", "nobody"))
  expect_cfp_error(
    predict(fit, data.frame(user = "a", item = 1L), user = "a"),
    "value",
    c("`newdata`", "`user`", "not both")
  )
  expect_cfp_error(predict(fit), "type", c("`newdata`", "`user`"))
  expect_cfp_error(predict(fit, newdata = 1:3), "type", "`newdata`")
  expect_cfp_error(predict(fit, data.frame(u = "a", i = 1L)), "column", c("`newdata`", "\"u\""))
  other <- as_ratings(data.frame(user = "a", item = 1L, rating = 1))
  expect_cfp_error(predict(fit, other), "shape", "`newdata`")
  # Good requests work and give finite predictions, named by ids for `user`.
  p <- predict(fit, data.frame(user = factor(c("c", "a")), item = c(3L, 1L)))
  expect_length(p, 2L)
  expect_true(all(is.finite(p)))
  rows <- predict(fit, user = c("c", "a"))
  expect_identical(dimnames(rows), list(c("c", "a"), c("1", "2", "3")))
  expect_equal(unname(rows[cbind(c("c", "a"), c("3", "1"))]), p, tolerance = 1e-12)
})

test_that("split_ratings() rejects test fractions outside (0, 1) and non-ratings", {
  r <- simulate_ratings(20, 15, rank = 2, density = 0.3, seed = 1)
  for (bad in c(0, 1, -0.2, 1.5)) {
    expect_cfp_error(split_ratings(r, test_fraction = bad), "value", "`test_fraction`")
  }
  expect_cfp_error(split_ratings(r, test_fraction = NA), "type", "`test_fraction`")
  expect_cfp_error(split_ratings(r, test_fraction = c(0.1, 0.2)), "type", "`test_fraction`")
  expect_cfp_error(split_ratings(r, test_fraction = "0.2"), "type", "`test_fraction`")
  expect_cfp_error(split_ratings(as.data.frame(r)), "type", c("`ratings`", "as_ratings()"))
  expect_cfp_error(split_ratings(r, seed = -1), "value", "`seed`")
  expect_cfp_error(split_ratings(r, seed = 1.5), "type", "`seed`")
  # A test set that would be empty after give-backs.
  single <- as_ratings(data.frame(user = 1:3, item = 1:3, rating = 1))
  expect_cfp_error(split_ratings(single, test_fraction = 0.5, seed = 1), "empty", "`test_fraction`")
})

test_that("rescale_ratings() and simulate_ratings() validate their arguments", {
  r <- tiny()
  expect_cfp_error(rescale_ratings(as.data.frame(r)), "type", "`ratings`")
  expect_cfp_error(rescale_ratings(r, to = c(1, 1)), "value", "`to`")
  expect_cfp_error(rescale_ratings(r, from = c(5, 1)), "value", "`from`")
  expect_cfp_error(rescale_ratings(r, from = c(0, 1), to = c(0, 1)), "range", c("`to`", "clamp = TRUE"))
  expect_cfp_error(rescale_ratings(r, clamp = "yes"), "type", "`clamp`")
  expect_cfp_error(simulate_ratings(0, 10), "value", "`n_users`")
  expect_cfp_error(simulate_ratings(10, 2.5), "type", "`n_items`")
  expect_cfp_error(simulate_ratings(10, 5, rank = 6), "value", "`rank`")
  expect_cfp_error(simulate_ratings(10, 10, rank = 0), "value", "`rank`")
  expect_cfp_error(simulate_ratings(10, 10, density = 0), "value", "`density`")
  expect_cfp_error(simulate_ratings(10, 10, density = 1.2), "value", "`density`")
  expect_cfp_error(simulate_ratings(10, 10, density = 0.001), "value", "`density`")
  expect_cfp_error(simulate_ratings(10, 10, noise_sd = -1), "value", "`noise_sd`")
  expect_cfp_error(simulate_ratings(10, 10, zipf_exponent = -1), "value", "`zipf_exponent`")
  expect_cfp_error(simulate_ratings(10, 10, scale = c(2, -2)), "value", "`scale`")
  expect_cfp_error(simulate_ratings(10, 10, seed = "1"), "type", "`seed`")
})

test_that("read_movielens() gives classed errors for missing files and unknown formats", {
  dir <- tempfile("ml")
  dir.create(dir)
  expect_cfp_error(read_movielens(file.path(dir, "u.data")), "file", c("does not exist", "u.data"))
  expect_cfp_error(read_movielens(file.path(dir, "nowhere")), "file", "does not exist")
  expect_cfp_error(read_movielens(dir), "file", c("No MovieLens ratings file", "ratings.csv"))
  txt <- file.path(dir, "ratings.txt")
  writeLines("1,10,4,1", txt)
  expect_cfp_error(read_movielens(txt), "file", c("ratings.txt", "u.data", "ratings.dat", "ratings.csv"))
  expect_cfp_error(read_movielens(1), "type", "`path`")
  expect_cfp_error(read_movielens(c(txt, txt)), "type", "`path`")
  expect_cfp_error(read_movielens(NA_character_), "type", "`path`")
  # Bad arguments are caught before the file is read.
  expect_cfp_error(read_movielens(txt, min_ratings = -1), "value", "`min_ratings`")
  expect_cfp_error(read_movielens(txt, min_ratings = "20"), "type", "`min_ratings`")
  expect_cfp_error(read_movielens(txt, paper_scale = NA), "type", "`paper_scale`")
})

test_that("read_movielens() turns malformed and out-of-range files into classed errors", {
  dir <- tempfile("ml")
  dir.create(dir)
  csv <- file.path(dir, "ratings.csv")
  writeLines(c("userId,movieId,rating,timestamp", "1,abc,4,1"), csv)
  expect_cfp_error(read_movielens(csv, min_ratings = 1), "file", c("ratings.csv", "abc"))
  writeLines("userId,movieId,rating,timestamp", csv)
  expect_cfp_error(read_movielens(csv, min_ratings = 1), "empty")
  writeLines(c("userId,movieId,rating,timestamp", "1,10,4,1", "1,10,5,2"), csv)
  expect_cfp_error(read_movielens(csv, min_ratings = 1), "duplicate")
  # A 7-star rating is corrupt data, not something to clip silently.
  writeLines(c("userId,movieId,rating,timestamp", "1,10,4,1", "1,11,7,2"), csv)
  expect_cfp_error(read_movielens(csv, min_ratings = 1), "range", "[0.5, 5]")
  expect_identical(read_movielens(csv, min_ratings = 1, paper_scale = FALSE)$rating, c(4, 7))
  dat <- file.path(dir, "ratings.dat")
  writeLines("1::x::4::1", dat)
  expect_cfp_error(read_movielens(dat, min_ratings = 1), "file", "ratings.dat")
})

test_that("movielens_small() validates min_ratings", {
  skip_if_not_installed("dslabs")
  expect_cfp_error(movielens_small(min_ratings = -5), "value", "`min_ratings`")
  expect_cfp_error(movielens_small(min_ratings = "20"), "type", "`min_ratings`")
  expect_cfp_error(movielens_small(min_ratings = 1e6), "empty", "1e+06")
})

test_that("a singular ridge system (lambda_u = 0, too few ratings) is a classed numerical error", {
  # User "b" has one rating, fewer than the rank 2.
  df <- data.frame(
    user = c("a", "a", "a", "b", "c", "c", "c"),
    item = c(1, 2, 3, 1, 1, 2, 3),
    rating = c(1, 2, 0, 1, 2, 1, 0)
  )
  r <- as_ratings(df)
  expect_cfp_error(fit_cf(r, learner_als(rank = 2, lambda_u = 0, lambda_v = 1)), "numerical", "singular")
  expect_cfp_error(fit_cf(r, learner_als(rank = 3, lambda_u = 0, lambda_v = 0)), "numerical", "singular")
  # The same for an item (lambda_v = 0) and for a user without any rating.
  wide <- as_ratings(df, items = 1:4)
  expect_cfp_error(fit_cf(wide, learner_als(rank = 2, lambda_u = 1, lambda_v = 0)), "numerical", "singular")
  empty_user <- as_ratings(df, users = c("a", "b", "c", "d"))
  expect_cfp_error(fit_cf(empty_user, learner_als(rank = 1, lambda_u = 0, lambda_v = 1)), "numerical", "singular")
  # A fake user with too few ratings.
  full <- as_ratings(df[df$user != "b", ])
  fake <- as_ratings(data.frame(user = "f", item = 1, rating = 2), items = full$item_ids)
  expect_cfp_error(fit_cf(full, learner_als(rank = 2, lambda_u = 0, lambda_v = 1), attack = fake), "numerical", "singular")
  # The nuclear learner with lambda = 0 has no penalty either.
  expect_cfp_error(fit_cf(r, learner_nuclear(lambda = 0, rank_max = 2)), "numerical", "singular")
  # The session survives and fits well-posed problems afterwards.
  fit <- fit_cf(r, learner_als(rank = 2, lambda_u = 0.5, max_iter = 20))
  expect_true(all(is.finite(fit$u)) && all(is.finite(fit$v)))
})

test_that("inputs are never modified", {
  df <- data.frame(user = c("b", "a", "b"), item = factor(c("y", "x", "x")), rating = c(3L, 1L, 2L))
  df_copy <- df
  r <- as_ratings(df, users = c("a", "b", "c"))
  expect_identical(df, df_copy)
  m <- matrix(c(1, NA, 0, 2), 2, dimnames = list(c("u", "v"), c("i", "j")))
  m_copy <- m
  as_ratings(m)
  expect_identical(m, m_copy)
  imat <- matrix(c(1L, NA, 5L, 3L), 2)
  imat_copy <- imat
  as_ratings(imat)
  expect_identical(imat, imat_copy)

  r_copy <- r
  rescale_ratings(r, from = c(1, 3), to = c(-1, 1))
  summary(r)
  as.data.frame(r)
  expect_identical(r, r_copy)

  rs <- simulate_ratings(30, 20, rank = 2, density = 0.3, seed = 2)
  rs_copy <- rs
  init <- matrix(seq(0.01, 0.4, length.out = 40), 20, 2)
  init_copy <- init
  int_init <- matrix(1:40, 20, 2)
  int_init_copy <- int_init
  fake <- as_ratings(data.frame(user = "f", item = 1:5, rating = 2), items = rs$item_ids)
  fake_copy <- fake
  learner <- learner_als(rank = 2, lambda_u = 1, max_iter = 10)
  learner_copy <- learner
  fit <- fit_cf(rs, learner, attack = fake, init = init)
  fit_cf(rs, learner, init = int_init)
  expect_identical(rs, rs_copy)
  expect_identical(fake, fake_copy)
  expect_identical(init, init_copy)
  expect_identical(int_init, int_init_copy)
  expect_identical(learner, learner_copy)

  split_ratings(rs, test_fraction = 0.3, seed = 1)
  fit_copy <- fit
  refit <- fit_cf(rs, learner, init = fit)
  newdata <- data.frame(user = c(3L, 1L), item = c(2L, 5L))
  newdata_copy <- newdata
  predict(fit, newdata)
  predict(fit, rs)
  predict(fit, user = 1:2)
  expect_identical(newdata, newdata_copy)
  expect_identical(fit, fit_copy)
  expect_identical(rs, rs_copy)
})

test_that("list and matrix columns and non-vector universes are classed errors", {
  df <- data.frame(user = 1:3, item = 1L, rating = c(1, 2, 0))
  listed <- df
  listed$user <- list(1, 2, 3)
  expect_cfp_error(as_ratings(listed), "type", c("\"user\"", "list"))
  # A matrix column would lose all but its first column.
  wide <- df
  wide$rating <- cbind(df$rating, -df$rating)
  expect_cfp_error(as_ratings(wide), "type", c("\"rating\"", "matrix"))
  expect_cfp_error(as_ratings(df, users = as.list(1:3)), "value", "`users`")
})

test_that("ids that are logical or not vectors are classed errors, not matched as 1", {
  fit <- fit_cf(tiny(), learner_als(rank = 2, lambda_u = 1, max_iter = 5))
  numbered <- fit_cf(
    as_ratings(data.frame(user = 1:3, item = c(1L, 2L, 1L), rating = 1)),
    learner_als(rank = 1, lambda_u = 1, max_iter = 5)
  )
  expect_cfp_error(predict(numbered, user = TRUE), "type", c("`user`", "`TRUE`"))
  expect_cfp_error(predict(numbered, data.frame(user = 1L, item = TRUE)), "type", "`newdata$item`")
  expect_cfp_error(predict(fit, user = list("a", "b")), "type", "`user`")
  # Ids match as match() does otherwise.
  expect_identical(rownames(predict(numbered, user = "2")), "2")
})

test_that("select_targets() needs ratings over the fit's items for min_ratings", {
  r <- simulate_ratings(20, 15, rank = 2, density = 0.3, seed = 1)
  fit <- fit_cf(r, learner_als(rank = 2, lambda_u = 1, max_iter = 5))
  expect_cfp_error(select_targets(fit, min_ratings = 2, seed = 1), "missing", c("`min_ratings`", "`ratings`"))
  other <- simulate_ratings(20, 10, rank = 2, density = 0.3, seed = 1)
  expect_cfp_error(select_targets(fit, min_ratings = 2, ratings = other, seed = 1), "shape", "`ratings`")
  expect_cfp_error(select_targets(fit, min_ratings = 2, ratings = as.data.frame(r), seed = 1), "type", "`ratings`")
  # Checked whenever given, even where min_ratings = 0 does not read them.
  expect_cfp_error(select_targets(fit, ratings = "r", seed = 1), "type", "`ratings`")
  expect_cfp_error(select_targets(fit, ratings = other, seed = 1), "shape", "`ratings`")
  expect_length(select_targets(fit, min_ratings = 2, ratings = r, seed = 1), 1L)
})

test_that("objective() of something other than a fit is a classed error", {
  expect_cfp_error(objective(tiny()), "type", c("`object`", "fit_cf()"))
  expect_cfp_error(objective(NULL), "type", "`object`")
})

test_that("rescale_ratings() and simulate_ratings() refuse ratings beyond 1e100", {
  expect_cfp_error(rescale_ratings(tiny(), to = c(-1e200, 1e200)), "range", c("`to`", "1e+100"))
  expect_cfp_error(
    simulate_ratings(20, 10, rank = 2, density = 0.3, noise_sd = 1e200, scale = NULL, seed = 1),
    "range", c("noise_sd", "scale")
  )
  expect_cfp_error(
    simulate_ratings(20, 10, rank = 2, density = 0.3, noise_sd = 1e250, scale = c(-1e300, 1e300), seed = 1),
    "range", "1e+100"
  )
})

test_that("a learner edited by hand is a classed error, not a failure in the core", {
  r <- tiny()
  bad_rank <- learner_als(rank = 2, lambda_u = 1)
  bad_rank$rank <- -1
  expect_cfp_error(fit_cf(r, bad_rank), "value", c("`learner`", "damaged", "`rank`"))
  no_lambda <- learner_nuclear(lambda = 1)
  no_lambda$lambda <- NA
  expect_cfp_error(fit_cf(r, no_lambda), "value", c("`learner`", "`lambda`"))
  bagged <- learner_bagged(learner_als(rank = 2, lambda_u = 1), n_bags = 2, seed = 1)
  bagged$lambda_v <- -1
  expect_cfp_error(fit_cf(r, bagged), "value", c("`learner`", "cf_learner_bagged", "`lambda_v`"))
  expect_cfp_error(
    evaluate_attack(r, data.frame(user = "f", item = r$item_ids[1], rating = 1), bad_rank),
    "value", "`learner`"
  )
})

test_that("a fit edited by hand is a classed error, not NA predictions or a dimnames failure", {
  r <- tiny()
  fit <- fit_cf(r, learner_als(rank = 2, lambda_u = 1, max_iter = 5))
  short <- fit
  short$v <- fit$v[-1, , drop = FALSE]
  expect_cfp_error(predict(short, user = r$user_ids[1]), "value", "damaged")
  holed <- fit
  holed$u[1, 1] <- NA
  expect_cfp_error(predict(holed, as.data.frame(r)), "value", "damaged")
  expect_cfp_error(fit_cf(r, learner_als(rank = 2, lambda_u = 1, max_iter = 5), init = holed), "value", "damaged")
  nuclear <- fit_cf(r, learner_nuclear(lambda = 1, rank_max = 3))
  nuclear$d <- nuclear$d[-1]
  expect_cfp_error(predict(nuclear, as.data.frame(r)), "value", "damaged")
})
