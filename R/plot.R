# ggplot2 autoplot() methods: the paper's figures from an attack grid, an
# attack's optimisation trace, and the ROC curves of the detection features.
# Each returns a ggplot object for the caller to restyle or print.

#' @importFrom ggplot2 autoplot
#' @export
ggplot2::autoplot

#' @importFrom rlang .data
NULL

#' Plot an attack grid as in the paper's figures
#'
#' Draws the runs of an attack grid (the `cf_grid` of [attack_grid()]) as the
#' paper's figures: each point is the mean over seeds, the band the mean
#' \eqn{\pm} one standard deviation over seeds (the subtitle says when there
#' is one seed, and no band). Failed runs (non-missing `error`) and runs whose
#' metric is missing are left out. Series take the Okabe-Ito palette, which
#' stays distinct under the common colour-vision deficiencies, and the x axis
#' has a tick at each \eqn{\alpha} run.
#'
#' * `type = "alpha"` (Figures 1, 2, 5 and 6): the metric against the
#'   percentage of malicious profiles (\eqn{100 \alpha}), one panel per utility
#'   setting \eqn{\mu = (\mu_1, \mu_2)} in the order of the grid, one line per
#'   method. SGLD run at several \eqn{\beta} gets one line per \eqn{\beta}.
#' * `type = "beta"` (Figures 3 and 4): SGLD runs only, against \eqn{\beta} on
#'   a log scale, one column per utility setting. The top row shows the
#'   p-values of both readings of the t-test ([detect_ttest()]) with an
#'   orange dotted line at 0.05, the bottom row the metric. Grids with several \eqn{\alpha}
#'   get one line per \eqn{\alpha}.
#' * `type = "auto"` picks `"beta"` when the SGLD runs cover more than one
#'   \eqn{\beta} at a single \eqn{\alpha}, `"alpha"` otherwise.
#'
#' With `metric = "auto"`, a panel whose setting has \eqn{\mu_1 > 0} (an
#' availability or hybrid attack) shows `rmse_shift`, the paper's RMSE, and
#' the other panels show `target_rating_poisoned`, the target items' average
#' predicted rating; the panel label names the metric. A panel showing a
#' `*_poisoned` column draws the mean of its `*_clean` counterpart (the clean
#' model) as a black long-dashed horizontal line.
#'
#' @param object A `cf_grid` from [attack_grid()].
#' @param type `"auto"`, `"alpha"` or `"beta"` (see Details).
#' @param metric `"auto"` (see Details) or the name of a numeric column of the
#'   grid, shown in every panel.
#' @param ... Unused; for compatibility with the generic.
#' @return A ggplot object.
#' @seealso [autoplot.cf_attack()], [autoplot.cf_features()].
#' @examples
#' grid <- attack_grid(simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1),
#'   learner_als(rank = 3, lambda_u = 1),
#'   methods = c("pga", "uniform"), alpha = c(0.03, 0.06), mu = list(c(1, 0), c(0, 1)),
#'   seeds = 1:2, items_per_user = 10, attack_args = list(pga = list(max_iter = 3)), progress = FALSE
#' )
#' autoplot(grid)
#' @export
autoplot.cf_grid <- function(object, type = c("auto", "alpha", "beta"), metric = "auto", ...) {
  type <- cfp_arg_match(type)
  runs <- grid_runs(object, metric)
  if (type == "auto") {
    sgld_betas <- unique(runs$beta[runs$method == "sgld" & !is.na(runs$beta)])
    type <- if (length(sgld_betas) > 1L && length(unique(runs$alpha)) == 1L) "beta" else "alpha"
  }
  if (type == "alpha") plot_grid_alpha(runs, metric) else plot_grid_beta(runs, metric)
}

