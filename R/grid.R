# Experiments: the whole flow (attack, evaluate, detect) over a grid of settings.

#' Run attacks over a grid of settings
#'
#' Runs every combination of `methods`, `alpha`, `mu`, `beta` (SGLD only) and
#' `seeds` through the whole flow: the attack, [evaluate_attack()] against one
#' shared reference (the clean model refitted once under its protocol), and
#' detection ([evaluate_detection()]: each feature's AUC and both readings of
#' the paired t-test). The result is a tibble with a row per run, which
#' [autoplot()][autoplot.cf_grid] draws in the layout of the paper's figures.
#'
#' * **Attacks.** `"pga"` is [poison_pga()], `"sgld"` is [poison_sgld()] (once
#'   per `beta`), `"uniform"` is [poison_uniform()]. The shilling baselines
#'   `"random"`, `"average"`, `"bandwagon"` and `"love_hate"` attack the
#'   targets, pushing them when \eqn{\mu_2 \ge 0} and nuking them otherwise.
#'   Extra arguments reach an attack through `attack_args`, e.g.
#'   `list(pga = list(max_iter = 20), sgld = list(support = "sparse"))`.
#' * **Utility.** Each mu setting is `utility_hybrid(mu, targets, weights)`
#'   (Eq. 9); with \eqn{\mu_2 = 0} it is the availability utility (Eq. 7). The
#'   baselines ignore it, but their `utility` column is measured under it.
#' * **Targets.** With `targets = NULL` and an integrity term in some setting,
#'   one target is drawn as the paper does: `select_targets(clean, near = 0.8,
#'   min_ratings = 10, ratings = ratings, seed = seeds[1])`. The targets are
#'   stored in `attr(grid, "targets")`.
#' * **Parallel runs.** Runs go through
#'   `future.apply::future_lapply(future.seed = TRUE)`: choose where they run
#'   with `future::plan()` (sequential, `multisession`, or a cluster through
#'   future.batchtools). Every run seeds its attack with its own `seed`, so
#'   the table is the same under any plan and any number of workers, and
#'   equal to calling the attack with that seed yourself.
#' * **Failures.** A run that raises an error becomes a row whose `error`
#'   holds the message and whose metrics are `NA`; the other runs go on.
#' * **Saving and resuming.** With `file`, results are written there (an
#'   `.rds` file) after every `chunk_size` runs. Calling `attack_grid()` again
#'   with the same `file` skips the runs it already holds without error and
#'   reruns the failed ones; the file must come from the same ratings and
#'   learner. Runs of other grids in the file are kept in it.
#' * **Time.** On `movielens_small()` (671 users, 9,066 items, 100,004
#'   ratings), ALS rank 10: about 3 s on one thread for one uniform run, most
#'   of it the clean fit and the reference that every run is measured
#'   against; a further run takes its attack's time (see [poison_pga()],
#'   [poison_sgld()]) and well under a second to evaluate and detect.
#'
#' @param ratings The real users' ratings (`cf_ratings`).
#' @param learner The attacked learner: `learner_als()` (with the Huber loss, the
#'   attack is computed through that defence) or `learner_nuclear()`. An
#'   external victim ([learner_external()]) takes only the baselines (`"pga"`
#'   and `"sgld"` need a learner they can differentiate: to measure them on
#'   it, see [transfer_matrix()]); it is measured as [evaluate_attack()]
#'   measures it.
#' @param methods Attacks to run (see Details).
#' @param alpha Shares of fake users, each an `attack_budget()` alpha.
#' @param mu Utility weights \eqn{(\mu_1, \mu_2)} of Eq. 9: one pair, a list of
#'   pairs, or a two-column matrix with a row per setting.
#' @param beta SGLD's \eqn{\beta} values (Eq. 15); the paper's is 0.6.
#' @param seeds Seeds; each run seeds its attack with one.
#' @param targets Target item ids for the integrity term; see Details.
#' @param weights Target weights \eqn{w_j} (the paper's w = 2); refused
#'   when no `mu` setting has an integrity term (\eqn{\mu_2 \ne 0}).
#' @param items_per_user,max_rating Each fake user's budget B and rating bound
#'   \eqn{\Lambda} (the paper's B = 25, \eqn{\Lambda} = 2).
#' @param test Optional held-out ratings for [evaluate_attack()].
#' @param clean The clean model `fit_cf(ratings, learner)` the attacks start
#'   from; `NULL` fits the package's own, seeded and settled (see
#'   [evaluate_attack()]). All runs are measured against it refitted under
#'   [evaluate_attack()]'s protocol.
#' @param attack_args A list named by method of lists of extra arguments.
#' @param detect Compute the detection features' AUCs (the t-test p-values are
#'   always computed). DegSim is slow on very large data.
#' @param file Optional `.rds` path to save results to and resume from.
#' @param chunk_size Runs between saves to `file`; defaults to
#'   four per future worker when `file` is given, else all runs at once.
#' @param threads OpenMP threads per run.
#' @param progress Show a cli progress bar of the runs done (through
#'   progressr, so that runs on other workers report as they finish). The
#'   runs' own attacks and refits show none.
#' @return A `cf_grid` tibble, one row per run, in the order of the settings
#'   (by `mu`, then `alpha`, `method`, `beta` and `seed`); `attr(grid,
#'   "targets")` holds the target ids. Printed, its header says how many runs
#'   failed. Units and signs are those of [evaluate_attack()].
#'   \describe{
#'     \item{`run`}{The run's number, 1 to the number of runs.}
#'     \item{`method`}{The attack (see Details).}
#'     \item{`alpha`}{Fake users per real user.}
#'     \item{`mu_1`, `mu_2`}{The utility's weights \eqn{(\mu_1, \mu_2)}.}
#'     \item{`beta`}{SGLD's \eqn{\beta}; `NA` for the other methods.}
#'     \item{`seed`}{The seed of the run's attack (integer).}
#'     \item{`n_fake_users`}{Number of fake users.}
#'     \item{`rmse_shift`, `rmse_shift_floor`}{The paper's RMSE of the
#'       attack and of the protocol alone (see [evaluate_attack()]).}
#'     \item{`test_rmse_clean`, `test_rmse_poisoned`}{RMSE on `test`, clean
#'       and poisoned; `NA` without `test`.}
#'     \item{`target_rating_clean`, `target_rating_poisoned`}{The targets'
#'       average predicted rating over the normal users, clean and poisoned;
#'       `NA` without targets.}
#'     \item{`hit_ratio_clean`, `hit_ratio_poisoned`}{Share of the normal
#'       users with a target in their top 10 unrated items, clean and
#'       poisoned; `NA` without targets.}
#'     \item{`utility`}{The run's utility (its \eqn{\mu}, targets and
#'       `weights`) at the poisoned model; the baselines, which ignore it,
#'       are measured under it too.}
#'     \item{`refit_converged`}{Whether the poisoned refit converged.}
#'     \item{`attack_seconds`}{Seconds the attack's call took (`NA` for
#'       attacks that do not record them).}
#'     \item{`evaluation_seconds`}{Seconds [evaluate_attack()]'s measurement
#'       took.}
#'     \item{`auc_length`, `auc_rdma`, `auc_wdma`, `auc_wda`,
#'       `auc_length_var`, `auc_mean_var`, `auc_degsim`, `auc_popularity`,
#'       `auc_pca`}{The AUC
#'       (0 to 1; 0.5 is chance, below 0.5 ranks the fake users in reverse)
#'       of each feature of [detect_features()] and of [detect_pca()]'s
#'       suspicion at telling the fake users from the real ones. Only with
#'       `detect = TRUE`.}
#'     \item{`p_value_frequency`, `p_value_mean`}{The p-values of both
#'       readings of [detect_ttest()]; `NA` where a reading is undefined for
#'       the run's fake users.}
#'     \item{`error`}{The message of a run that failed (its metrics are then
#'       `NA`), `NA` for a run that succeeded. A grid whose runs all failed
#'       has no metric columns.}
#'     \item{`seconds`}{Seconds the whole run took (attack, evaluation and
#'       detection).}
#'   }
#' @examples
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' grid <- attack_grid(r, learner_als(rank = 3, lambda_u = 1),
#'   methods = c("pga", "uniform"), alpha = c(0.03, 0.06), seeds = 1:2,
#'   items_per_user = 10, attack_args = list(pga = list(max_iter = 5)), progress = FALSE
#' )
#' grid[c("method", "alpha", "seed", "rmse_shift", "p_value_mean")]
#' @export
attack_grid <- function(ratings, learner, methods = c("pga", "sgld", "uniform"), alpha = c(0.01, 0.03, 0.05),
                        mu = c(1, 0), beta = 0.6, seeds = 1:3, targets = NULL, weights = 2, items_per_user = 25,
                        max_rating = 2, test = NULL, clean = NULL, attack_args = list(), detect = TRUE,
                        file = NULL, chunk_size = NULL, threads = getOption("cfpoison.threads", 1L),
                        progress = interactive()) {
  check_ratings(ratings)
  check_learner(learner)
  if (!is.null(test)) check_ratings(test)
  methods <- check_methods(methods)
  if (any(methods %in% c("pga", "sgld"))) check_differentiable(learner)
  settings <- grid_settings(methods, alpha, grid_mu(mu), beta, seeds)
  # Budgets are checked once here so that a bad alpha stops the grid, not every run.
  for (a in unique(settings$alpha)) check_budget(attack_budget(a, items_per_user, max_rating), ratings)
  check_attack_args(attack_args, methods)
  check_flag(detect)
  check_flag(progress)
  threads <- check_threads(threads)
  if (!is.null(file) && (!is.character(file) || length(file) != 1L || is.na(file))) {
    cfp_abort("{.arg file} must be one path to an {.file .rds} file, or {.code NULL}.", "type")
  }
  if (!is.null(file)) check_writable(file)

  clean <- clean_fit(clean, learner, ratings, threads)
  needs_targets <- any(settings$mu_2 != 0) || any(methods %in% shilling_methods)
  if (is.null(targets) && needs_targets) {
    targets <- select_targets(clean, near = 0.8, min_ratings = 10, ratings = ratings, seed = seeds[1])
  }
  target_indices(targets, ratings)
  refuse_unused(c(weights = if (!missing(weights) && all(settings$mu_2 == 0)) {
    "every {.arg mu} setting has {.code mu_2 = 0}, no integrity term"
  }))
  # Each setting's utility is built once here so that bad weights stop the grid.
  mu_settings <- unique(settings[c("mu_1", "mu_2")])
  for (k in seq_len(nrow(mu_settings))) utility_hybrid(c(mu_settings$mu_1[k], mu_settings$mu_2[k]), targets, weights)
  context <- list(
    ratings = ratings, learner = learner, clean = clean, test = test, targets = targets, weights = weights,
    items_per_user = items_per_user, max_rating = max_rating, attack_args = attack_args, detect = detect, threads = threads
  )

  problem <- grid_problem(ratings, learner)
  saved <- read_grid_file(file, problem)
  done <- grid_key(settings) %in% grid_key(saved[is.na(saved$error), , drop = FALSE])
  todo <- which(!done)
  # Every run is measured against the same reference: fit it once.
  if (length(todo) > 0L) {
    context$protocol <- refit_learner(learner)
    context$reference <- protocol_reference(clean, context$protocol, ratings, threads)
  }
  chunk_size <- chunk_size %||% if (is.null(file)) max(length(todo), 1L) else 4L * future::nbrOfWorkers()
  chunk_size <- check_count(chunk_size, min = 1)

  run_chunks <- function(saved) {
    # Workers report each finished run through progressr, which relays it to
    # the main session as it happens; without a handler the reports are no-ops.
    report <- progressr::progressor(steps = length(todo))
    for (chunk in split(todo, ceiling(seq_along(todo) / chunk_size))) {
      # One future per run (scheduling = Inf): runs differ in cost by 100 times,
      # so workers take the next run as they free up.
      rows <- future.apply::future_lapply(
        lapply(chunk, function(i) settings[i, , drop = FALSE]), grid_run,
        context = context, report = report,
        future.seed = TRUE, future.scheduling = Inf, future.packages = "cfpoison"
      )
      saved <- merge_grid_rows(saved, do.call(bind_rows_filled, rows))
      if (!is.null(file)) write_grid_file(saved, file, problem)
    }
    saved
  }
  saved <- if (progress && length(todo) > 0L) {
    # The handler is enabled outright: its default follows interactive(),
    # but `progress = TRUE` asks for the bar.
    progressr::with_progress(run_chunks(saved), handlers = progressr::handler_cli(enable = TRUE), enable = TRUE)
  } else {
    # Silent even where the user registered progressr handlers globally.
    progressr::without_progress(run_chunks(saved))
  }

  result <- saved[match(grid_key(settings), grid_key(saved)), , drop = FALSE]
  result$run <- settings$run
  result <- tibble::new_tibble(result, class = "cf_grid")
  attr(result, "targets") <- targets
  result
}

