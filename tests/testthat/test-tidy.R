# Results as tibbles with the documented columns, tidy() and glance() of fits,
# attacks and t-tests, and a compact print of a grid.

tidy_ratings <- function() simulate_ratings(60, 30, rank = 2, density = 0.3, seed = 1)
tidy_learner <- function() learner_als(rank = 2, lambda_u = 1)
tidy_budget <- function() attack_budget(alpha = 0.05, items_per_user = 5)

evaluation_columns <- c(
  "method", "n_fake_users", "alpha", "rmse_shift", "rmse_shift_floor", "test_rmse_clean", "test_rmse_poisoned",
  "target_rating_clean", "target_rating_poisoned", "hit_ratio_clean", "hit_ratio_poisoned", "utility",
  "refit_converged", "attack_seconds", "evaluation_seconds"
)

test_that("evaluate_attack(), evaluate_defence() and evaluate_detection() return tibbles of the documented columns", {
  r <- tidy_ratings()
  s <- split_ratings(r, seed = 1)
  attack <- poison_uniform(s$train, tidy_budget(), seed = 1)
  evaluation <- evaluate_attack(s$train, attack, tidy_learner(), test = s$test, targets = 3)
  expect_s3_class(evaluation, "tbl_df")
  expect_named(evaluation, evaluation_columns)
  expect_equal(nrow(evaluation), 1L)
  expect_equal(evaluation$n_fake_users, 3L)

  defence <- evaluate_defence(s$train, attack, s$test, list(huber = learner_als(rank = 2, lambda_u = 1, loss = "huber")),
    learner = tidy_learner()
  )
  expect_s3_class(defence, "tbl_df")
  expect_named(defence, c("defence", "attacker", "test_rmse_cost", evaluation_columns))
  expect_equal(defence$defence, c("none", "huber"))
  expect_equal(defence$test_rmse_cost[1], 0)

  detection <- evaluate_detection(s$train, attack, k = 5)
  expect_s3_class(detection, "tbl_df")
  expect_named(detection, c("detector", "kind", "auc", "p_value", "statistic", "note"))
  expect_equal(detection$detector, c(
    "length", "rdma", "wdma", "wda", "length_var", "mean_var", "degsim", "popularity", "pca", "ttest_frequency", "ttest_mean"
  ))
})

test_that("the detectors and the gradients return tibbles of the documented columns", {
  r <- tidy_ratings()
  attack <- poison_uniform(r, tidy_budget(), seed = 1)
  features <- detect_features(r, attack, k = 5)
  expect_s3_class(features, c("cf_features", "tbl_df", "tbl", "data.frame"), exact = TRUE)
  expect_named(features, c("user", "is_fake", "length", "rdma", "wdma", "wda", "length_var", "mean_var", "degsim", "popularity"))
  expect_equal(nrow(features), 63L)
  expect_named(detect_features(r, k = 5), c("user", "length", "rdma", "wdma", "wda", "length_var", "mean_var", "degsim", "popularity"))
  expect_s3_class(autoplot(features), "ggplot")
  expect_no_error(ggplot2::ggplot_build(autoplot(features)))

  pca <- detect_pca(r, attack)
  expect_s3_class(pca, "tbl_df")
  expect_named(pca, c("user", "is_fake", "score", "suspicion"))
  expect_length(attr(pca, "singular_values"), 3L)
  # Subsets keep the attribute, as before.
  expect_identical(attr(pca[1:2, ], "singular_values"), attr(pca, "singular_values"))

  roc <- detection_roc(features$rdma, features$is_fake)
  expect_s3_class(roc, "tbl_df")
  expect_named(roc, c("threshold", "fpr", "tpr"))

  learner <- tidy_learner()
  gradient <- attack_gradient(r, attack$fake, learner, utility_availability())
  expect_s3_class(gradient, "tbl_df")
  expect_named(gradient, c("user", "item", "rating", "gradient"))
  expect_true(is.numeric(attr(gradient, "utility")))
  check <- check_gradient(r, attack$fake, learner, utility_availability(), n_entries = 2, seed = 1)
  expect_s3_class(check, "tbl_df")
  expect_named(check, c("entry", "user", "item", "analytic", "numeric", "relative_error"))
  expect_true(is.numeric(attr(check, "cosine")))
})

test_that("as.data.frame() methods still return plain data frames", {
  r <- tidy_ratings()
  attack <- poison_uniform(r, tidy_budget(), seed = 1)
  expect_identical(class(as.data.frame(r)), "data.frame")
  expect_identical(class(as.data.frame(attack)), "data.frame")
  expect_identical(class(as.data.frame(detect_ttest(r, attack))), "data.frame")
})

