// Each width's launch records, enqueued eagerly or captured as a graph (state: executor_impl.h).

#include "executor_impl.h"

namespace g4c::gpu {

//===----------------------------------------------------------------------===//
// The step's records in this executor's memory
//===----------------------------------------------------------------------===//

bool Executor::Impl::build_launches(WidthState& w, DiagnosticEngine& diag) {
  StepMemory m;
  m.width = w.width;
  m.arena = static_cast<char*>(w.arena.get());
  m.staging = w.staging.as<int32_t>();
  m.tickets = w.tickets.as<unsigned>();
  m.sequences = options.max_sequences;
  m.rope_tables = options.rope_tables;
  m.attention_splits = options.attention_splits;
  m.limits = device_limits();
  m.kernel = [&](const KernelInstance& instance) { return library->find(instance); };
  m.weight = [&](const std::string& name) {
    const DeviceTensor& t = weights->at(name);
    return WeightView{t.type, t.ne0, t.ne1, t.data.get(), t.f16.get(), t.floats()};
  };
  m.cache = [&](const std::string& name) {
    const CacheState& c = caches.at(name);
    return CachePlanes{c.k.get(), c.v.get()};
  };
  m.rope_table = [&](const RopeTableKey& key) { return rope_tables.at(key).as<float>(); };
  std::optional<StepLaunches> step = build_step_launches(*plan, m, diag);
  if (!step) return false;
  w.step = std::move(*step);
  return true;
}

cudaError_t Executor::Impl::run(const OpLaunches& l) const {
  for (const LaunchRecord& r : l.records)
    if (cudaError_t e = enqueue(r, stream.s, cublas); e != cudaSuccess) return e;
  return cudaSuccess;
}

cudaError_t Executor::Impl::run_eagerly(WidthState& w, const LaunchFilter& include) {
  for (const OpLaunches& l : w.step.ops)
    if (!include || include(l))
      if (cudaError_t e = run(l); e != cudaSuccess) return e;
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
