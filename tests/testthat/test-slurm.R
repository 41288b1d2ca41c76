# attack_grid() through a real Slurm scheduler (scripts/slurm-local.sh brings
# one up on this machine; .ci/run does so in CI) with the package's template.

# Whether sinfo shows a node that can take jobs now.
slurm_is_up <- function() {
  if (!nzchar(Sys.which("sinfo"))) {
    return(FALSE)
  }
  states <- suppressWarnings(tryCatch(
    system2("sinfo", c("-h", "-N", "-o", "%T"), stdout = TRUE, stderr = FALSE, timeout = 10),
    error = function(e) character()
  ))
  any(grepl("^(idle|mixed)", states))
}

test_that("a 2 x 2 grid run as Slurm jobs gives the same table as plan(sequential)", {
  skip_if_not_installed("future.batchtools")
  skip_if_not(slurm_is_up(), "Slurm is not running here (start it with scripts/slurm-local.sh)")
  r <- simulate_ratings(150, 60, rank = 3, density = 0.2, seed = 1)
  learner <- learner_als(rank = 3, lambda_u = 1)
  grid <- function() {
    attack_grid(r, learner,
      methods = c("pga", "uniform"), alpha = c(0.03, 0.06), seeds = 1L, items_per_user = 10,
      attack_args = list(pga = list(max_iter = 4)), detect = FALSE, progress = FALSE
    )
  }
  timing <- c("attack_seconds", "evaluation_seconds", "seconds")

  old_plan <- future::plan(future::sequential)
  on.exit(future::plan(old_plan), add = TRUE)
  sequential <- grid()

  # The batchtools registries (one folder per job) go to a temporary folder;
  # on one node it need not be on a shared file system.
  registries <- tempfile("cfpoison-slurm-")
  dir.create(registries)
  on.exit(unlink(registries, recursive = TRUE), add = TRUE)
  old_options <- options(future.cache.path = registries, future.delete = TRUE)
  on.exit(options(old_options), add = TRUE)
  template <- system.file("templates", "slurm-cfpoison.tmpl", package = "cfpoison")
  expect_true(file.exists(template))
  future::plan(future.batchtools::batchtools_slurm, template = template, resources = list(walltime = 300))
  jobs <- grid()

  expect_equal(nrow(jobs), 4L)
  expect_true(all(is.na(jobs$error)))
  expect_identical(jobs[setdiff(names(jobs), timing)], sequential[setdiff(names(sequential), timing)])
  # Every job's registry was collected and deleted: only future.batchtools'
  # record of the session is left.
  expect_identical(basename(list.files(registries, recursive = TRUE)), "sessioninfo.txt")
})
