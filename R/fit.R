# Fitting a learner to ratings (plus fake users) and using the fit.

#' Fit a collaborative filtering model
#'
#' Fits a learner from `learner_als()` (Eq. 2, Eq. 4 with fake users; squared
#' or Huber loss) or `learner_nuclear()` (Eq. 3, Eq. 5) to the observed
#' ratings, with the fake users' ratings appended as extra rows when `attack`
#' is given. A `learner_bagged()` learner fits its base learner on each
#' bootstrap bag and returns a `cf_fit_bagged` (see [learner_bagged()]). An
#' external learner ([learner_external()]) is fitted by its own `fit`
#' function under its seed (or `seed`), from its own start (`init` is an
#' error), and returns a `cf_fit_external`.
#'
#' Users or items without any rating get a zero factor (their predictions are 0,
#' the scale's centre after the paper's shift) when the penalty is positive.
#'
#' On `movielens_small()` (671 users, 9,066 items, 100,004 ratings), ALS rank 10:
#' about 1.5 s on one thread (`learner_bagged(n_bags = 10)`: about 13 s).
#'
#' @param ratings A `cf_ratings` object (see `as_ratings()`).
#' @param learner A learner specification.
#' @param attack Optional fake users: a `cf_attack`, or a `cf_ratings` block of
#'   fake users over the same items (`as_ratings(df, items = ratings$item_ids)`).
#' @param init Optional warm start: a previous `cf_fit` over the same items, or an
#'   `n_items x rank` matrix of item factors (a biased learner starts its
#'   item biases from a biased fit's, or from 0). Alternating minimization only
#'   needs item factors to start: the first half-sweep solves every user
#'   (fake users included) given them, so no user factor has to be guessed.
#'   A bagged learner starts every bag from it, or bag b from bag b of a
#'   previous bagged fit.
#' @param seed Optional seed for what a fit draws at random: the item factors
#'   a cold start begins from, and for a bagged learner every bag's start (its
#'   bootstrap draws follow the learner's own `seed`). A warm start from a
#'   `cf_fit` draws the directions it lacks with a fixed seed, so that it
#'   depends on the fit alone. The same seed gives the same fit; the caller's random stream is
#'   left as it was. `NULL` draws from the current RNG state.
#' @param threads Number of OpenMP threads; results are identical for any value.
#' @param progress Show the sweeps done (or a bar over the bags of a bagged
#'   learner) once the fit has run for 2 s. The fit is the same either way.
#' @return A `cf_fit` object: `u` (users x k), `v` (items x k), `d` (singular
#'   values for nuclear fits, `NULL` otherwise; predictions are
#'   `u %*% diag(d) %*% t(v)`; a biased learner's `u` is \eqn{[U, b, 1, \mu]}
#'   and `v` is \eqn{[V, 1, c, 1]}, see [learner_als()]), `fake_u` (fake
#'   users x k or `NULL`), the ids,
#'   `objective`, a `trace` data frame (iteration, objective, seconds), and
#'   `converged`.
#' @examples
#' r <- simulate_ratings(200, 100, rank = 3, density = 0.2, seed = 1)
#' fit <- fit_cf(r, learner_als(rank = 3, lambda_u = 1), seed = 1)
#' fit
#' predict(fit, data.frame(user = 1:2, item = 5))
#' # The same seed, the same fit.
#' identical(fit$u, fit_cf(r, learner_als(rank = 3, lambda_u = 1), seed = 1)$u)
#' @export
fit_cf <- function(ratings, learner, attack = NULL, init = NULL, seed = NULL,
                   threads = getOption("cfpoison.threads", 1L), progress = interactive()) {
  check_ratings(ratings)
  check_learner(learner)
  if (is_external(learner) && !is.null(init)) {
    cfp_abort(
      c("An external learner ({learner$name}) can't start from {.arg init}: it is fitted from its own start.",
        i = "Leave {.arg init} {.code NULL}."
      ),
      "value"
    )
  }
  threads <- check_threads(threads)
  # Checked here, not by with_seed(), so that the error names fit_cf().
  if (!is.null(seed)) check_count(seed, min = 0)
  check_flag(progress)
  steps <- fit_steps(learner)
  report <- progress_reporter(progress, paste("Fitting", steps$what), steps$total, steps$format)
  fit_model(ratings, learner, attack, init, seed, threads, on_step = report)
}