# A printed grid shows the settings and the main effects first (only on the
# screen: the columns keep their order), under a header that says how many
# runs failed.
#' @export
print.cf_grid <- function(x, ...) {
  grid <- x
  first <- intersect(
    c("run", "method", "alpha", "mu_1", "mu_2", "beta", "seed", "rmse_shift", "target_rating_poisoned", "utility"),
    names(x)
  )
  x <- x[c(first, setdiff(names(x), first))]
  NextMethod()
  invisible(grid)
}

# tibble's header for a grid: its size, how many runs failed and the targets.
#' @importFrom tibble tbl_sum
#' @export
tbl_sum.cf_grid <- function(x, ...) {
  header <- NextMethod()
  names(header)[1] <- "A cf_grid"
  if (is.character(x[["error"]])) {
    failed <- sum(!is.na(x[["error"]]))
    header[["Failed runs"]] <- if (failed == 0L) "none" else paste(failed, "(see `error`)")
  }
  targets <- attr(x, "targets")
  if (!is.null(targets)) header[["Targets"]] <- paste(targets, collapse = ", ")
  header
}

shilling_methods <- c("random", "average", "bandwagon", "love_hate")
grid_methods <- c("pga", "sgld", "uniform", shilling_methods)

check_methods <- function(methods, call = rlang::caller_env()) {
  if (!is.character(methods) || length(methods) == 0L || anyNA(methods) || anyDuplicated(methods)) {
    cfp_abort("{.arg methods} must be distinct attack names: {.or {.val {grid_methods}}}.", "type", call = call)
  }
  unknown <- setdiff(methods, grid_methods)
  if (length(unknown) > 0L) {
    cfp_abort(
      c("Unknown attack method{?s} {.val {unknown}} in {.arg methods}.", i = "Choose from {.val {grid_methods}}."),
      "value",
      call = call
    )
  }
  methods
}

