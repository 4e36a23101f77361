#include "g4c/runtime/gpu/step_launches.h"

#include <algorithm>
#include <cstdint>
#include <map>

#include "g4c/kernels/rope_angles.h"
#include "g4c/plan/bytes_read.h"
#include "g4c/plan/storage.h"
#include "g4c/runtime/gpu/launch_matmul.h"
#include "g4c/runtime/gpu/launch_ops.h"

namespace g4c::gpu {

using namespace plan;

namespace {

// One width's step under construction: each op's call, in the addresses of `memory`, handed to
// its launcher with a record list as the target.
class StepBuilder {
 public:
  StepBuilder(const Plan& plan, const StepMemory& memory) : plan_(plan), m_(memory), storage_(analyze_storage(plan)) {
    for (const Buffer& b : plan.buffers->buffers) buffer_offsets_[b.value] = b.seq_offset;
  }

  std::optional<StepLaunches> build(DiagnosticEngine& diag);

 private:
  bool add_op(const Op& op, StepLaunches& step, DiagnosticEngine& diag);
  cudaError_t records_for(const Op& op, const OpKernels& k, OpLaunches& l);
  AttentionInputsCall attention_inputs_call(const AttentionInputs& in);
  KvCacheRef cache(const std::string& name);

  void* address(const std::string& value) const {
    const ValueStorage& v = storage_.values.at(value);
    return m_.arena + m_.width * (buffer_offsets_.at(v.root) + v.seq_offset);
  }
  float* f(const std::string& value) const { return static_cast<float*>(address(value)); }
  const int32_t* ids(const std::string& value) const { return static_cast<const int32_t*>(address(value)); }
  // An op's scratch; a matmul that reads another op's prepared activations (quantize-once,
  // quantize-in-producer), that one's.
  void* scratch(const Op& op) const {
    const Attr* from = op.kind == OpKind::matmul ? op.find("activations_from") : nullptr;
    auto it = buffer_offsets_.find(from ? activations_scratch_name(*from) : scratch_name(op));
    return it == buffer_offsets_.end() ? nullptr : m_.arena + m_.width * it->second;
  }
  int64_t elements(const std::string& value) const { return m_.width * storage_.values.at(value).seq_bytes / 4; }
  const float* floats(const std::string& weight) const { return weight.empty() ? nullptr : m_.weight(weight).floats; }
  const float* table_of(const Op& rms_norm_rope) const {
    return m_.rope_tables && rms_norm_rope.get_int("rotated_pairs") > 0 ? m_.rope_table(rope_table_key(rms_norm_rope))
                                                                        : nullptr;
  }

