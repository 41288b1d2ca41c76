// Rcpp glue for the attack engine: builds the joint problem from R lists, runs
// one C++ loop (inst/include/cfpoison/attacks.hpp for Algorithms 1 and 2,
// search.hpp for the support search), returns plain R objects.
#include <RcppArmadillo.h>

#include <cmath>
#include <string>

#include "boundary.h"
#include "cfpoison/search.hpp"

namespace {

using boundary::field;
using cfpoison::GradientMethod;

Rcpp::List block_list(const cfpoison::Triplets& block) {
  return Rcpp::List::create(Rcpp::Named("user") = block.user, Rcpp::Named("item") = block.item,
                            Rcpp::Named("rating") = block.value);
}

// The stealth penalty as R/stealth.R lays it out (stealth_spec()); NULL: none.
cfpoison::StealthSpec stealth_spec(const SEXP x, const int n_items) {
  cfpoison::StealthSpec spec;
  if (Rf_isNull(x)) return spec;
  const Rcpp::List list(x);
  spec.weight = field<double>(list, "weight");
  spec.normal_count = field<std::vector<double>>(list, "item_count");
  spec.normal_sum = field<std::vector<double>>(list, "item_sum");
  spec.ttest = field<bool>(list, "ttest");
  const std::vector<double> threshold = field<std::vector<double>>(list, "threshold");
  const std::vector<double> spread = field<std::vector<double>>(list, "spread");
  if (static_cast<int>(spec.normal_count.size()) != n_items || static_cast<int>(spec.normal_sum.size()) != n_items)
    Rcpp::stop("the stealth penalty needs one count and sum per item");
  if (threshold.size() != cfpoison::n_stealth_stats || spread.size() != cfpoison::n_stealth_stats)
    Rcpp::stop("the stealth penalty needs a threshold and a spread per statistic");
  for (int a = 0; a < cfpoison::n_stealth_stats; ++a) {
    if (!(spread[a] > 0)) Rcpp::stop("the stealth penalty's spreads must be positive");
    if (std::isnan(threshold[a])) Rcpp::stop("the stealth penalty's thresholds must not be NaN");
    spec.threshold[a] = threshold[a];
    spec.spread[a] = spread[a];
  }
  return spec;
}

// The problem as the R layer describes it (see R/attacks.R, attack_problem()):
// the normal users' and the fake users' ratings (core_ratings()), the learner
// (core_learner()), the clean model, the utility and the refit settings.
cfpoison::PoisonedLearner make_learner(const Rcpp::List& problem) {
  const Rcpp::List normal_list = problem["normal"];
  const Rcpp::List fake_list = problem["fake"];
  cfpoison::Triplets normal = boundary::read_triplets(normal_list);
  const int n_normal = field<int>(normal_list, "n_users");
  const int n_items = field<int>(normal_list, "n_items");
  const int n_fake = field<int>(fake_list, "n_users");
  if (field<int>(fake_list, "n_items") != n_items) Rcpp::stop("the fake users rate other items than the real ones");
  const cfpoison::LearnerSpec spec = boundary::read_learner(problem["learner"]);

  cfpoison::CleanModel clean;
  clean.P = boundary::core_factors(Rcpp::as<arma::mat>(problem["clean_p"]));
  clean.Q = boundary::core_factors(Rcpp::as<arma::mat>(problem["clean_q"]));
  if (static_cast<int>(clean.P.n_cols) != n_normal || static_cast<int>(clean.Q.n_cols) != n_items ||
      clean.P.n_rows != clean.Q.n_rows)
    Rcpp::stop("the clean model does not match the ratings' users and items");

  const Rcpp::List utility = problem["utility"];
  cfpoison::UtilitySpec u;
  u.mu_availability = field<double>(utility, "mu_availability");
  u.mu_integrity = field<double>(utility, "mu_integrity");
  u.target_items = field<std::vector<int>>(utility, "targets");
  u.target_weights = field<std::vector<double>>(utility, "weights");
  if (u.target_weights.size() != u.target_items.size()) Rcpp::stop("one weight per target is needed");
  for (const int j : u.target_items)
    if (j < 0 || j >= n_items) Rcpp::stop("target index out of range");

  const Rcpp::List refit = problem["refit"];
  cfpoison::RefitSettings r;
  r.sweeps = field<int>(refit, "sweeps");
  r.tol = field<double>(refit, "tol");
  r.factor_tol = field<double>(refit, "factor_tol");
  r.method = field<std::string>(refit, "method") == "exact" ? GradientMethod::exact : GradientMethod::kkt;
  r.tau = field<double>(refit, "tau");
  r.threads = field<int>(refit, "threads");
  r.adjoint.max_iter = field<int>(refit, "cg_max_iter");
  r.adjoint.tol = field<double>(refit, "cg_tol");
  r.adjoint.threads = r.threads;

  // A bagged learner (learner_bagged()): each user's copies in each bag.
  const SEXP bags = problem.containsElementNamed("bags") ? SEXP(problem["bags"]) : R_NilValue;
  if (Rf_isNull(bags)) {
    return cfpoison::PoisonedLearner(std::move(normal.user), std::move(normal.item), std::move(normal.value), n_normal,
                                     n_items, n_fake, spec, std::move(clean), std::move(u), r,
                                     stealth_spec(problem["stealth"], n_items));
  }
  cfpoison::PoisonedLearner learner(normal.user, normal.item, normal.value, n_normal, n_items, n_fake, spec,
                                    std::move(clean), std::move(u), r, stealth_spec(problem["stealth"], n_items));
  learner.bag(normal.user, normal.item, normal.value, Rcpp::as<arma::imat>(bags));
  return learner;
}

arma::mat item_init(const Rcpp::List& problem) {
  return boundary::core_factors(Rcpp::as<arma::mat>(problem["item_init"]));
}

const char* hessian_name(const cfpoison::HessianModel h) {
  return h == cfpoison::HessianModel::exact ? "exact" : "gauss_newton";
}

Rcpp::DataFrame trace_frame(const std::vector<cfpoison::AttackTraceRow>& trace) {
  const std::size_t n = trace.size();
  Rcpp::IntegerVector iteration(n), swaps(n), cg(n);
  Rcpp::NumericVector utility(n), step(n), seconds(n);
  Rcpp::LogicalVector accepted(n);
  Rcpp::CharacterVector hessian(n);
  for (std::size_t t = 0; t < n; ++t) {
    iteration[t] = trace[t].iteration;
    utility[t] = trace[t].utility;
    step[t] = trace[t].step;
    accepted[t] = trace[t].accepted;
    swaps[t] = trace[t].swaps;
    // A step whose proposal was not differentiated (rejected) solved no adjoint.
    cg[t] = trace[t].differentiated ? trace[t].cg_iterations : NA_INTEGER;
    hessian[t] = trace[t].differentiated ? Rcpp::String(hessian_name(trace[t].hessian)) : Rcpp::String(NA_STRING);
    seconds[t] = trace[t].seconds;
  }
  return Rcpp::DataFrame::create(Rcpp::Named("iteration") = iteration, Rcpp::Named("utility") = utility,
                                 Rcpp::Named("step") = step, Rcpp::Named("accepted") = accepted,
                                 Rcpp::Named("swaps") = swaps, Rcpp::Named("cg_iterations") = cg,
                                 Rcpp::Named("hessian") = hessian, Rcpp::Named("seconds") = seconds);
}

Rcpp::List attack_result(const cfpoison::AttackResult& res) {
  return Rcpp::List::create(Rcpp::Named("fake") = block_list(res.fake), Rcpp::Named("trace") = trace_frame(res.trace),
                            Rcpp::Named("item_factors") = boundary::r_factors(res.V));
}

// Fake blocks as core_ratings() lays them out, each over the problem's fake
// users and items.
std::vector<cfpoison::Triplets> read_blocks(const Rcpp::List& problem, const Rcpp::List& blocks) {
  const int n_fake = field<int>(Rcpp::List(problem["fake"]), "n_users");
  std::vector<cfpoison::Triplets> out;
  out.reserve(blocks.size());
  for (R_xlen_t k = 0; k < blocks.size(); ++k) {
    const Rcpp::List block = blocks[k];
    if (field<int>(block, "n_users") != n_fake) Rcpp::stop("every start needs the problem's number of fake users");
    out.push_back(boundary::read_triplets(block));
  }
  return out;
}

// Checks for user interrupts after every iteration and, when given, reports
// the iteration to an R function (boundary.h).
cfpoison::IterationCallback make_callback(const Rcpp::Nullable<Rcpp::Function>& on_iteration) {
  return boundary::step_callback<cfpoison::AttackTraceRow>(on_iteration);
}

}  // namespace