# fit_cf() past its argument checks, for the package's own fits: `on_step`,
# when given, is called with the number of each sweep done, or of each bag
# of a bagged learner (see fit_steps()).
fit_model <- function(ratings, learner, attack = NULL, init = NULL, seed = NULL, threads = 1L, on_step = NULL,
                      call = rlang::caller_env()) {
  m <- length(ratings$user_ids)
  n <- length(ratings$item_ids)
  fake <- NULL
  n_fake <- 0L
  if (!is.null(attack)) {
    fake <- fake_users(attack, ratings, call = call)
    n_fake <- length(fake$user_ids)
  }
  if (is_external(learner)) {
    # It starts from its own start: `init` has nothing to give it.
    return(fit_external(learner, ratings, fake, seed, on_step, call = call))
  }
  k <- learner$rank
  if (k > min(m + n_fake, n)) {
    cfp_abort(
      c("The rank ({k}) is larger than the data allow.",
        i = "It can be at most min(users, items) = {min(m + n_fake, n)}."
      ),
      "rank",
      call = call
    )
  }
  if (inherits(learner, "cf_learner_filtered")) {
    return(fit_filtered(learner, ratings, fake, init, seed, threads, on_step, call = call))
  }
  if (inherits(learner, "cf_learner_bagged")) {
    return(with_seed(seed, fit_bagged(learner, ratings, fake, init, threads, on_step, call = call)))
  }
  item_init <- with_seed(seed, initial_item_factors(init, learner, ratings, call = call))
  started <- proc.time()[["elapsed"]]
  res <- call_core(
    .fit_factors(core_ratings(joint_ratings(ratings, fake)), core_learner(learner), item_init, threads, on_step),
    call = call
  )
  if (is_biased(learner)) {
    factors <- biased_factors(res$user_factors, res$item_factors, res$mean)
    res$user_factors <- factors$user
    res$item_factors <- factors$item
  }
  new_cf_fit(res, learner, ratings, fake, seconds = proc.time()[["elapsed"]] - started)
}

# A biased fit's factors from its free parameters [U, b] and [V, c] and its
# mean: users [U, b, 1, mu] and items [V, 1, c, 1], whose products mu + b_i +
# c_j + u_i'v_j are the predictions (see learner_als()). biased_columns()
# names their columns for every reader of a biased fit.
biased_factors <- function(user, item, mean) {
  k <- ncol(item) - 1L
  list(
    user = cbind(user, 1, mean, deparse.level = 0),
    item = cbind(item[, seq_len(k), drop = FALSE], 1, item[, k + 1L], 1, deparse.level = 0)
  )
}

# The columns of biased_factors() at rank k: the latent factors, the user
# biases b (in u; v holds the 1 they multiply), the item biases c (in v; u
# holds the 1), the mean mu (in u; v holds 1), and the width k + 3.
biased_columns <- function(k) {
  list(latent = seq_len(k), user_bias = k + 1L, item_bias = k + 2L, mean = k + 3L, width = k + 3L)
}

# A fit's latent item factors (n_items x rank) and item biases (`NULL` for an
# unbiased fit).
item_parameters <- function(fit) {
  if (!is_biased(fit$learner)) {
    return(list(v = fit$v, bias = NULL))
  }
  columns <- biased_columns(fit$rank)
  list(v = fit$v[, columns$latent, drop = FALSE], bias = fit$v[, columns$item_bias])
}

# What a fit counts as its steps, and the format of its own bar: sweeps (at
# most the learner's `max_iter`; a fit stops sooner when it converges), or
# bags for a bagged learner (all fitted, each about as long).
fit_steps <- function(learner) {
  if (is_external(learner)) {
    return(list(what = learner$name, unit = "fit", total = 1L, format = NULL))
  }
  if (inherits(learner, "cf_learner_bagged")) {
    return(list(what = sprintf("%d bags", learner$n_bags), unit = "bag", total = learner$n_bags, format = NULL))
  }
  what <- if (inherits(learner, "cf_learner_nuclear")) "nuclear norm" else "ALS"
  list(what = what, unit = "sweep", total = learner$max_iter, format = sweeps_format)
}

new_cf_fit <- function(res, learner, ratings, fake, seconds) {
  fit <- structure(
    c(
      cf_fit_fields(learner, res$user_factors, res$item_factors, res$d, ratings, fake),
      list(
        objective = res$objective,
        trace = res$trace,
        converged = res$converged,
        iterations = nrow(res$trace),
        seconds = seconds
      )
    ),
    class = "cf_fit"
  )
  if (inherits(learner, "cf_learner_nuclear")) {
    fit$rank <- sum(res$d > 0)
    if (fit$rank == learner$rank && learner$lambda > 0) {
      cli::cli_warn(c(
        "All {learner$rank} singular values are positive: the nuclear-norm optimum may need a larger rank.",
        i = "Raise {.arg rank_max} in {.fn learner_nuclear} (or raise {.arg lambda})."
      ), class = "cfpoison_warning_rank")
    }
  } else {
    fit$rank <- learner$rank
  }
  fit
}

