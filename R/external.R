# External victims: recommenders trained by other code (softImpute,
# recosystem, your own), fitted and measured by the package's evaluations but
# never differentiated: the attacks need the exact fit of learner_als() or
# learner_nuclear().

#' A recommender trained by other code, as a victim
#'
#' Wraps any recommender that trains on (user, item, rating) triplets and
#' predicts (user, item) pairs, so that [evaluate_attack()],
#' [evaluate_defence()], [attack_grid()] and [transfer_matrix()] can measure
#' an attack on it. [fit_cf()] fits it and [predict()] and [rmse()] use the
#' fit as for the package's learners.
#'
#' **The data `fit` and `predict` get.** Both get a data frame whose `user`
#' and `item` columns are integer *indices*, not your ids: users are numbered
#' 1 to `attr(data, "n_users")`, the real users first (in the order of
#' `ratings$user_ids`) and then the fake users (in their order in the
#' attack); items are numbered 1 to `attr(data, "n_items")` in the order of
#' `ratings$item_ids`. The counts are attributes because users or items
#' without a rating (a user dropped by a filter, an item nobody rated) have no
#' row, yet are predicted. `fit(data)` gets a third column, `rating` (in the
#' units of `ratings`), and returns a model of any kind; `predict(model,
#' data)` returns one finite number per row of `data`.
#'
#' **Randomness.** Every fit runs under `set.seed(seed)` (restoring your
#' random stream afterwards), so that a learner that draws from R's random
#' numbers (softImpute's starting factors) fits the same model every time.
#'
#' **Victims only.** The gradient-based attacks ([poison_pga()],
#' [poison_sgld()], [poison_structured()], [attack_gradient()],
#' [check_gradient()]) need the exact fit of [learner_als()] or
#' [learner_nuclear()] and refuse an external learner (error of class
#' `cfpoison_error_learner`): craft the attack on a surrogate, such as
#' `learner_als()`, and measure it on the external victim with
#' [evaluate_attack()] or [transfer_matrix()] (a transfer attack).
#'
#' **In the evaluations** (see [evaluate_attack()]): an external learner
#' cannot start from another model, so its reference is its own fit of the
#' clean ratings, the poisoned model its own fit of the poisoned ratings, and
#' `refit_sweeps` and `refit_tol` do not apply. Its noise floor is its fit of
#' the clean ratings under `seed + 1`: how far the victim's predictions move
#' between two runs on the same data (0 for a learner that draws nothing at
#' random). The metrics are computed from the predictions of every real user
#' for every item, an m x n matrix (49 MB on `movielens_small()`).
#'
#' `fit` and `predict` run on the future workers of [attack_grid()] and
#' [transfer_matrix()]: call other packages' functions with `pkg::fun()` and
#' keep everything they need in their arguments or their enclosing function,
#' not in your global environment.
#'
#' @param fit A function `fit(data)` that trains on `data` (see Details) and
#'   returns a model.
#' @param predict A function `predict(model, data)` that returns a numeric
#'   vector of predictions, one per row of `data`.
#' @param name A short name for printing.
#' @param seed The seed every fit runs under (a whole number >= 0).
#' @return A `cf_learner_external` specification (a `cf_learner`) to pass to
#'   [fit_cf()] or to the evaluations. [fit_cf()] returns a `cf_fit_external`:
#'   a `cf_fit` holding the `model` that `fit` returned, the ids, and `NA` for
#'   what only the package's learners record (`objective`, `iterations`,
#'   `converged`, `rank`). `glance()` describes it with `learner =
#'   "external"`; `tidy()`, which needs factors, is an error.
#' @seealso [learner_softimpute()] and [learner_recosystem()], ready-made
#'   external victims.
#' @examples
#' # A victim that predicts each item's mean rating (0 for an unrated item).
#' item_mean <- learner_external(
#'   fit = function(data) {
#'     n_items <- attr(data, "n_items")
#'     counts <- tabulate(data$item, n_items)
#'     sums <- vapply(split(data$rating, factor(data$item, seq_len(n_items))), sum, numeric(1))
#'     ifelse(counts > 0, sums / pmax(counts, 1), 0)
#'   },
#'   predict = function(model, data) model[data$item],
#'   name = "item mean"
#' )
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' fit <- fit_cf(r, item_mean)
#' predict(fit, data.frame(user = 1:2, item = 5))
#' attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
#' evaluate_attack(r, attack, item_mean)[c("rmse_shift", "rmse_shift_floor")]
#' @export
learner_external <- function(fit, predict, name = "external", seed = 1) {
  check_required(fit)
  check_required(predict)
  for (arg in c("fit", "predict")) {
    f <- get(arg)
    if (!is.function(f)) {
      cfp_abort(
        c("{.arg {arg}} must be a function, not {.obj_type_friendly {f}}.",
          i = "Give {.code fit = function(data) ...} and {.code predict = function(model, data) ...}."
        ),
        "type"
      )
    }
  }
  if (!is.character(name) || length(name) != 1L || is.na(name) || !nzchar(name)) {
    cfp_abort("{.arg name} must be a single non-empty string.", "type")
  }
  structure(
    list(fit = fit, predict = predict, name = name, seed = check_count(seed, min = 0)),
    class = c("cf_learner_external", "cf_learner")
  )
}

