// weight-layout: how each weight sits in device memory (g4c/kernels/weight_layouts.h). A weight
// every reader of which is a matmul on the mma16 route, at every width, is repacked into the
// mma16 layout at load; every other weight keeps GGUF's. A weight read both ways cannot be laid
// out for both (the runtime keeps one copy), so a plan that routes a weight to mma16 at some
// widths and elsewhere at others — or whose other readers need GGUF's layout (plan::reads_layout;
// a tied embedding's gather reads the mma16 layout too) — is an error naming the op and its routes. `g4run tune` writes tuning files that never mix them, and
// the default rules give mma16 every width or none.
#include <map>

#include "g4c/compiler/passes.h"
#include "g4c/plan/routes.h"
#include "g4c/support/text.h"

namespace g4c {

using namespace plan;

namespace {

// "mma16 at N=2..32 and mmq at N=1": an op's routes grouped by route, for messages.
std::string describe_routes(const std::vector<RouteChoice>& routes) {
  std::map<Route, std::vector<std::string>> widths;
  for (const RouteChoice& c : routes) widths[c.route].push_back(std::to_string(c.width));
  std::string out;
  for (const auto& [route, list] : widths) {
    if (!out.empty()) out += " and ";
    out += std::string(name(route)) + " at N=" + join(list, ",");
  }
  return out;
}

}  // namespace

void run_weight_layout(Plan& plan, PassContext& ctx) {
  std::map<std::string, WeightLayout> layout;  // weights some reader needs repacked
  std::map<std::string, const Op*> gguf_reader;  // a reader that needs GGUF's layout
  for (const Op* op : plan.ops()) {
    if (op->weight.empty()) continue;
    const std::vector<RouteChoice>* routes = op->kind == OpKind::matmul ? op->routes() : nullptr;
    const WeightDecl* w = plan.find_weight(op->weight);
    // A reader that is not a matmul keeps GGUF's layout unless it reads the mma16 one too.
    bool repacked = false, plain = !routes && !(w && reads_layout(op->kind, w->type, WeightLayout::mma16));
    if (routes)
      for (const RouteChoice& c : *routes) (route_layout(c.route) == WeightLayout::gguf ? plain : repacked) = true;
    if (repacked && plain) {
      ctx.diag.error({}, "%" + op->result + " takes " + describe_routes(*routes) +
                             ": the mma16 route reads its weight repacked for it, so a weight takes mma16 at "
                             "every width or at none");
      return;
    }
    if (repacked) layout[op->weight] = WeightLayout::mma16;
    else if (plain) gguf_reader.emplace(op->weight, op);
  }
  for (WeightDecl& w : plan.weights) {
    auto it = layout.find(w.name);
    w.layout = it == layout.end() ? WeightLayout::gguf : it->second;
    if (auto other = gguf_reader.find(w.name); it != layout.end() && other != gguf_reader.end())
      ctx.diag.error({}, "@" + w.name + " is read repacked for mma16 and also by %" + other->second->result + " (" +
                             std::string(schema(other->second->kind).name) +
                             "), which needs GGUF's layout: route every matmul of it elsewhere");
  }
}

}  // namespace g4c
