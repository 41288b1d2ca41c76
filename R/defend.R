# Defences (Section 6 of Li et al. 2016; Huber ALS after Wong and Lee, JMLR
# 2017): filter suspicious users, bag the learner, or fit a robust loss
# (learner_als(loss = "huber")); and what each costs and buys.

#' Drop the most suspicious users
#'
#' Detect then filter: removes the `n` users with the highest `scores` from
#' the real ratings and the fake block, so that
#' `fit_cf(filtered$ratings, learner, attack = filtered$fake)` refits the model
#' without them. Dropped real users keep their ids but lose their ratings (a
#' fit predicts them at 0, the scale's centre, when the penalty is positive),
#' so the filtered fit still predicts every user and a held-out test set of
#' the full data still applies: the accuracy lost on dropped real users is
#' part of the filter's cost. Ties in `scores` are dropped in user order (real
#' users first).
#'
#' Score the poisoned data (real and fake users together), not the clean data.
#'
#' @param ratings The real users' ratings (`cf_ratings`).
#' @param attack The fake users: a `cf_attack`, or a `cf_ratings` block over
#'   the same items; `NULL` to filter the real users alone (then name `scores`
#'   and `n`).
#' @param scores One suspicion score per user of the combined data, higher =
#'   more suspicious: the real users in `ratings$user_ids` order, then the fake
#'   users in their order in `attack`.
#' @param n Number of users to drop (0 to the number of users).
#' @return A `cf_filtered` list: `ratings` (the real users' ratings without the
#'   dropped users' entries, same ids), `fake` (a block of the kept fake users,
#'   with no users when all were dropped; `NULL` when `attack` was `NULL`) and
#'   `dropped`, a data frame with the dropped users' `user` id, whether they are
#'   fake (`is_fake`), and their `score`.
#' @examples
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 10), seed = 1)
#' # With the true labels as scores the filter removes exactly the fake users.
#' labels <- c(rep(0, 150), rep(1, length(attack$fake$user_ids)))
#' filtered <- defend_filter(r, attack, labels, n = 7)
#' filtered
#' fit_cf(filtered$ratings, learner_als(rank = 3, lambda_u = 1), attack = filtered$fake)
#' @export
defend_filter <- function(ratings, attack = NULL, scores, n) {
  check_ratings(ratings)
  fake <- if (!is.null(attack)) fake_users(attack, ratings)
  m <- length(ratings$user_ids)
  n_users <- m + length(fake$user_ids)
  if (!is.numeric(scores)) {
    cfp_abort("{.arg scores} must be numeric, not {.obj_type_friendly {scores}}.", "type")
  }
  if (length(scores) != n_users) {
    cfp_abort(
      c("{.arg scores} must hold one score per user: {n_users} ({m} real, then {n_users - m} fake).",
        x = "It has {length(scores)}."
      ),
      "shape"
    )
  }
  if (anyNA(scores)) {
    cfp_abort(
      c("{sum(is.na(scores))} score{?s} {?is/are} NA or NaN (first: user {which(is.na(scores))[1]}).",
        i = "Score every user; give {.code -Inf} to never drop one."
      ),
      "missing"
    )
  }
  n <- check_count(n, min = 0, max = n_users)
  dropped <- order(-scores)[seq_len(n)]
  is_dropped <- seq_len(n_users) %in% dropped
  keep <- !is_dropped[ratings$user]
  kept_ratings <- new_cf_ratings(ratings$user[keep], ratings$item[keep], ratings$rating[keep],
    ratings$user_ids, ratings$item_ids, ratings$scale, ratings[["is_fake"]]
  )
  kept_fake <- NULL
  if (!is.null(fake)) {
    kept <- which(!is_dropped[m + seq_along(fake$user_ids)])
    rows <- fake$user %in% kept
    kept_fake <- new_cf_ratings(match(fake$user[rows], kept), fake$item[rows], fake$rating[rows],
      fake$user_ids[kept], fake$item_ids, fake$scale
    )
  }
  ids <- c(as.character(ratings$user_ids), as.character(fake$user_ids))
  structure(
    list(
      ratings = kept_ratings,
      fake = kept_fake,
      dropped = data.frame(user = ids[dropped], is_fake = dropped > m, score = scores[dropped])
    ),
    class = "cf_filtered"
  )
}

