# Helpers shared by the benchmark scripts in this folder (sourced by each).

# The process's peak resident memory (VmHWM), in GB; NA where /proc is missing.
peak_memory_gb <- function() {
  status <- tryCatch(readLines("/proc/self/status"), error = function(e) character(0))
  line <- grep("^VmHWM:", status, value = TRUE)
  if (length(line) == 0L) {
    return(NA_real_)
  }
  kb <- as.numeric(sub("^VmHWM:\\s*([0-9]+)\\s*kB.*$", "\\1", line))
  kb * 1024 / 1e9
}

# Writing 5 to clear_refs resets VmHWM to the current resident size (Linux >= 4.0),
# so a later reading is the peak of what ran in between.
reset_peak_memory <- function() {
  invisible(try(cat("5", file = "/proc/self/clear_refs"), silent = TRUE))
}

verdict <- function(value, goal, below = TRUE) {
  met <- if (below) value <= goal else value >= goal
  if (met) "met" else "not met"
}

# One line of a report: label, value and unit, and the goal with its verdict.
report <- function(label, value, unit, goal = NULL, below = TRUE) {
  line <- sprintf("%-58s %10.3f %s", label, value, unit)
  if (!is.null(goal)) line <- sprintf("%s   (goal %s %g: %s)", line, if (below) "<=" else ">=", goal, verdict(value, goal, below))
  cat(line, "\n")
}