test_that("tidy() of a fit gives the singular values of its predictions, glance() its own numbers", {
  r <- tidy_ratings()
  learner <- tidy_learner()
  attack <- poison_uniform(r, tidy_budget(), seed = 1)
  fit <- fit_cf(r, learner, attack = attack, seed = 1)

  components <- tidy(fit)
  expect_s3_class(components, "tbl_df")
  expect_named(components, c("component", "singular_value", "share", "cumulative_share"))
  # Over every user the model was fitted on, fake users included.
  predictions <- rbind(fit$u, fit$fake_u) %*% t(fit$v)
  expect_equal(components$singular_value, svd(predictions)$d[1:2], tolerance = 1e-10)
  expect_equal(components$component, 1:2)
  expect_equal(components$share, svd(predictions)$d[1:2]^2 / sum(predictions^2), tolerance = 1e-10)
  expect_equal(components$cumulative_share[2], 1)

  summary <- glance(fit, ratings = r)
  expect_s3_class(summary, "tbl_df")
  expect_named(summary, c(
    "learner", "loss", "rank", "lambda_u", "lambda_v", "lambda", "biases", "lambda_bias", "n_bags", "n_users",
    "n_fake_users", "n_items", "n_ratings", "n_fake_ratings", "sweeps", "converged", "objective", "train_rmse", "seconds"
  ))
  expect_equal(nrow(summary), 1L)
  expect_identical(summary$objective, objective(fit))
  expect_identical(summary$learner, "als")
  expect_identical(summary$loss, "squared")
  expect_identical(summary$rank, 2L)
  expect_identical(summary$lambda_u, 1)
  expect_identical(summary$lambda_v, 1)
  expect_true(is.na(summary$lambda))
  expect_true(is.na(summary$n_bags))
  expect_identical(summary$n_users, 60L)
  expect_identical(summary$n_fake_users, length(attack$fake$user_ids))
  expect_identical(summary$n_items, 30L)
  expect_identical(summary$n_ratings, length(r$rating))
  expect_identical(summary$n_fake_ratings, length(attack$fake$rating))
  expect_identical(summary$sweeps, fit$iterations)
  expect_identical(summary$converged, fit$converged)
  expect_identical(summary$train_rmse, rmse(fit, r))
  expect_identical(summary$seconds, fit$seconds)
  expect_true(is.na(glance(fit)$train_rmse))
})

test_that("tidy() and glance() of nuclear-norm and bagged fits", {
  r <- tidy_ratings()
  nuclear <- suppressWarnings(fit_cf(r, learner_nuclear(lambda = 2, rank_max = 4), seed = 1))
  expect_equal(tidy(nuclear)$singular_value, sort(nuclear$d, decreasing = TRUE), tolerance = 1e-8)
  summary <- glance(nuclear)
  expect_identical(summary$learner, "nuclear")
  expect_identical(summary$lambda, 2)
  expect_true(is.na(summary$lambda_u))
  expect_identical(summary$rank, nuclear$rank)

  bagged <- fit_cf(r, learner_bagged(tidy_learner(), n_bags = 6, seed = 1), seed = 1)
  components <- tidy(bagged)
  expect_equal(nrow(components), 12L)
  expect_equal(components$singular_value, svd(bagged$u %*% t(bagged$v))$d[1:12], tolerance = 1e-10)
  expect_identical(glance(bagged)$n_bags, 6L)
  expect_identical(glance(bagged)$objective, objective(bagged))
})

test_that("tidy() of an attack is its fake ratings, glance() its settings and trace", {
  r <- tidy_ratings()
  attack <- poison_pga(r, tidy_learner(), utility_availability(), tidy_budget(), max_iter = 3, seed = 1)
  ratings <- tidy(attack)
  expect_s3_class(ratings, "tbl_df")
  expect_named(ratings, c("user", "item", "rating"))
  expect_equal(nrow(ratings), length(attack$fake$rating))
  expect_equal(ratings, as.data.frame(attack), ignore_attr = TRUE)

  summary <- glance(attack)
  expect_s3_class(summary, "tbl_df")
  expect_named(summary, c(
    "method", "n_fake_users", "n_fake_ratings", "alpha", "items_per_user", "max_rating", "utility_kind", "mu_1", "mu_2",
    "iterations", "utility_start", "utility_end", "utility_best", "converged_utility", "seconds", "seed"
  ))
  trace <- attack$trace
  expect_identical(summary$method, "pga")
  expect_identical(summary$n_fake_users, 3L)
  expect_identical(summary$items_per_user, attack$budget$items_per_user)
  expect_identical(summary$alpha, 0.05)
  expect_identical(summary$utility_kind, "availability")
  expect_identical(summary$iterations, nrow(trace) - 1L)
  expect_identical(summary$utility_start, trace$utility[1])
  expect_identical(summary$utility_end, trace$utility[nrow(trace)])
  expect_identical(summary$utility_best, max(trace$utility))
  expect_identical(summary$converged_utility, max(attack$settings$outcome$converged_utility, na.rm = TRUE))
  # The whole call's seconds: every start and search, beyond the trace's own.
  expect_identical(summary$seconds, attack$seconds)
  expect_gte(summary$seconds, trace$seconds[nrow(trace)])
  expect_identical(evaluate_attack(r, attack)$attack_seconds, attack$seconds)
  expect_identical(summary$seed, 1L)
  # summary() gives the returned block's converged utility beside the loop's.
  overview <- summary(attack)
  expect_identical(names(overview), setdiff(names(summary), c("utility_kind", "utility_best", "seed")))
  expect_identical(overview$converged_utility, summary$converged_utility)
  expect_true(is.na(summary(poison_uniform(r, tidy_budget(), seed = 2))$converged_utility))

  # Baselines have no utility, trace or search.
  uniform <- glance(poison_uniform(r, tidy_budget(), seed = 2))
  expect_identical(names(uniform), names(summary))
  expect_identical(uniform$iterations, 0L)
  expect_true(is.na(uniform$utility_kind))
  expect_true(is.na(uniform$utility_best))
  expect_true(is.na(uniform$converged_utility))
  expect_identical(uniform$seed, 2L)
  expect_identical(glance(poison_average(r, tidy_budget(), targets = 3, seed = 1))$method, "average")
  hybrid <- poison_structured(r, tidy_learner(), utility_hybrid(c(1, -1), targets = 3), tidy_budget(), "anchored", seed = 1)
  expect_identical(glance(hybrid)$utility_kind, "hybrid")
})

