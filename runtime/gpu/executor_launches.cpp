// Launches of each op at one width, and the step captured as a graph (state: executor_impl.h).
#include <cstring>

#include "executor_impl.h"
#include "g4c/plan/bytes_read.h"
#include "g4c/plan/kernels.h"
#include "g4c/runtime/gpu/launch_matmul.h"

namespace g4c::gpu {

//===----------------------------------------------------------------------===//
// Launches of each op
//===----------------------------------------------------------------------===//

std::optional<Launch> Executor::Impl::launch_for(const Op& op, WidthState& w, DiagnosticEngine& diag) {
  const int64_t W = w.width;
  std::vector<cudaKernel_t> k;
  for (const KernelInstance& instance : kernels_for(*plan, op, W)) {
    k.push_back(library->find(instance));
    if (!k.back()) {
      diag.error({}, "kernel " + instance.key() + " of %" + op.result + " was not compiled");
      return std::nullopt;
    }
  }
  auto f = [&](const std::string& v) { return static_cast<float*>(address(w, v)); };
  auto ids = [&](const std::string& v) { return static_cast<const int32_t*>(address(w, v)); };
  const float* x = op.operands.empty() ? nullptr : f(op.operands[0]);
  float* y = op.result.empty() ? nullptr : f(op.result);
  const DeviceTensor* weight = op.weight.empty() ? nullptr : &this->weights->at(op.weight);
  Launch l{&op, "", {}};
  // group-matmuls, norm-chains: the launch of the op it names computes it.
  if (op.find("launched_with")) return l;
  switch (op.kind) {
    case OpKind::input:
    case OpKind::output:
    case OpKind::slice:
    case OpKind::alias:
      return l;
    case OpKind::embed_gather: {
      const EmbedGatherCall c{weight->data.get(), ids(op.operands[0]), y, weight->ne0, W,
                              static_cast<float>(op.get_number("scale")), weight->ne1,
                              plan->find_weight(op.weight)->layout == WeightLayout::mma16};
      l.run = [=, kernel = k.at(0)](cudaStream_t s) { return launch_embed_gather(kernel, c, s); };
      return l;
    }
    case OpKind::ple_combine: {
      const PleCombineCall c{x,
                             f(op.operands[1]),
                             weight->floats(),
                             y,
                             W,
                             W,
                             op.get_int("layers"),
                             op.get_int("width"),
                             static_cast<float>(op.get_number("proj_scale")),
                             static_cast<float>(op.get_number("eps")),
                             static_cast<float>(op.get_number("out_scale"))};
      l.run = [=, kernel = k.at(0)](cudaStream_t s) { return launch_ple_combine(kernel, c, s); };
      return l;
    }
    case OpKind::matmul: {
      const std::optional<Route> at = route_at(op, W);
      if (!at) {  // the verifier refuses such a plan; never guess a route
        diag.error({}, "%" + op.result + " has no route at width " + std::to_string(W));
        return std::nullopt;
      }
      const Route route = *at;
      l.route = std::string(name(route));
      MatmulCall c{weight->data.get(), weight->f16.get(), weight->type, weight->ne1, weight->ne0, x, y,
                   static_cast<int>(W), scratch(w, op), op.find("activations_from") != nullptr};
      for (const Op* member : launch_group_members(*plan, op)) {
        const DeviceTensor& m = this->weights->at(member->weight);
        c.group.push_back({m.data.get(), f(member->result), m.ne1});
        l.group.push_back(member);
      }
      l.run = [=, cublas = cublas](cudaStream_t s) { return launch_matmul(route, k, c, s, cublas); };
      return l;
    }
    case OpKind::rms_norm: {
      const RmsNormCall c{x, weight ? weight->floats() : nullptr, y, elements(w, op.operands[0]), op.get_int("group"),
                          static_cast<float>(op.get_number("eps")), op.find("quantize") ? scratch(w, op) : nullptr};
      l.run = [=, kernel = k.at(0)](cudaStream_t s) { return launch_rms_norm(kernel, c, s); };
      return l;
    }
    case OpKind::rope: {
      const RopeCall c{x, y, ids(op.operands[1]), W, elements(w, op.operands[0]) / W, op.get_int("head_dim"),
                       op.get_number("theta")};
      l.run = [=, kernel = k.at(0)](cudaStream_t s) { return launch_rope(kernel, c, s); };
      return l;
    }
    case OpKind::add_rms_norm: {
      AddRmsNormCall c{x, f(op.operands[1]), weight ? weight->floats() : nullptr, y, elements(w, op.operands[1]),
                       op.get_int("group"), static_cast<float>(op.get_number("eps"))};
      for (const Op* member : launch_group_members(*plan, op)) {  // norm-chains: the rest of the row's chain
        l.group.push_back(member);
        if (member->kind == OpKind::scale_by) {
          c.scale = this->weights->at(member->weight).floats();
          continue;
        }
        c.then_weight = this->weights->at(member->weight).floats();
        c.then_y = f(member->result);
        c.then_eps = static_cast<float>(member->get_number("eps"));
        if (member->find("quantize")) c.x_q = scratch(w, *member);
      }
      l.run = [=, kernel = k.at(0)](cudaStream_t s) { return launch_add_rms_norm(kernel, c, s); };
      return l;
    }
    case OpKind::rms_norm_rope: {
      if (const std::optional<AttentionInputs> in = attention_inputs_of(*plan, op)) {
        AttentionInputsCall c = attention_inputs_call(*in, w);
        for (const Op* member : {in->k, in->v, in->write})
          if (member) l.group.push_back(member);
        l.run = [=, kernel = k.at(0)](cudaStream_t s) { return launch_attention_inputs(kernel, c, s); };
        return l;
      }
      const RmsNormRopeCall c{x,
                              weight ? weight->floats() : nullptr,
                              y,
                              ids(op.operands[1]),
                              W,
                              elements(w, op.operands[0]) / W,
                              op.get_int("head_dim"),
                              static_cast<float>(op.get_number("eps")),
                              op.get_number("theta"),
                              options.rope_tables && op.get_int("rotated_pairs") > 0
                                  ? rope_tables.at(rope_table_key(op)).as<float>()
                                  : nullptr};
      l.run = [=, kernel = k.at(0)](cudaStream_t s) { return launch_rms_norm_rope(kernel, c, s); };
      return l;
    }
    case OpKind::kv_write: {
      const KvWriteOperands io = kv_write_operands(op);
      const KvWriteCall c{io.k.empty() ? nullptr : f(io.k), f(io.v), ids(io.pos), ids(io.seq), caches.at(op.cache).ref, W};
      l.run = [=, kernel = k.at(0)](cudaStream_t s) { return launch_kv_write(kernel, c, s); };
      return l;
    }
    case OpKind::attention: {
      // quantize-in-producer: the combine kernel writes the O projection's activations at the
      // scratch's start, and the split partials follow them.
      char* activations = static_cast<char*>(scratch(w, op));
      AttentionCall c{x,
                            ids(op.operands[1]),
                            ids(op.operands[2]),
                            caches.at(op.cache).ref,
                            op.get_int("q_heads"),
                            y,
                            reinterpret_cast<float*>(activations + W * attention_partials_seq_offset(op)),
                            W,
                            static_cast<float>(op.get_number("scale")),
                            static_cast<unsigned*>(w.attention_tickets.get())};
      if (op.find("quantize")) c.x_q = activations;
      // combine = last_block: one kernel, which merges the splits itself.
      l.run = [=, partial = k.at(0), combine = k.size() > 1 ? k[1] : nullptr](cudaStream_t s) {
        return launch_attention(partial, combine, c, s);
      };
      return l;
    }
    case OpKind::geglu:
      if (op.find("quantize")) {  // quantize-in-producer: also the down matmul's activations
        const GegluQuantizeCall c{x, f(op.operands[1]), y, scratch(w, op), W, elements(w, op.operands[0]) / W};
        l.run = [=, kernel = k.at(0)](cudaStream_t s) { return launch_geglu_quantize(kernel, c, s); };
        return l;
      }
      [[fallthrough]];
    case OpKind::add:
    case OpKind::scale_by:
    case OpKind::softcap: {
      ElementwiseCall c{x, nullptr, nullptr, y, elements(w, op.operands[0]), 0};
      if (op.kind == OpKind::geglu || op.kind == OpKind::add) c.b = f(op.operands[1]);
      if (op.kind == OpKind::scale_by) c.factor = weight->floats();
      if (op.kind == OpKind::softcap) c.cap = static_cast<float>(op.get_number("cap"));
      const auto launcher = op.kind == OpKind::geglu ? launch_geglu
                            : op.kind == OpKind::add ? launch_add
                            : op.kind == OpKind::scale_by ? launch_scale_by
                                                          : launch_softcap;
      l.run = [=, kernel = k.at(0)](cudaStream_t s) { return launcher(kernel, c, s); };
      return l;
    }
    case OpKind::sample: {
      const SampleCall c{x, static_cast<int32_t*>(address(w, op.result)), W, elements(w, op.operands[0]) / W};
      l.run = [=, kernel = k.at(0)](cudaStream_t s) { return launch_sample(kernel, c, s); };
      return l;
    }
  }
  return l;
}

// attention-inputs: each kind of head's buffers and norm weight, the Q norm's positions and RoPE
// table, and the cache the kv_write stores into.
AttentionInputsCall Executor::Impl::attention_inputs_call(const AttentionInputs& in, WidthState& w) {
  auto heads = [&](const Op* norm) {
    AttentionHeads h;
    if (!norm) return h;
    h.x = static_cast<const float*>(address(w, norm->operands[0]));
    h.y = static_cast<float*>(address(w, norm->result));
    h.weight = norm->weight.empty() ? nullptr : this->weights->at(norm->weight).floats();
    h.eps = static_cast<float>(norm->get_number("eps"));
    h.heads = elements(w, norm->operands[0]) / w.width / norm->get_int("group");
    return h;
  };
  const Op& q = *in.q;
  AttentionInputsCall c;
  c.q = heads(in.q);
  c.k = heads(in.k);
  c.v = heads(in.v);
  c.pos = static_cast<const int32_t*>(address(w, q.operands[1]));
  c.seq = static_cast<const int32_t*>(address(w, kv_write_operands(*in.write).seq));
  c.table = options.rope_tables && q.get_int("rotated_pairs") > 0 ? rope_tables.at(rope_table_key(q)).as<float>() : nullptr;
  c.theta = q.get_number("theta");
  c.cache = caches.at(in.write->cache).ref;
  c.rows = w.width;
  return c;
}

bool Executor::Impl::build_launches(WidthState& w, DiagnosticEngine& diag) {
  for (const Op* op : plan->ops()) {
    if (op->kind == OpKind::input) {
      const std::string role = op->get_ident("role");
      int32_t* p = static_cast<int32_t*>(address(w, op->result));
      (role == "tokens" ? w.tokens : role == "positions" ? w.positions : w.sequences) = p;
      const int64_t slot = role == "tokens" ? 0 : role == "positions" ? 1 : 2;
      const int32_t* from = w.staging.as<int32_t>() + slot * w.width;
      const size_t bytes = static_cast<size_t>(w.width) * 4;
      w.launches.push_back({op, "", [=](cudaStream_t s) {
                              return cudaMemcpyAsync(p, from, bytes, cudaMemcpyDeviceToDevice, s);
                            }});
      continue;
    }
    if (op->kind == OpKind::output) {
      if (op->get_ident("role") == "logits")
        w.logits = static_cast<const float*>(address(w, op->operands[0]));
      else
        w.next = static_cast<const int32_t*>(address(w, op->operands[0]));
    }
    auto l = launch_for(*op, w, diag);
    if (!l) return false;
    if (l->run) w.launches.push_back(std::move(*l));
  }
  if (!w.tokens || !w.positions || !w.sequences || !w.next) {
    diag.error({}, "the plan has no tokens, positions and sequences inputs and a tokens output");
    return false;
  }
  return true;
}

cudaError_t Executor::Impl::run_eagerly(WidthState& w, const LaunchFilter& include) {
  for (const Launch& l : w.launches)
    if (!include || include(l))
      if (cudaError_t e = l.run(stream.s); e != cudaSuccess) return e;
  return cudaSuccess;
}

// The step's launches that `include` keeps (all without a filter), captured and instantiated.
cudaError_t Executor::Impl::capture_graph(WidthState& w, const LaunchFilter& include, cudaGraphExec_t& exec,
                                          size_t* nodes) {
  cudaGraph_t graph = nullptr;
  cudaError_t e = cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeThreadLocal);
  if (e == cudaSuccess) {
    const cudaError_t run = run_eagerly(w, include);
    e = cudaStreamEndCapture(stream.s, &graph);
    if (run != cudaSuccess) e = run;
  }
  if (e == cudaSuccess && nodes) e = cudaGraphGetNodes(graph, nullptr, nodes);
  if (e == cudaSuccess) e = cudaGraphInstantiate(&exec, graph, 0);
  if (graph) cudaGraphDestroy(graph);
  return e;
}

// The first eager run also performs one-time work (shared-memory opt-ins, cuBLAS heuristics) that
// must not land in a graph; it runs on padding rows, which write no cache.
bool Executor::Impl::capture(WidthState& w, DiagnosticEngine& diag) {
  std::vector<int32_t> padding(static_cast<size_t>(3 * w.width), 0);
  std::fill(padding.begin() + 2 * w.width, padding.end(), -1);  // tokens 0, positions 0, no sequence
  cudaError_t e = cudaMemcpyAsync(w.staging.get(), padding.data(), padding.size() * 4, cudaMemcpyHostToDevice, stream.s);
  if (e == cudaSuccess) e = run_eagerly(w);
  if (e == cudaSuccess) e = cudaStreamSynchronize(stream.s);
  if (e == cudaSuccess) e = capture_graph(w, nullptr, w.graph, &w.graph_nodes);
  if (e != cudaSuccess) {
    diag.error({}, "capturing the width-" + std::to_string(w.width) + " step into a CUDA graph failed: " +
                       cudaGetErrorString(e));
    return false;
  }
  return true;
}

}  // namespace g4c::gpu
