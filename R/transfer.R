# Transfer: attacks crafted on one learner (a surrogate) measured on others.

#' Do attacks transfer to other victims?
#'
#' An attacker who does not know the recommender crafts the attack on a
#' surrogate (say `learner_als()`) and hopes it works on the real one. This
#' measures every attack in `attacks` on every learner in `victims` (the
#' package's learners and external ones: [learner_external()],
#' [learner_softimpute()], [learner_recosystem()]), each against that
#' victim's own clean model and noise floor, next to the paper's uniform
#' baseline with the same budget on the same victim.
#'
#' * **Protocol.** Each victim is measured as [evaluate_attack()] measures
#'   it with `clean = NULL`: its clean model is the package's own seeded
#'   clean fit (an external learner's own fit), refitted once into the
#'   reference that all attacks on it are measured against; its noise floor
#'   is fitted once too. Attack and victim count alike: an attack crafted on
#'   `learner_als(rank = 10)` measured on the same learner gives
#'   [evaluate_attack()]'s result with `clean = NULL`.
#' * **Uniform baseline.** [poison_uniform()] with `budget` (by default the
#'   attacks' own, when they share one) and `seed`, measured on each victim:
#'   `times_uniform` is an attack's `rmse_shift` divided by the baseline's on
#'   the same victim, so that victims that move more or less under any fake
#'   users compare on one scale.
#' * **Parallel runs.** The victims' clean models, then the (attack, victim)
#'   cells, go through `future.apply::future_lapply()` as in
#'   [attack_grid()]: choose where they run with `future::plan()`. Nothing in
#'   a cell draws at random outside its seeds, so the table is the same
#'   under any plan and any number of workers.
#' * **Time.** On `movielens_small()`, two attacks on four victims (ALS
#'   rank 20, nuclear norm, softImpute rank 10, recosystem; the vignette's
#'   table) took 3 minutes on one thread of a busy 2-core machine. Each
#'   victim fits its clean model, floor and baseline once; each cell is one
#'   poisoned refit, and for an external victim the m x n matrix of the real
#'   users' predictions (see [learner_external()]).
#'
#' @inheritParams evaluate_attack
#' @param ratings The real users' ratings the attacks were computed on.
#' @param attacks A named list of attacks: `cf_attack`s computed on
#'   `ratings`, or fake users you built (anything [evaluate_attack()] takes
#'   as `attack`).
#' @param victims A named list of learners to measure the attacks on.
#' @param test Optional held-out ratings over the same users and items.
#' @param budget The uniform baseline's budget ([attack_budget()]); `NULL`
#'   takes the attacks' budget, which they must then share.
#' @param seed The uniform baseline's seed.
#' @param progress Show a progress bar over the victims and the cells
#'   (through progressr, as [attack_grid()]).
#' @return A `cf_transfer` tibble with one row per attack and victim, by
#'   attack then victim in the order given. Units are those of
#'   [evaluate_attack()].
#'   \describe{
#'     \item{`attack`, `victim`}{The names in `attacks` and `victims`.}
#'     \item{`method`, `n_fake_users`, `alpha`}{The attack's method, number of
#'       fake users and share of fake users (`NA` for fake users you built).}
#'     \item{`rmse_shift`}{The paper's RMSE of the attack on the victim
#'       (see [evaluate_attack()]).}
#'     \item{`rmse_shift_floor`}{The victim's noise floor: the `rmse_shift`
#'       of a refit without fake users, the same for every attack on it
#'       (except on a [learner_filtered()] victim, whose floor keeps each
#'       poisoned fit's filter decisions).}
#'     \item{`uniform_shift`}{The uniform baseline's `rmse_shift` on the
#'       victim.}
#'     \item{`times_uniform`}{`rmse_shift / uniform_shift`: the attack's
#'       shift as a multiple of the baseline's on the same victim.}
#'     \item{`test_rmse_clean`, `test_rmse_poisoned`}{The victim's RMSE on
#'       `test`, clean and poisoned; `NA` without `test`.}
#'     \item{`target_rating_clean`, `target_rating_poisoned`,
#'       `hit_ratio_clean`, `hit_ratio_poisoned`}{The attack's targets'
#'       average predicted rating and hit ratio on the victim, clean and
#'       poisoned; `NA` for an attack without targets.}
#'     \item{`utility`}{The attack's utility on the victim's poisoned model;
#'       `NA` for attacks without one.}
#'     \item{`refit_converged`}{Whether the victim's poisoned refit converged;
#'       `NA` for an external victim.}
#'   }
#'   Timings are left out, so that the table is identical however it is run.
#'   `attr(x, "uniform")` holds the baseline attack.
#' @seealso [autoplot.cf_transfer()] draws the table as a heat map.
#' @examples
#' r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
#' surrogate <- learner_als(rank = 3, lambda_u = 1)
#' budget <- attack_budget(alpha = 0.05, items_per_user = 10)
#' pga <- poison_pga(r, surrogate, utility_availability(), budget, max_iter = 5, seed = 1)
#' transfer <- transfer_matrix(r, list(pga = pga), list(
#'   als = surrogate,
#'   als_rank_6 = learner_als(rank = 6, lambda_u = 1),
#'   nuclear = learner_nuclear(lambda = 5, rank_max = 10)
#' ), progress = FALSE)
#' transfer
#' autoplot(transfer)
#' @export
transfer_matrix <- function(ratings, attacks, victims, test = NULL, budget = NULL, seed = 1, refit_sweeps = 500,
                            refit_tol = 1e-8, top_n = 10, threads = getOption("cfpoison.threads", 1L),
                            progress = interactive()) {
  check_ratings(ratings)
  check_required(attacks)
  check_required(victims)
  check_named_list(attacks, "attacks", c("cf_attack", "cf_ratings", "data.frame"), "list(pga = attack)")
  attacks <- lapply(stats::setNames(names(attacks), names(attacks)), function(name) {
    as_cf_attack(attacks[[name]], ratings, arg = paste0("attacks$", name))
  })
  check_named_list(victims, "victims", "cf_learner", "list(als = learner_als(), nuclear = learner_nuclear(lambda = 20))")
  not_learners <- names(victims)[!vapply(victims, inherits, logical(1), "cf_learner")]
  if (length(not_learners) > 0L) {
    cfp_abort(
      c("{.arg victims} must hold learners: {.field {not_learners}} {?is/are} not.",
        i = "Make them with {.fn learner_als}, {.fn learner_nuclear} or {.fn learner_external}."
      ),
      "type"
    )
  }
  if (!is.null(test)) check_ratings(test)
  budget <- uniform_budget(budget, attacks, ratings)
  check_count(seed, min = 0)
  here <- rlang::current_env()
  protocols <- lapply(victims, function(victim) refit_learner(victim, refit_sweeps, refit_tol, call = here))
  top_n <- check_count(top_n, min = 1)
  threads <- check_threads(threads)
  check_flag(progress)
  uniform <- poison_uniform(ratings, budget, seed = seed)
  cells <- expand.grid(victim = names(victims), attack = names(attacks), stringsAsFactors = FALSE)[2:1]

  run <- function() {
    report <- progressr::progressor(steps = length(victims) + nrow(cells))
    # Each victim's reference, floor and baseline, then each cell, one
    # future apiece (they differ in cost); each future gets only its own
    # victim or cell.
    victim_jobs <- lapply(names(protocols), function(name) list(protocol = protocols[[name]], label = name))
    states <- future.apply::future_lapply(victim_jobs, transfer_victim,
      ratings = ratings, uniform = uniform, test = test, top_n = top_n, threads = threads, report = report,
      future.seed = TRUE, future.scheduling = Inf, future.packages = "cfpoison"
    )
    names(states) <- names(protocols)
    cell_jobs <- lapply(seq_len(nrow(cells)), function(i) {
      list(
        attack = attacks[[cells$attack[i]]], state = states[[cells$victim[i]]],
        label = paste(cells$attack[i], "on", cells$victim[i])
      )
    })
    rows <- future.apply::future_lapply(cell_jobs, transfer_cell,
      ratings = ratings, test = test, top_n = top_n, threads = threads, report = report,
      future.seed = TRUE, future.scheduling = Inf, future.packages = "cfpoison"
    )
    list(states = states, rows = rows)
  }
  done <- if (progress) {
    # As in attack_grid(): `progress = TRUE` asks for the bar outright.
    progressr::with_progress(run(), handlers = progressr::handler_cli(enable = TRUE), enable = TRUE)
  } else {
    progressr::without_progress(run())
  }

  measured <- do.call(rbind, done$rows)
  uniform_shift <- unname(vapply(done$states, `[[`, numeric(1), "uniform_shift")[cells$victim])
  out <- data.frame(
    cells,
    measured[c("method", "n_fake_users", "alpha", "rmse_shift", "rmse_shift_floor")],
    uniform_shift = uniform_shift,
    times_uniform = measured$rmse_shift / uniform_shift,
    measured[c(
      "test_rmse_clean", "test_rmse_poisoned", "target_rating_clean", "target_rating_poisoned",
      "hit_ratio_clean", "hit_ratio_poisoned", "utility", "refit_converged"
    )]
  )
  out <- tibble::new_tibble(out, class = "cf_transfer")
  attr(out, "uniform") <- uniform
  out
}

