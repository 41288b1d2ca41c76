# Progress of long work: one bar per call that counts its steps, silence
# without `progress`, and the same results either way.

progress_ratings <- function() simulate_ratings(60, 30, rank = 2, density = 0.3, seed = 1)
progress_learner <- function() learner_als(rank = 2, lambda_u = 1)

# What `expr` prints on stdout and stderr, with cli's logger in place of the
# cli bars: it prints a bar's creation and end as "<time> <id> current/total
# event" whenever they happen, whereas a drawn bar, like the logger's updates
# in between, shows only when cli's clock says so.
printed <- function(expr) {
  old <- options(cli.progress_handlers_only = "logger", cli.progress_show_after = 0)
  on.exit(options(old), add = TRUE)
  stderr <- utils::capture.output(stdout <- utils::capture.output(value <- expr), type = "message")
  list(value = value, lines = c(stdout, stderr))
}

# The bars' creations and ends among printed lines, as "current/total event".
bar_events <- function(lines) {
  events <- sub("^\\S+ \\S+ ", "", lines)
  events[grepl(" (created|terminated .*)$", events)]
}

# A fit or an evaluation without the columns that measure time.
without_seconds <- function(fit) {
  fit$seconds <- NULL
  fit$trace$seconds <- NULL
  fit
}
without_evaluation_seconds <- function(result) result[names(result) != "evaluation_seconds"]

test_that("fit_cf() counts sweeps, or bags, and fits the same with progress on and off", {
  r <- progress_ratings()
  learners <- list(
    als = progress_learner(),
    nuclear = learner_nuclear(lambda = 5, rank_max = 10),
    bagged = learner_bagged(progress_learner(), n_bags = 8, seed = 1)
  )
  for (learner in learners) {
    on <- printed(fit_cf(r, learner, seed = 1, progress = TRUE))
    off <- printed(fit_cf(r, learner, seed = 1, progress = FALSE))
    steps <- if (inherits(learner, "cf_learner_bagged")) learner$n_bags else on$value$iterations
    total <- if (inherits(learner, "cf_learner_bagged")) learner$n_bags else learner$max_iter
    expect_equal(bar_events(on$lines), c(
      sprintf("0/%d created", total), sprintf("%d/%d terminated (done)", steps, total)
    ))
    expect_identical(off$lines, character(0))
    expect_identical(without_seconds(on$value), without_seconds(off$value))
  }
})

test_that("evaluate_attack() counts its refits, and measures the same with progress on and off", {
  r <- progress_ratings()
  learner <- progress_learner()
  attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 5), seed = 1)
  on <- printed(evaluate_attack(r, attack, learner, progress = TRUE))
  off <- printed(evaluate_attack(r, attack, learner, progress = FALSE))
  # The package's clean fit, the reference, the floor and the poisoned model.
  expect_equal(bar_events(on$lines), c("0/4 created", "4/4 terminated (done)"))
  expect_identical(off$lines, character(0))
  expect_identical(without_evaluation_seconds(on$value), without_evaluation_seconds(off$value))
  # Given a clean model there is nothing to fit first.
  clean <- fit_cf(r, learner, seed = 1, progress = FALSE)
  given <- printed(evaluate_attack(r, attack, learner, clean = clean, progress = TRUE))
  expect_equal(bar_events(given$lines), c("0/3 created", "3/3 terminated (done)"))
})

test_that("evaluate_defence() counts every defence's refits, bags inside, in one bar", {
  r <- progress_ratings()
  s <- split_ratings(r, seed = 1)
  learner <- progress_learner()
  attack <- poison_uniform(s$train, attack_budget(alpha = 0.05, items_per_user = 5), seed = 1)
  defences <- list(bagged = learner_bagged(learner, n_bags = 8, seed = 1))
  on <- printed(evaluate_defence(s$train, attack, s$test, defences, learner = learner, progress = TRUE))
  off <- printed(evaluate_defence(s$train, attack, s$test, defences, learner = learner, progress = FALSE))
  # The clean fit, then three refits for "none" and for "bagged": the bagged
  # refits report their bags to this bar rather than drawing their own.
  expect_equal(bar_events(on$lines), c("0/7 created", "7/7 terminated (done)"))
  expect_identical(off$lines, character(0))
  expect_identical(without_evaluation_seconds(on$value), without_evaluation_seconds(off$value))
})