# The fields every cf_fit has: factors split into the real users' `u` and the
# fake users' `fake_u` (rows after the real ones), and the data's ids and sizes.
cf_fit_fields <- function(learner, user_factors, item_factors, d, ratings, fake) {
  m <- length(ratings$user_ids)
  list(
    learner = learner,
    u = user_factors[seq_len(m), , drop = FALSE],
    v = item_factors,
    d = d,
    fake_u = if (is.null(fake)) NULL else user_factors[-seq_len(m), , drop = FALSE],
    user_ids = ratings$user_ids,
    item_ids = ratings$item_ids,
    fake_user_ids = fake$user_ids,
    n_ratings = length(ratings$rating),
    n_fake_ratings = length(fake$rating)
  )
}

# Item factors (n_items x k) to start alternating minimization from; for a
# biased learner [V, c] (n_items x (k + 1)), c from a biased `init` or 0.
initial_item_factors <- function(init, learner, ratings, call = rlang::caller_env()) {
  if (is_biased(learner)) {
    item_bias <- if (inherits(init, "cf_fit")) item_parameters(init)$bias
    v <- initial_item_factors(init, stats::setNames(list(learner$rank, learner$init_sd), c("rank", "init_sd")), ratings,
      call = call
    )
    return(cbind(v, item_bias %||% 0, deparse.level = 0))
  }
  n <- length(ratings$item_ids)
  k <- learner$rank
  if (is.null(init)) {
    return(matrix(stats::rnorm(n * k, sd = learner$init_sd), n, k))
  }
  if (inherits(init, "cf_fit_external")) {
    # An external fit has no factors to start from: the start is a cold one,
    # drawn with a fixed seed so that it too depends on nothing but the fit.
    return(with_seed(clean_seed, initial_item_factors(NULL, learner, ratings)))
  }
  if (inherits(init, "cf_fit")) {
    if (!identical(init$item_ids, ratings$item_ids)) {
      cfp_abort("{.arg init} was fitted on other items than {.arg ratings}.", "shape", call = call)
    }
    check_fit_factors(init, call = call)
    # A warm start is a function of the fit alone, so that every refit from
    # it (an attack's, evaluate_attack()'s) is reproducible: directions drawn
    # at random are drawn with a fixed seed, leaving the caller's stream as it
    # was.
    return(with_seed(1L, {
      v <- item_parameters(init)$v
      if (!is.null(init$d)) {
        # Balanced factors of X = U diag(d) V'. Directions the thresholding set to
        # zero would stay zero under alternating updates: restart them at random.
        v <- sweep(v, 2, sqrt(init$d), `*`)
        dead <- init$d <= 0
        v[, dead] <- stats::rnorm(n * sum(dead), sd = learner$init_sd)
      }
      extra <- k - ncol(v)
      if (extra > 0) {
        v <- cbind(v, matrix(stats::rnorm(n * extra, sd = learner$init_sd), n, extra))
      }
      v[, seq_len(k), drop = FALSE]
    }))
  }
  if (is.matrix(init) && is.numeric(init)) {
    if (!identical(dim(init), c(n, k))) {
      cfp_abort(
        c("{.arg init} must be an {n} x {k} matrix of item factors (items x rank).",
          x = "It is {nrow(init)} x {ncol(init)}."
        ),
        "shape",
        call = call
      )
    }
    if (any(!is.finite(init))) {
      cfp_abort("{.arg init} must not contain NA, NaN or infinite values.", "missing", call = call)
    }
    storage.mode(init) <- "double"
    return(init)
  }
  cfp_abort(
    "{.arg init} must be {.code NULL}, a {.cls cf_fit} or a numeric matrix, not {.obj_type_friendly {init}}.",
    "type",
    call = call
  )
}

#' @export
print.cf_fit <- function(x, ...) {
  kind <- learner_kind(x$learner)
  fake <- if (is.null(x$fake_u)) "" else paste0(" + ", nrow(x$fake_u), " fake")
  cat_line("{.cls cf_fit}: {kind}, rank {x$rank}")
  cat_line("  {length(x$user_ids)} users{fake} x {length(x$item_ids)} items, {x$n_ratings + x$n_fake_ratings} ratings")
  cat_line(
    "  objective {format(x$objective, digits = 8)} after {x$iterations} sweep{?s} ",
    "({format(signif(x$seconds, 3))} s), {if (x$converged) 'converged' else 'not converged'}"
  )
  invisible(x)
}

