# Every ```r block of README.md runs as written, each in a fresh environment, so
# that the README cannot drift from the package. A block right after an
# <!-- slow --> line runs only when NOT_CRAN is "true" (the suite's budget).
# The README sits beside the package's sources, not in an installed package.

readme_blocks <- function(path) {
  lines <- readLines(path, warn = FALSE)
  starts <- which(lines == "```r")
  ends <- which(lines == "```")
  lapply(starts, function(start) {
    end <- min(ends[ends > start])
    before <- trimws(lines[seq_len(start - 1L)])
    before <- before[nzchar(before)]
    list(
      line = start,
      code = lines[seq.int(start + 1L, end - 1L)],
      slow = length(before) > 0L && before[length(before)] == "<!-- slow -->"
    )
  })
}

readme <- test_path("..", "..", "README.md")
blocks <- if (file.exists(readme)) readme_blocks(readme) else list()

test_that("the README is found and has code blocks", {
  skip_if_not(file.exists(readme), "README.md is not beside the tests (installed package)")
  expect_gt(length(blocks), 0L)
})

for (block in blocks) {
  test_that(sprintf("README.md's code block at line %d runs", block$line), {
    if (block$slow) skip_on_cran()
    if (any(grepl("movielens_small", block$code, fixed = TRUE))) skip_if_not_installed("dslabs")
    # A block may plot, print or set a future plan: none of it may leak into
    # the rest of the suite.
    grDevices::pdf(NULL)
    on.exit(grDevices::dev.off(), add = TRUE)
    old_plan <- future::plan()
    on.exit(future::plan(old_plan), add = TRUE)
    exprs <- parse(text = block$code, keep.source = FALSE)
    # Printed, as at the console: a print method's error is the reader's error.
    expect_no_error(utils::capture.output(
      source(exprs = exprs, local = new.env(parent = globalenv()), print.eval = TRUE)
    ))
  })
}
