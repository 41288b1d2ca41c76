# Issue 10's reproducers: crashes, hangs, silent wrong answers and misleading errors.

issue_ratings <- function() simulate_ratings(60, 30, rank = 2, density = 0.3, seed = 1)
issue_learner <- function() learner_als(rank = 2, lambda_u = 1, max_iter = 50)
issue_budget <- function() attack_budget(alpha = 0.05, items_per_user = 5)

test_that("predict() and the core refuse indices outside the fit", {
  r <- issue_ratings()
  fit <- fit_cf(r, issue_learner())
  tampered <- r
  tampered$user[540] <- 100000000L
  expect_cfp_error(predict(fit, tampered), "value", c("ratings", "user"))
  tampered$user[540] <- 100L
  expect_cfp_error(predict(fit, tampered), "value", "user")
  # The core checks what it is handed even when R does not.
  expect_error(cfpoison:::.predict_pairs(fit$u, fit$v, 100000000L, 0L, 1L), "out of range")
  expect_error(cfpoison:::.predict_pairs(fit$u, fit$v, 0L, -1L, 1L), "out of range")
})

test_that("a tampered cf_ratings is a classed error wherever it is used", {
  r <- issue_ratings()
  bad_item <- r
  bad_item$item[1] <- 0L
  expect_cfp_error(fit_cf(bad_item, issue_learner()), "value", c("ratings", "item"))
  short <- r
  short$rating <- short$rating[-1]
  expect_cfp_error(fit_cf(short, issue_learner()), "shape", "ratings")
  not_a_list <- structure(list(), class = "cf_ratings")
  expect_cfp_error(summary(fit_cf(not_a_list, issue_learner())), "type", "ratings")
})

test_that("simulate_ratings() with density 1 is fast and observes every entry", {
  elapsed <- system.time(r <- simulate_ratings(300, 300, rank = 2, density = 1, seed = 1))[["elapsed"]]
  expect_lt(elapsed, 10)
  expect_length(r$rating, 300 * 300)
  dense <- simulate_ratings(40, 30, rank = 2, density = 0.9, seed = 2)
  expect_length(dense$rating, round(0.9 * 40 * 30))
  expect_false(anyDuplicated((dense$user - 1) * 30 + dense$item) > 0)
})

test_that("counts beyond the integer range are classed errors naming the argument", {
  r <- issue_ratings()
  expect_cfp_error(learner_als(rank = 2, max_iter = 1e10), "value", "max_iter")
  expect_cfp_error(learner_als(rank = 1e10), "value", "rank")
  expect_cfp_error(learner_nuclear(lambda = 1, max_iter = 1e10), "value", "max_iter")
  expect_cfp_error(attack_budget(alpha = 0.05, items_per_user = 1e10), "value", "items_per_user")
  expect_cfp_error(learner_bagged(issue_learner(), n_bags = 1e10), "value", "n_bags")
  expect_cfp_error(
    poison_pga(r, issue_learner(), utility_availability(), issue_budget(), max_iter = 1e10),
    "value", "max_iter"
  )
  expect_cfp_error(
    poison_pga(r, issue_learner(), utility_availability(), issue_budget(), refit_sweeps = 1e10),
    "value", "refit_sweeps"
  )
  expect_cfp_error(
    poison_sgld(r, issue_learner(), utility_availability(), issue_budget(), max_iter = 1e10),
    "value", "max_iter"
  )
  expect_cfp_error(
    poison_sgld(r, issue_learner(), utility_availability(), issue_budget(), refit_sweeps = 1e10),
    "value", "refit_sweeps"
  )
})

test_that("evaluate_attack() on fully observed ratings gives NA shifts with a classed warning", {
  full <- simulate_ratings(20, 10, rank = 2, density = 1, seed = 1)
  attack <- poison_uniform(full, issue_budget(), seed = 1)
  expect_warning(
    res <- evaluate_attack(full, attack, issue_learner()),
    class = "cfpoison_warning_undefined"
  )
  expect_true(is.na(res$rmse_shift))
  expect_true(is.na(res$rmse_shift_floor))
})