// Utility and (optionally) its gradient in the fake ratings at the problem's
// fake block, after a refit from the problem's item factors.
// [[Rcpp::export(.attack_evaluate)]]
Rcpp::List attack_evaluate(const Rcpp::List& problem, const bool with_gradient) {
  cfpoison::PoisonedLearner learner = make_learner(problem);
  const cfpoison::Evaluation e =
      learner.evaluate(boundary::read_triplets(problem["fake"]), item_init(problem),
                       with_gradient ? cfpoison::kAlwaysDifferentiate : cfpoison::kNeverDifferentiate);
  return Rcpp::List::create(Rcpp::Named("utility") = e.utility, Rcpp::Named("stealth_penalty") = e.stealth_penalty,
                            Rcpp::Named("converged") = e.converged, Rcpp::Named("gradient") = e.gradient.values,
                            Rcpp::Named("cg_iterations") = e.gradient.cg_iterations,
                            Rcpp::Named("cg_residual") = e.gradient.cg_residual,
                            Rcpp::Named("hessian") = hessian_name(e.gradient.hessian),
                            Rcpp::Named("item_factors") = boundary::r_factors(e.V));
}

// The utility of each of `starts` (fake blocks as core_ratings() lays them
// out) after a refit from the problem's item factors, without gradients, and
// its stealth penalty and whether the refit converged. One learner refits
// them in turn: the joint index is laid out anew per start, not built anew
// from the real ratings (at the MovieLens-20M shape a learner's construction
// costs several seconds).
// [[Rcpp::export(.attack_screen)]]
Rcpp::List attack_screen(const Rcpp::List& problem, const Rcpp::List& starts) {
  const std::vector<cfpoison::Triplets> blocks = read_blocks(problem, starts);
  cfpoison::PoisonedLearner learner = make_learner(problem);
  const arma::mat V0 = item_init(problem);
  Rcpp::List out(blocks.size());
  for (std::size_t k = 0; k < blocks.size(); ++k) {
    const cfpoison::Evaluation e = learner.evaluate(blocks[k], V0, cfpoison::kNeverDifferentiate);
    out[k] = Rcpp::List::create(Rcpp::Named("utility") = e.utility, Rcpp::Named("stealth_penalty") = e.stealth_penalty,
                                Rcpp::Named("converged") = e.converged);
    Rcpp::checkUserInterrupt();
  }
  return out;
}