#' @export
print.cf_filtered <- function(x, ...) {
  n_fake <- sum(x$dropped$is_fake)
  cat_line(
    "{.cls cf_filtered}: dropped {nrow(x$dropped)} user{?s} ({nrow(x$dropped) - n_fake} real, {n_fake} fake); ",
    "{length(x$ratings$rating)} real and {length(x$fake$rating)} fake ratings left"
  )
  invisible(x)
}

#' Bagged learner (Section 6)
#'
#' The paper's Section 6 suggests bagging "to reduce the influence of poisoning
#' attacks": `fit_cf()` with a bagged learner fits `learner` on `n_bags`
#' bootstrap samples of the users (real and fake alike: the defender cannot
#' tell them apart) and predicts the average of the bags' predictions. A user
#' drawn several times enters its bag as that many identical rows.
#'
#' * **Bootstrap.** Each user's multiplicity in each bag is drawn Poisson(1),
#'   independently: the Poisson bootstrap (Hanley and MacGibbon 2006; Oza and
#'   Russell 2001), which approximates drawing m users with replacement. Unlike
#'   that draw, a user's multiplicities do not depend on the other users, so the
#'   real users' bags are the same with or without fake users appended, and a
#'   clean and a poisoned fit differ only by the fake users (which
#'   `evaluate_attack()`'s noise floor relies on). The draws come from `seed`.
#' * **Prediction.** A user's prediction is the mean of \eqn{u_i^\top v_j} over
#'   the bags that contain the user. A user in no bag (probability
#'   \eqn{e^{-n_{bags}}}) is predicted at 0, with a warning.
#' * **Storage.** No m x n matrix is formed: the fit keeps the bags' factors
#'   side by side, bag b in columns \eqn{(b-1)k+1, \dots, bk} of `u` and `v`,
#'   with each user's row scaled by 1 / (number of bags holding the user) and
#'   zero for the bags without the user, so `u %*% t(v)` is the average and
#'   `predict()`, `rmse()` and `evaluate_attack()` work as for any fit.
#'   Nuclear-norm bags store `u diag(d)`.
#'
#' **Attacks through the bagged learner.** Given this learner,
#' [poison_pga()], [poison_sgld()], [attack_gradient()] and
#' [check_gradient()] differentiate the bagged prediction: every refit fits
#' each bag on its copies of the real and fake users (the draws of
#' `fit_cf()`, which depend only on `seed` and the number of users), and the
#' utility is that of the mean over the bags. With \eqn{S_b} the diagonal of
#' each user's share (one over the number of bags holding it, 0 outside bag
#' b), the prediction is \eqn{\sum_b S_b U_b V_b^\top}, so the utility's
#' gradient in bag b's factors is \eqn{S_b} times its gradient in the
#' stacked factors (spread evenly over a user's identical copies); each bag
#' solves its own adjoint on its data, and the gradient in a fake rating is
#' the sum over the bags of the bag's gradient at each copy of that rating.
#' A fake user in no bag (probability \eqn{e^{-n_{bags}}}) has gradient 0
#' and moves nothing. The bags are independent given the fake block: each
#' keeps its index of the ratings (rebuilt only when the support changes),
#' its warm start (the clean bag fit) and its last adjoint, so a refit costs
#' about `n_bags` refits of the base learner. The clean model must then be
#' a fit of this learner (`clean = NULL` fits it). Measure the attack with
#' [evaluate_attack()] or, as an adaptive attack, [evaluate_defence()]. On
#' `movielens_small()`, ALS rank 10, \eqn{\alpha = 3\%}, 5 bags
#' (`inst/scripts/adaptive-attacks.R`): the default attack computed on plain
#' ALS shifts the bagged model's predictions by 0.031 (RMSE), the attack
#' computed through the bags by 0.059, in about 100 s on one thread. A
#' biased base (`learner_als(biases = TRUE)`) works the same way: each bag's
#' mean \eqn{\mu} is that of its own ratings, copies included, and every copy
#' of a fake rating moves it.
#'
#' On `movielens_small()` (671 users, 9,066 items, 100,004 ratings), ALS rank 10:
#' fitting 10 bags takes about 13 s on one thread, ten times one fit.
#'
#' @param learner The base learner: `learner_als()` or `learner_nuclear()`.
#' @param n_bags Number of bootstrap bags.
#' @param seed Seed of the bootstrap draws. `NULL` draws one from R's RNG now,
#'   so every fit with this learner uses the same bags for the same users.
#' @return A `cf_learner_bagged` specification: the base learner's settings
#'   plus `n_bags` and `seed`. `fit_cf()` returns a `cf_fit_bagged`, a
#'   `cf_fit` whose `objective` is the mean of the bags' objectives, whose
#'   `trace` has a `bag` column, and with `bag_counts` (users, real then fake,
#'   x bags: each user's multiplicity in each bag).
#' @examples
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' bagged <- learner_bagged(learner_als(rank = 3, lambda_u = 1), n_bags = 10, seed = 1)
#' fit <- fit_cf(r, bagged)
#' fit
#' predict(fit, data.frame(user = 1:2, item = 3))
#' @export
learner_bagged <- function(learner, n_bags = 10, seed = NULL) {
  check_learner(learner)
  if (inherits(learner, "cf_learner_bagged")) {
    cfp_abort("{.arg learner} is already bagged: give the base learner.", "value")
  }
  if (is_external(learner)) {
    cfp_abort(
      c("{.arg learner} is an external learner ({learner$name}): it can't be bagged here.",
        i = "Bag {.fn learner_als} or {.fn learner_nuclear}, or bag inside your external learner's {.arg fit}."
      ),
      "learner"
    )
  }
  learner$n_bags <- check_count(n_bags, min = 1)
  learner$seed <- if (is.null(seed)) {
    sample.int(.Machine$integer.max, 1L)
  } else {
    check_count(seed, min = 0)
  }
  class(learner) <- c("cf_learner_bagged", class(learner))
  learner
}

