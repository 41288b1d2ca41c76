grid_ratings <- function() simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
grid_learner <- function() learner_als(rank = 3, lambda_u = 1)

# A 2 x 2 grid (two methods, two alphas) with short attacks.
small_grid <- function(...) {
  attack_grid(grid_ratings(), grid_learner(),
    methods = c("pga", "uniform"), alpha = c(0.03, 0.06), seeds = 1L, items_per_user = 10,
    attack_args = list(pga = list(max_iter = 4)), progress = FALSE, ...
  )
}

# The columns that measure time differ between any two runs.
without_timing <- function(grid) {
  grid[setdiff(names(grid), c("attack_seconds", "evaluation_seconds", "seconds"))]
}

test_that("a grid has one tidy row per run, settings first, and identical results under any plan", {
  skip_if_not_installed("future")
  old_plan <- future::plan(future::sequential)
  on.exit(future::plan(old_plan), add = TRUE)
  sequential <- small_grid()

  expect_s3_class(sequential, c("cf_grid", "data.frame"))
  expect_equal(nrow(sequential), 4L)
  expect_equal(names(sequential)[1:7], c("run", "method", "alpha", "mu_1", "mu_2", "beta", "seed"))
  expect_equal(sequential$method, c("pga", "uniform", "pga", "uniform"))
  expect_equal(sequential$alpha, c(0.03, 0.03, 0.06, 0.06))
  expect_true(all(is.na(sequential$error)))
  expect_true(all(c("rmse_shift", "rmse_shift_floor", "target_rating_poisoned", "utility", "auc_rdma", "auc_pca",
                    "p_value_frequency", "p_value_mean", "seconds") %in% names(sequential)))
  expect_true(all(sequential$rmse_shift > 0))
  expect_true(all(sequential$p_value_frequency >= 0 & sequential$p_value_frequency <= 1))
  expect_equal(sequential$n_fake_users, c(4L, 4L, 9L, 9L))

  future::plan(future::multisession, workers = 2)
  parallel <- small_grid()
  expect_identical(without_timing(parallel), without_timing(sequential))
})

test_that("a grid row equals the attack run by hand with the same seed and clean model", {
  r <- grid_ratings()
  learner <- grid_learner()
  clean <- with_seed(7, fit_cf(r, learner))
  grid <- attack_grid(r, learner,
    methods = "pga", alpha = 0.05, mu = c(1, 0), seeds = 3, items_per_user = 10, clean = clean,
    attack_args = list(pga = list(max_iter = 4)), detect = FALSE, progress = FALSE
  )
  # The grid may run under another RNG kind (future's L'Ecuyer streams): the seed still decides.
  RNGkind("L'Ecuyer-CMRG")
  on.exit(RNGkind("default", "default", "default"), add = TRUE)
  attack <- poison_pga(r, learner, utility_availability(), attack_budget(0.05, items_per_user = 10),
    max_iter = 4, clean = clean, seed = 3
  )
  by_hand <- evaluate_attack(r, attack, clean = clean)
  expect_equal(grid$rmse_shift, by_hand$rmse_shift, tolerance = 1e-12)
  expect_equal(grid$utility, by_hand$utility, tolerance = 1e-12)
  expect_equal(grid$p_value_mean, detect_ttest(r, attack, "mean")$p.value, tolerance = 1e-12)
  expect_false("auc_rdma" %in% names(grid))
})

test_that("SGLD runs once per beta, other methods once, and integrity settings get a target", {
  grid <- attack_grid(grid_ratings(), grid_learner(),
    methods = c("sgld", "uniform", "average"), alpha = 0.05, mu = list(c(1, 0), c(0, -1)), beta = c(0.5, 2),
    seeds = 1L, items_per_user = 10, attack_args = list(sgld = list(max_iter = 3)), detect = FALSE, progress = FALSE
  )
  expect_equal(nrow(grid), 2 * (2 + 1 + 1))
  expect_equal(grid$beta, rep(c(0.5, 2, NA, NA), 2))
  expect_equal(grid$mu_2, rep(c(0, -1), each = 4))
  target <- attr(grid, "targets")
  expect_length(target, 1L)
  expect_true(all(is.na(grid$error)))
  # The average attack pushes the target when mu_2 >= 0 and nukes it otherwise.
  average <- grid[grid$method == "average", ]
  expect_lt(average$target_rating_poisoned[average$mu_2 == -1], average$target_rating_poisoned[average$mu_2 == 0])
})

test_that("a run that fails is recorded with its message and the grid goes on", {
  grid <- attack_grid(grid_ratings(), grid_learner(),
    methods = c("sgld", "uniform"), alpha = 0.05, seeds = 1:2, items_per_user = 10,
    attack_args = list(sgld = list(max_iter = 3, step = 1)), detect = FALSE, progress = FALSE
  )
  failed <- grid[grid$method == "sgld", ]
  expect_equal(nrow(failed), 2L)
  expect_match(failed$error, "Langevin step unstable", fixed = TRUE)
  expect_true(all(is.na(failed$rmse_shift)))
  succeeded <- grid[grid$method == "uniform", ]
  expect_true(all(is.na(succeeded$error)))
  expect_true(all(succeeded$rmse_shift > 0))
})

