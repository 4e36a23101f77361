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

// The matmul before `before` in `ops` whose launch computes `value` (its leader's, or its own), or null.
const Op* launching_matmul(std::vector<Op>& ops, size_t before, const std::string& value) {
  const Op* op = fusion::producer_of(ops, before, value);
  if (!op || op->kind != OpKind::matmul) return nullptr;
  const Attr* with = op->find("launched_with");
  return with ? fusion::producer_of(ops, before, std::get<Ident>(with->value).text.substr(1)) : op;
}

}  // namespace

void run_geglu_epilogue(Plan& plan, PassContext& ctx) {
  if (!ctx.fusions.runs(kPass)) return;
  for (Block& block : plan.blocks)
    for (size_t i = 0; i < block.ops.size(); ++i) {
      Op& op = block.ops[i];
      if (op.kind != OpKind::geglu || op.find("launched_with") || op.operands.empty()) continue;
      const Op* leader = launching_matmul(block.ops, i, op.operands[0]);
      if (leader && geglu_epilogue_conflict(plan, *leader, op).empty())
        op.set("launched_with", Ident{"%" + leader->result});
    }
  fusion::record(plan, kPass);
}

}  // namespace g4c