#' @export
print.cf_learner_bagged <- function(x, ...) {
  cat_line("{.cls cf_learner_bagged}: {x$n_bags} Poisson bootstrap bag{?s} of users (seed {x$seed}) of")
  print(base_learner(x))
  invisible(x)
}

base_learner <- function(learner) {
  unwrap_learner(learner, "cf_learner_bagged", c("n_bags", "seed"))
}

# The learner a wrapper (bagged, filtered) holds: the wrapper's `fields` and
# its class `wrapper` taken off.
unwrap_learner <- function(learner, wrapper, fields) {
  base <- learner[setdiff(names(learner), fields)]
  class(base) <- setdiff(class(learner), wrapper)
  base
}

# fit_cf() for a bagged learner: fits the base learner on each bag and stores
# the bags' prediction factors side by side (see learner_bagged()). `on_step`,
# when given, is called with the number of each bag fitted.
fit_bagged <- function(learner, ratings, fake, init, threads, on_step = NULL, call = rlang::caller_env()) {
  started <- proc.time()[["elapsed"]]
  base <- base_learner(learner)
  n_bags <- learner$n_bags
  k <- learner$rank
  m <- length(ratings$user_ids)
  n_users <- m + length(fake$user_ids)
  if (inherits(init, "cf_fit_bagged") && init$learner$n_bags != n_bags) {
    cfp_abort(
      "{.arg init} has {init$learner$n_bags} bags, the learner {n_bags}: warm-start bag by bag with as many bags.",
      "shape"
    )
  }
  counts <- bag_counts(learner, m, n_users - m, call = call)
  joint <- joint_ratings(ratings, fake)
  item <- joint$item
  rating <- joint$rating
  entries <- split(seq_along(item), factor(joint$user, levels = seq_len(n_users)))
  bags <- lapply(seq_len(n_bags), function(b) {
    copies <- rep(seq_len(n_users), counts[, b])
    if (length(copies) < k) {
      # fit_cf() would blame the data for a rank above this bag's size.
      cfp_abort(
        c("Bag {b} of {n_bags} drew {length(copies)} user{?s}, fewer than the rank {k}: it can't be fitted.",
          i = "Bags are Poisson bootstrap draws of the {n_users} users: with so few, change {.arg seed} or {.arg n_bags} in {.fn learner_bagged}, or lower the rank."
        ),
        "value",
        call = call
      )
    }
    at <- unlist(entries[copies], use.names = FALSE)
    bag <- new_cf_ratings(
      rep(seq_along(copies), lengths(entries[copies], use.names = FALSE)), item[at], rating[at],
      seq_along(copies), ratings$item_ids, ratings$scale
    )
    fit <- fit_cf(bag, base, init = bag_init(init, b), threads = threads, progress = FALSE)
    if (!is.null(on_step)) on_step(b)
    factors <- prediction_factors(fit)
    # Copies of a user are identical rows, so they have identical factors.
    list(user = factors$user[match(seq_len(n_users), copies), , drop = FALSE], fit = fit)
  })
  in_bag <- counts > 0L
  holders <- rowSums(in_bag)
  if (any(holders[seq_len(m)] == 0L)) {
    missing <- sum(holders[seq_len(m)] == 0L)
    cli::cli_warn(c(
      "{missing} user{?s} fell in no bag: {?it is/they are} predicted at 0.",
      i = "Raise {.arg n_bags} in {.fn learner_bagged}."
    ), class = "cfpoison_warning_bags")
  }
  share <- ifelse(holders > 0L, 1 / holders, 0)
  u <- do.call(cbind, lapply(seq_len(n_bags), function(b) {
    user <- bags[[b]]$user
    user[!in_bag[, b], ] <- 0
    user * share
  }))
  fits <- lapply(bags, `[[`, "fit")
  structure(
    c(
      cf_fit_fields(learner, u, do.call(cbind, lapply(fits, `[[`, "v")), NULL, ratings, fake),
      list(
        objective = mean(vapply(fits, `[[`, numeric(1), "objective")),
        trace = do.call(rbind, lapply(seq_len(n_bags), function(b) cbind(bag = b, fits[[b]]$trace))),
        converged = all(vapply(fits, `[[`, logical(1), "converged")),
        iterations = sum(vapply(fits, `[[`, integer(1), "iterations")),
        seconds = proc.time()[["elapsed"]] - started,
        rank = k,
        bag_counts = counts,
        bag_d = lapply(fits, `[[`, "d")
      )
    ),
    class = c("cf_fit_bagged", "cf_fit")
  )
}