# The mu settings as a list of pairs, from a pair, a list of pairs or a matrix.
grid_mu <- function(mu, call = rlang::caller_env()) {
  if (is.matrix(mu) && ncol(mu) == 2L) mu <- lapply(seq_len(nrow(mu)), function(i) mu[i, ])
  if (is.numeric(mu)) mu <- list(mu)
  valid <- is.list(mu) && length(mu) > 0L &&
    all(vapply(mu, function(m) is.numeric(m) && length(m) == 2L && all(is.finite(m)) && any(m != 0), logical(1)))
  if (!valid) {
    cfp_abort(
      c("{.arg mu} must be a pair {.code c(mu_1, mu_2)}, a list of pairs or a two-column matrix.",
        i = "Each pair is finite and not both zero, e.g. {.code list(c(1, 0), c(0, 1))}."
      ),
      "value",
      call = call
    )
  }
  mu
}

# One row per run. Only SGLD varies with beta; the other methods get beta NA.
grid_settings <- function(methods, alpha, mu, beta, seeds, call = rlang::caller_env()) {
  if (!is.numeric(alpha) || length(alpha) == 0L || anyNA(alpha) || anyDuplicated(alpha)) {
    cfp_abort("{.arg alpha} must be distinct shares of fake users, e.g. {.code c(0.01, 0.03)}.", "type", call = call)
  }
  if (!is.numeric(beta) || length(beta) == 0L || any(!is.finite(beta) | beta <= 0) || anyDuplicated(beta)) {
    cfp_abort("{.arg beta} must be distinct positive numbers (SGLD's beta, Eq. 15).", "value", call = call)
  }
  if (!is.numeric(seeds) || length(seeds) == 0L || anyNA(seeds) || anyDuplicated(seeds) ||
    any(seeds < 0 | seeds != round(seeds) | seeds > .Machine$integer.max)) {
    cfp_abort("{.arg seeds} must be distinct whole numbers >= 0.", "value", call = call)
  }
  per_method <- lapply(seq_along(methods), function(m) {
    expand.grid(
      seed = as.integer(seeds), beta = if (methods[m] == "sgld") as.double(beta) else NA_real_,
      method_index = m, alpha = as.double(alpha), mu_index = seq_along(mu), KEEP.OUT.ATTRS = FALSE
    )
  })
  settings <- do.call(rbind, per_method)
  # Runs are numbered by mu setting, then alpha, method, beta and seed.
  settings <- settings[with(settings, order(mu_index, alpha, method_index, beta, seed)), ]
  data.frame(
    run = seq_len(nrow(settings)),
    method = methods[settings$method_index],
    alpha = settings$alpha,
    mu_1 = vapply(mu, `[`, numeric(1), 1L)[settings$mu_index],
    mu_2 = vapply(mu, `[`, numeric(1), 2L)[settings$mu_index],
    beta = settings$beta,
    seed = settings$seed
  )
}

