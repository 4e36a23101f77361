#include "g4c/plan/storage.h"

#include <algorithm>

#include "g4c/plan/kernels.h"
#include "g4c/plan/routes.h"

namespace g4c::plan {

int64_t attention_partials_seq_offset(const Op& attention) { return quantized_result_seq_bytes(attention); }

int64_t op_scratch_seq_bytes(const Op& op) {
  if (op.kind == OpKind::attention)  // quantize-in-producer's activations, then the split partials
    return attention_partials_seq_offset(op) + op.get_int("q_heads") * kAttentionMaxSplits * (op.get_int("head_dim") + 2) * 4;
  if (op.find("quantize")) return quantized_result_seq_bytes(op);  // quantize-in-producer
  const std::vector<RouteChoice>* routes = op.routes();
  if (op.kind != OpKind::matmul || !routes) return 0;
  if (op.find("activations_from")) return 0;  // it reads the producer's scratch (quantize-once)
  auto type = parse_quant_type(op.get_ident("type"));
  int64_t bytes = 0;
  for (const RouteChoice& c : *routes)
    bytes = std::max(bytes, route_scratch_seq_bytes(c.route, type.value_or(QuantType::F32), op.get_int("cols")));
  return bytes;
}

namespace {

// Where an op's result lives: its own storage, or a part of an operand's. A matmul launched with
// another (group-matmuls) is written when that one runs, so its storage is live from there.
void place_result(const Op& op, int index, StorageAnalysis& s) {
  ValueStorage v;
  v.root = op.result;
  v.seq_bytes = op.type.seq_bytes();
  v.def = index;
  if (const Attr* leader = op.find("launched_with"))
    if (auto it = s.values.find(std::get<Ident>(leader->value).text.substr(1)); it != s.values.end())
      v.def = std::min(index, it->second.def);
  auto source = op.operands.empty() ? s.values.end() : s.values.find(op.operands[0]);
  bool shares = op.kind == OpKind::alias || op.kind == OpKind::slice || op.in_place();
  if (shares && source != s.values.end()) {
    v.root = source->second.root;
    v.seq_offset = source->second.seq_offset;
    if (op.kind == OpKind::slice) v.seq_offset += op.get_int("index") * v.seq_bytes;
  } else {
    s.roots[v.root] = RootStorage{v.seq_bytes, v.def, index, false, false};
    s.root_order.push_back(v.root);
  }
  s.values[op.result] = v;
}

}  // namespace

StorageAnalysis analyze_storage(const Plan& plan) {
  StorageAnalysis s;
  std::vector<const Op*> ops = plan.ops();
  s.op_count = static_cast<int>(ops.size());
  for (int i = 0; i < s.op_count; ++i) {
    const Op& op = *ops[i];
    for (const std::string& operand : op.operands) {
      auto it = s.values.find(operand);
      if (it == s.values.end()) continue;
      it->second.last_use = i;
      RootStorage& root = s.roots[it->second.root];
      root.last = std::max(root.last, i);
      if (op.kind == OpKind::output) {
        root.live_out = true;
        root.last = s.op_count;
      }
    }
    if (const Attr* from = op.find("activations_from")) {  // the producer's scratch lives until here
      auto producer = s.roots.find(activations_scratch_name(*from));
      if (producer != s.roots.end()) producer->second.last = std::max(producer->second.last, i);
    }
    if (!op.result.empty()) place_result(op, i, s);
    if (int64_t scratch = op_scratch_seq_bytes(op); scratch > 0) {
      // Written by the launch that computes the op: its chain's leader (norm-chains) or its own.
      const int def = op.result.empty() ? i : s.values.at(op.result).def;
      s.roots[scratch_name(op)] = RootStorage{scratch, def, i, true, false};
      s.root_order.push_back(scratch_name(op));
    }
  }
  return s;
}

}  // namespace g4c::plan
