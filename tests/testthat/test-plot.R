# autoplot() methods and detection_roc(): the plots build without warnings and
# draw the numbers they claim to (checked on the built layer data).

metric_columns <- c(
  "rmse_shift", "rmse_shift_floor", "test_rmse_clean", "test_rmse_poisoned", "target_rating_clean",
  "target_rating_poisoned", "hit_ratio_clean", "hit_ratio_poisoned", "utility", "attack_seconds",
  "evaluation_seconds", "auc_length", "auc_rdma", "auc_wdma", "auc_wda", "auc_length_var",
  "auc_mean_var", "auc_degsim", "auc_pca", "p_value_frequency", "p_value_mean"
)

# A synthetic cf_grid: one row per (method, alpha, mu, beta, seed) with
# random metrics (beta NA for non-SGLD methods), plus one failed run (error
# "boom", NA metrics) that the plots must drop.
fake_grid <- function(methods = c("pga", "sgld", "uniform"), alpha = c(0.01, 0.03),
                      mu = list(c(1, 0), c(0, 1)), beta = 0.6, seeds = 1:2) {
  set.seed(42)
  settings <- expand.grid(
    seed = seeds, beta = beta, mu = seq_along(mu), alpha = alpha, method = methods,
    stringsAsFactors = FALSE
  )
  settings <- settings[rev(names(settings))]
  settings$beta[settings$method != "sgld"] <- NA
  settings <- unique(settings)
  n <- nrow(settings)
  grid <- data.frame(
    run = seq_len(n), method = settings$method, alpha = settings$alpha,
    mu_1 = vapply(mu, `[`, numeric(1), 1)[settings$mu], mu_2 = vapply(mu, `[`, numeric(1), 2)[settings$mu],
    beta = settings$beta, seed = as.integer(settings$seed), n_fake_users = as.integer(round(settings$alpha * 150))
  )
  for (column in metric_columns) grid[[column]] <- stats::runif(n)
  grid$refit_converged <- TRUE
  grid$error <- NA_character_
  grid$seconds <- stats::runif(n)
  failed <- grid[1, ]
  failed$run <- n + 1L
  failed$seed <- 99L
  failed[metric_columns] <- NA_real_
  failed$error <- "boom"
  grid <- rbind(grid, failed)
  class(grid) <- c("cf_grid", "data.frame")
  grid
}

beta_grid <- function() fake_grid(methods = "sgld", alpha = 0.03, beta = c(0.1, 0.6, 2))

# Per-(method, alpha, mu) means over the successful runs of the metric the
# auto layout shows: rmse_shift when mu_1 > 0, target_rating_poisoned otherwise.
expected_means <- function(grid) {
  ok <- grid[is.na(grid$error), ]
  ok$value <- ifelse(ok$mu_1 > 0, ok$rmse_shift, ok$target_rating_poisoned)
  stats::aggregate(value ~ method + alpha + mu_1, data = ok, FUN = mean)
}

# The built data of the first layer of a given geom.
layer_data_of <- function(built, geom) {
  layers <- vapply(built$plot$layers, function(l) class(l$geom)[1], character(1))
  built$data[[which(layers == geom)[1]]]
}

test_that("autoplot() of a grid draws the paper's alpha layout", {
  grid <- fake_grid()
  p <- autoplot(grid)
  expect_s3_class(p, "ggplot")
  expect_no_warning(built <- ggplot2::ggplot_build(p))
  # One panel per mu setting, labelled with the metric it shows, in grid order.
  expect_equal(nrow(built$layout$layout), 2L)
  expect_equal(
    as.character(built$layout$layout$panel),
    c("mu = (1, 0): RMSE shift", "mu = (0, 1): target rating")
  )
  points <- layer_data_of(built, "GeomPoint")
  # One line group per method and one point per (method, alpha, panel): the
  # failed run adds none.
  expect_equal(length(unique(points$group)), 3L)
  expect_equal(nrow(points), 3 * 2 * 2)
  expect_setequal(unique(points$x), c(1, 3))
  # y is the mean over seeds of the panel's metric.
  means <- expected_means(grid)
  panel_mu1 <- c(1, 0)[as.integer(points$PANEL)]
  method <- levels(p$data$series)[points$group]
  expected <- means$value[match(
    paste(method, points$x / 100, panel_mu1),
    paste(means$method, means$alpha, means$mu_1)
  )]
  expect_equal(points$y, expected)
  # The dashed clean reference only in the target-rating panel, at its mean.
  hline <- layer_data_of(built, "GeomHline")
  expect_equal(as.integer(hline$PANEL), 2L)
  ok <- grid[is.na(grid$error) & grid$mu_1 <= 0, ]
  expect_equal(hline$yintercept, mean(ok$target_rating_clean))
  # The band is mean -/+ sd over the two seeds.
  ribbon <- layer_data_of(built, "GeomRibbon")
  expect_true(all(ribbon$ymax >= ribbon$ymin))
  expect_true(any(ribbon$ymax > ribbon$ymin))
})