#' @export
summary.cf_fit <- function(object, ...) {
  structure(
    list(
      learner = class(object$learner)[1],
      rank = object$rank,
      n_users = length(object$user_ids),
      n_fake_users = NROW(object$fake_u),
      n_items = length(object$item_ids),
      objective = object$objective,
      iterations = object$iterations,
      converged = object$converged,
      seconds = object$seconds,
      singular_values = object$d
    ),
    class = "summary.cf_fit"
  )
}

#' @export
print.summary.cf_fit <- function(x, ...) {
  cat_line("{x$learner}, rank {x$rank}: {x$n_users} users ({x$n_fake_users} fake) x {x$n_items} items")
  cat_line(
    "  objective {format(x$objective, digits = 8)}, {x$iterations} sweeps, ",
    "converged: {x$converged}, {format(signif(x$seconds, 3))} s"
  )
  if (!is.null(x$singular_values)) {
    cat_line("  singular values: {format(signif(x$singular_values, 4))}")
  }
  invisible(x)
}

#' Predict ratings from a fitted model
#'
#' @param object A `cf_fit`, or a `cf_fit_external` of an external learner
#'   ([learner_external()]), which its own `predict` function predicts.
#' @param newdata A data frame with `user` and `item` columns holding your own
#'   ids, or a `cf_ratings` object over the same users and items (predictions at
#'   its observed entries, in its order).
#' @param user Instead of `newdata`: user ids whose whole rows to predict.
#' @param threads Number of OpenMP threads.
#' @param ... Unused.
#' @return A numeric vector (one prediction per row of `newdata`), or with
#'   `user` a matrix with one row per user and one column per item, named by ids.
#' @examples
#' r <- simulate_ratings(100, 50, rank = 2, density = 0.3, seed = 2)
#' fit <- fit_cf(r, learner_als(rank = 2, lambda_u = 0.5))
#' predict(fit, data.frame(user = c(1, 2), item = c(3, 4)))
#' predict(fit, user = 7)[, 1:5]
#' @export
predict.cf_fit <- function(object, newdata = NULL, user = NULL, threads = getOption("cfpoison.threads", 1L),
                           ...) {
  threads <- check_threads(threads)
  user_factors <- prediction_factors(object)$user
  if (!is.null(user)) {
    rows <- whole_rows(object, newdata, user)
    out <- user_factors[rows, , drop = FALSE] %*% t(object$v)
    dimnames(out) <- list(as.character(user), as.character(object$item_ids))
    return(out)
  }
  pairs <- prediction_pairs(object, newdata)
  call_core(.predict_pairs(user_factors, object$v, pairs$user, pairs$item, threads))
}

#' @rdname predict.cf_fit
#' @export
predict.cf_fit_external <- function(object, newdata = NULL, user = NULL, ...) {
  n <- length(object$item_ids)
  if (!is.null(user)) {
    rows <- whole_rows(object, newdata, user)
    predicted <- external_predict(object, rep(rows, times = n), rep(seq_len(n), each = length(rows)))
    return(matrix(predicted, length(rows), n, dimnames = list(as.character(user), as.character(object$item_ids))))
  }
  pairs <- prediction_pairs(object, newdata)
  external_predict(object, pairs$user, pairs$item)
}

# The rows of predict()'s `user`, which excludes `newdata`.
whole_rows <- function(object, newdata, user, call = rlang::caller_env()) {
  if (!is.null(newdata)) {
    cfp_abort("Give either {.arg newdata} or {.arg user}, not both.", "value", call = call)
  }
  match_ids(user, object$user_ids, "user", call = call)
}

# predict()'s `newdata` as user and item indices of the fit.
prediction_pairs <- function(object, newdata, call = rlang::caller_env()) {
  if (inherits(newdata, "cf_ratings")) {
    check_ratings_fields(newdata, arg = "newdata", call = call)
    if (!identical(newdata$user_ids, object$user_ids) || !identical(newdata$item_ids, object$item_ids)) {
      cfp_abort(
        c("{.arg newdata} has other users or items than the fit.",
          i = "Split one {.cls cf_ratings} with {.fn split_ratings} so both share ids, or pass a data frame of ids."
        ),
        "shape",
        call = call
      )
    }
    return(list(user = newdata$user, item = newdata$item))
  }
  if (is.data.frame(newdata)) {
    if (!all(c("user", "item") %in% names(newdata))) {
      cfp_abort(
        c("{.arg newdata} needs {.field user} and {.field item} columns.", i = "It has {.val {names(newdata)}}."),
        "column",
        call = call
      )
    }
    return(list(
      user = match_ids(newdata$user, object$user_ids, "user", arg = "newdata$user", call = call),
      item = match_ids(newdata$item, object$item_ids, "item", arg = "newdata$item", call = call)
    ))
  }
  cfp_abort("Give {.arg newdata} (a data frame or {.cls cf_ratings}) or {.arg user}.", "type", call = call)
}

