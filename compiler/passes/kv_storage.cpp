// kv-storage: what each KV cache stores per position. On a k_eq_v layer (gemma4.md §2.2)
//
//   %l5.v_raw = alias %l5.k_raw {reason = k_eq_v}
//   %l5.k = rms_norm_rope %l5.k_raw, %pos, @blk.5.attn_k_norm.weight {eps, group = 512, head_dim = 512, ...}
//   %l5.v = rms_norm %l5.v_raw {eps, group = 512}
//   kv_write %l5.k, %l5.v, %pos, %seq -> %kv.l5
//
// both norms normalize the same raw projection with the same eps, so K before RoPE is V ⊙ the
// K-norm weight. The cache then keeps V alone (`storage = v_only`) and says what rebuilds K
// (`k_from_v`: the K-norm weight and the rope's attributes); attention rotates each key at its own
// position. The kv_write loses its K operand, and the ops that computed K, read by nothing else,
// go:
//
//   %l5.v = rms_norm %l5.v_raw {eps, group = 512}
//   kv_write %l5.v, %pos, %seq -> %kv.l5
//
// `g4c compile --kv-storage=separate` keeps every cache as K and V (an A/B switch).
#include <algorithm>
#include <optional>

#include "fusion.h"
#include "g4c/compiler/passes.h"

namespace g4c {

using namespace plan;

namespace {

// The ops computing a k_eq_v layer's K (an rms_norm_rope, or an rms_norm and its rope) and what
// rebuilds K from V in their place.
struct KRebuild {
  std::vector<const Op*> dead;
  KFromV k_from_v;
};

// Whether `write` stores K = rope(rms_norm(x) ⊙ w) and V = rms_norm(alias x) of one raw
// projection x, normed alike per head, with each intermediate read by nothing else.
std::optional<KRebuild> match(std::vector<Op>& ops, size_t at, const KvCache& cache,
                              const std::map<std::string, int>& reads) {
  const KvWriteOperands io = kv_write_operands(ops[at]);
  const Op* rope = fusion::producer_of(ops, at, io.k);
  const Op* v_norm = fusion::producer_of(ops, at, io.v);
  if (!rope || !v_norm || reads.at(io.k) != 1) return std::nullopt;
  KRebuild r;
  r.dead.push_back(rope);
  const Op* k_norm = rope;  // the fused op normalizes too
  if (rope->kind == OpKind::rope) {
    k_norm = fusion::producer_of(ops, at, rope->operands[0]);
    if (!k_norm || k_norm->kind != OpKind::rms_norm || reads.at(rope->operands[0]) != 1) return std::nullopt;
    r.dead.push_back(k_norm);
  } else if (rope->kind != OpKind::rms_norm_rope) {
    return std::nullopt;
  }
  const Op* alias = v_norm->kind == OpKind::rms_norm ? fusion::producer_of(ops, at, v_norm->operands[0]) : nullptr;
  const bool k_eq_v = alias && alias->kind == OpKind::alias && alias->get_ident("reason") == "k_eq_v" &&
                      alias->operands[0] == k_norm->operands[0];
  const bool normed_alike = !k_norm->weight.empty() && v_norm->weight.empty() &&
                            k_norm->get_number("eps") == v_norm->get_number("eps") &&
                            k_norm->get_int("group") == cache.head_dim && v_norm->get_int("group") == cache.head_dim &&
                            rope->get_int("head_dim") == cache.head_dim;
  if (!k_eq_v || !normed_alike) return std::nullopt;
  r.k_from_v = {k_norm->weight, rope->get_int("head_dim"), rope->get_int("rotated_pairs"), rope->get_number("theta")};
  return r;
}

void erase_ops(std::vector<Op>& ops, const std::vector<const Op*>& dead) {
  std::vector<Op> kept;
  for (Op& op : ops)
    if (std::find(dead.begin(), dead.end(), &op) == dead.end()) kept.push_back(std::move(op));
  ops = std::move(kept);
}

}  // namespace

void run_kv_storage(Plan& plan, PassContext& ctx) {
  plan.header.kv_storage = ctx.kv_storage;
  if (ctx.kv_storage != KvStorage::v_only) return;
  const std::map<std::string, int> reads = fusion::count_reads(plan);
  for (Block& block : plan.blocks) {
    std::vector<const Op*> dead;
    for (size_t i = 0; i < block.ops.size(); ++i) {
      Op& write = block.ops[i];
      if (write.kind != OpKind::kv_write) continue;
      KvCache& cache = *std::find_if(plan.caches->begin(), plan.caches->end(),
                                     [&](const KvCache& c) { return c.name == write.cache; });
      auto rebuild = match(block.ops, i, cache, reads);
      if (!rebuild) continue;
      cache.storage = KvStorage::v_only;
      cache.k_from_v = rebuild->k_from_v;
      write.operands.erase(write.operands.begin());
      dead.insert(dead.end(), rebuild->dead.begin(), rebuild->dead.end());
    }
    erase_ops(block.ops, dead);
  }
}

}  // namespace g4c
