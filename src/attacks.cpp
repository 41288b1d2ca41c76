// Rcpp glue for the attack engine: builds the joint problem from R lists, runs
// one C++ loop (inst/include/cfpoison/attacks.hpp), returns plain R objects.
#include <RcppArmadillo.h>

#include <memory>
#include <string>

#include "cfpoison/attacks.hpp"

namespace {

using cfpoison::GradientMethod;

template <class T>
T field(const Rcpp::List& list, const char* name) {
  return Rcpp::as<T>(list[name]);
}

// The problem as the R layer describes it (see R/attacks.R, attack_problem()):
// triplets of normal then fake ratings (0-based, fake rows after the normal
// ones), the learner, the clean model, the utility and the refit settings.
struct Problem {
  std::unique_ptr<cfpoison::PoisonedLearner> learner;
  std::vector<std::size_t> fake_input_of_position;  // fake entry (by-row order) -> its input index
  arma::mat item_init;
};

Problem make_problem(const Rcpp::List& problem) {
  const Rcpp::IntegerVector rows = problem["rows"];
  const Rcpp::IntegerVector cols = problem["cols"];
  const Rcpp::NumericVector values = problem["values"];
  const int n_rows = field<int>(problem, "n_rows");
  const int n_normal = field<int>(problem, "n_normal");
  const int n_items = field<int>(problem, "n_items");
  const std::size_t n_normal_entries = field<std::size_t>(problem, "n_normal_entries");

  std::vector<std::size_t> order;
  cfpoison::ObservedIndex idx =
      cfpoison::build_index(n_rows, n_items, rows.begin(), cols.begin(), static_cast<std::size_t>(rows.size()), order);
  std::vector<double> row_values = cfpoison::values_in_row_order(values.begin(), order);
  const std::size_t first_fake = idx.row_start[n_normal];

  Problem out;
  out.fake_input_of_position.resize(order.size() - first_fake);
  for (std::size_t p = first_fake; p < order.size(); ++p)
    out.fake_input_of_position[p - first_fake] = order[p] - n_normal_entries;

  const Rcpp::List learner = problem["learner"];
  cfpoison::LearnerSpec spec;
  spec.nuclear = field<bool>(learner, "nuclear");
  spec.lambda_u = field<double>(learner, "lambda_u");
  spec.lambda_v = field<double>(learner, "lambda_v");
  spec.lambda = field<double>(learner, "lambda");

  cfpoison::CleanModel clean;
  clean.P = Rcpp::as<arma::mat>(problem["clean_p"]).t();
  clean.Q = Rcpp::as<arma::mat>(problem["clean_q"]).t();

  const Rcpp::List utility = problem["utility"];
  cfpoison::UtilitySpec u;
  u.mu_availability = field<double>(utility, "mu_availability");
  u.mu_integrity = field<double>(utility, "mu_integrity");
  u.target_items = field<std::vector<int>>(utility, "targets");
  u.target_weights = field<std::vector<double>>(utility, "weights");

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

  out.item_init = Rcpp::as<arma::mat>(problem["item_init"]).t();
  out.learner = std::make_unique<cfpoison::PoisonedLearner>(std::move(idx), std::move(row_values), n_normal, spec,
                                                            std::move(clean), std::move(u), r);
  return out;
}

// Fake entries between the input order (R's) and the by-row order (the core's).
std::vector<double> to_positions(const Problem& p, const Rcpp::NumericVector& input) {
  std::vector<double> out(p.fake_input_of_position.size());
  for (std::size_t e = 0; e < out.size(); ++e) out[e] = input[p.fake_input_of_position[e]];
  return out;
}

Rcpp::NumericVector to_input(const Problem& p, const std::vector<double>& positions) {
  Rcpp::NumericVector out(positions.size());
  for (std::size_t e = 0; e < positions.size(); ++e) out[p.fake_input_of_position[e]] = positions[e];
  return out;
}

Rcpp::DataFrame trace_frame(const std::vector<cfpoison::AttackTraceRow>& trace) {
  const std::size_t n = trace.size();
  Rcpp::IntegerVector iteration(n), cg(n);
  Rcpp::NumericVector utility(n), step(n), seconds(n);
  Rcpp::LogicalVector accepted(n);
  for (std::size_t t = 0; t < n; ++t) {
    iteration[t] = trace[t].iteration;
    utility[t] = trace[t].utility;
    step[t] = trace[t].step;
    accepted[t] = trace[t].accepted;
    cg[t] = trace[t].cg_iterations;
    seconds[t] = trace[t].seconds;
  }
  return Rcpp::DataFrame::create(Rcpp::Named("iteration") = iteration, Rcpp::Named("utility") = utility,
                                 Rcpp::Named("step") = step, Rcpp::Named("accepted") = accepted,
                                 Rcpp::Named("cg_iterations") = cg, Rcpp::Named("seconds") = seconds);
}

// Checks for user interrupts after every iteration and, when given, reports
// progress to an R function(iteration, utility) (on the main thread, outside
// any parallel region).
cfpoison::IterationCallback make_callback(const Rcpp::Nullable<Rcpp::Function>& on_iteration) {
  if (on_iteration.isNull()) return [](const cfpoison::AttackTraceRow&) { Rcpp::checkUserInterrupt(); };
  const Rcpp::Function report(on_iteration.get());
  return [report](const cfpoison::AttackTraceRow& row) {
    Rcpp::checkUserInterrupt();
    report(row.iteration, row.utility);
  };
}

}  // namespace