check_attack_args <- function(attack_args, methods, call = rlang::caller_env()) {
  method_names <- names(attack_args)
  named <- length(attack_args) == 0L || (!is.null(method_names) && all(method_names != ""))
  if (!is.list(attack_args) || !named || !all(vapply(attack_args, is.list, logical(1)))) {
    cfp_abort("{.arg attack_args} must be a list named by method of argument lists.", "type", call = call)
  }
  unknown <- setdiff(method_names, methods)
  if (length(unknown) > 0L) {
    cfp_abort(
      "{.arg attack_args} names method{?s} {.val {unknown}} that {?is/are} not in {.arg methods}.", "value",
      call = call
    )
  }
  # These are set by the grid for every run.
  reserved <- c(
    "ratings", "learner", "utility", "budget", "clean", "seed", "beta", "targets", "direction", "threads", "progress"
  )
  clash <- intersect(unlist(lapply(attack_args, names)), reserved)
  if (length(clash) > 0L) {
    cfp_abort("{.arg attack_args} cannot set {.arg {clash}}: the grid sets it for each run.", "value", call = call)
  }
}

# One run of the grid: attack, evaluation and detection, as one row. Errors
# become a row with the message, so that one failure does not lose the grid.
grid_run <- function(setting, context, report = function(...) NULL) {
  started <- proc.time()[["elapsed"]]
  on.exit(report(sprintf("%s, alpha = %s", setting$method, setting$alpha)), add = TRUE)
  metrics <- tryCatch(
    {
      attack <- grid_attack(setting, context)
      evaluation <- measure_attack(attack, context$ratings, context$protocol, context$reference,
        test = context$test, targets = context$targets, threads = context$threads
      )
      detection <- if (context$detect) {
        evaluate_detection(context$ratings, attack, threads = context$threads)
      } else {
        ttest_rows(attack$fake, context$ratings)
      }
      measured <- evaluation[setdiff(names(evaluation), c("method", "alpha"))]
      cbind(measured, detection_columns(detection), error = NA_character_)
    },
    error = function(e) data.frame(error = gsub("\\s*\n\\s*", " ", conditionMessage(e)))
  )
  cbind(setting, metrics, seconds = proc.time()[["elapsed"]] - started)
}

