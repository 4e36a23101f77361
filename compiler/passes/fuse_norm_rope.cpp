// norm-rope: Q and K are normed per head and then rotated (gemma4.md §2.3-2.4):
//
//   %l5.q_normed = rms_norm %l5.q, @blk.5.attn_q_norm.weight {eps, group = 512}
//   %l5.q_rope = rope %l5.q_normed, %pos {head_dim = 512, rotated_pairs, theta}
//
// becomes one op, and one kernel that normalizes each head in registers and rotates it on the
// way out:
//
//   %l5.q_rope = rms_norm_rope %l5.q, %pos, @blk.5.attn_q_norm.weight {eps, group, head_dim, rotated_pairs, theta}
//
// Only when the rope is the norm's sole reader and the norm's group is the rope's head (the
// kernel's unit of work). On k_eq_v layers the fused K op reads the raw K projection that V
// aliases; the alias pass, which runs later, keeps it from writing there in place.
#include <optional>

#include "fusion.h"
#include "g4c/compiler/passes.h"

namespace g4c {

using namespace plan;

namespace {

constexpr std::string_view kPass = "norm-rope";

Op rms_norm_rope(const Op& norm, const Op& rope) {
  Op fused;
  fused.kind = OpKind::rms_norm_rope;
  fused.result = rope.result;
  fused.operands = {norm.operands[0], rope.operands[1]};
  fused.weight = norm.weight;
  fused.set("eps", norm.find("eps")->value);
  fused.set("group", norm.get_int("group"));
  for (std::string_view key : {"head_dim", "rotated_pairs", "theta"}) fused.set(std::string(key), rope.find(key)->value);
  fused.type = rope.type;
  fused.loc = rope.loc;
  return fused;
}

std::optional<fusion::Rewrite> match(std::vector<Op>& ops, size_t at, const std::map<std::string, int>& reads) {
  Op& rope = ops[at];
  const std::string& normed = rope.operands[0];
  const Op* norm = fusion::producer_of(ops, at, normed);
  if (!norm || norm->kind != OpKind::rms_norm || reads.at(normed) != 1) return std::nullopt;
  if (norm->get_int("group") != rope.get_int("head_dim") || !(norm->type == rope.type)) return std::nullopt;
  return fusion::Rewrite{norm, &rope, rms_norm_rope(*norm, rope)};
}

}  // namespace

void run_fuse_norm_rope(Plan& plan, PassContext& ctx) {
  if (!ctx.fusions.runs(kPass)) return;
  const std::map<std::string, int> reads = fusion::count_reads(plan);
  for (Block& block : plan.blocks) {
    std::vector<fusion::Rewrite> rewrites;
    for (size_t i = 0; i < block.ops.size(); ++i)
      if (block.ops[i].kind == OpKind::rope)
        if (auto r = match(block.ops, i, reads)) rewrites.push_back(std::move(*r));
    fusion::apply(block.ops, rewrites);
  }
  fusion::record(plan, kPass);
}

}  // namespace g4c