// Utility and (optionally) its gradient in the fake ratings (input order) at
// the problem's fake values, after a refit from the problem's item factors.
// [[Rcpp::export(.attack_evaluate)]]
Rcpp::List attack_evaluate(const Rcpp::List& problem, const bool with_gradient) {
  Problem p = make_problem(problem);
  const Rcpp::NumericVector fake_values = problem["fake_values"];
  const cfpoison::Evaluation e = p.learner->evaluate(to_positions(p, fake_values), p.item_init, with_gradient);
  return Rcpp::List::create(Rcpp::Named("utility") = e.utility,
                            Rcpp::Named("gradient") = to_input(p, e.gradient.values),
                            Rcpp::Named("cg_iterations") = e.gradient.cg_iterations,
                            Rcpp::Named("cg_residual") = e.gradient.cg_residual,
                            Rcpp::Named("item_factors") = Rcpp::wrap(arma::mat(e.V.t())));
}

// Algorithm 1 (PGA) from the problem's fake values.
// [[Rcpp::export(.attack_pga)]]
Rcpp::List attack_pga(const Rcpp::List& problem, const Rcpp::List& settings,
                      const Rcpp::Nullable<Rcpp::Function>& on_iteration) {
  Problem p = make_problem(problem);
  cfpoison::PgaSettings s;
  s.max_iter = field<int>(settings, "max_iter");
  s.step = field<double>(settings, "step");
  s.min_step = field<double>(settings, "min_step");
  s.tol = field<double>(settings, "tol");
  s.patience = field<int>(settings, "patience");
  s.max_rating = field<double>(settings, "max_rating");
  const Rcpp::NumericVector fake_values = problem["fake_values"];
  const cfpoison::AttackResult res =
      cfpoison::run_pga(*p.learner, to_positions(p, fake_values), p.item_init, s, make_callback(on_iteration));
  return Rcpp::List::create(Rcpp::Named("fake_values") = to_input(p, res.fake_values),
                            Rcpp::Named("trace") = trace_frame(res.trace),
                            Rcpp::Named("item_factors") = Rcpp::wrap(arma::mat(res.V.t())));
}

// Algorithm 2 (SGLD) from the problem's fake values, with per-entry prior
// means and variances (input order).
// [[Rcpp::export(.attack_sgld)]]
Rcpp::List attack_sgld(const Rcpp::List& problem, const Rcpp::List& settings, const Rcpp::NumericVector& prior_mean,
                       const Rcpp::NumericVector& prior_var, const Rcpp::Nullable<Rcpp::Function>& on_iteration) {
  Problem p = make_problem(problem);
  cfpoison::SgldSettings s;
  s.max_iter = field<int>(settings, "max_iter");
  s.step = field<double>(settings, "step");
  s.beta = field<double>(settings, "beta");
  s.max_rating = field<double>(settings, "max_rating");
  const Rcpp::NumericVector fake_values = problem["fake_values"];
  const cfpoison::AttackResult res = cfpoison::run_sgld(
      *p.learner, to_positions(p, fake_values), p.item_init, to_positions(p, prior_mean), to_positions(p, prior_var),
      s,
      [](std::vector<double>& draws) {
        for (double& d : draws) d = R::norm_rand();
      },
      make_callback(on_iteration));
  return Rcpp::List::create(Rcpp::Named("fake_values") = to_input(p, res.fake_values),
                            Rcpp::Named("trace") = trace_frame(res.trace),
                            Rcpp::Named("item_factors") = Rcpp::wrap(arma::mat(res.V.t())));
}