grid_attack <- function(setting, context) {
  budget <- attack_budget(setting$alpha, context$items_per_user, context$max_rating)
  mu <- c(setting$mu_1, setting$mu_2)
  utility <- utility_hybrid(mu, context$targets, context$weights)
  args <- context$attack_args[[setting$method]] %||% list()
  optimized <- list(
    ratings = context$ratings, learner = context$learner, utility = utility, budget = budget,
    clean = context$clean, seed = setting$seed, threads = context$threads, progress = FALSE
  )
  attack <- switch(setting$method,
    pga = do.call(poison_pga, c(optimized, args)),
    sgld = do.call(poison_sgld, c(optimized, list(beta = setting$beta), args)),
    uniform = do.call(poison_uniform, c(list(ratings = context$ratings, budget = budget, seed = setting$seed), args)),
    do.call(paste0("poison_", setting$method), c(
      list(
        ratings = context$ratings, budget = budget, targets = context$targets,
        direction = if (mu[2] >= 0) "push" else "nuke", seed = setting$seed
      ),
      args
    ))
  )
  # Baselines optimize nothing; measure them under the run's utility all the same.
  attack$utility <- attack$utility %||% utility
  attack
}

# evaluate_detection()'s rows as columns: auc_<detector> and p_value_<reading>.
detection_columns <- function(detection) {
  scores <- detection[detection$kind != "t-test", ]
  tests <- detection[detection$kind == "t-test", ]
  columns <- c(
    stats::setNames(as.list(scores$auc), sprintf("auc_%s", scores$detector)),
    stats::setNames(as.list(tests$p_value), sub("^ttest_", "p_value_", tests$detector))
  )
  as.data.frame(columns)
}

