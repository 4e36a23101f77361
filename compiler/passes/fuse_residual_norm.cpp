// residual-norm: Gemma 4 norms each sublayer's output before adding it to the residual stream
// (post-attention, post-FFW, and the PLE post-norm on E2B/E4B):
//
//   %l5.o_normed = rms_norm %l5.o, @blk.5.post_attention_norm.weight {eps, group}
//   %l5.h_attn = add %l4.out, %l5.o_normed
//
// becomes one op, and one kernel that reads %l5.o and the residual once and writes the sum:
//
//   %l5.h_attn = add_rms_norm %l4.out, %l5.o, @blk.5.post_attention_norm.weight {eps, group}
//
// Only when the add is the norm's sole reader: a normed value read elsewhere must exist on its
// own. The residual becomes operand 0 (the add's in-place target) whichever side it was on; an add
// is commutative, and so bit for bit in IEEE arithmetic.
#include <optional>

#include "fusion.h"
#include "g4c/compiler/passes.h"

namespace g4c {

using namespace plan;

namespace {

constexpr std::string_view kPass = "residual-norm";

Op add_rms_norm(const Op& norm, const Op& add, const std::string& residual) {
  Op fused;
  fused.kind = OpKind::add_rms_norm;
  fused.result = add.result;
  fused.operands = {residual, norm.operands[0]};
  fused.weight = norm.weight;
  fused.set("eps", norm.find("eps")->value);
  fused.set("group", norm.get_int("group"));
  fused.type = add.type;
  fused.loc = add.loc;
  return fused;
}

// The rewrite of `add` when one of its operands is a norm it alone reads; the normed value is
// looked for on the right first, where the lowering puts it.
std::optional<fusion::Rewrite> match(std::vector<Op>& ops, size_t at, const std::map<std::string, int>& reads) {
  Op& add = ops[at];
  for (int normed_side : {1, 0}) {
    const std::string& normed = add.operands[normed_side];
    const std::string& residual = add.operands[1 - normed_side];
    const Op* norm = fusion::producer_of(ops, at, normed);
    if (!norm || norm->kind != OpKind::rms_norm || reads.at(normed) != 1 || residual == normed) continue;
    if (!(norm->type == add.type)) continue;
    return fusion::Rewrite{norm, &add, add_rms_norm(*norm, add, residual)};
  }
  return std::nullopt;
}

}  // namespace

void run_fuse_residual_norm(Plan& plan, PassContext& ctx) {
  if (!ctx.fusions.runs(kPass)) return;
  const std::map<std::string, int> reads = fusion::count_reads(plan);
  for (Block& block : plan.blocks) {
    std::vector<fusion::Rewrite> rewrites;
    for (size_t i = 0; i < block.ops.size(); ++i)
      if (block.ops[i].kind == OpKind::add)
        if (auto r = match(block.ops, i, reads)) rewrites.push_back(std::move(*r));
    fusion::apply(block.ops, rewrites);
  }
  fusion::record(plan, kPass);
}

}  // namespace g4c