# Factors whose product is the fit's prediction: U (times d for nuclear fits) and V.
prediction_factors <- function(fit, call = rlang::caller_env()) {
  if (inherits(fit, "cf_fit_external")) {
    cfp_abort(
      c("An external fit ({fit$learner$name}) has no factors.", i = "Use {.fn predict} on it."),
      "learner",
      call = call
    )
  }
  check_fit_factors(fit, call = call)
  user <- if (is.null(fit$d)) fit$u else sweep(fit$u, 2, fit$d, `*`)
  list(user = user, item = fit$v)
}

# A fit edited by hand fails here, not in a product of mismatched matrices or
# with NA predictions: finite factors, one row per id, as many columns on
# both sides (and in d, for a nuclear fit). A fit of the items alone (a bag's
# warm start, bag_init()) has no users to check.
check_fit_factors <- function(fit, call = rlang::caller_env()) {
  u <- fit$u
  v <- fit$v
  sound_matrix <- function(x, rows) is.matrix(x) && is.numeric(x) && nrow(x) == rows && all(is.finite(x))
  sound <- sound_matrix(v, length(fit$item_ids)) &&
    ((is.null(u) && is.null(fit$user_ids)) || (sound_matrix(u, length(fit$user_ids)) && ncol(u) == ncol(v))) &&
    (is.null(fit$d) || (is.numeric(fit$d) && length(fit$d) == ncol(v) && all(is.finite(fit$d))))
  if (!sound) {
    cfp_abort(
      c("A damaged {.cls cf_fit}: its factors do not match its ids or hold non-finite values.",
        i = "Fit it again with {.fn fit_cf}, and do not edit its fields."
      ),
      "value",
      call = call
    )
  }
  invisible(fit)
}

match_ids <- function(ids, universe, what, arg = what, call = rlang::caller_env()) {
  check_ids(ids, universe, arg = arg, call = call)
  if (is.factor(ids)) ids <- as.character(ids)
  index <- match(ids, universe)
  if (anyNA(index)) {
    unknown <- unique(ids[is.na(index)])
    cfp_abort(
      c("{length(unknown)} {what} id{?s} {?is/are} not in the fit: {.val {utils::head(unknown, 5)}}.",
        i = "Predict only for {what}s the model was fitted on."
      ),
      "value",
      call = call
    )
  }
  index
}

#' Objective value of a fitted model
#'
#' The learner's objective at the fit: Eq. 2 (Eq. 4 with fake users) for
#' alternating minimization, with the Huber data term for
#' `learner_als(loss = "huber")`; Eq. 3 (Eq. 5) for nuclear-norm minimization;
#' the mean of the bags' objectives for a bagged fit.
#'
#' @param object A `cf_fit`.
#' @param ... Unused.
#' @return A single number.
#' @examples
#' r <- simulate_ratings(100, 50, rank = 2, density = 0.3, seed = 2)
#' objective(fit_cf(r, learner_als(rank = 2, lambda_u = 0.5)))
#' @export
objective <- function(object, ...) {
  UseMethod("objective")
}

#' @rdname objective
#' @export
objective.cf_fit <- function(object, ...) {
  object$objective
}

#' @export
objective.default <- function(object, ...) {
  cfp_abort(
    c("{.arg object} must be a {.cls cf_fit}, not {.obj_type_friendly {object}}.",
      i = "Fit a model with {.fn fit_cf}."
    ),
    "type"
  )
}

#' Root mean squared error on held-out ratings
#'
#' @param object A `cf_fit` (including a bagged one).
#' @param test A `cf_ratings` over the fit's users and items (see `split_ratings()`).
#' @return The RMSE of the predictions at `test`'s entries against its ratings.
#' @examples
#' r <- simulate_ratings(200, 100, rank = 3, density = 0.2, seed = 3)
#' s <- split_ratings(r, seed = 3)
#' rmse(fit_cf(s$train, learner_als(rank = 3, lambda_u = 1)), s$test)
#' @export
rmse <- function(object, test) {
  if (!inherits(object, "cf_fit")) {
    cfp_abort("{.arg object} must be a {.cls cf_fit} from {.fn fit_cf}.", "type")
  }
  check_ratings(test)
  sqrt(mean((predict(object, test) - test$rating)^2))
}