test_that("a grid resumes from its file: finished runs are skipped, failed ones rerun", {
  file <- tempfile(fileext = ".rds")
  on.exit(unlink(file), add = TRUE)
  first <- small_grid(file = file, chunk_size = 1)
  saved <- readRDS(file)
  expect_equal(nrow(saved), 4L)

  # Mark one finished run with a value no run produces and fail another: the
  # resumed grid must keep the first (skipped) and recompute the second.
  saved$rmse_shift[1] <- -1
  saved$error[2] <- "interrupted"
  saved$rmse_shift[2] <- NA
  attr(saved, "problem") <- attr(readRDS(file), "problem")
  saveRDS(saved, file)
  resumed <- small_grid(file = file)
  expect_equal(resumed$rmse_shift[1], -1)
  expect_true(is.na(resumed$error[2]))
  expect_equal(resumed$rmse_shift[2:4], first$rmse_shift[2:4])

  # A wider grid reuses the saved runs and adds the new ones to the file.
  wider <- attack_grid(grid_ratings(), grid_learner(),
    methods = c("pga", "uniform"), alpha = c(0.03, 0.06, 0.09), seeds = 1L, items_per_user = 10,
    attack_args = list(pga = list(max_iter = 4)), progress = FALSE, file = file
  )
  expect_equal(nrow(wider), 6L)
  expect_equal(wider$rmse_shift[1], -1)
  expect_equal(nrow(readRDS(file)), 6L)
  # A narrower grid returns only its runs and keeps the others in the file.
  narrow <- attack_grid(grid_ratings(), grid_learner(),
    methods = "uniform", alpha = 0.09, seeds = 1L, items_per_user = 10, progress = FALSE, file = file
  )
  expect_equal(nrow(narrow), 1L)
  expect_equal(narrow$run, 1L)
  expect_equal(nrow(readRDS(file)), 6L)
})

test_that("a results file of another problem is refused", {
  file <- tempfile(fileext = ".rds")
  on.exit(unlink(file), add = TRUE)
  small_grid(file = file)
  expect_cfp_error(
    attack_grid(grid_ratings(), learner_als(rank = 2, lambda_u = 1),
      methods = "uniform", alpha = 0.03, seeds = 1L, items_per_user = 10, progress = FALSE, file = file
    ),
    "value", "other ratings or another learner"
  )
  saveRDS(list(a = 1), file)
  expect_cfp_error(small_grid(file = file), "value", "does not hold")
})

test_that("attack_grid() rejects bad settings with classed errors", {
  r <- grid_ratings()
  learner <- grid_learner()
  grid <- function(..., seeds = 1L, items_per_user = 10) attack_grid(r, learner, seeds = seeds, items_per_user = items_per_user, progress = FALSE, ...)
  expect_cfp_error(grid(methods = "pgaa"), "value", "pgaa")
  expect_cfp_error(grid(methods = character(0)), "type")
  expect_cfp_error(grid(methods = c("pga", "pga")), "type")
  expect_cfp_error(grid(mu = c(1, 0, 1)), "value", "mu")
  expect_cfp_error(grid(mu = list(c(0, 0))), "value", "not both zero")
  expect_cfp_error(grid(mu = c(NA, 1)), "value")
  expect_cfp_error(grid(alpha = c(0.01, 0.01)), "type", "alpha")
  expect_cfp_error(grid(alpha = 0), "value", "alpha")
  expect_cfp_error(grid(alpha = "a"), "type", "alpha")
  expect_cfp_error(grid(beta = 0), "value", "beta")
  expect_cfp_error(grid(seeds = 1.5), "value", "seeds")
  expect_cfp_error(grid(seeds = c(1, 1)), "value", "seeds")
  expect_cfp_error(grid(methods = "pga", attack_args = list(sgld = list(max_iter = 2))), "value", "sgld")
  expect_cfp_error(grid(attack_args = list(pga = list(seed = 2))), "value", "seed")
  expect_cfp_error(grid(attack_args = list(pga = 3)), "type", "attack_args")
  expect_cfp_error(grid(file = 3), "type", "file")
  expect_cfp_error(grid(methods = "uniform", alpha = 0.05, items_per_user = 100), "value")
  expect_cfp_error(grid(methods = "uniform", mu = c(0, 1), targets = "nope"), "value", "not in the ratings")
  expect_cfp_error(attack_grid(as.data.frame(r), learner), "type")
  expect_cfp_error(attack_grid(r, "als"), "type")
})

test_that("bad target weights stop the grid before any run", {
  expect_cfp_error(
    attack_grid(grid_ratings(), grid_learner(),
      methods = "uniform", alpha = 0.03, mu = c(0, 1), weights = c(1, 2), seeds = 1L, items_per_user = 10,
      progress = FALSE
    ),
    "value", "weights"
  )
  # Without an integrity term the weights would be ignored.
  expect_cfp_error(
    attack_grid(grid_ratings(), grid_learner(),
      methods = "uniform", alpha = 0.03, mu = list(c(1, 0), c(2, 0)), weights = -2, seeds = 1L,
      items_per_user = 10, progress = FALSE
    ),
    "value", c("`weights`", "not used")
  )
})

test_that("progress reports every finished run", {
  messages <- character(0)
  # The bar it draws on stderr is kept out of the test log.
  utils::capture.output(type = "message", grid <- withCallingHandlers(
    attack_grid(grid_ratings(), grid_learner(),
      methods = "uniform", alpha = c(0.03, 0.06), seeds = 1:2, items_per_user = 10, detect = FALSE, progress = TRUE
    ),
    progression = function(condition) messages <<- c(messages, conditionMessage(condition))
  ))
  expect_equal(nrow(grid), 4L)
  expect_equal(sum(grepl("^uniform, alpha = ", messages)), 4L)
})
