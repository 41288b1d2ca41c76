# Recomputes the README's transfer table ("Will my recommender fall?"): attacks
# crafted on a surrogate, ALS rank 10 (lambda 5), on movielens_small(), at
# alpha = 3%, B = 25, availability, each measured by transfer_matrix() on
# every victim against that victim's own clean model and noise floor:
#
#   attacks  the default attack (poison_pga()), the paper's Algorithm 1
#            (support = "random", method = "kkt"), SGLD at the paper's
#            beta = 0.6 and at beta = 6, and the shilling baselines
#            love/hate, average and bandwagon (target item 48516);
#            transfer_matrix() adds the uniform attack every row is
#            compared with (times_uniform).
#   victims  the surrogate itself, ALS rank 20, biased ALS (rank 10, mu +
#            b_i + c_j + u_i'v_j), the nuclear norm
#            (lambda 25), softImpute solved tightly (the nuclear-norm
#            problem by other code) and recosystem (LIBMF) at its defaults.
#
#   Rscript inst/scripts/transfer-table.R [output.rds]
#
# About 5 minutes on an idle core; needs softImpute and recosystem.
library(cfpoison)

args <- commandArgs(trailingOnly = TRUE)
options(cfpoison.threads = 1L, width = 120)
ratings <- movielens_small()
surrogate <- learner_als(rank = 10, lambda_u = 5)
set.seed(1)
clean <- fit_cf(ratings, learner_als(rank = 10, lambda_u = 5, max_iter = 1000, tol = 1e-9))
budget <- attack_budget(alpha = 0.03)
availability <- utility_availability()
target <- 48516
timed <- function(label, expr) {
  started <- proc.time()[["elapsed"]]
  value <- expr
  cat(sprintf("%-12s %6.1f s\n", label, proc.time()[["elapsed"]] - started))
  value
}
attacks <- list(
  default = timed("default", poison_pga(ratings, surrogate, availability, budget, clean = clean, seed = 1)),
  algorithm_1 = timed("algorithm_1", poison_pga(ratings, surrogate, availability, budget,
    support = "random", method = "kkt", clean = clean, seed = 1
  )),
  sgld = timed("sgld", poison_sgld(ratings, surrogate, availability, budget, clean = clean, seed = 1)),
  sgld_beta_6 = timed("sgld_beta_6", poison_sgld(ratings, surrogate, availability, budget,
    beta = 6, clean = clean, seed = 1
  )),
  love_hate = poison_love_hate(ratings, budget, targets = target, seed = 1),
  average = poison_average(ratings, budget, targets = target, seed = 1),
  bandwagon = poison_bandwagon(ratings, budget, targets = target, seed = 1)
)
victims <- list(
  als_rank_10 = surrogate,
  als_rank_20 = learner_als(rank = 20, lambda_u = 5),
  biased_als = learner_als(rank = 10, lambda_u = 5, biases = TRUE),
  nuclear = learner_nuclear(lambda = 25, rank_max = 20),
  softimpute_tight = learner_softimpute(rank_max = 20, lambda = 25, thresh = 1e-9, maxit = 1000),
  recosystem = learner_recosystem()
)
transfer <- transfer_matrix(ratings, attacks, victims, progress = FALSE)
if (length(args) >= 1) saveRDS(transfer, args[1])
wide <- stats::reshape(
  as.data.frame(transfer[c("attack", "victim", "times_uniform")]),
  idvar = "attack", timevar = "victim", direction = "wide"
)
names(wide) <- sub("times_uniform.", "", names(wide), fixed = TRUE)
print(wide, digits = 3, row.names = FALSE)
print(as.data.frame(transfer[c("attack", "victim", "rmse_shift", "rmse_shift_floor", "times_uniform")]), digits = 4)
