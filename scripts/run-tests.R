# Runs tests/testthat against the installed cfpoison and ends with a plain
# "N passed, N failed, N skipped" line for CI.
results <- testthat::test_dir(
  "tests/testthat",
  package = "cfpoison",
  load_package = "installed",
  reporter = testthat::ProgressReporter$new(show_praise = FALSE),
  stop_on_failure = FALSE
)
counts <- as.data.frame(results)
failed <- sum(counts$failed) + sum(counts$error)
cat(sprintf("%d passed, %d failed, %d skipped\n", sum(counts$passed), failed, sum(counts$skipped)))
quit(status = if (failed > 0) 1L else 0L)