test_that("a refit names itself and counts its sweeps or bags in the bar's status", {
  r <- progress_ratings()
  learner <- progress_learner()
  reports <- list()
  refit <- cfpoison:::refitter(function(done, status = NULL) {
    reports[[length(reports) + 1L]] <<- list(done = done, status = status)
  })
  fit <- refit("reference refit", r, learner)
  refit("poisoned refit", r, learner_bagged(learner, n_bags = 8, seed = 1), init = fit)
  done <- vapply(reports, function(x) as.integer(x$done), integer(1))
  status <- vapply(reports, function(x) if (is.null(x$status)) NA_character_ else x$status, character(1))
  sweeps <- fit$iterations
  expect_identical(status, c(
    "reference refit", sprintf("reference refit, sweep %d/%d", seq_len(sweeps), learner$max_iter), NA,
    "poisoned refit", sprintf("poisoned refit, bag %d/8", 1:8), NA
  ))
  expect_identical(done, rep(c(0L, 1L, 1L, 2L), c(sweeps + 1L, 1L, 9L, 1L)))
})

test_that("without `progress`, or in a session that is not interactive, nothing is printed", {
  r <- progress_ratings()
  learner <- progress_learner()
  attack <- poison_pga(r, learner, utility_availability(), attack_budget(alpha = 0.05, items_per_user = 5),
    max_iter = 2, seed = 1, progress = FALSE
  )
  s <- split_ratings(r, seed = 1)
  defences <- list(bagged = learner_bagged(learner, n_bags = 8, seed = 1))
  # testthat runs non-interactively: the default is progress = FALSE.
  expect_false(interactive())
  expect_identical(printed(fit_cf(r, learner, seed = 1))$lines, character(0))
  expect_identical(printed(evaluate_attack(r, attack))$lines, character(0))
  expect_identical(printed(evaluate_defence(r, attack, s$test, defences))$lines, character(0))
  expect_identical(
    printed(poison_pga(r, learner, utility_availability(), attack_budget(alpha = 0.05, items_per_user = 5),
      max_iter = 2, seed = 1
    ))$lines,
    character(0)
  )
})

test_that("attack_grid() draws its bar of runs, its runs' work none, and none without `progress`", {
  r <- progress_ratings()
  grid <- function(progress) {
    attack_grid(r, progress_learner(),
      methods = c("pga", "uniform"), alpha = 0.05, mu = c(1, 0), seeds = 1L, items_per_user = 5,
      attack_args = list(pga = list(max_iter = 2)), detect = FALSE, progress = progress
    )
  }
  on <- printed(grid(TRUE))
  # progressr draws the grid's bar itself; the attacks, the refits and the
  # fits inside the runs create no cli bar of their own.
  expect_true(any(grepl("uniform, alpha = 0.05", on$lines, fixed = TRUE)))
  expect_identical(bar_events(on$lines), character(0))
  expect_identical(printed(grid(FALSE))$lines, character(0))
  # Not even through a progressr handler of the caller's.
  around <- function(expr) {
    progressr::with_progress(expr, handlers = progressr::handler_cli(enable = TRUE), enable = TRUE)
  }
  expect_identical(printed(around(grid(FALSE)))$lines, character(0))
})

test_that("`progress` must be TRUE or FALSE", {
  r <- progress_ratings()
  learner <- progress_learner()
  attack <- poison_uniform(r, attack_budget(alpha = 0.05, items_per_user = 5), seed = 1)
  expect_cfp_error(fit_cf(r, learner, progress = NA), "type", "`progress`")
  expect_cfp_error(evaluate_attack(r, attack, learner, progress = "yes"), "type", "`progress`")
  expect_cfp_error(
    evaluate_defence(r, attack, r, list(huber = learner), learner = learner, progress = 1), "type", "`progress`"
  )
})