#' softImpute as a victim
#'
#' An external learner ([learner_external()]) that fits
#' `softImpute::softImpute()` (Hastie, Mazumder, Lee and Zadeh, 2015) to the
#' ratings, observed zeros included (through
#' `as_sparse(class = "Incomplete", zeros = "explicit")`), and predicts with
#' `softImpute::impute()`. The defaults are softImpute's own but for
#' `rank_max`, which softImpute sets to 2 and which is here the rank the
#' package's learners use on MovieLens. With `type = "als"` and a `rank_max`
#' above the solution's rank it minimizes the same convex problem as
#' [learner_nuclear()] with the same `lambda`, to softImpute's looser default
#' tolerance (`thresh = 1e-5`); softImpute starts from random factors, drawn
#' under `seed`.
#'
#' @param rank_max softImpute's `rank.max`: the largest rank of the fit.
#' @param lambda softImpute's nuclear-norm penalty (>= 0).
#' @param type `"als"` or `"svd"`, softImpute's algorithm.
#' @param ... Further arguments to `softImpute::softImpute()`, such as
#'   `thresh` or `maxit`.
#' @inheritParams learner_external
#' @return A `cf_learner_external` specification.
#' @examples
#' if (requireNamespace("softImpute", quietly = TRUE)) {
#'   r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#'   victim <- learner_softimpute(rank_max = 5, lambda = 2)
#'   attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
#'   evaluate_attack(r, attack, victim)[c("rmse_shift", "rmse_shift_floor")]
#' }
#' @export
learner_softimpute <- function(rank_max = 10, lambda = 0, type = c("als", "svd"), ..., seed = 1) {
  rlang::check_installed("softImpute", reason = "for {.fn learner_softimpute}.")
  rank_max <- check_count(rank_max, min = 1)
  check_number(lambda, min = 0)
  type <- cfp_arg_match(type)
  extra <- list(...)
  learner_external(
    fit = function(data) {
      block <- new_cf_ratings(data$user, data$item, data$rating, seq_len(attr(data, "n_users")),
        seq_len(attr(data, "n_items")), NULL
      )
      x <- as_sparse(block, "Incomplete", zeros = "explicit")
      do.call(softImpute::softImpute, c(list(x, rank.max = rank_max, lambda = lambda, type = type), extra))
    },
    predict = function(model, data) softImpute::impute(model, data$user, data$item),
    name = sprintf("softImpute (%s, rank.max %d, lambda %s)", type, rank_max, format(lambda)),
    seed = seed
  )
}

