# Runs the examples of every help page in man/ against the installed cfpoison
# (\dontrun and \donttest parts stay commented out, as in R CMD check) and ends
# with a plain "examples: N pages run, N failed" line.
library(cfpoison)
# Plots go nowhere instead of into an Rplots.pdf in the working directory.
grDevices::pdf(NULL)

failed <- character()
run <- 0L
for (rd in sort(list.files("man", pattern = "\\.Rd$", full.names = TRUE))) {
  code <- tempfile(fileext = ".R")
  tools::Rd2ex(rd, code)
  # Pages without examples write no file.
  if (!file.exists(code)) next
  run <- run + 1L
  cat("--", basename(rd), "\n")
  ok <- tryCatch(
    {
      source(code, local = new.env(parent = globalenv()), echo = FALSE)
      TRUE
    },
    error = function(e) {
      cat("Error in", basename(rd), ":", conditionMessage(e), "\n")
      FALSE
    }
  )
  if (!ok) failed <- c(failed, basename(rd))
}
cat(sprintf("examples: %d pages run, %d failed%s\n", run, length(failed),
  if (length(failed) > 0) paste0(" (", paste(failed, collapse = ", "), ")") else ""))
quit(status = if (length(failed) > 0) 1L else 0L)