# Each user's multiplicity in each bag of a bagged learner ((m + n_fake) x
# n_bags, Poisson(1) draws from the learner's seed): real users first, so that
# their draws do not depend on the fake users.
bag_counts <- function(learner, m, n_fake, call = rlang::caller_env()) {
  n_bags <- learner$n_bags
  # The counts cross to the core as one int matrix, and rpois() draws them in one vector.
  if ((m + n_fake) * as.double(n_bags) > .Machine$integer.max) {
    cfp_abort(
      c("{.code learner_bagged(n_bags = {n_bags})} holds too many bags for {m + n_fake} users.",
        i = "Use at most {floor(.Machine$integer.max / (m + n_fake))} bags; bagging's gain levels off within tens."
      ),
      "value",
      call = call
    )
  }
  with_seed(learner$seed, {
    rbind(
      matrix(stats::rpois(m * n_bags, 1), m, n_bags),
      matrix(stats::rpois(n_fake * n_bags, 1), n_fake, n_bags)
    )
  })
}

# The warm start of bag b: bag b of a bagged fit, or `init` itself.
bag_init <- function(init, b) {
  if (!inherits(init, "cf_fit_bagged")) {
    return(init)
  }
  # Each bag's columns: k, or a biased base's k + 3 (biased_columns()).
  width <- ncol(init$v) %/% length(init$bag_d)
  columns <- (b - 1L) * width + seq_len(width)
  structure(
    list(
      item_ids = init$item_ids, v = init$v[, columns, drop = FALSE], d = init$bag_d[[b]], rank = init$rank,
      learner = init$learner
    ),
    class = "cf_fit"
  )
}