test_that("select_targets() says how many items qualify when too few do", {
  r <- issue_ratings()
  fit <- fit_cf(r, issue_learner())
  qualify <- sum(tabulate(r$item, 30) >= 30)
  expect_cfp_error(
    select_targets(fit, n = 5, min_ratings = 30, ratings = r, seed = 1),
    "value", c(paste(qualify, "item"), "min_ratings")
  )
})

test_that("read_movielens() detects missing fields, wrong separators and a missing header", {
  dir <- tempfile("ml")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  no_time <- file.path(dir, "u.data")
  writeLines(c("1\t10\t5", "1\t20\t3", "2\t10\t1", "2\t20\t4"), no_time)
  expect_cfp_error(read_movielens(no_time, min_ratings = 1), "file", c("u.data", "4 fields"))

  colon <- file.path(dir, "ratings.dat")
  writeLines(c("1:10:5:978300760", "1:20:3:978300760", "2:10:1:978300760"), colon)
  expect_cfp_error(read_movielens(colon, min_ratings = 1), "file", "ratings.dat")

  no_header <- file.path(dir, "ratings.csv")
  writeLines(c("1,10,5,1", "1,20,3,1", "2,10,1,1"), no_header)
  r <- read_movielens(no_header, min_ratings = 1, paper_scale = FALSE)
  expect_length(r$rating, 3)
  writeLines(c("userId,movieId,rating,timestamp", "1,10,5,1", "1,20,3,1", "2,10,1,1"), no_header)
  expect_length(read_movielens(no_header, min_ratings = 1, paper_scale = FALSE)$rating, 3)
})

test_that("attack_grid() resumes a smaller grid without rerunning finished runs", {
  r <- issue_ratings()
  file <- tempfile(fileext = ".rds")
  on.exit(unlink(file), add = TRUE)
  args <- list(r, issue_learner(), methods = "uniform", seeds = 1, detect = FALSE, file = file, progress = FALSE)
  first <- do.call(attack_grid, c(args, list(alpha = c(0.05, 0.125))))
  second <- do.call(attack_grid, c(args, list(alpha = 0.05)))
  expect_equal(nrow(readRDS(file)), 2L)
  expect_identical(second$seconds, first$seconds[first$alpha == 0.05])
})

test_that("attack_grid() checks that `file` can be written before running", {
  r <- issue_ratings()
  file <- file.path(tempfile("missing"), "grid.rds")
  expect_cfp_error(
    attack_grid(r, issue_learner(), methods = "uniform", alpha = 0.05, seeds = 1, detect = FALSE, file = file, progress = FALSE),
    "file", "file"
  )
})

test_that("summary() of baseline and hand-built attacks works", {
  r <- issue_ratings()
  s <- summary(poison_uniform(r, issue_budget(), seed = 1))
  expect_equal(nrow(s), 1L)
  expect_true(is.na(s$mu_1))
  expect_equal(s$items_per_user, 5)
  expect_equal(nrow(summary(poison_average(r, issue_budget(), targets = 3, seed = 1))), 1L)
})

test_that("missing required arguments are classed errors naming the argument", {
  r <- issue_ratings()
  expect_cfp_error(utility_integrity(), "missing", "targets")
  expect_cfp_error(utility_hybrid(c(1, 1)), "missing", "targets")
  expect_cfp_error(poison_random(r, issue_budget()), "missing", "targets")
  expect_cfp_error(poison_segment(r, issue_budget(), targets = 1), "missing", "segment")
  expect_cfp_error(poison_uniform(r), "missing", "budget")
  expect_cfp_error(fit_cf(learner = issue_learner()), "missing", "ratings")
})