# The successful runs of a grid with the columns the plots share: `measure`
# (the metric's column), `value` and `clean` (its clean counterpart, NA when
# it has none), the utility setting's panel label and the method's line label.
grid_runs <- function(grid, metric, call = rlang::caller_env()) {
  needed <- c("method", "alpha", "mu_1", "mu_2", "beta")
  absent <- setdiff(needed, names(grid))
  if (length(absent) > 0L) {
    cfp_abort(
      c("{.arg object} is not an attack grid.", x = "It lacks column{?s} {.field {absent}}."),
      "value",
      call = call
    )
  }
  if (!rlang::is_string(metric)) {
    cfp_abort("{.arg metric} must be a single column name or {.val auto}.", "type", call = call)
  }
  if (metric != "auto" && !is.numeric(grid[[metric]])) {
    cfp_abort(
      c("{.arg metric} must be {.val auto} or a numeric column of the grid.",
        x = "{.val {metric}} is {if (is.null(grid[[metric]])) 'not a column' else 'not numeric'}."
      ),
      "value",
      call = call
    )
  }
  runs <- as.data.frame(grid)
  if (!is.null(runs$error)) runs <- runs[is.na(runs$error), , drop = FALSE]
  if (nrow(runs) == 0L) {
    cfp_abort(
      c("The grid has no successful run to plot.", i = "See the {.field error} column for why each run failed."),
      "empty",
      call = call
    )
  }

  runs$measure <- if (metric == "auto") {
    ifelse(runs$mu_1 > 0, "rmse_shift", "target_rating_poisoned")
  } else {
    rep(metric, nrow(runs))
  }
  measures <- unique(runs$measure[!is.na(runs$measure)])
  absent <- measures[!vapply(measures, function(m) is.numeric(runs[[m]]), logical(1))]
  if (length(absent) > 0L) {
    cfp_abort(
      c("{.code metric = \"auto\"} needs the numeric column{?s} {.field {absent}}.",
        i = "Name another numeric column in {.arg metric}."
      ),
      "value",
      call = call
    )
  }
  # Each run's value of its own column (NA where that column is NA or absent).
  column_value <- function(columns) {
    value <- rep(NA_real_, nrow(runs))
    for (column in unique(columns[!is.na(columns)])) {
      rows <- which(columns == column)
      if (is.numeric(runs[[column]])) value[rows] <- runs[[column]][rows]
    }
    value
  }
  runs$value <- column_value(runs$measure)
  if (all(is.na(runs$value))) {
    cfp_abort("No successful run has a value of {.field {unique(runs$measure)}} to plot.", "empty", call = call)
  }
  # The clean model's value of a `*_poisoned` metric is its `*_clean` column.
  runs$clean <- column_value(ifelse(
    grepl("_poisoned$", runs$measure), sub("_poisoned$", "_clean", runs$measure), NA_character_
  ))

  runs$setting <- paste0("mu = (", format_number(runs$mu_1), ", ", format_number(runs$mu_2), ")")
  panel <- if (metric == "auto") paste0(runs$setting, ": ", metric_label(runs$measure)) else runs$setting
  runs$panel <- factor(panel, levels = unique(panel))

  # A method run at several betas (SGLD's sweep) is one line per beta.
  several_betas <- tapply(runs$beta, runs$method, function(b) length(unique(b[!is.na(b)])) > 1L)
  by_beta <- several_betas[runs$method] & !is.na(runs$beta)
  series <- ifelse(by_beta, paste0(runs$method, " (beta = ", format_number(runs$beta), ")"), runs$method)
  runs$series <- factor(series, levels = unique(series))
  runs
}

plot_grid_alpha <- function(runs, metric) {
  stats <- seed_summary(runs, c("panel", "series", "alpha"))
  stats$percent <- 100 * stats$alpha
  p <- ggplot2::ggplot(stats, ggplot2::aes(
    x = .data$percent, y = .data$mean, colour = .data$series, fill = .data$series, group = .data$series
  )) +
    ggplot2::geom_ribbon(ggplot2::aes(ymin = .data$lower, ymax = .data$upper), alpha = 0.2, colour = NA) +
    ggplot2::geom_line() +
    ggplot2::geom_point() +
    ggplot2::facet_wrap(ggplot2::vars(.data$panel), scales = "free_y") +
    # Ticks at the shares that were run, not at ggplot2's round numbers.
    ggplot2::scale_x_continuous(breaks = sort(unique(stats$percent)), labels = format_number) +
    series_palette(levels(stats$series)) +
    ggplot2::labs(
      x = "Malicious profiles (% of users)",
      y = if (metric == "auto") "Attack metric, in rating units (see panel)" else axis_label(metric),
      colour = "Method", fill = "Method",
      title = "Attack effect by share of malicious profiles",
      subtitle = seed_subtitle(stats)
    )
  add_clean_reference(p, runs, "panel")
}