#' recosystem (LIBMF) as a victim
#'
#' An external learner ([learner_external()]) that trains
#' `recosystem::Reco()` (LIBMF: matrix factorization by parallel stochastic
#' gradient descent; Chin, Zhuang, Juan and Lin, 2015) on the ratings and
#' predicts \eqn{p_u^\top q_i} from the factors it returns. The defaults are
#' those of recosystem 0.5 (`dim = 10`, `costp_l2 = costq_l2 = 0.1`, `lrate =
#' 0.1`, `niter = 20`, squared loss), on one thread. LIBMF draws its starting
#' factors and the order of its updates from R's random numbers (since
#' recosystem 0.4), which every fit seeds with `seed`; on one thread the
#' updates run in that order, so the same seed gives the same model. With
#' more threads the updates race and the fit changes from run to run.
#'
#' The model is kept in memory (`Reco$train(out_model = NULL)`, then
#' `Reco$output()`), so a fit holds no file and travels to future workers. A user or item LIBMF has no factor for
#' (an index past the last one it saw) is predicted at the mean training
#' rating, as LIBMF predicts it.
#'
#' @param dim Number of latent factors.
#' @param costp_l2,costq_l2 L2 penalties of the user and item factors.
#' @param niter Number of SGD passes.
#' @param nthread Number of LIBMF threads; above 1 the fit is not reproducible.
#' @param ... Further training options of `Reco$train()` (`lrate`,
#'   `costp_l1`, `nbin`, ...).
#' @inheritParams learner_external
#' @return A `cf_learner_external` specification.
#' @examples
#' if (requireNamespace("recosystem", quietly = TRUE)) {
#'   r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#'   victim <- learner_recosystem(dim = 3)
#'   fit <- fit_cf(r, victim)
#'   rmse(fit, r)
#' }
#' @export
learner_recosystem <- function(dim = 10, costp_l2 = 0.1, costq_l2 = 0.1, niter = 20, nthread = 1, ...,
                               seed = 1) {
  rlang::check_installed("recosystem", reason = "for {.fn learner_recosystem}.")
  opts <- list(
    dim = check_count(dim, min = 1),
    costp_l2 = check_number(costp_l2, min = 0),
    costq_l2 = check_number(costq_l2, min = 0),
    niter = check_count(niter, min = 1),
    nthread = check_count(nthread, min = 1),
    ...
  )
  opts$verbose <- FALSE
  learner_external(
    fit = function(data) {
      reco <- recosystem::Reco()
      train <- recosystem::data_memory(data$user, data$item, data$rating, index1 = TRUE)
      reco$train(train, out_model = NULL, opts = opts)
      factors <- reco$output(recosystem::out_memory(), recosystem::out_memory())
      list(p = factors$P, q = factors$Q, mean = mean(data$rating))
    },
    predict = function(model, data) {
      known <- data$user <= nrow(model$p) & data$item <= nrow(model$q)
      out <- rep(model$mean, nrow(data))
      out[known] <- rowSums(model$p[data$user[known], , drop = FALSE] * model$q[data$item[known], , drop = FALSE])
      out[!is.finite(out)] <- model$mean
      out
    },
    name = sprintf("recosystem (dim %d, costp_l2 %s, costq_l2 %s, niter %d)", opts$dim, format(costp_l2),
      format(costq_l2), opts$niter
    ),
    seed = seed
  )
}

#' @export
print.cf_learner_external <- function(x, ...) {
  cat_line("{.cls cf_learner_external}: {x$name}, seed {x$seed} (a victim only: attacks need a surrogate)")
  invisible(x)
}

is_external <- function(learner) inherits(learner, "cf_learner_external")

# Refuses an external learner where an attack needs the exact fit of the
# package's learners (its KKT conditions and adjoint).
check_differentiable <- function(learner, call = rlang::caller_env()) {
  if (!missing(learner) && is_external(learner)) {
    cfp_abort(
      c("{.arg learner} is an external learner ({learner$name}): attacks can't differentiate its fit.",
        i = "Craft the attack on {.fn learner_als} (a surrogate) and measure it on this victim with {.fn evaluate_attack} or {.fn transfer_matrix}."
      ),
      "learner",
      call = call
    )
  }
  invisible(learner)
}

# The data frame fit() and predict() get: indices, and the counts as attributes.
external_data <- function(user, item, rating = NULL, n_users, n_items) {
  data <- data.frame(user = user, item = item)
  if (!is.null(rating)) data$rating <- rating
  attr(data, "n_users") <- n_users
  attr(data, "n_items") <- n_items
  data
}

# fit_cf() for an external learner: the learner's fit of the real and fake
# users' ratings, under `seed` (by default the learner's). The ratings'
# fingerprint lets the evaluations tell the learner's own clean fit.
fit_external <- function(learner, ratings, fake, seed = NULL, on_step = NULL, call = rlang::caller_env()) {
  started <- proc.time()[["elapsed"]]
  joint <- joint_ratings(ratings, fake, call = call)
  data <- external_data(joint$user, joint$item, joint$rating,
    n_users = length(ratings$user_ids) + length(fake$user_ids), n_items = length(ratings$item_ids)
  )
  model <- tryCatch(
    with_seed(seed %||% learner$seed, learner$fit(data)),
    error = function(e) {
      # The parent's message follows, under "Caused by error".
      cfp_abort("The external learner's {.arg fit} failed ({learner$name}).", "external", call = call, parent = e)
    }
  )
  if (!is.null(on_step)) on_step(1L)
  structure(
    list(
      learner = learner, model = model, u = NULL, v = NULL, d = NULL, fake_u = NULL,
      user_ids = ratings$user_ids, item_ids = ratings$item_ids, fake_user_ids = fake$user_ids,
      n_ratings = length(ratings$rating), n_fake_ratings = length(fake$rating),
      fingerprint = ratings_fingerprint(ratings), seed = seed %||% learner$seed,
      objective = NA_real_, trace = data.frame(iteration = integer(0), objective = numeric(0), seconds = numeric(0)),
      converged = NA, iterations = NA_integer_, rank = NA_integer_,
      seconds = proc.time()[["elapsed"]] - started
    ),
    class = c("cf_fit_external", "cf_fit")
  )
}