# Identifies a run by its settings, for resuming.
grid_key <- function(settings) {
  if (nrow(settings) == 0L) {
    return(character(0))
  }
  # Each number on its own: format() pads a vector to a common number of
  # digits, so a run's key would depend on the other runs of its grid.
  number <- function(x) sprintf("%.15g", x)
  paste(settings$method, number(settings$alpha), number(settings$mu_1), number(settings$mu_2),
    number(settings$beta), settings$seed,
    sep = "|"
  )
}

# What a results file must match to be resumed: the data and the learner.
grid_problem <- function(ratings, learner) {
  list(
    dim = dim(ratings), n_ratings = length(ratings$rating), rating_sum = sum(ratings$rating),
    learner = unclass(learner), learner_class = class(learner)
  )
}

read_grid_file <- function(file, problem, call = rlang::caller_env()) {
  if (is.null(file) || !file.exists(file)) {
    return(data.frame())
  }
  saved <- tryCatch(readRDS(file), error = function(e) {
    cfp_abort(c("Cannot read {.file {file}} as a saved grid.", x = conditionMessage(e)), "value", call = call)
  })
  if (!is.data.frame(saved) || !"error" %in% names(saved)) {
    cfp_abort("{.file {file}} does not hold an {.fn attack_grid} result.", "value", call = call)
  }
  if (!isTRUE(all.equal(attr(saved, "problem"), problem))) {
    cfp_abort(
      c("{.file {file}} holds runs for other ratings or another learner.",
        i = "Use a new {.arg file} for this grid, or delete the old one."
      ),
      "value",
      call = call
    )
  }
  saved
}

# Adds new rows to the saved ones; a rerun replaces the row of the same settings.
merge_grid_rows <- function(saved, rows) {
  if (nrow(saved) == 0L) {
    return(rows)
  }
  kept <- saved[!grid_key(saved) %in% grid_key(rows), , drop = FALSE]
  bind_rows_filled(kept, rows)
}

# rbind() for data frames whose columns differ: failed runs lack the metrics.
# Columns keep the order of a complete row, with `error` and `seconds` last.
bind_rows_filled <- function(...) {
  frames <- list(...)
  columns <- unique(unlist(lapply(frames, names)))
  columns <- c(setdiff(columns, c("error", "seconds")), "error", "seconds")
  filled <- lapply(frames, function(frame) {
    for (column in setdiff(columns, names(frame))) frame[[column]] <- rep(NA, nrow(frame))
    frame[columns]
  })
  do.call(rbind, filled)
}

# Finds a `file` that cannot be written before the grid runs, rather than
# after its first chunk, whose results would be lost. Opening it for
# appending changes nothing in an existing file.
check_writable <- function(file, call = rlang::caller_env()) {
  existed <- file.exists(file)
  con <- tryCatch(suppressWarnings(file(file, open = "ab")), error = function(e) NULL)
  if (is.null(con)) {
    cfp_abort(
      c("Can't write the grid's results to {.arg file} = {.path {file}}.",
        i = "Give a path in an existing folder where you may write."
      ),
      "file",
      call = call
    )
  }
  close(con)
  if (!existed) unlink(file)
}

write_grid_file <- function(saved, file, problem) {
  attr(saved, "problem") <- problem
  saveRDS(saved, file)
}
