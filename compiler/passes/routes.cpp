// routes: for every matmul and every width of the plan, one of ws, mmq, gemm_n, cublas. The
// default rule table decides first; a tuning-file entry for the same (type, rows, cols, width)
// replaces it; a route policy then forces its route; `--route` overrides come last, in order.
// Each choice records what decided it.
#include "g4c/compiler/passes.h"
#include "g4c/plan/routes.h"
#include "g4c/support/text.h"

namespace g4c {

using namespace plan;

namespace {

RouteChoice choose(const RouteQuery& q, const RouteOptions& options) {
  bool allow_mmq = options.policy != RoutePolicy::no_mmq;
  RouteChoice choice = default_route(q, allow_mmq);
  if (options.tuning)
    if (const TuningEntry* e = options.tuning->find(q.type, q.rows, q.cols, q.width); e && (allow_mmq || e->route != Route::mmq))
      choice = {choice.width, e->route, "tuning"};
  if (options.policy == RoutePolicy::ws_only) choice = {choice.width, Route::ws, "policy ws-only"};
  if (options.policy == RoutePolicy::all_cublas) choice = {choice.width, Route::cublas, "policy all-cublas"};
  return choice;
}

void apply_overrides(const Plan& plan, Op& op, std::vector<RouteChoice>& routes, const RouteOptions& options,
                     std::vector<bool>& used, DiagnosticEngine& diag) {
  const WeightDecl* w = plan.find_weight(op.weight);
  for (size_t k = 0; k < options.overrides.size(); ++k) {
    const RouteOverride& o = options.overrides[k];
    if (!o.applies_to_op(op)) continue;
    used[k] = true;
    for (RouteChoice& c : routes) {
      if (!o.applies_to_width(c.width)) continue;
      std::string why = route_illegal_reason(o.route, w->type, w->ne1, w->ne0);
      if (!why.empty()) {
        diag.error({}, "--route " + o.text + ": cannot route %" + op.result + " (" + std::string(name(w->type)) +
                           ", " + std::to_string(w->ne1) + "x" + std::to_string(w->ne0) + "): " + why);
        return;
      }
      c = {c.width, o.route, "override " + o.text};
    }
  }
}

}  // namespace

void run_routes(Plan& plan, PassContext& ctx) {
  std::vector<bool> used(ctx.routes.overrides.size(), false);
  for (Op* op : plan.mutable_ops()) {
    if (op->kind != OpKind::matmul) continue;
    const WeightDecl* w = plan.find_weight(op->weight);
    std::vector<RouteChoice> routes;
    for (int64_t width : plan.header.widths)
      routes.push_back(choose({w->type, w->ne1, w->ne0, width}, ctx.routes));
    apply_overrides(plan, *op, routes, ctx.routes, used, ctx.diag);
    op->set("routes", std::move(routes));
  }
  for (size_t k = 0; k < used.size(); ++k)
    if (!used[k])
      ctx.diag.error({}, "--route " + ctx.routes.overrides[k].text + ": pattern " +
                             quote(ctx.routes.overrides[k].pattern) + " matches no matmul of the plan");
  plan.header.route_policy = std::string(name(ctx.routes.policy));
  plan.header.tuning = ctx.routes.tuning ? ctx.routes.tuning->path : "";
  plan.header.route_overrides.clear();
  for (const RouteOverride& o : ctx.routes.overrides) plan.header.route_overrides.push_back(o.text);
}

}  // namespace g4c