test_that("tidy() and glance() of a t-test are its one-row data frame as a tibble", {
  r <- tidy_ratings()
  attack <- poison_uniform(r, attack_budget(alpha = 0.1, items_per_user = 5), seed = 1)
  test <- detect_ttest(r, attack, reading = "mean")
  expect_s3_class(tidy(test), "tbl_df")
  expect_named(tidy(test), c("statistic", "p_value", "estimate", "n_pairs", "reading"))
  expect_equal(tidy(test), as.data.frame(test), ignore_attr = TRUE)
  expect_identical(tidy(test)$p_value, test$p.value)
  expect_identical(glance(test), tidy(test))
})

grid_columns <- c(
  "run", "method", "alpha", "mu_1", "mu_2", "beta", "seed", setdiff(evaluation_columns, c("method", "alpha")),
  "auc_length", "auc_rdma", "auc_wdma", "auc_wda", "auc_length_var", "auc_mean_var", "auc_degsim", "auc_popularity",
  "auc_pca",
  "p_value_frequency", "p_value_mean", "error", "seconds"
)

test_that("a grid is a cf_grid tibble of the documented columns, plots, resumes and prints compactly", {
  file <- tempfile(fileext = ".rds")
  on.exit(unlink(file), add = TRUE)
  run_grid <- function() {
    attack_grid(tidy_ratings(), tidy_learner(),
      methods = c("pga", "uniform", "sgld"), alpha = 0.05, mu = list(c(1, 0), c(0, 1)), seeds = 1L, items_per_user = 5,
      attack_args = list(pga = list(max_iter = 2), sgld = list(max_iter = 2, step = 1)), file = file, progress = FALSE
    )
  }
  grid <- run_grid()
  expect_s3_class(grid, c("cf_grid", "tbl_df", "tbl", "data.frame"), exact = TRUE)
  expect_named(grid, grid_columns)
  expect_equal(nrow(grid), 6L)
  expect_length(attr(grid, "targets"), 1L)
  # SGLD's step is unstable: those runs fail and are recorded.
  expect_equal(sum(!is.na(grid$error)), 2L)
  expect_no_error(ggplot2::ggplot_build(autoplot(grid)))
  # Resuming from the file reruns only the failed runs and gives the same tibble.
  resumed <- run_grid()
  expect_s3_class(resumed, "cf_grid")
  expect_identical(resumed$rmse_shift, grid$rmse_shift)

  old <- options(width = 300)
  on.exit(options(old), add = TRUE)
  shown <- utils::capture.output(printed <- print(grid))
  expect_identical(printed, grid)
  expect_match(shown[1], "A cf_grid", fixed = TRUE)
  expect_true(any(grepl("Failed runs: 2 (see `error`)", shown, fixed = TRUE)))
  # The settings and the main effects come first; the tibble shows 10 rows, not 32 columns each.
  columns <- shown[grepl("method", shown, fixed = TRUE)][1]
  expect_match(columns, "run +method +alpha +mu_1 +mu_2 +beta +seed +rmse_shift +target_rating_poisoned +utility")
  expect_lt(length(shown), 20L)
})

test_that("grids stored before they were tibbles still print and plot", {
  stored <- readRDS(system.file("extdata", "figure-3.rds", package = "cfpoison"))
  expect_s3_class(stored, "cf_grid")
  expect_output(print(head(stored, 2)), "rmse_shift")
  expect_s3_class(autoplot(stored), "ggplot")
})