# One victim of transfer_matrix() (`job`: its `protocol` and `label`): its
# reference (from its own seeded clean fit), its noise floor and the uniform
# baseline's shift on it.
transfer_victim <- function(job, ratings, uniform, test, top_n, threads, report) {
  protocol <- job$protocol
  reference <- with_predictions(protocol_reference(NULL, protocol, ratings, threads))
  floor <- if (!floor_depends_on_attack(protocol)) {
    with_predictions(
      refitter(NULL)("noise-floor refit", ratings, floor_learner(protocol), init = reference, threads = threads)
    )
  }
  baseline <- measure_attack(uniform, ratings, protocol, reference, test, top_n = top_n, threads = threads, floor = floor)
  report(sprintf("clean model of %s", job$label))
  list(protocol = protocol, reference = reference, floor = floor, uniform_shift = baseline$rmse_shift)
}

# One cell of transfer_matrix() (`job`: the `attack`, its victim's `state`
# from transfer_victim() and a `label`), as measure_attack()'s row.
transfer_cell <- function(job, ratings, test, top_n, threads, report) {
  state <- job$state
  row <- measure_attack(job$attack, ratings, state$protocol, state$reference, test,
    top_n = top_n, threads = threads, floor = state$floor
  )
  report(job$label)
  row
}