  const Plan& plan_;
  const StepMemory& m_;
  StorageAnalysis storage_;
  std::map<std::string, int64_t> buffer_offsets_;
};

std::optional<StepLaunches> StepBuilder::build(DiagnosticEngine& diag) {
  StepLaunches step;
  step.width = m_.width;
  step.limits = m_.limits;
  for (const Op* op : plan_.ops())
    if (!add_op(*op, step, diag)) return std::nullopt;
  if (!step.tokens || !step.positions || !step.sequences || !step.next) {
    diag.error({}, "the plan has no tokens, positions and sequences inputs and a tokens output");
    return std::nullopt;
  }
  return step;
}

bool StepBuilder::add_op(const Op& op, StepLaunches& step, DiagnosticEngine& diag) {
  OpLaunches l{&op, {}, {}, {}};
  if (op.kind == OpKind::input) {  // the step's first launches copy its inputs into the arena
    const std::string role = op.get_ident("role");
    const int64_t slot = role == "tokens" ? 0 : role == "positions" ? 1 : 2;
    int32_t* p = static_cast<int32_t*>(address(op.result));
    (slot == 0 ? step.tokens : slot == 1 ? step.positions : step.sequences) = p;
    l.records.push_back(DeviceCopy{p, m_.staging + slot * m_.width, static_cast<size_t>(m_.width) * 4});
    step.ops.push_back(std::move(l));
    return true;
  }
  if (op.kind == OpKind::output) {
    if (op.get_ident("role") == "logits")
      step.logits = static_cast<const float*>(address(op.operands[0]));
    else
      step.next = static_cast<const int32_t*>(address(op.operands[0]));
  }
  // group-matmuls, norm-chains, attention-inputs: the launch of the op it names computes it.
  if (op.find("launched_with")) return true;
  OpKernels k;
  for (const KernelInstance& instance : kernels_for(plan_, op, m_.width)) {
    cudaKernel_t& slot = k[kernel_role(instance.family)];
    if (!(slot = m_.kernel(instance))) {
      diag.error({}, "kernel " + instance.key() + " of %" + op.result + " was not compiled");
      return false;
    }
  }
  if (op.kind == OpKind::matmul && !route_at(op, m_.width)) {  // the verifier refuses such a plan
    diag.error({}, "%" + op.result + " has no route at width " + std::to_string(m_.width));
    return false;
  }
  if (cudaError_t e = records_for(op, k, l); e != cudaSuccess) {
    diag.error({}, "the launch of %" + op.result + " at width " + std::to_string(m_.width) + " was refused: " +
                       cudaGetErrorString(e));
    return false;
  }
  if (!l.records.empty()) step.ops.push_back(std::move(l));
  return true;
}

KvCacheRef StepBuilder::cache(const std::string& name) {
  const KvCache& c = *plan_.find_cache(name);
  const CachePlanes planes = m_.cache(name);
  KvCacheRef ref{planes.k, planes.v, c.dtype, c.slots, c.kv_heads, c.head_dim, m_.sequences};
  if (c.v_only()) {
    const KFromV& r = c.k_from_v;
    ref.k_norm = floats(r.norm);
    ref.rotated_pairs = r.rotated_pairs;
    if (r.rotated_pairs > 0) {
      ref.rope_table = m_.rope_table({r.head_dim, r.rotated_pairs, r.theta});
      ref.rope_positions = plan_.header.context;
    }
  }
  return ref;
}

cudaError_t StepBuilder::records_for(const Op& op, const OpKernels& k, OpLaunches& l) {
  const int64_t W = m_.width;
  const LaunchTarget target(l.records);
  const float* x = op.operands.empty() ? nullptr : f(op.operands[0]);
  float* y = op.result.empty() ? nullptr : f(op.result);
  const WeightView weight = op.weight.empty() ? WeightView{} : m_.weight(op.weight);
  switch (op.kind) {
    case OpKind::input:
    case OpKind::output:
    case OpKind::slice:
    case OpKind::alias:
      return cudaSuccess;
    case OpKind::embed_gather: {
      const EmbedGatherCall c{weight.data, ids(op.operands[0]), y, weight.ne0, W,
                              static_cast<float>(op.get_number("scale")), weight.ne1,
                              plan_.find_weight(op.weight)->layout == WeightLayout::mma16};
      return launch_embed_gather(k.main, c, target);
    }
    case OpKind::ple_combine: {
      const PleCombineCall c{x,
                             f(op.operands[1]),
                             weight.floats,
                             y,
                             W,
                             W,
                             op.get_int("layers"),
                             op.get_int("width"),
                             static_cast<float>(op.get_number("proj_scale")),
                             static_cast<float>(op.get_number("eps")),
                             static_cast<float>(op.get_number("out_scale"))};
      return launch_ple_combine(k.main, c, target);
    }
    case OpKind::matmul: {
      const Route route = *route_at(op, W);
      l.route = std::string(name(route));
      MatmulCall c{weight.data, weight.f16, weight.type, weight.ne1, weight.ne0, x, y,
                   static_cast<int>(W), scratch(op), op.find("activations_from") != nullptr, {}, m_.limits};
      for (const Op* member : launch_group_members(plan_, op)) {
        l.group.push_back(member);
        if (member->kind == OpKind::geglu) {  // geglu-epilogue
          c.geglu = MatmulCall::GegluEpilogue{f(member->operands[0]), f(member->operands[1]), f(member->result),
                                              member->find("quantize") ? scratch(*member) : nullptr, m_.tickets};
          continue;
        }
        const WeightView m = m_.weight(member->weight);
        c.group.push_back({m.data, f(member->result), m.ne1, m.type});
      }
      // A GEMM is enqueued with the executor's cuBLAS handle; the record needs none.
      return launch_matmul(route, k, c, target, nullptr);
    }
    case OpKind::rms_norm: {
      const RmsNormCall c{x, floats(op.weight), y, elements(op.operands[0]), op.get_int("group"),
                          static_cast<float>(op.get_number("eps")), op.find("quantize") ? scratch(op) : nullptr};
      return launch_rms_norm(k.main, c, target);
    }
    case OpKind::rope: {
      const RopeCall c{x, y, ids(op.operands[1]), W, elements(op.operands[0]) / W, op.get_int("head_dim"),
                       op.get_number("theta")};
      return launch_rope(k.main, c, target);
    }
    case OpKind::add_rms_norm: {
      AddRmsNormCall c{x, f(op.operands[1]), floats(op.weight), y, elements(op.operands[1]),
                       op.get_int("group"), static_cast<float>(op.get_number("eps"))};
      for (const Op* member : launch_group_members(plan_, op)) {  // norm-chains: the rest of the row's chain
        l.group.push_back(member);
        if (member->kind == OpKind::scale_by) {
          c.scale = floats(member->weight);
          continue;
        }
        c.then_weight = floats(member->weight);
        c.then_y = f(member->result);
        c.then_eps = static_cast<float>(member->get_number("eps"));
        if (member->find("quantize")) c.x_q = scratch(*member);
      }
      return launch_add_rms_norm(k.main, c, target);
    }
    case OpKind::rms_norm_rope: {
      if (const std::optional<AttentionInputs> in = attention_inputs_of(plan_, op)) {
        for (const Op* member : {in->k, in->v, in->write})
          if (member) l.group.push_back(member);
        return launch_attention_inputs(k.main, attention_inputs_call(*in), target);
      }
      const RmsNormRopeCall c{x,
                              floats(op.weight),
                              y,
                              ids(op.operands[1]),
                              W,
                              elements(op.operands[0]) / W,
                              op.get_int("head_dim"),
                              static_cast<float>(op.get_number("eps")),
                              op.get_number("theta"),
                              table_of(op)};
      return launch_rms_norm_rope(k.main, c, target);
    }
    case OpKind::kv_write: {
      const KvWriteOperands io = kv_write_operands(op);
      const KvWriteCall c{io.k.empty() ? nullptr : f(io.k), f(io.v), ids(io.pos), ids(io.seq), cache(op.cache), W};
      return launch_kv_write(k.main, c, target);
    }
    case OpKind::attention: {
      // quantize-in-producer: the combine kernel writes the O projection's activations at the
      // scratch's start, and the split partials follow them.
      char* activations = static_cast<char*>(scratch(op));
      AttentionCall c{x,
                      ids(op.operands[1]),
                      ids(op.operands[2]),
                      cache(op.cache),
                      op.get_int("q_heads"),
                      y,
                      reinterpret_cast<float*>(activations + W * attention_partials_seq_offset(op)),
                      W,
                      static_cast<float>(op.get_number("scale")),
                      m_.tickets};
      if (op.find("quantize")) c.x_q = activations;
      c.splits = m_.attention_splits;
      c.mma = op.get_ident("split") == "mma";  // attention-split
      c.limits = m_.limits;
      // combine = last_block: one kernel, which merges the splits itself.
      return launch_attention(k.main, k.combine, c, target);
    }
    case OpKind::geglu:
      if (op.find("quantize")) {  // quantize-in-producer: also the down matmul's activations
        const GegluQuantizeCall c{x, f(op.operands[1]), y, scratch(op), W, elements(op.operands[0]) / W};
        return launch_geglu_quantize(k.main, c, target);
      }
      [[fallthrough]];
    case OpKind::add:
    case OpKind::scale_by:
    case OpKind::softcap: {
      ElementwiseCall c{x, nullptr, nullptr, y, elements(op.operands[0]), 0};
      if (op.kind == OpKind::geglu || op.kind == OpKind::add) c.b = f(op.operands[1]);
      if (op.kind == OpKind::scale_by) c.factor = weight.floats;
      if (op.kind == OpKind::softcap) c.cap = static_cast<float>(op.get_number("cap"));
      const auto launcher = op.kind == OpKind::geglu ? launch_geglu
                            : op.kind == OpKind::add ? launch_add
                            : op.kind == OpKind::scale_by ? launch_scale_by
                                                          : launch_softcap;
      return launcher(k.main, c, target);
    }
    case OpKind::sample: {
      const SampleCall c{x, static_cast<int32_t*>(address(op.result)), W, elements(op.operands[0]) / W};
      return launch_sample(k.main, c, target);
    }
  }
  return cudaSuccess;
}

// attention-inputs: each kind of head's buffers and norm weight, the Q norm's positions and RoPE
// table, and the cache the kv_write stores into.
AttentionInputsCall StepBuilder::attention_inputs_call(const AttentionInputs& in) {
  auto heads = [&](const Op* norm) {
    AttentionHeads h;
    if (!norm) return h;
    h.x = f(norm->operands[0]);
    h.y = f(norm->result);
    h.weight = floats(norm->weight);
    h.eps = static_cast<float>(norm->get_number("eps"));
    h.heads = elements(norm->operands[0]) / m_.width / norm->get_int("group");
    return h;
  };
  const Op& q = *in.q;
  AttentionInputsCall c;
  c.q = heads(in.q);
  c.k = heads(in.k);
  c.v = heads(in.v);
  c.pos = ids(q.operands[1]);
  c.seq = ids(kv_write_operands(*in.write).seq);
  c.table = table_of(q);
  c.theta = q.get_number("theta");
  c.cache = cache(in.write->cache);
  c.rows = m_.width;
  return c;
}

std::string dims_text(const dim3& d) {
  return std::to_string(d.x) + "x" + std::to_string(d.y) + "x" + std::to_string(d.z);
}

const char* element_name(cudaDataType t) {
  return t == CUDA_R_16BF ? "bf16" : t == CUDA_R_16F ? "f16" : "f32";
}

}  // namespace

int64_t StepLaunches::kernel_launches() const {
  int64_t n = 0;
  for (const OpLaunches& l : ops)
    for (const LaunchRecord& r : l.records) n += gpu::kernel_launches(r);
  return n;
}

std::optional<StepLaunches> build_step_launches(const Plan& plan, const StepMemory& memory, DiagnosticEngine& diag) {
  if (!check_runnable(plan, diag)) return std::nullopt;
  return StepBuilder(plan, memory).build(diag);
}

namespace {

// Addresses handed out in order, 256-byte aligned, far from null: the launchers check alignment
// and null pointers, never what is there.
class SymbolicAddresses {
 public:
  char* take(int64_t bytes) {
    char* p = reinterpret_cast<char*>(next_);
    next_ += (static_cast<uintptr_t>(std::max<int64_t>(bytes, 1)) + 255) / 256 * 256;
    return p;
  }
  char* named(const std::string& name, int64_t bytes) {
    auto [it, fresh] = by_name_.try_emplace(name, nullptr);
    if (fresh) it->second = take(bytes);
    return it->second;
  }