// Algorithm 1 (PGA, fixed support) from the problem's fake block.
// [[Rcpp::export(.attack_pga)]]
Rcpp::List attack_pga(const Rcpp::List& problem, const Rcpp::List& settings,
                      const Rcpp::Nullable<Rcpp::Function>& on_iteration) {
  cfpoison::PoisonedLearner learner = make_learner(problem);
  cfpoison::PgaSettings s;
  s.max_iter = field<int>(settings, "max_iter");
  s.step = field<double>(settings, "step");
  s.min_step = field<double>(settings, "min_step");
  s.tol = field<double>(settings, "tol");
  s.patience = field<int>(settings, "patience");
  s.max_rating = field<double>(settings, "max_rating");
  return attack_result(
      cfpoison::run_pga(learner, boundary::read_triplets(problem["fake"]), item_init(problem), s, make_callback(on_iteration)));
}

// The support search (PGA over values and support) from each of `starts`
// (fake blocks as core_ratings() lays them out, over the problem's fake users
// and items), the searches taking turns (cfpoison::run_searches()). One list
// per start: the search's block, trace and item factors, the utility of its
// start and of its result as the search measured them, and whether it was
// dropped behind the leader.
// [[Rcpp::export(.attack_search)]]
Rcpp::List attack_search(const Rcpp::List& problem, const Rcpp::List& starts, const Rcpp::List& settings,
                         const Rcpp::Nullable<Rcpp::Function>& on_iteration) {
  if (starts.size() == 0) Rcpp::stop("the search needs a start");
  std::vector<cfpoison::Triplets> blocks = read_blocks(problem, starts);
  // One learner per search, copies of one that share its joint data (see
  // PoisonedLearner): the ratings are held once, however many searches.
  std::vector<cfpoison::PoisonedLearner> learners;
  learners.reserve(blocks.size());
  learners.push_back(make_learner(problem));
  while (learners.size() < blocks.size()) learners.push_back(learners.front());
  cfpoison::SearchSettings s;
  s.max_iter = field<int>(settings, "max_iter");
  s.step = field<double>(settings, "step");
  s.max_swaps_per_user = field<int>(settings, "max_swaps");
  s.max_columns = field<int>(settings, "max_columns");
  s.min_step = field<double>(settings, "min_step");
  s.tol = field<double>(settings, "tol");
  s.patience = field<int>(settings, "patience");
  s.max_rating = field<double>(settings, "max_rating");
  s.kept_items = field<std::vector<int>>(settings, "kept_items");
  s.warm_start = field<bool>(settings, "warm_start");
  s.settle_sweeps = field<int>(settings, "settle_sweeps");
  s.settle_tol = field<double>(settings, "settle_tol");
  s.settle_check = field<int>(settings, "settle_check");
  s.settle_gap = field<double>(settings, "settle_gap");
  s.rival = field<double>(settings, "rival");
  for (const int j : s.kept_items)
    if (j < 0 || j >= learners.front().n_items()) Rcpp::stop("kept item index out of range");
  const std::vector<cfpoison::SearchRun> runs =
      cfpoison::run_searches(learners, std::move(blocks), item_init(problem), s, make_callback(on_iteration));
  Rcpp::List out(runs.size());
  for (std::size_t k = 0; k < runs.size(); ++k) {
    Rcpp::List run = attack_result(runs[k].result);
    run["start_utility"] = runs[k].start_utility;
    run["utility"] = runs[k].utility;
    run["dropped"] = runs[k].dropped;
    out[k] = run;
  }
  return out;
}

// Algorithm 2 (SGLD) from the problem's fake block, with per-entry prior
// means and variances (the block's order).
// [[Rcpp::export(.attack_sgld)]]
Rcpp::List attack_sgld(const Rcpp::List& problem, const Rcpp::List& settings, const std::vector<double>& prior_mean,
                       const std::vector<double>& prior_var, const Rcpp::Nullable<Rcpp::Function>& on_iteration) {
  cfpoison::PoisonedLearner learner = make_learner(problem);
  const cfpoison::Triplets fake = boundary::read_triplets(problem["fake"]);
  if (prior_mean.size() != fake.value.size() || prior_var.size() != fake.value.size())
    Rcpp::stop("one prior mean and variance per fake rating are needed");
  cfpoison::SgldSettings s;
  s.max_iter = field<int>(settings, "max_iter");
  s.step = field<double>(settings, "step");
  s.beta = field<double>(settings, "beta");
  s.max_rating = field<double>(settings, "max_rating");
  return attack_result(cfpoison::run_sgld(
      learner, fake, item_init(problem), prior_mean, prior_var, s,
      [](std::vector<double>& draws) {
        for (double& d : draws) d = R::norm_rand();
      },
      make_callback(on_iteration)));
}