# `x` must be a list with a distinct, non-empty name for each element; not
# one object of `single` classes, which are lists themselves.
check_named_list <- function(x, arg, single, example, call = rlang::caller_env()) {
  labels <- names(x)
  if (!is.list(x) || inherits(x, single) || length(x) == 0L || is.null(labels) || anyNA(labels) ||
    any(labels == "") || anyDuplicated(labels)) {
    cfp_abort(
      c("{.arg {arg}} must be a list with a distinct name for each element.",
        i = "For example {.code {example}}."
      ),
      "type",
      call = call
    )
  }
  invisible(x)
}

# The uniform baseline's budget: `budget`, or the one the attacks share.
uniform_budget <- function(budget, attacks, ratings, call = rlang::caller_env()) {
  if (is.null(budget)) {
    budgets <- unique(lapply(Filter(Negate(is.null), lapply(attacks, `[[`, "budget")), unclass))
    if (length(budgets) != 1L) {
      why <- if (length(budgets) == 0L) "no attack has a budget" else "the attacks' budgets differ"
      cfp_abort(
        c("Give {.arg budget}, the uniform baseline's: {why}.", i = "For example {.code budget = attack_budget(alpha = 0.03)}."),
        "value",
        call = call
      )
    }
    budget <- Filter(Negate(is.null), lapply(attacks, `[[`, "budget"))[[1]]
  }
  check_budget(budget, ratings, call = call)
  budget
}

# tibble's header for a transfer table: its size and the baseline.
#' @export
tbl_sum.cf_transfer <- function(x, ...) {
  header <- NextMethod()
  names(header)[1] <- "A cf_transfer"
  uniform <- attr(x, "uniform")
  if (!is.null(uniform)) {
    header[["Uniform baseline"]] <- sprintf(
      "%d fake users (alpha = %s), %d ratings each, seed %s", length(uniform$fake$user_ids),
      format(uniform$budget$alpha), uniform$budget$items_per_user, format(uniform$seed)
    )
  }
  header
}