#' @export
print.cf_fit_bagged <- function(x, ...) {
  holders <- rowSums(x$bag_counts[seq_along(x$user_ids), , drop = FALSE] > 0L)
  fake <- if (is.null(x$fake_u)) "" else paste0(" + ", nrow(x$fake_u), " fake")
  cat_line("{.cls cf_fit_bagged}: {x$learner$n_bags} bag{?s} of {learner_kind(x$learner)}, rank {x$rank}")
  cat_line("  {length(x$user_ids)} users{fake} x {length(x$item_ids)} items, {x$n_ratings + x$n_fake_ratings} ratings")
  cat_line(
    "  a user is in {format(signif(mean(holders), 3))} bags on average (min {min(holders)}); ",
    "mean bag objective {format(x$objective, digits = 8)}"
  )
  cat_line(
    "  {x$iterations} sweep{?s} in all ({format(signif(x$seconds, 3))} s), ",
    "{if (x$converged) 'all bags converged' else 'not all bags converged'}"
  )
  invisible(x)
}

#' What a defence costs and what it buys
#'
#' For each defence, fits the defended model on the clean training ratings and
#' reports its held-out accuracy (the cost), then evaluates the attack against
#' the defended system under [evaluate_attack()]'s protocol (the effect). The
#' row `"none"` is the undefended `learner` and equals [evaluate_attack()]'s
#' result. Each defence's clean model is fitted under the protocol
#' (`refit_sweeps`, `refit_tol`) from the attack's clean model (or the
#' package's own clean fit, as in [evaluate_attack()]), so that the comparison
#' is not blurred by alternating minimization's many local optima; it is the
#' reference of that row's poisoned and floor refits.
#'
#' A defence is either a learner (`learner_als(loss = "huber")`,
#' `learner_bagged()`, ...) that replaces `learner`, or a function
#' `function(ratings, attack)` returning [defend_filter()]'s result, applied to
#' the data before `learner` is fitted; it is called with the attack's fake
#' block for the poisoned system and with `attack = NULL` for the clean
#' system, so a detector-based filter also pays for the real users it drops
#' there. Each row's `rmse_shift` is measured against that defence's own
#' clean model. For a filter, `rmse_shift_floor` refits the poisoned data's
#' kept real users without fake users, so it also holds the damage of the real
#' users the filter drops on the poisoned data but not on the clean data.
#'
#' **Adaptive attackers.** A defence counts only against an attacker who knows
#' it (Li et al. 2016, Section 6). `adaptive` takes attacks computed through a
#' defence, for example `poison_pga(ratings, learner_als(loss = "huber"), ...)`,
#' which differentiates the Huber learner's fit (see [learner_als()]); each is
#' measured on its defence exactly as `attack` is, against the same
#' reference, in a row of its own.
#'
#' On `movielens_small()` (671 users, 9,066 items, 100,004 ratings), ALS rank 10:
#' about 40 s on one thread for `"none"` and one
#' `learner_bagged(n_bags = 10)` defence, most of it the bagged refits.
#'
#' @inheritParams evaluate_attack
#' @param ratings The training ratings of the real users.
#' @param test Held-out ratings over the same users and items (see
#'   [split_ratings()]).
#' @param defences A named list of defences (learners or filter functions).
#' @param learner The undefended learner; defaults to the attack's (give it for
#'   baseline attacks and fake users you built). It may be an external victim
#'   ([learner_external()]), measured as [evaluate_attack()] measures it, and
#'   so may a defence that is a learner.
#' @param adaptive Optional attacks computed through a defence: a named list
#'   whose names are among `defences`' names, each anything `attack` may be.
#' @param progress Show a progress bar over the defences' refits, naming the
#'   refit running and its sweep (or bag, for a bagged learner).
#' @return A tibble with one row per defence, `"none"` first, then the
#'   defences in the order given, each followed by a row for its adaptive
#'   attack when `adaptive` has one.
#'   \describe{
#'     \item{`defence`}{The defence's name in `defences`; `"none"` for the
#'       undefended `learner`.}
#'     \item{`attacker`}{`"non_adaptive"` for `attack`, `"adaptive"` for the
#'       defence's attack in `adaptive`.}
#'     \item{`test_rmse_cost`}{The defended clean model's RMSE on `test`
#'       minus the undefended one's, in rating units: positive when the
#'       defence costs accuracy without an attack (0 for `"none"`).}
#'     \item{`method`, `n_fake_users`, `alpha`, `rmse_shift`,
#'       `rmse_shift_floor`, `test_rmse_clean`, `test_rmse_poisoned`,
#'       `target_rating_clean`, `target_rating_poisoned`, `hit_ratio_clean`,
#'       `hit_ratio_poisoned`, `utility`, `refit_converged`,
#'       `attack_seconds`, `evaluation_seconds`}{[evaluate_attack()]'s
#'       columns, each against the defence's own clean model: `test_rmse_*`
#'       and the `*_clean` columns are the defended clean model's, and for a
#'       filter `n_fake_users` counts the fake users it kept.}
#'   }
#' @examples
#' r <- simulate_ratings(200, 60, rank = 3, density = 0.2, seed = 1)
#' s <- split_ratings(r, seed = 1)
#' learner <- learner_als(rank = 3, lambda_u = 1)
#' attack <- poison_pga(s$train, learner, utility_availability(),
#'   attack_budget(alpha = 0.05, items_per_user = 10), max_iter = 5, seed = 1
#' )
#' # A filter that drops the 10 users whose ratings sit farthest from the item means.
#' drop_deviant <- function(ratings, attack) {
#'   all <- list(user = c(ratings$user, attack$user + length(ratings$user_ids)),
#'               item = c(ratings$item, attack$item), rating = c(ratings$rating, attack$rating))
#'   item_mean <- tapply(all$rating, all$item, mean)[as.character(all$item)]
#'   n_users <- length(ratings$user_ids) + length(attack$user_ids)
#'   deviation <- tapply(abs(all$rating - item_mean), factor(all$user, seq_len(n_users)), mean)
#'   defend_filter(ratings, attack, ifelse(is.na(deviation), 0, deviation), n = 10)
#' }
#' evaluate_defence(s$train, attack, s$test, list(
#'   huber = learner_als(rank = 3, lambda_u = 1, loss = "huber", huber_delta = 0.5),
#'   bagged = learner_bagged(learner, n_bags = 10, seed = 1),
#'   filter = drop_deviant
#' ))
#' @export
evaluate_defence <- function(ratings, attack, test, defences, learner = attack$learner, adaptive = NULL,
                             refit_sweeps = 500, refit_tol = 1e-8, threads = getOption("cfpoison.threads", 1L),
                             progress = interactive()) {
  check_ratings(ratings)
  check_ratings(test)
  # Checked once here: a filter's rows are measured on filtered ratings.
  attack <- as_cf_attack(attack, ratings)
  check_refit_learner(learner, attack)
  threads <- check_threads(threads)
  is_defence <- vapply(defences, function(d) inherits(d, "cf_learner") || is.function(d), logical(1))
  if (!is.list(defences) || length(defences) == 0L || is.null(names(defences)) || any(names(defences) == "") ||
    !all(is_defence)) {
    cfp_abort(
      c("{.arg defences} must be a named list of learners or filter functions.",
        i = "For example {.code list(huber = learner_als(loss = \"huber\"), bagged = learner_bagged(learner))}."
      ),
      "type"
    )
  }
  adaptive <- check_adaptive(adaptive, names(defences), ratings)
  check_flag(progress)
  defences <- c(list(none = learner), defences)
  # The clean fit (when the attack has no clean model), then each defence's
  # reference, floor and poisoned model, and each adaptive attack's floor and
  # poisoned model.
  total <- is.null(attack$clean) + 3L * length(defences) + 2L * length(adaptive)
  refit <- refitter(progress_reporter(progress, "Evaluating defences", total, refits_format))
  start <- clean_fit(attack$clean, learner, ratings, threads, arg = "attack$clean", refit = refit)
  rows <- lapply(names(defences), function(name) {
    defence <- defences[[name]]
    # The bar's status names the defence before the refit.
    named_refit <- function(what, ...) refit(paste0(name, ": ", what), ...)
    filter <- if (is.function(defence)) defence else function(ratings, attack) list(ratings = ratings, fake = attack)
    defended_learner <- if (is.function(defence)) learner else defence
    protocol <- refit_learner(defended_learner, refit_sweeps, refit_tol)
    reference <- reference_refit(start, protocol, filter(ratings, NULL)$ratings, threads, named_refit)
    attackers <- c(list(non_adaptive = attack), if (!is.null(adaptive[[name]])) list(adaptive = adaptive[[name]]))
    measured <- lapply(names(attackers), function(attacker) {
      defended <- attackers[[attacker]]
      poisoned <- filter(ratings, defended$fake)
      defended$fake <- poisoned$fake
      attacker_refit <- if (attacker == "adaptive") {
        function(what, ...) named_refit(paste("adaptive attack,", what), ...)
      } else {
        named_refit
      }
      measurement <- measure_attack(defended, poisoned$ratings, protocol, reference,
        test = test, threads = threads, refit = attacker_refit
      )
      cbind(defence = name, attacker = attacker, measurement)
    })
    do.call(rbind, measured)
  })
  out <- do.call(rbind, rows)
  tibble::as_tibble(cbind(
    out[c("defence", "attacker")],
    test_rmse_cost = out$test_rmse_clean - out$test_rmse_clean[1],
    out[setdiff(names(out), c("defence", "attacker"))]
  ))
}

# `adaptive` of evaluate_defence(): NULL, or a named list of attacks on
# `ratings`, each named after one of the defences.
check_adaptive <- function(adaptive, defence_names, ratings, call = rlang::caller_env()) {
  if (is.null(adaptive)) {
    return(list())
  }
  if (!is.list(adaptive) || inherits(adaptive, c("cf_attack", "cf_ratings", "data.frame")) || length(adaptive) == 0L ||
    is.null(names(adaptive)) || !all(names(adaptive) %in% defence_names) || anyDuplicated(names(adaptive))) {
    cfp_abort(
      c("{.arg adaptive} must be a list of attacks named after the defences they were computed through.",
        i = "The defences are {.val {defence_names}}; for example {.code list({defence_names[1]} = attack)}."
      ),
      "type",
      call = call
    )
  }
  lapply(stats::setNames(names(adaptive), names(adaptive)), function(name) {
    as_cf_attack(adaptive[[name]], ratings, arg = paste0("adaptive$", name), call = call)
  })
}
