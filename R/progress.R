# Progress of long work. The outermost call that shows progress owns one cli
# progress bar; the work inside reports to it through a reporter and shows no
# bar of its own, so that nested work (an evaluation's refits, a bagged fit's
# bags) prints one bar, not one per level. A reporter is a
# `function(done, status = NULL)` that moves the bar to `done` steps and shows
# `status` beside it; NULL is silence. The C++ loops call it with the number
# of each sweep or iteration done (src/boundary.h).

# A reporter for a bar of `total` steps named `name` (cli's bar with a share
# done and an ETA unless `format` is given), closed when the frame `.envir`
# (by default the caller's) exits; NULL when `progress` is FALSE. cli draws
# the bar only once the work has run for 2 s (`cli.progress_show_after`), so
# quick calls print nothing.
progress_reporter <- function(progress, name, total, format = NULL, .envir = parent.frame()) {
  if (!progress) {
    return(NULL)
  }
  bar <- cli::cli_progress_bar(name, total = total, format = format, .envir = .envir)
  function(done, status = NULL) cli::cli_progress_update(set = done, status = status, id = bar)
}

# A fit stops when it settles, mostly long before its most sweeps, and
# refits differ in cost (a clean fit from scratch takes longest): their bars
# count, with no share done or ETA that would mislead.
sweeps_format <- "{cli::pb_spin} {cli::pb_name}| sweep {cli::pb_current} (at most {cli::pb_total}) | {cli::pb_elapsed}"
refits_format <- "{cli::pb_spin} {cli::pb_name}| {cli::pb_current}/{cli::pb_total} refits done | {cli::pb_status}"

# The refits of evaluate_attack() and evaluate_defence() under one bar of
# refits (`report`, a reporter or NULL): refit(what, ratings, learner, ...) is
# fit_model() that names the refit running and counts its sweeps (or bags) in
# the bar's status, and moves the bar on by one when it ends. Errors name
# `call`.
refitter <- function(report, call = rlang::caller_env()) {
  # Forced now: the refits run after this frame has returned.
  force(report)
  force(call)
  done <- 0L
  function(what, ratings, learner, attack = NULL, init = NULL, threads = 1L) {
    on_step <- NULL
    if (!is.null(report)) {
      steps <- fit_steps(learner)
      report(done, what)
      on_step <- function(step) report(done, sprintf("%s, %s %d/%d", what, steps$unit, step, steps$total))
    }
    fit <- fit_model(ratings, learner, attack, init, threads = threads, on_step = on_step, call = call)
    done <<- done + 1L
    if (!is.null(report)) report(done)
    fit
  }
}