# The Okabe-Ito palette (Okabe and Ito 2008), told apart under the common
# colour-vision deficiencies, recycled past its eight colours.
series_palette <- function(series) {
  okabe_ito <- c("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#000000")
  values <- rep_len(okabe_ito, length(series))
  list(ggplot2::scale_colour_manual(values = values), ggplot2::scale_fill_manual(values = values))
}

# What a point and its band are: a band only where some point has several seeds.
seed_subtitle <- function(stats, extra = NULL) {
  what <- if (max(stats$n_seeds) > 1L) "Mean over seeds; band: \u00b1 1 sd" else "One seed per point"
  paste(c(what, extra), collapse = "; ")
}

plot_grid_beta <- function(runs, metric, call = rlang::caller_env()) {
  runs <- runs[runs$method == "sgld" & !is.na(runs$beta) & runs$beta > 0, , drop = FALSE]
  if (nrow(runs) == 0L) {
    cfp_abort(
      c("{.code type = \"beta\"} needs SGLD runs with a positive {.field beta}.",
        i = "The grid has none: plot it with {.code type = \"alpha\"}."
      ),
      "value",
      call = call
    )
  }
  several_alphas <- length(unique(runs$alpha)) > 1L
  # Two rows of panels, one column per utility setting: the p-values of both
  # readings of the t-test on top, the metric below, each panel labelled with
  # its setting and what it shows.
  p_panels <- paste0(runs$setting, "\nt-test p-value")
  metric_panels <- paste0(runs$setting, "\n", metric_label(runs$measure))
  panels <- unique(c(p_panels, metric_panels))
  readings <- lapply(c("frequency", "mean"), function(reading) {
    column <- paste0("p_value_", reading)
    data.frame(
      runs[c("alpha", "beta")],
      panel = p_panels,
      line = paste(reading, "reading"),
      value = if (is.numeric(runs[[column]])) runs[[column]] else NA_real_
    )
  })
  long <- rbind(
    do.call(rbind, readings),
    data.frame(runs[c("alpha", "beta")], panel = metric_panels, line = "SGLD attack", value = runs$value)
  )
  long$panel <- factor(long$panel, levels = panels)
  long$line <- factor(long$line, levels = unique(long$line))
  long$alpha_label <- factor(paste0(format_number(100 * long$alpha), "% malicious"))
  stats <- seed_summary(long, c("panel", "line", "alpha_label", "beta"))

  p <- ggplot2::ggplot(stats, ggplot2::aes(
    x = .data$beta, y = .data$mean, colour = .data$line, fill = .data$line,
    group = interaction(.data$line, .data$alpha_label)
  )) +
    ggplot2::geom_hline(
      data = data.frame(panel = factor(unique(p_panels), levels = panels), yintercept = 0.05),
      ggplot2::aes(yintercept = .data$yintercept), linetype = "dotted", colour = "#D55E00"
    ) +
    ggplot2::geom_ribbon(ggplot2::aes(ymin = .data$lower, ymax = .data$upper), alpha = 0.2, colour = NA) +
    ggplot2::geom_line(if (several_alphas) ggplot2::aes(linetype = .data$alpha_label)) +
    ggplot2::geom_point() +
    ggplot2::scale_x_log10() +
    # facet_wrap() rather than facet_grid(): the metric's panels need a scale
    # each (an RMSE shift beside an average rating), not one per row.
    ggplot2::facet_wrap(ggplot2::vars(.data$panel), nrow = 2L, scales = "free_y") +
    series_palette(levels(stats$line)) +
    ggplot2::labs(
      x = "beta (log scale)", y = "p-value (top); attack metric, in rating units (bottom)",
      colour = NULL, fill = NULL, linetype = NULL,
      title = "SGLD: detectability and attack effect by beta",
      subtitle = seed_subtitle(stats, "orange dotted line at p = 0.05")
    )
  # The clean reference belongs in the metric's row.
  runs$panel <- factor(metric_panels, levels = panels)
  add_clean_reference(p, runs, "panel")
}

# Mean and sd over seeds of `value` per group of `keys`, groups in order of
# appearance; missing values are left out first, so that ggplot2 has no rows
# to drop, and a group of one run gets a band of zero width.
seed_summary <- function(data, keys) {
  data <- data[!is.na(data$value), , drop = FALSE]
  key <- do.call(paste, c(unname(lapply(data[keys], as.character)), sep = "\r"))
  first <- !duplicated(key)
  group <- factor(match(key, key[first]), levels = seq_len(sum(first)))
  out <- data[first, keys, drop = FALSE]
  out$mean <- as.vector(tapply(data$value, group, mean))
  sd <- as.vector(tapply(data$value, group, stats::sd))
  sd[is.na(sd)] <- 0
  out$lower <- out$mean - sd
  out$upper <- out$mean + sd
  out$n_seeds <- as.vector(table(group))
  rownames(out) <- NULL
  out
}

