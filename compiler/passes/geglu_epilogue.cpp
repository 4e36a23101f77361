// geglu-epilogue: the GEGLU between the FFN's gate/up launch (group-matmuls) and the down matmul
// is computed by that launch (`launched_with = %leader` on the geglu), with the activations
// quantize-in-producer gave it: the last block to finish a 256-row segment of both matmuls
// computes the segment (kernels/matmul_mma16.cuh, geglu_epilogue). One launch fewer per layer (48
// on the 12B), and the geglu starts as its inputs are ready instead of after the whole grid.
#include "fusion.h"
#include "g4c/plan/kernels.h"

namespace g4c {

using namespace plan;

namespace {

constexpr std::string_view kPass = "geglu-epilogue";

const Op* op_of(const Plan& plan, const std::string& result) {
  for (const Op* op : plan.ops())
    if (op->result == result) return op;
  return nullptr;
}

// The matmul whose launch computes `value`, or null.
const Op* launching_matmul(const Plan& plan, const std::string& value) {
  const Op* op = op_of(plan, value);
  if (!op || op->kind != OpKind::matmul) return nullptr;
  const Attr* with = op->find("launched_with");
  return with ? op_of(plan, std::get<Ident>(with->value).text.substr(1)) : op;
}

}  // namespace

void run_geglu_epilogue(Plan& plan, PassContext& ctx) {
  if (!ctx.fusions.runs(kPass)) return;
  for (Block& block : plan.blocks)
    for (Op& op : block.ops) {
      if (op.kind != OpKind::geglu || op.find("launched_with") || op.operands.empty()) continue;
      const Op* leader = launching_matmul(plan, op.operands[0]);
      if (leader && geglu_epilogue_conflict(plan, *leader, op).empty())
        op.set("launched_with", Ident{"%" + leader->result});
    }
  fusion::record(plan, kPass);
}

}  // namespace g4c