test_that("error messages blame the right thing", {
  r <- issue_ratings()
  err <- expect_cfp_error(utility_integrity(1, weights = NA), "value", "weights")
  expect_no_match(conditionMessage(err), "length 1")

  attack <- poison_uniform(r, issue_budget(), seed = 1)
  attack$fake$rating[1] <- NA
  err <- expect_cfp_error(evaluate_attack(r, attack, issue_learner()), "missing", "fake")
  expect_no_match(conditionMessage(err), "lambda")
  expect_cfp_error(fit_cf(r, issue_learner(), attack = attack$fake), "missing", "attack")

  huge <- r
  huge$rating <- huge$rating * 1e200
  expect_cfp_error(fit_cf(huge, issue_learner()), "range", "ratings")
  frame <- as.data.frame(r)
  frame$rating <- frame$rating * 1e200
  expect_cfp_error(as_ratings(frame), "range", "1e+100")

  expect_cfp_error(split_ratings(r, test_fraction = 1), "value", "< 1")
  err <- expect_cfp_error(split_ratings(r, test_fraction = 1.5), "value", "< 1")
  expect_no_match(conditionMessage(err), "<= 1")
})

test_that("evaluate_detection() on huge ratings is a classed error, not an Armadillo one", {
  r <- issue_ratings()
  attack <- poison_uniform(r, issue_budget(), seed = 1)
  huge <- r
  huge$rating <- huge$rating * 1e200
  expect_cfp_error(evaluate_detection(huge, attack$fake), "range", "ratings")
})

test_that("the attack's clean model and the ratings' range are blamed, not `clean` or `from`", {
  r <- issue_ratings()
  attack <- poison_pga(r, issue_learner(), utility_availability(), issue_budget(),
    support = "random", method = "kkt", max_iter = 1, seed = 1
  )
  relabelled <- r
  relabelled$user_ids <- paste0("u", r$user_ids)
  err <- expect_cfp_error(evaluate_attack(relabelled, attack), "value", "attack$clean")
  expect_no_match(conditionMessage(err), "Leave it `NULL`")

  flat <- as_ratings(data.frame(user = 1:2, item = 1, rating = 2))
  err <- expect_cfp_error(rescale_ratings(flat), "value", "from")
  expect_match(conditionMessage(err), "ratings", fixed = TRUE)
})

test_that("a bag that draws too few users is a classed error about the bag", {
  small <- simulate_ratings(3, 6, rank = 1, density = 0.6, seed = 1)
  err <- expect_cfp_error(
    fit_cf(small, learner_bagged(learner_als(rank = 1, lambda_u = 1), n_bags = 2, seed = 9)),
    "value", c("bag", "n_bags")
  )
  expect_no_match(conditionMessage(err), "= 0")
})

test_that("printing ratings without entries shows no infinite range", {
  r <- issue_ratings()
  empty <- r
  empty$user <- integer(0)
  empty$item <- integer(0)
  empty$rating <- numeric(0)
  expect_no_warning(out <- cli::cli_fmt(print(empty)))
  expect_false(any(grepl("Inf", out)))
})

test_that("simulate_ratings() with a steep zipf_exponent finishes with every rating", {
  for (zipf in c(8, 1e10)) {
    # A guard against the hang (the draws repeated the popular pairs for
    # hours), not a speed claim: it takes well under a second.
    elapsed <- system.time(r <- simulate_ratings(60, 30, rank = 2, density = 0.3, zipf_exponent = zipf, seed = 1))
    expect_lt(elapsed[["elapsed"]], 60)
    expect_length(r$rating, 540)
    expect_identical(cfpoison:::check_ratings(r), r)
  }
  # Over more pairs than can be drawn without replacement in one go, it stops.
  expect_cfp_error(
    simulate_ratings(5000, 3000, rank = 2, density = 0.01, zipf_exponent = 1e10, seed = 1),
    "value", c("zipf_exponent", "density")
  )
})