test_that("a named metric is used in every panel; one seed gives no warning", {
  grid <- fake_grid(seeds = 1)
  p <- autoplot(grid, type = "alpha", metric = "hit_ratio_poisoned")
  expect_no_warning(built <- ggplot2::ggplot_build(p))
  points <- layer_data_of(built, "GeomPoint")
  ok <- grid[is.na(grid$error), ]
  expect_setequal(points$y, ok$hit_ratio_poisoned)
  expect_equal(p$labels$y, "hit_ratio_poisoned (share of users)")
  ribbon <- layer_data_of(built, "GeomRibbon")
  expect_equal(ribbon$ymin, ribbon$ymax)
  # hit_ratio_clean is the reference of both panels.
  expect_equal(nrow(layer_data_of(built, "GeomHline")), 2L)
})

test_that("SGLD at several betas is one line per beta in the alpha layout", {
  grid <- fake_grid(beta = c(0.1, 0.6))
  p <- autoplot(grid)
  expect_no_warning(built <- ggplot2::ggplot_build(p))
  expect_setequal(
    levels(p$data$series),
    c("pga", "sgld (beta = 0.1)", "sgld (beta = 0.6)", "uniform")
  )
  expect_equal(length(unique(layer_data_of(built, "GeomPoint")$group)), 4L)
})

test_that("type auto picks the beta layout for an SGLD beta sweep", {
  grid <- beta_grid()
  p <- autoplot(grid)
  expect_s3_class(p, "ggplot")
  expect_no_warning(built <- ggplot2::ggplot_build(p))
  layout <- built$layout$layout
  # Two rows (p-value, metric) by two mu columns.
  expect_equal(nrow(layout), 4L)
  expect_equal(as.character(layout$panel), c(
    "mu = (1, 0)\nt-test p-value", "mu = (0, 1)\nt-test p-value",
    "mu = (1, 0)\nRMSE shift", "mu = (0, 1)\ntarget rating"
  ))
  expect_equal(layout$ROW, c(1, 1, 2, 2))
  points <- layer_data_of(built, "GeomPoint")
  expect_equal(sort(unique(points$x)), log10(c(0.1, 0.6, 2)))
  # Top row: both readings; the frequency reading's mean p-value per beta.
  ok <- grid[is.na(grid$error), ]
  top_left <- points[points$PANEL == 1, ]
  expect_equal(length(unique(top_left$group)), 2L)
  frequency <- tapply(ok$p_value_frequency[ok$mu_1 > 0], ok$beta[ok$mu_1 > 0], mean)
  freq_points <- top_left[top_left$group == min(top_left$group), ]
  expect_equal(freq_points$y[order(freq_points$x)], unname(as.vector(frequency)))
  # Bottom row, mu = (0, 1): the target rating.
  bottom_right <- points[points$PANEL == 4, ]
  target <- tapply(ok$target_rating_poisoned[ok$mu_1 <= 0], ok$beta[ok$mu_1 <= 0], mean)
  expect_equal(bottom_right$y[order(bottom_right$x)], unname(as.vector(target)))
  # The 0.05 line in the top row, the clean reference in the bottom right.
  hlines <- built$data[vapply(built$plot$layers, function(l) inherits(l$geom, "GeomHline"), logical(1))]
  expect_equal(hlines[[1]]$yintercept, c(0.05, 0.05))
  expect_equal(as.integer(hlines[[1]]$PANEL), 1:2)
  expect_equal(as.integer(hlines[[2]]$PANEL), 4L)
  # The same grid forced into the alpha layout: one line per beta.
  expect_equal(length(unique(layer_data_of(ggplot2::ggplot_build(autoplot(grid, type = "alpha")), "GeomPoint")$group)), 3L)
  # A grid with several alphas stays in the alpha layout.
  expect_equal(autoplot(fake_grid(beta = c(0.1, 0.6)))$labels$x, "Malicious profiles (% of users)")
})

