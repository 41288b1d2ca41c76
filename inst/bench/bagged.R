# The availability attack computed through the bagged learner against the
# default attack computed on plain ALS, both measured on the bagged learner
# (issue 11: attacks through each defence), on movielens_small, ALS rank 10,
# lambda = 5, B = 25, 5 bags (seed 1), one thread.
#
#   R CMD INSTALL --preclean .
#   Rscript inst/bench/bagged.R [alpha] [output.rds]
#
# alpha defaults to 0.03. Each attack is given its learner's clean model, the
# package's own (evaluate_attack(), step 1), so its seconds are the attack's
# alone; both are measured against the bagged clean model, so that they share
# one reference and one noise floor. attack_shift = sqrt(rmse_shift^2 -
# rmse_shift_floor^2) is what the fake users add beyond the protocol's noise;
# undefended_shift is the same fake users' shift of the plain ALS model.

library(cfpoison)
options(cfpoison.threads = 1L)

args <- commandArgs(TRUE)
alpha <- if (length(args) >= 1L) as.numeric(args[1]) else 0.03
out_file <- if (length(args) >= 2L) args[2] else NA_character_

ratings <- movielens_small()
learner <- learner_als(rank = 10, lambda_u = 5, lambda_v = 5)
bagged <- learner_bagged(learner, n_bags = 5, seed = 1)
budget <- attack_budget(alpha = alpha, items_per_user = 25)
utility <- utility_availability()

timed <- function(expr) {
  started <- proc.time()[["elapsed"]]
  value <- expr
  list(value = value, seconds = proc.time()[["elapsed"]] - started)
}

# The clean models the attacks fit when given none (evaluate_attack(), step 1).
own_clean <- function(learner) {
  timed(cfpoison:::default_clean_fit(learner, ratings, 1L, cfpoison:::refitter(NULL)))
}
clean <- list(plain = own_clean(learner), bagged = own_clean(bagged))
cat(sprintf("clean fits: plain ALS %.1f s, %d bags %.1f s\n", clean$plain$seconds, bagged$n_bags, clean$bagged$seconds))

attacks <- list(
  plain = timed(poison_pga(ratings, learner, utility, budget, clean = clean$plain$value, seed = 1, progress = FALSE)),
  bagged = timed(poison_pga(ratings, bagged, utility, budget, clean = clean$bagged$value, seed = 1, progress = FALSE))
)
rows <- lapply(names(attacks), function(name) {
  e <- evaluate_attack(ratings, attacks[[name]]$value, bagged, clean = clean$bagged$value)
  # For scale: the same fake users against the undefended learner.
  undefended <- evaluate_attack(ratings, attacks[[name]]$value, learner, clean = clean$plain$value)
  data.frame(
    computed_on = name, alpha = alpha, rmse_shift = e$rmse_shift, rmse_shift_floor = e$rmse_shift_floor,
    attack_shift = sqrt(max(e$rmse_shift^2 - e$rmse_shift_floor^2, 0)), utility = e$utility,
    undefended_shift = undefended$rmse_shift, attack_seconds = attacks[[name]]$seconds,
    evaluation_seconds = e$evaluation_seconds
  )
})
table <- do.call(rbind, rows)
cat(sprintf("\nAvailability at alpha = %g, measured on %d bags (evaluate_attack(ratings, attack, bagged))\n",
  alpha, bagged$n_bags))
print(format(table, digits = 4), row.names = FALSE)
if (!is.na(out_file)) {
  saveRDS(list(table = table, attacks = lapply(attacks, `[[`, "value")), out_file)
}