# Adds the clean model's mean value as a dashed line to the panels (given by
# the `facets` columns of `runs`) that show a `*_poisoned` column.
add_clean_reference <- function(p, runs, facets) {
  clean <- runs[!is.na(runs$clean), c(facets, "clean"), drop = FALSE]
  if (nrow(clean) == 0L) {
    return(p)
  }
  clean$value <- clean$clean
  reference <- seed_summary(clean, facets)
  p +
    ggplot2::geom_hline(
      data = reference, ggplot2::aes(yintercept = .data$mean), linetype = "longdash", colour = "black",
      linewidth = 0.7
    ) +
    ggplot2::labs(caption = "Black long-dashed line: the clean model's value")
}

metric_label <- function(measure) {
  labels <- c(rmse_shift = "RMSE shift", target_rating_poisoned = "target rating")
  ifelse(measure %in% names(labels), labels[measure], measure)
}

# The y axis: the metric and its unit where the grid's columns have one.
axis_label <- function(measure) {
  unit <- if (grepl("^(rmse_shift|test_rmse|target_rating)", measure)) {
    "rating units"
  } else if (grepl("^hit_ratio", measure)) {
    "share of users"
  } else if (grepl("seconds$", measure)) {
    "seconds"
  }
  paste0(metric_label(measure), if (!is.null(unit)) paste0(" (", unit, ")"))
}

format_number <- function(x) as.character(signif(x, 3))

#' Plot an attack's optimisation trace
#'
#' Draws the utility of the fake data at each iteration of [poison_pga()] or
#' [poison_sgld()] (iteration 0 is the start). The trace records the utility of
#' the current iterate, so for PGA the line is the best utility so far and a
#' rejected step (coloured apart) repeats it; SGLD is a sampler that accepts
#' every step, so its line follows the sampled utility up and down.
#'
#' @param object A `cf_attack` from [poison_pga()] or [poison_sgld()].
#' @param ... Unused; for compatibility with the generic.
#' @return A ggplot object.
#' @seealso [autoplot.cf_grid()].
#' @examples
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' attack <- poison_pga(r, learner_als(rank = 3, lambda_u = 1),
#'   utility_availability(), attack_budget(alpha = 0.05, items_per_user = 10),
#'   max_iter = 5, seed = 1
#' )
#' autoplot(attack)
#' @export
autoplot.cf_attack <- function(object, ...) {
  trace <- object$trace
  if (is.null(trace) || nrow(trace) == 0L) {
    cfp_abort(
      c("This {object$method} attack has no trace to plot.",
        i = "Only {.fn poison_pga} and {.fn poison_sgld} record one."
      ),
      "value"
    )
  }
  trace$step_status <- ifelse(trace$accepted, "accepted", "rejected")
  n_fake <- length(object$fake$user_ids)
  ggplot2::ggplot(trace, ggplot2::aes(x = .data$iteration, y = .data$utility)) +
    ggplot2::geom_line(colour = "grey50") +
    ggplot2::geom_point(ggplot2::aes(colour = .data$step_status)) +
    # Only the statuses that occur (SGLD accepts every step: no empty "rejected" key).
    ggplot2::scale_colour_manual(values = c(accepted = "#0072B2", rejected = "#D55E00")) +
    ggplot2::labs(
      x = "Iteration", y = "Utility", colour = "Step",
      title = paste0(toupper(object$method), " attack with ", n_fake, " fake user", if (n_fake != 1L) "s")
    )
}

