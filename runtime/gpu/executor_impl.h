// The GPU executor's state, shared by its files (private to runtime/gpu): executor.cpp creates an
// executor, steps it and times it; executor_launches.cpp builds each width's launch records
// (step_launches.h) in its memory, enqueues them and captures them as a graph.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "g4c/plan/kernels.h"
#include "g4c/plan/storage.h"
#include "g4c/runtime/gpu/device_weights.h"
#include "g4c/runtime/gpu/executor.h"
#include "g4c/runtime/gpu/launch_ops.h"
#include "g4c/runtime/gpu/step_launches.h"

namespace g4c::gpu {

using namespace plan;

inline constexpr int64_t kCublasWorkspaceBytes = int64_t{32} << 20;

// A CUDA stream, event or graph that releases itself.
struct Stream {
  cudaStream_t s = nullptr;
  Stream() { cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking); }
  ~Stream() { cudaStreamDestroy(s); }
};

// Pinned host memory for the per-step copies.
template <class T>
struct Pinned {
  T* p = nullptr;
  explicit Pinned(size_t count) { cudaMallocHost(&p, std::max<size_t>(count, 1) * sizeof(T)); }
  ~Pinned() { cudaFreeHost(p); }
};

struct CacheState {
  const KvCache* decl = nullptr;
  DeviceBuffer k, v;  // no K on a v_only cache
};

struct WidthState {
  int64_t width = 0;
  DeviceBuffer arena;
  // The step's tokens, positions and sequences (width int32 each): the step's first launches copy
  // them into the arena, so a graph replay (or a profile run) always starts from real inputs even
  // though later values reuse the inputs' storage.
  DeviceBuffer staging;
  // The counters of the step's last-block kernels (attention's combine = last_block, a matmul's
  // geglu epilogue; step_tickets): zeroed once, left zeroed by each launch, shared by the step's
  // ops (they run one after another).
  DeviceBuffer tickets;
  StepLaunches step;  // every op's launch records at this width
  cudaGraphExec_t graph = nullptr;
  size_t graph_nodes = 0;  // of the captured step
  ~WidthState() {
    if (graph) cudaGraphExecDestroy(graph);
  }
};

struct Executor::Impl {
  const Plan* plan = nullptr;
  ExecutorOptions options;
  std::optional<KernelLibrary> library;
  std::optional<DeviceWeights> weights;
  std::map<std::string, CacheState> caches;
  std::map<RopeTableKey, DeviceBuffer> rope_tables;
  std::vector<std::unique_ptr<WidthState>> widths;
  cublasHandle_t cublas = nullptr;
  DeviceBuffer cublas_workspace;
  Stream stream;
  std::unique_ptr<Pinned<int32_t>> host_inputs, host_next;
  std::unique_ptr<Pinned<float>> host_logits;

  ~Impl() {
    widths.clear();
    if (cublas) cublasDestroy(cublas);
  }

  bool allocate_caches(DiagnosticEngine& diag);
  bool build_launches(WidthState& w, DiagnosticEngine& diag);
  bool capture(WidthState& w, DiagnosticEngine& diag);
  cudaError_t run(const OpLaunches& l) const;
  using LaunchFilter = std::function<bool(const OpLaunches&)>;
  cudaError_t capture_graph(WidthState& w, const LaunchFilter& include, cudaGraphExec_t& exec, size_t* nodes);
  cudaError_t run_eagerly(WidthState& w, const LaunchFilter& include = nullptr);
};

}  // namespace g4c::gpu
