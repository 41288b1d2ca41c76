# Seconds per adaptive attack, against the plain default attack in the same
# process: the default poison_pga() on movielens_small() (ALS rank 10, lambda
# 5, availability, alpha = 3%, B = 25, seed 1, one thread, the clean model
# given) computed against plain ALS, through Huber ALS, through the RDMA
# filter (learner_filtered(n = 20)), through 5 bootstrap bags
# (learner_bagged(), seed 1) and with stealth = 1; each with its RMSE shift on
# the learner it was computed for. inst/scripts/adaptive-attacks.R measures
# each attack on each defence against the plain attack.
#
#   R CMD INSTALL --preclean .
#   Rscript inst/bench/adaptive.R

library(cfpoison)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])), "common.R"))
options(cfpoison.threads = 1L)

ratings <- movielens_small()
als <- learner_als(rank = 10, lambda_u = 5)
budget <- attack_budget(alpha = 0.03, items_per_user = 25)
tight <- function(learner) {
  learner$max_iter <- 2000
  learner$tol <- 1e-9
  learner
}
cases <- list(
  plain = list(learner = als, stealth = 0),
  huber = list(learner = learner_als(rank = 10, lambda_u = 5, loss = "huber", huber_delta = 1), stealth = 0),
  filter_rdma_20 = list(learner = learner_filtered(als, "rdma", n = 20), stealth = 0),
  bagged_5 = list(learner = learner_bagged(als, n_bags = 5, seed = 1), stealth = 0),
  stealth_1 = list(learner = als, stealth = 1)
)
rows <- lapply(names(cases), function(name) {
  case <- cases[[name]]
  clean <- fit_cf(ratings, tight(case$learner), seed = 1, progress = FALSE)
  started <- proc.time()[["elapsed"]]
  attack <- poison_pga(ratings, case$learner, utility_availability(), budget,
    stealth = case$stealth, clean = clean, seed = 1, progress = FALSE
  )
  seconds <- proc.time()[["elapsed"]] - started
  shift <- evaluate_attack(ratings, attack, case$learner, clean = clean, progress = FALSE)$rmse_shift
  data.frame(attack = name, seconds = seconds, rmse_shift = shift)
})
table <- do.call(rbind, rows)
table$seconds_vs_plain <- table$seconds / table$seconds[1]
print(table, digits = 3, row.names = FALSE)
