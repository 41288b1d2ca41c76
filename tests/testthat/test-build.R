# src/Makevars and src/Makevars.win list every core header as a dependency of
# every object (portable make has no wildcard), so that editing a header
# rebuilds the objects that include it. A header left out there builds
# stale objects incrementally, as poisoned.hpp and search.hpp did after the
# split of attacks.hpp. The sources sit beside the tests, not in an installed
# package.

src <- test_path("..", "..", "src")

listed_headers <- function(makevars) {
  text <- paste(readLines(makevars, warn = FALSE), collapse = "\n")
  regmatches(text, gregexpr("[^[:space:]\\\\]+\\.(hpp|h)\\b", text))[[1]]
}

test_that("src/Makevars and src/Makevars.win list every core header", {
  skip_if_not(dir.exists(src), "src/ is not beside the tests (installed package)")
  core <- list.files(file.path(src, "..", "inst", "include", "cfpoison"), pattern = "\\.hpp$")
  headers <- c(list.files(src, pattern = "\\.h$"), file.path("..", "inst", "include", "cfpoison", core))
  expect_gt(length(core), 10L)
  for (makevars in c("Makevars", "Makevars.win")) {
    expect_setequal(listed_headers(file.path(src, makevars)), headers)
  }
})
