// norm-chains: an add_rms_norm over whole rows (a post-norm and its residual add) launches the ops
// that continue its row: the layer scale (a scale_by in place over its result, when nothing else
// reads the unscaled row) and the next weighted rms_norm of that row (the FFN's pre-norm, or the
// next layer's attention norm, with its quantize-in-producer activations; not one in place over
// the row, whose storage the chain's earlier ops still hold). Each follower is marked
// `launched_with = %leader` and launches nothing; the leader's kernel keeps the row in registers
// from one step to the next (fused_norm.cuh). On the 12B: 3 launches fewer per layer (833 → 689),
// each a chain of dependent loads, reductions and stores that no launch overlap hides.
#include <map>
#include <string>

#include "fusion.h"

namespace g4c {

using namespace plan;

namespace {

constexpr std::string_view kPass = "norm-chains";

// The op right after position `at`, if its first operand is `value`: a chain's next op reads what
// the one before it wrote, with nothing in between that could have changed it.
Op* next_in_chain(std::vector<Op*>& ops, size_t at, const std::string& value) {
  if (at + 1 >= ops.size()) return nullptr;
  Op* next = ops[at + 1];
  return !next->operands.empty() && next->operands[0] == value ? next : nullptr;
}

}  // namespace

void run_norm_chains(Plan& plan, PassContext& ctx) {
  if (!ctx.fusions.runs(kPass)) return;
  const std::map<std::string, int> reads = fusion::count_reads(plan);
  std::vector<Op*> ops;
  for (Block& block : plan.blocks)
    for (Op& op : block.ops) ops.push_back(&op);
  for (size_t i = 0; i < ops.size(); ++i) {
    Op& leader = *ops[i];
    if (leader.kind != OpKind::add_rms_norm || leader.find("launched_with") ||
        leader.get_int("group") != leader.type.seq_elements())
      continue;
    std::string row = leader.result;
    size_t at = i;
    Op* scale = next_in_chain(ops, at, row);
    if (scale && scale->kind == OpKind::scale_by && scale->in_place() && reads.at(row) == 1) {
      scale->set("launched_with", Ident{"%" + leader.result});
      row = scale->result;
      ++at;
    }
    Op* norm = next_in_chain(ops, at, row);
    if (norm && norm->kind == OpKind::rms_norm && !norm->weight.empty() && !norm->in_place() &&
        norm->get_int("group") == leader.get_int("group"))
      norm->set("launched_with", Ident{"%" + leader.result});
  }
  fusion::record(plan, kPass);
}

}  // namespace g4c