# The external model's predictions at pairs of indices (real users first),
# checked: one finite number per pair.
external_predict <- function(fit, users, items, call = rlang::caller_env()) {
  data <- external_data(users, items,
    n_users = length(fit$user_ids) + length(fit$fake_user_ids), n_items = length(fit$item_ids)
  )
  out <- tryCatch(fit$learner$predict(fit$model, data), error = function(e) {
    cfp_abort("The external learner's {.arg predict} failed ({fit$learner$name}).", "external", call = call, parent = e)
  })
  if (!is.numeric(out) || length(out) != length(users) || any(!is.finite(out))) {
    cfp_abort(
      c("The external learner's {.arg predict} ({fit$learner$name}) must return one finite number per pair.",
        x = "For {length(users)} pair{?s} it returned {.obj_type_friendly {out}} of length {length(out)}{if (is.numeric(out)) paste0(', ', sum(!is.finite(out)), ' not finite') else ''}."
      ),
      "external",
      call = call
    )
  }
  as.double(out)
}

# Every real user's prediction for every item (m x n), predicted in blocks
# of users so that no call gets more than about a million pairs. A fit that
# already holds them (see transfer_matrix()) is not predicted again.
external_predictions <- function(fit) {
  if (!is.null(fit$predictions)) {
    return(fit$predictions)
  }
  m <- length(fit$user_ids)
  n <- length(fit$item_ids)
  out <- matrix(0, m, n)
  block <- max(1L, 2^20 %/% n)
  for (rows in split(seq_len(m), ceiling(seq_len(m) / block))) {
    # Users vary fastest: column-major order of out[rows, ].
    out[rows, ] <- external_predict(fit, rep(rows, times = n), rep(seq_len(n), each = length(rows)))
  }
  out
}

# An external fit holding its m x n predictions (see external_predictions());
# any other fit as it is.
with_predictions <- function(fit) {
  if (inherits(fit, "cf_fit_external") && is.null(fit$predictions)) fit$predictions <- external_predictions(fit)
  fit
}

# Whether `fit` is `learner`'s own fit of the clean `ratings`, so that an
# evaluation can take it as its reference instead of fitting it again.
is_own_clean_fit <- function(fit, learner, ratings) {
  inherits(fit, "cf_fit_external") && is.null(fit$fake_user_ids) && identical(fit$learner, learner) &&
    fit$seed == learner$seed && same_fingerprint(fit$fingerprint, ratings_fingerprint(ratings))
}

# The learner of the noise floor (see evaluate_attack()), the poisoned model's
# without its fake users: an external learner refits the clean data under the
# next seed (its own run-to-run noise); a filtered one keeps the decisions of
# the `poisoned` fit on the real users (see same_filter()); the package's
# other learners refit from the reference under the protocol, unchanged.
floor_learner <- function(protocol, poisoned = NULL) {
  if (is_external(protocol)) protocol$seed <- protocol$seed + 1L
  if (!is.null(poisoned)) protocol <- same_filter(protocol, poisoned)
  protocol
}

# Whether the noise floor of `protocol` depends on the attack (a filter's does).
floor_depends_on_attack <- function(protocol) inherits(protocol, "cf_learner_filtered")

#' @export
print.cf_fit_external <- function(x, ...) {
  fake <- if (length(x$fake_user_ids) == 0L) "" else paste0(" + ", length(x$fake_user_ids), " fake")
  cat_line("{.cls cf_fit_external}: {x$learner$name}, seed {x$seed}")
  cat_line("  {length(x$user_ids)} users{fake} x {length(x$item_ids)} items, {x$n_ratings + x$n_fake_ratings} ratings")
  cat_line("  fitted in {format(signif(x$seconds, 3))} s; the model is in {.field model}")
  invisible(x)
}

#' @export
summary.cf_fit_external <- function(object, ...) {
  out <- NextMethod()
  out$learner <- object$learner$name
  out$n_fake_users <- length(object$fake_user_ids)
  out
}

# glance() of an external fit: the package's columns, with what an external
# fit does not record (loss, sweeps, objective, rank) NA.
#' @export
glance.cf_fit_external <- function(x, ratings = NULL, ...) {
  out <- NextMethod()
  out$learner <- "external"
  out$loss <- NA_character_
  out
}