test_that("autoplot() dispatches from ggplot2 and from cfpoison", {
  grid <- fake_grid()
  expect_s3_class(ggplot2::autoplot(grid), "ggplot")
  expect_s3_class(cfpoison::autoplot(grid), "ggplot")
  expect_identical(cfpoison::autoplot, ggplot2::autoplot)
})

test_that("bad grids and arguments are classed errors", {
  grid <- fake_grid()
  expect_cfp_error(autoplot(grid, metric = "nope"), "value", c("metric", "not a column"))
  expect_cfp_error(autoplot(grid, metric = "method"), "value", c("metric", "not numeric"))
  expect_cfp_error(autoplot(grid, metric = 1), "type", "metric")
  no_rmse <- grid
  no_rmse$rmse_shift <- NULL
  expect_cfp_error(autoplot(no_rmse), "value", "rmse_shift")
  expect_s3_class(autoplot(no_rmse, metric = "utility"), "ggplot")
  failed <- grid[!is.na(grid$error), ]
  expect_cfp_error(autoplot(failed), "empty", "no successful run")
  no_sgld <- grid[grid$method != "sgld", ]
  expect_cfp_error(autoplot(no_sgld, type = "beta"), "value", "SGLD")
  expect_error(autoplot(grid, type = "gamma"), "type")
  not_grid <- structure(data.frame(method = "pga"), class = c("cf_grid", "data.frame"))
  expect_cfp_error(autoplot(not_grid), "value", c("not an attack grid", "alpha"))
})

attack_setup <- function() {
  list(
    r = simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1),
    learner = learner_als(rank = 3, lambda_u = 1),
    budget = attack_budget(alpha = 0.05, items_per_user = 10)
  )
}

test_that("autoplot() of an attack draws its trace", {
  s <- attack_setup()
  pga <- poison_pga(s$r, s$learner, utility_availability(), s$budget, max_iter = 5, seed = 1)
  sgld <- poison_sgld(s$r, s$learner, utility_availability(), s$budget, max_iter = 5, seed = 1)
  for (attack in list(pga, sgld)) {
    p <- autoplot(attack)
    expect_s3_class(p, "ggplot")
    expect_no_warning(built <- ggplot2::ggplot_build(p))
    points <- layer_data_of(built, "GeomPoint")
    expect_equal(points$y, attack$trace$utility)
    expect_equal(points$x, attack$trace$iteration)
    expect_match(p$labels$title, toupper(attack$method), fixed = TRUE)
    expect_match(p$labels$title, paste(length(attack$fake$user_ids), "fake users"), fixed = TRUE)
  }
  # A rejected step is coloured apart from the accepted ones.
  pga$trace$accepted <- seq_len(nrow(pga$trace)) != 3
  colours <- layer_data_of(ggplot2::ggplot_build(autoplot(pga)), "GeomPoint")$colour
  expect_equal(length(unique(colours[-3])), 1L)
  expect_false(colours[3] == colours[1])
  uniform <- poison_uniform(s$r, s$budget, seed = 1)
  expect_cfp_error(autoplot(uniform), "value", c("no trace", "poison_pga"))
})

# Trapezoid area under a curve.
trapezoid <- function(roc) sum(diff(roc$fpr) * (utils::head(roc$tpr, -1) + utils::tail(roc$tpr, -1)) / 2)

