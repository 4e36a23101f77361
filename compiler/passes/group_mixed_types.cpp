// group-mixed-types: a matmul that group-matmuls left apart only for its weight type joins the
// launch group of the first matmul of its prepared input as the group's last member (the kernel's
// LastBlock, the leader's instance's `last_type`). On the 12B: the 20 Q6_K V projections of
// Q4_K_M join their layer's Q4_K Q and K — one launch fewer on those layers (458 → 438).
#include <algorithm>
#include <map>
#include <string>

#include "fusion.h"
#include "g4c/plan/kernels.h"
#include "g4c/plan/routes.h"

namespace g4c {

using namespace plan;

namespace {

constexpr std::string_view kPass = "group-mixed-types";

}  // namespace

void run_group_mixed_types(Plan& plan, PassContext& ctx) {
  if (!ctx.fusions.runs(kPass)) return;
  for (Block& block : plan.blocks) {
    std::map<std::string, const Op*> leaders;  // by the activations they read
    std::map<std::string, size_t> position;    // of each result in the block
    for (size_t i = 0; i < block.ops.size(); ++i) position[block.ops[i].result] = i;
    for (size_t i = 0; i < block.ops.size(); ++i) {
      Op& op = block.ops[i];
      if (op.kind != OpKind::matmul || op.find("launched_with")) continue;
      auto [it, first] = leaders.emplace(activations_source(op), &op);
      if (first || op.get_ident("type") == it->second->get_ident("type")) continue;
      const std::vector<const Op*> group = launch_group_matmuls(plan, *it->second);
      // The group's members so far all come before it: it joins last.
      const bool last = std::all_of(group.begin(), group.end(), [&](const Op* m) { return position[m->result] < i; });
      if (!last || static_cast<int>(group.size()) + 1 >= kMaxLaunchGroup ||
          !launch_group_conflict(plan, *it->second, op, group).empty())
        continue;
      op.set("launched_with", Ident{"%" + it->second->result});
    }
  }
  fusion::record(plan, kPass);
}

}  // namespace g4c
