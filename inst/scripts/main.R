# The main job: poison MovieLens (dslabs' movielens, shifted to [-2, 2] as in
# Section 5 of Li et al. 2016) against alternating minimization with the
# package's default attack, the paper's Algorithm 1 and SGLD, a hand-built
# block and the uniform baseline, at the same budget, and print their effect
# side by side.
library(cfpoison)

ratings <- movielens_small()
print(ratings)

learner <- learner_als(rank = 10, lambda_u = 5)
budget <- attack_budget(alpha = 0.03, items_per_user = 25, max_rating = 2) # the paper's B and Lambda
utility <- utility_availability() # Eq. 7: mu = (1, 0)

# The defender's model on clean data, converged tightly so that the
# evaluation's noise floor is negligible.
set.seed(2016)
clean <- fit_cf(ratings, learner_als(rank = 10, lambda_u = 5, max_iter = 1000, tol = 1e-9))
print(clean)

attacks <- list(
  default = poison_pga(ratings, learner, utility, budget, clean = clean, seed = 2016),
  algorithm_1 = poison_pga(ratings, learner, utility, budget,
    support = "random", method = "kkt", clean = clean, seed = 2016
  ),
  sgld = poison_sgld(ratings, learner, utility, budget, beta = 0.6, clean = clean, seed = 2016),
  rare_items = poison_structured(ratings, learner, utility, budget, "rare_items", clean = clean, seed = 2016),
  uniform = poison_uniform(ratings, budget, seed = 2016)
)
report <- do.call(rbind, lapply(attacks, evaluate_attack, ratings = ratings, learner = learner, clean = clean))
report <- cbind(attack = names(attacks), report)
columns <- c("attack", "n_fake_users", "rmse_shift", "rmse_shift_floor", "attack_seconds")
cat("\nAvailability attacks at alpha = 3%, B = 25, Lambda = 2 (rmse_shift: the paper's RMSE, footnote 2)\n")
print(format(report[columns], digits = 4), row.names = FALSE)