test_that("detection_roc() runs from (0, 0) to (1, 1) and its area is the AUC", {
  set.seed(3)
  is_fake <- sample(rep(c(TRUE, FALSE), c(17, 53)))
  for (scores in list(stats::rnorm(70) + is_fake, round(stats::rnorm(70) + is_fake))) {
    roc <- detection_roc(scores, is_fake)
    expect_named(roc, c("threshold", "fpr", "tpr"))
    expect_equal(unlist(roc[1, c("fpr", "tpr")], use.names = FALSE), c(0, 0))
    expect_equal(unlist(roc[nrow(roc), c("fpr", "tpr")], use.names = FALSE), c(1, 1))
    expect_true(all(diff(roc$fpr) >= 0) && all(diff(roc$tpr) >= 0))
    expect_true(all(diff(roc$threshold) < 0))
    # One step per distinct score: ties are flagged together.
    expect_equal(nrow(roc), length(unique(scores)) + 1L)
    expect_equal(trapezoid(roc), detection_auc(scores, is_fake), tolerance = 1e-12)
  }
  # A tie between a fake and a real user is one diagonal step.
  roc <- detection_roc(c(1, 1), c(TRUE, FALSE))
  expect_equal(roc$fpr, c(0, 1))
  expect_equal(roc$tpr, c(0, 1))
  expect_equal(trapezoid(roc), 0.5)
})

test_that("detection_roc() reaches tpr 1 at fpr 0 under perfect separation", {
  is_fake <- rep(c(FALSE, TRUE), c(7, 3))
  roc <- detection_roc(as.double(is_fake), is_fake)
  expect_equal(roc$tpr[roc$fpr == 0], c(0, 1))
  expect_equal(roc$threshold, c(Inf, 1, 0))
  expect_equal(trapezoid(roc), 1)
})

test_that("detection_roc() rejects bad input like detection_auc()", {
  is_fake <- c(TRUE, FALSE, FALSE)
  expect_cfp_error(detection_roc(1:2, is_fake), "shape", "scores")
  expect_cfp_error(detection_roc(c(1, NA, 2), is_fake), "missing")
  expect_cfp_error(detection_roc(c("1", "2", "3"), is_fake), "type", "scores")
  expect_cfp_error(detection_roc(1:3, c(1, 0, 0)), "type", "is_fake")
  expect_cfp_error(detection_roc(1:3, rep(TRUE, 3)), "value", "at least one fake and one real")
  err <- expect_cfp_error(detection_roc(1:2, c(TRUE, FALSE, FALSE)), "shape")
  expect_equal(conditionCall(err)[[1]], quote(detection_roc))
})

test_that("autoplot() of detection features draws one ROC curve per feature", {
  r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
  attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
  features <- detect_features(r, attack, k = 10)
  expect_s3_class(features, c("cf_features", "tbl_df", "tbl", "data.frame"), exact = TRUE)
  expect_s3_class(features[features$is_fake, ], "cf_features")
  p <- autoplot(features)
  expect_s3_class(p, "ggplot")
  expect_no_warning(built <- ggplot2::ggplot_build(p))
  paths <- layer_data_of(built, "GeomPath")
  names <- c("length", "rdma", "wdma", "wda", "length_var", "mean_var", "degsim", "popularity")
  expect_equal(length(unique(paths$group)), length(names))
  auc <- detection_auc(features$rdma, features$is_fake)
  expect_true(sprintf("rdma (AUC %.2f)", auc) %in% levels(p$data$feature))
  rdma <- p$data[startsWith(as.character(p$data$feature), "rdma "), ]
  expect_equal(rdma[c("threshold", "fpr", "tpr")], detection_roc(features$rdma, features$is_fake), ignore_attr = TRUE)
  expect_s3_class(p$coordinates, "CoordFixed")
  # A subset of the features.
  p2 <- autoplot(features, features = c("rdma", "degsim"))
  expect_equal(length(unique(layer_data_of(ggplot2::ggplot_build(p2), "GeomPath")$group)), 2L)
  expect_cfp_error(autoplot(features, features = "nope"), "value", "features")
  expect_cfp_error(autoplot(detect_features(r, k = 10)), "missing", "is_fake")
})

