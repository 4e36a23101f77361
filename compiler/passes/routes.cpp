// routes: for every matmul and every width of the plan, one of ws, mmq, gemm_n, cublas, mma16,
// mma16h.
// The default rule table decides first; a tuning-file entry for the same (type, rows, cols,
// width) replaces it, and matmuls of one input that tuning split take one route (cohere_siblings);
// a route policy then forces its route; `--route` overrides come last, in order; a weight on mma16
// at some widths takes it at all (settle_layouts). Each choice records what decided it.
#include <algorithm>
#include <map>
#include <set>

#include "g4c/compiler/passes.h"
#include "g4c/kernels/matmul_args.h"
#include "g4c/plan/routes.h"
#include "g4c/support/text.h"

namespace g4c {

using namespace plan;

namespace {

bool allows(const RouteOptions& options, Route route) {
  return !(options.policy == RoutePolicy::no_mmq && route == Route::mmq) &&
         !(options.policy == RoutePolicy::no_mma16 && route_layout(route) == WeightLayout::mma16) &&
         !(options.policy == RoutePolicy::no_mma16h && route == Route::mma16h);
}

RouteChoice choose(const RouteQuery& q, const RouteOptions& options) {
  RouteChoice choice =
      default_route(q, allows(options, Route::mmq), allows(options, Route::mma16), allows(options, Route::mma16h));
  if (options.tuning)
    if (const TuningEntry* e = options.tuning->find(q.type, q.rows, q.cols, q.width); e && allows(options, e->route))
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

// Matmuls of one input (Q, K and V; gate and up) share its preparation and a launch
// (quantize-once, group-matmuls) only where their routes agree at every width. A tuning file times
// each shape alone and may split them — on an H100 it sent the 12B's Q to mma16h and K and V to
// mma16 at N = 32 (the global layers' Q and K at N = 16 and 32), a quantization and a launch more
// per layer at every width, 5% slower a step than the rules (docs/perf.md). So at a width where
// tuning entries decided such matmuls differently, each takes the route of the one that reads the
// most weight bytes, where that route is legal for it (the file keeps no other route's time).
void cohere_siblings(Plan& plan) {
  for (Block& block : plan.blocks) {
    std::map<std::string, std::vector<Op*>> by_input;
    for (Op& op : block.ops)
      if (op.kind == OpKind::matmul && !op.operands.empty()) by_input[op.operands[0]].push_back(&op);
    for (auto& [input, siblings] : by_input) {
      if (siblings.size() < 2) continue;
      const auto weight_of = [&](const Op* op) { return plan.find_weight(op->weight); };
      const Op* largest = *std::max_element(siblings.begin(), siblings.end(), [&](const Op* a, const Op* b) {
        return weight_of(a)->bytes() < weight_of(b)->bytes();
      });
      const std::vector<RouteChoice> lead = *largest->routes();
      for (size_t i = 0; i < lead.size(); ++i) {
        const bool tuned = std::any_of(siblings.begin(), siblings.end(),
                                       [&](const Op* op) { return (*op->routes())[i].source == "tuning"; });
        if (!tuned) continue;
        for (Op* op : siblings) {
          std::vector<RouteChoice> routes = *op->routes();
          const WeightDecl* w = weight_of(op);
          if (routes[i].route == lead[i].route || !route_illegal_reason(lead[i].route, w->type, w->ne1, w->ne0).empty())
            continue;
          routes[i] = {routes[i].width, lead[i].route, "tuning of %" + largest->result};
          op->set("routes", std::move(routes));
        }
      }
    }
  }
}

// The mma16 and mma16h routes read their weight repacked, and the runtime keeps one copy of each
// weight: an op whose rules or tuning entries give one of them at some widths takes the mma16
// layout at all of them (mma16 where another route was chosen), unless another
// op reads the same weight in GGUF's layout only (plan::reads_layout; a tied embedding's gather
// reads the mma16 layout too): then every
// such mma16 choice falls back to the default rules, as they do where the plan has widths past
// the route's 32 and where a tuning entry or an override sends some width of the op elsewhere (a
// measurement or the user outranks a rule). Overrides are the user's and stay as given
// (weight-layout reports a mix they make).
void settle_layouts(Plan& plan, PassContext& ctx) {
  std::set<std::string> gathered;  // weights another op reads in GGUF's layout only
  for (const Op* op : plan.ops())
    if (!op->weight.empty() && op->kind != OpKind::matmul &&
        !reads_layout(op->kind, plan.find_weight(op->weight)->type, WeightLayout::mma16))
      gathered.insert(op->weight);
  for (Op* op : plan.mutable_ops()) {
    if (op->kind != OpKind::matmul) continue;
    std::vector<RouteChoice> routes = *op->routes();
    const auto repacked = [](const RouteChoice& c) { return route_layout(c.route) == WeightLayout::mma16; };
    const bool any = std::any_of(routes.begin(), routes.end(), repacked);
    if (!any) continue;
    const WeightDecl* w = plan.find_weight(op->weight);
    const bool decided_elsewhere = std::any_of(routes.begin(), routes.end(), [&](const RouteChoice& c) {
      return !c.source.starts_with("rule ") && !repacked(c);
    });
    const bool keep = !gathered.count(op->weight) && plan.header.widths.back() <= matmul::kMaxWidth && !decided_elsewhere;
    for (RouteChoice& c : routes) {
      if (c.source.starts_with("override ") || repacked(c) == keep) continue;
      c = keep ? RouteChoice{c.width, Route::mma16, "layout mma16"}
               : default_route({w->type, w->ne1, w->ne0, c.width}, allows(ctx.routes, Route::mmq), /*allow_mma16=*/false);
    }
    op->set("routes", std::move(routes));
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
    op->set("routes", std::move(routes));
  }
  if (ctx.routes.tuning) cohere_siblings(plan);
  for (Op* op : plan.mutable_ops()) {
    if (op->kind != OpKind::matmul) continue;
    std::vector<RouteChoice> routes = *op->routes();
    apply_overrides(plan, *op, routes, ctx.routes, used, ctx.diag);
    op->set("routes", std::move(routes));
  }
  settle_layouts(plan, ctx);
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