#' Plot the ROC curves of the detection features
#'
#' Draws one ROC curve ([detection_roc()]) per feature of [detect_features()]
#' or score of [detect_pca()], with its AUC ([detection_auc()]) in the legend
#' and the diagonal of a detector that guesses as a dashed line. A feature
#' with AUC below 0.5 ranks fake users below real ones, in reverse: its curve
#' lies under the diagonal, as the legend's title says.
#'
#' @param object A `cf_features` from [detect_features()] or [detect_pca()]
#'   computed with fake users (it needs the `is_fake` column).
#' @param features Names of the feature columns to draw; `NULL` draws every
#'   numeric column.
#' @param ... Unused; for compatibility with the generic.
#' @return A ggplot object.
#' @seealso [detect_features()], [detect_pca()], [detection_roc()].
#' @examples
#' r <- simulate_ratings(200, 60, rank = 3, density = 0.2, seed = 1)
#' attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 15), seed = 1)
#' autoplot(detect_features(r, attack, k = 10), features = c("rdma", "mean_var", "degsim"))
#' @export
autoplot.cf_features <- function(object, features = NULL, ...) {
  if (!is.logical(object[["is_fake"]])) {
    cfp_abort(
      c("The features have no {.field is_fake} column to score them against.",
        i = "Compute them with the fake users: {.code detect_features(ratings, attack)} or {.fn detect_pca}."
      ),
      "missing"
    )
  }
  numeric_columns <- setdiff(names(object)[vapply(object, is.numeric, logical(1))], c("user", "is_fake"))
  features <- features %||% numeric_columns
  if (!is.character(features) || length(features) == 0L || !all(features %in% numeric_columns)) {
    cfp_abort(
      c("{.arg features} must name numeric feature columns.",
        i = "Available: {.field {numeric_columns}}."
      ),
      "value"
    )
  }
  curves <- lapply(features, function(feature) {
    scores <- object[[feature]]
    auc <- detection_auc(scores, object$is_fake)
    roc <- detection_roc(scores, object$is_fake)
    roc$feature <- sprintf("%s (AUC %.2f)", feature, auc)
    roc
  })
  labels <- vapply(curves, function(roc) roc$feature[1], character(1))
  curves <- do.call(rbind, curves)
  curves$feature <- factor(curves$feature, levels = labels)
  ggplot2::ggplot(curves, ggplot2::aes(x = .data$fpr, y = .data$tpr, colour = .data$feature)) +
    ggplot2::geom_abline(intercept = 0, slope = 1, linetype = "dashed", colour = "grey50") +
    ggplot2::geom_path() +
    ggplot2::coord_equal(xlim = c(0, 1), ylim = c(0, 1)) +
    series_palette(labels)[[1]] +
    ggplot2::labs(
      x = "False positive rate (real users flagged)", y = "True positive rate (fake users flagged)",
      colour = "Feature\n(AUC < 0.5: it ranks\nfake users in reverse)", title = "Detection ROC curves"
    )
}

#' Plot how attacks transfer between victims
#'
#' Draws [transfer_matrix()]'s table as a heat map: one tile per attack (rows)
#' and victim (columns), filled and labelled with `times_uniform`, the
#' attack's `rmse_shift` as a multiple of the uniform baseline's on the same
#' victim. A tile near 1 is an attack no stronger than random fake users on
#' that victim.
#'
#' @param object A `cf_transfer` from [transfer_matrix()].
#' @param ... Unused; for compatibility with the generic.
#' @return A ggplot object.
#' @seealso [transfer_matrix()].
#' @examples
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' surrogate <- learner_als(rank = 3, lambda_u = 1)
#' budget <- attack_budget(alpha = 0.05, items_per_user = 10)
#' pga <- poison_pga(r, surrogate, utility_availability(), budget, max_iter = 5, seed = 1)
#' autoplot(transfer_matrix(r, list(pga = pga),
#'   list(als = surrogate, als_rank_6 = learner_als(rank = 6, lambda_u = 1)),
#'   progress = FALSE
#' ))
#' @export
autoplot.cf_transfer <- function(object, ...) {
  cells <- as.data.frame(object)
  # In the order given, the first attack on top.
  cells$attack <- factor(cells$attack, levels = rev(unique(cells$attack)))
  cells$victim <- factor(cells$victim, levels = unique(cells$victim))
  cells$label <- paste0(format_number(cells$times_uniform), "x")
  ggplot2::ggplot(cells, ggplot2::aes(x = .data$victim, y = .data$attack, fill = .data$times_uniform)) +
    ggplot2::geom_tile(colour = "white") +
    ggplot2::geom_text(ggplot2::aes(label = .data$label)) +
    ggplot2::scale_fill_gradient(low = "#F7FBFF", high = "#D55E00") +
    ggplot2::labs(
      x = "Victim", y = "Attack", fill = "Shift /\nuniform's",
      title = "How far each attack moves each victim, in multiples of the uniform attack"
    )
}
