// attention-inputs: a layer's attention inputs in one launch. After the Q, K and V projections a
// layer runs four small kernels over the same rows —
//
//   %l0.q_rope = rms_norm_rope %l0.q, %pos, @blk.0.attn_q_norm.weight {...}
//   %l0.k = rms_norm_rope %l0.k_raw, %pos, @blk.0.attn_k_norm.weight {...}
//   %l0.v = rms_norm %l0.v_raw {group = 256, in_place = true}
//   kv_write %l0.k, %l0.v, %pos, %seq -> %kv.l0
//
// — each a chain of dependent loads, reductions and stores that no launch overlap hides. The Q
// norm's launch computes the other three (`launched_with = %l0.q_rope`; kernel attention_inputs):
// a head of Q, K or V per norm group, K's and V's stored in the cache as they are written. On a
// v_only cache there is no K norm. The pass moves the ops next to the kv_write, Q's first (after the
// V projection where that is a matmul of its own), where every input is ready; it fuses only where
// plan::attention_inputs_conflict finds nothing and no op it moves past reads their results or
// overwrites their inputs.
#include <algorithm>
#include <optional>

#include "fusion.h"
#include "g4c/plan/kernels.h"
#include "g4c/plan/storage.h"

namespace g4c {

using namespace plan;

namespace {

constexpr std::string_view kPass = "attention-inputs";

size_t index_of(const std::vector<Op>& ops, const std::string& result) {
  for (size_t i = 0; i < ops.size(); ++i)
    if (!result.empty() && ops[i].result == result) return i;
  return ops.size();
}

// The Q norm+RoPE of the first attention after `write` that reads its cache.
const Op* queries_of(const std::vector<Op>& ops, size_t write) {
  for (size_t i = write + 1; i < ops.size(); ++i) {
    if (ops[i].kind != OpKind::attention || ops[i].cache != ops[write].cache) continue;
    size_t q = index_of(ops, ops[i].operands.at(0));
    return q < write && ops[q].kind == OpKind::rms_norm_rope ? &ops[q] : nullptr;
  }
  return nullptr;
}

// The layer's ops ending at the kv_write at `write`, if their kinds fit and none launches with
// another op already.
std::optional<AttentionInputs> candidates(const std::vector<Op>& ops, size_t write) {
  const KvWriteOperands io = kv_write_operands(ops[write]);
  AttentionInputs in;
  in.write = &ops[write];
  const size_t v = index_of(ops, io.v), k = io.k.empty() ? write : index_of(ops, io.k);
  if (v >= write || ops[v].kind != OpKind::rms_norm) return std::nullopt;
  in.v = &ops[v];
  if (!io.k.empty()) {
    if (k >= write || ops[k].kind != OpKind::rms_norm_rope) return std::nullopt;
    in.k = &ops[k];
  }
  in.q = queries_of(ops, write);
  if (!in.q || in.q == in.k) return std::nullopt;
  for (const Op* op : {in.q, in.k, in.v, in.write})
    if (op && op->find("launched_with")) return std::nullopt;
  return in;
}

// Whether the members can move down to just before the kv_write: no op they pass reads their
// results, or overwrites in place what they read.
bool movable(const std::vector<Op>& ops, const AttentionInputs& in, const StorageAnalysis& s) {
  const Op* members[] = {in.q, in.k, in.v};
  size_t first = ops.size();
  std::vector<std::string> read_roots;
  for (const Op* m : members) {
    if (!m) continue;
    first = std::min(first, static_cast<size_t>(m - ops.data()));
    for (const std::string& operand : m->operands)
      if (auto it = s.values.find(operand); it != s.values.end()) read_roots.push_back(it->second.root);
  }
  for (size_t i = first; i < static_cast<size_t>(in.write - ops.data()); ++i) {
    const Op& op = ops[i];
    if (std::find(std::begin(members), std::end(members), &op) != std::end(members)) continue;
    for (const Op* m : members)
      if (m && std::find(op.operands.begin(), op.operands.end(), m->result) != op.operands.end()) return false;
    if (op.in_place() && !op.operands.empty())
      if (auto it = s.values.find(op.operands[0]);
          it != s.values.end() && std::count(read_roots.begin(), read_roots.end(), it->second.root))
        return false;
  }
  return true;
}

// Q, K, V and the kv_write in that order, where the kv_write stood; the rest keep their order.
void gather(std::vector<Op>& ops, const AttentionInputs& in) {
  const std::string leader = "%" + in.q->result;
  std::vector<Op> moved, kept;
  const Op* members[] = {in.q, in.k, in.v};
  for (const Op* m : members)
    if (m) moved.push_back(*m);
  for (size_t i = 1; i < moved.size(); ++i) moved[i].set("launched_with", Ident{leader});
  for (Op& op : ops) {
    const Op* p = &op;
    if (std::find(std::begin(members), std::end(members), p) != std::end(members)) continue;
    if (p == in.write) {
      for (Op& m : moved) kept.push_back(std::move(m));
      op.set("launched_with", Ident{leader});
    }
    kept.push_back(std::move(op));
  }
  ops = std::move(kept);
}

}  // namespace

void run_attention_inputs(Plan& plan, PassContext& ctx) {
  if (!ctx.fusions.runs(kPass)) return;
  // Storage roots are named by value and do not depend on the ops' order: one analysis serves
  // every layer, before and after the moves.
  const StorageAnalysis storage = analyze_storage(plan);
  for (Block& block : plan.blocks) {
    for (size_t i = 0; i < block.ops.size(); ++i) {
      if (block.ops[i].kind != OpKind::kv_write) continue;
      const std::optional<AttentionInputs> in = candidates(block.ops, i);
      if (!in) continue;
      if (!attention_inputs_conflict(plan, *in, storage).empty() || !movable(block.ops, *in, storage)) continue;
      const std::string queries = in->q->result;
      const size_t members = in->k ? 3 : 2;
      gather(block.ops, *in);  // invalidates `in`
      i = index_of(block.ops, queries) + members;  // the kv_write
    }
  }
  fusion::record(plan, kPass);
}

}  // namespace g4c
