// group-matmuls: matmuls that read one preparation of their input (quantize-once's
// `activations_from = %first`, or quantize-in-producer's `%producer`), share the weight type and
// run the same group-capable route at every width (mma16, mma16h) become one launch: each later
// one is marked `launched_with = %first` and launches nothing of its own, the first's kernel
// computing up to plan::kMaxLaunchGroup weights (group-mixed-types then adds one of another type
// last). On the 12B: Q with K (and V where it is Q4_K), and gate with up — 116 of 1,094 launches
// per step, and the short Q/K shapes stop paying a launch's fixed latency each.
#include <map>
#include <string>

#include "fusion.h"
#include "g4c/plan/kernels.h"
#include "g4c/plan/routes.h"

namespace g4c {

using namespace plan;

namespace {

constexpr std::string_view kPass = "group-matmuls";

}  // namespace

void run_group_matmuls(Plan& plan, PassContext& ctx) {
  if (!ctx.fusions.runs(kPass)) return;
  for (Block& block : plan.blocks) {
    std::map<std::string, const Op*> leaders;                // by the activations they read
    std::map<const Op*, std::vector<const Op*>> members;     // so far, by leader
    for (Op& op : block.ops) {
      if (op.kind != OpKind::matmul || op.find("launched_with")) continue;
      auto [it, first] = leaders.emplace(activations_source(op), &op);
      if (first) continue;
      std::vector<const Op*>& group = members[it->second];
      if (group.size() + 1 == kMaxLaunchGroup || op.get_ident("type") != it->second->get_ident("type") ||
          !launch_group_conflict(plan, *it->second, op, group).empty())
        continue;
      group.push_back(&op);
      op.set("launched_with", Ident{"%" + it->second->result});
    }
  }
  fusion::record(plan, kPass);
}

}  // namespace g4c