test_that("autoplot() of detect_pca() draws the ROC curve of its suspicion", {
  r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
  attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
  pca <- detect_pca(r, attack)
  expect_s3_class(pca, c("cf_features", "tbl_df", "tbl", "data.frame"), exact = TRUE)
  expect_named(pca, c("user", "is_fake", "score", "suspicion"))
  p <- autoplot(pca, features = "suspicion")
  expect_no_warning(built <- ggplot2::ggplot_build(p))
  expect_equal(length(unique(layer_data_of(built, "GeomPath")$group)), 1L)
  auc <- detection_auc(pca$suspicion, pca$is_fake)
  expect_identical(levels(p$data$feature), sprintf("suspicion (AUC %.2f)", auc))
  expect_cfp_error(autoplot(detect_pca(r)), "missing", "is_fake")
})

test_that("autoplot() draws real attack_grid() output in both layouts without warnings", {
  r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
  learner <- learner_als(rank = 3, lambda_u = 1)
  by_alpha <- attack_grid(r, learner,
    methods = c("pga", "sgld", "uniform"), alpha = c(0.03, 0.06), mu = list(c(1, 0), c(0, 1)), seeds = 1:2,
    items_per_user = 10, attack_args = list(pga = list(max_iter = 3), sgld = list(max_iter = 3)), detect = FALSE,
    progress = FALSE
  )
  p <- autoplot(by_alpha)
  expect_s3_class(p, "ggplot")
  built <- expect_no_warning(ggplot2::ggplot_build(p))
  expect_equal(nrow(built$layout$layout), 2L)
  points <- layer_data_of(built, "GeomPoint")
  expect_equal(sort(points$y), sort(expected_means(by_alpha)$value), tolerance = 1e-12)

  by_beta <- attack_grid(r, learner,
    methods = "sgld", alpha = 0.05, beta = c(0.5, 5), seeds = 1L, items_per_user = 10,
    attack_args = list(sgld = list(max_iter = 3)), detect = FALSE, progress = FALSE
  )
  p <- autoplot(by_beta)
  expect_no_warning(ggplot2::ggplot_build(p))
  expect_equal(sort(unique(layer_data_of(ggplot2::ggplot_build(p), "GeomPoint")$x)), log10(c(0.5, 5)))
})

test_that("the figures read at a glance: ticks at the alphas run, colour-blind-safe colours, honest captions", {
  grid <- fake_grid(alpha = c(0.01, 0.03, 0.1))
  built <- ggplot2::ggplot_build(autoplot(grid))
  expect_equal(built$layout$panel_params[[1]]$x$breaks, c(1, 3, 10))
  okabe_ito <- c("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#000000")
  expect_true(all(layer_data_of(built, "GeomPoint")$colour %in% okabe_ito))
  expect_match(built$plot$labels$subtitle, "sd", fixed = TRUE)
  expect_match(built$plot$labels$y, "rating units", fixed = TRUE)
  expect_match(built$plot$labels$caption, "clean model", fixed = TRUE)
  # One seed: no "band: +- 1 sd" caption.
  one_seed <- autoplot(fake_grid(seeds = 1))
  expect_identical(one_seed$labels$subtitle, "One seed per point")
  # The p-value threshold and the clean model's line differ in type and colour.
  beta <- ggplot2::ggplot_build(autoplot(beta_grid(), type = "beta"))
  hlines <- beta$data[vapply(beta$plot$layers, function(l) inherits(l$geom, "GeomHline"), logical(1))]
  expect_length(hlines, 2L)
  expect_false(identical(hlines[[1]]$linetype[1], hlines[[2]]$linetype[1]))
  expect_false(identical(hlines[[1]]$colour[1], hlines[[2]]$colour[1]))
})

test_that("a trace has no empty legend key, and the ROC legend says what AUC < 0.5 means", {
  s <- attack_setup()
  sgld <- poison_sgld(s$r, s$learner, utility_availability(), s$budget, max_iter = 3, seed = 1)
  built <- ggplot2::ggplot_build(autoplot(sgld))
  expect_identical(built$plot$scales$get_scales("colour")$get_limits(), "accepted")
  attack <- poison_uniform(s$r, s$budget, seed = 1)
  p <- autoplot(detect_features(s$r, attack, k = 10), features = c("rdma", "length"))
  expect_match(p$labels$colour, "AUC < 0.5", fixed = TRUE)
})