 private:
  uintptr_t next_ = uintptr_t{1} << 40;
  std::map<std::string, char*> by_name_;
};

}  // namespace

std::string SymbolicStep::kernel_key(cudaKernel_t kernel) const {
  const uintptr_t index = reinterpret_cast<uintptr_t>(kernel) / 16 - 1;
  return index < kernel_keys.size() ? kernel_keys[index] : "?";
}

int64_t step_tickets(const Plan& plan, int64_t width) {
  int64_t tickets = 1;
  for (const Op* op : plan.ops()) {
    if (op->kind == OpKind::attention && op->find("combine"))
      tickets = std::max(tickets, width * attention_tickets(op->get_int("q_heads"), op->get_int("kv_heads"),
                                                            op->get_ident("split") == "mma"));
    const std::optional<Route> route = op->kind == OpKind::matmul ? route_at(*op, width) : std::nullopt;
    if (route && geglu_epilogue_of(plan, *op))
      tickets = std::max(tickets, geglu_epilogue_tickets(*route, op->get_int("rows"), static_cast<int>(width)));
  }
  return tickets;
}

std::optional<SymbolicStep> symbolic_step_launches(const Plan& plan, int64_t width, DeviceLimits limits,
                                                   DiagnosticEngine& diag, int64_t attention_splits) {
  if (!check_runnable(plan, diag)) return std::nullopt;
  SymbolicStep out;
  SymbolicAddresses memory;
  std::map<std::string, size_t> kernel_index;
  StepMemory m;
  m.width = width;
  m.arena = memory.take(width * plan.buffers->seq_bytes);
  m.staging = reinterpret_cast<const int32_t*>(memory.take(3 * width * 4));
  m.tickets = reinterpret_cast<unsigned*>(memory.take(step_tickets(plan, width) * 4));
  m.sequences = width;
  m.limits = limits;
  m.attention_splits = attention_splits;
  m.kernel = [&](const KernelInstance& instance) {
    auto [it, fresh] = kernel_index.try_emplace(instance.key(), out.kernel_keys.size());
    if (fresh) out.kernel_keys.push_back(instance.key());
    return reinterpret_cast<cudaKernel_t>(static_cast<uintptr_t>(16 * (it->second + 1)));
  };
  m.weight = [&](const std::string& name) {
    const WeightDecl& w = *plan.find_weight(name);
    const int64_t elements = w.ne0 * w.ne1;
    return WeightView{w.type, w.ne0, w.ne1, memory.named(name, w.bytes()), memory.named(name + ".f16", 2 * elements),
                      reinterpret_cast<const float*>(memory.named(name + ".f32", 4 * elements))};
  };
  m.cache = [&](const std::string& name) {
    const KvCache& c = *plan.find_cache(name);
    const int64_t bytes = c.plane_seq_bytes() * width;
    return CachePlanes{c.v_only() ? nullptr : memory.named(name + ".k", bytes), memory.named(name + ".v", bytes)};
  };
  m.rope_table = [&](const RopeTableKey& key) {
    const auto& [head_dim, pairs, theta] = key;
    return reinterpret_cast<const float*>(memory.named(
        "rope " + std::to_string(head_dim) + " " + std::to_string(pairs) + " " + std::to_string(theta),
        4 * rope_table_floats(plan.header.context, pairs)));
  };
  std::optional<StepLaunches> step = build_step_launches(plan, m, diag);
  if (!step) return std::nullopt;
  out.step = std::move(*step);
  return out;
}

std::string print_step_launches(const StepLaunches& step, const std::function<std::string(cudaKernel_t)>& kernel_key) {
  int64_t copies = 0;
  std::string body;
  for (const OpLaunches& l : step.ops) {
    body += "%" + l.op->result + " " + std::string(schema(l.op->kind).name);
    if (!l.route.empty()) body += " " + l.route;
    for (const Op* member : l.group)
      body += " + " + (member->result.empty() ? std::string(schema(member->kind).name) + " @" + member->cache
                                              : "%" + member->result);
    body += "\n";
    for (const LaunchRecord& r : l.records) {
      if (const auto* k = std::get_if<KernelLaunch>(&r))
        body += "  kernel " + kernel_key(k->kernel) + " grid " + dims_text(k->dims.grid) + " block " +
                dims_text(k->dims.block) + " shared " + std::to_string(k->dims.shared_bytes) + " args " +
                std::to_string(k->args.size()) + "\n";
      else if (const auto* g = std::get_if<CublasGemm>(&r))
        body += "  cublas gemm " + std::to_string(g->m) + " x " + std::to_string(g->n) + " x " + std::to_string(g->k) +
                " " + element_name(g->element) + "\n";
      else
        ++copies, body += "  copy " + std::to_string(std::get<DeviceCopy>(r).bytes) + " bytes\n";
    }
  }
  return "; width " + std::to_string(step.width) + " on " + std::to_string(step.limits.sm_count) + " SMs, " +
         std::to_string(step.limits.max_shared_bytes) + " bytes of shared memory a block: " +
         std::to_string(step.kernel_launches()) + " kernel launches, " + std::to_string(copies) + " copies\n" + body;
}

}  // namespace g4c::gpu
