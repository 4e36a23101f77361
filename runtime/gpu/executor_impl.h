// The GPU executor's state, shared by its files (private to runtime/gpu): executor.cpp creates an
// executor, steps it and times it; executor_launches.cpp turns each plan op into its launches at
// one width and captures them as a graph.
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

// One op's work at one width: enqueues its kernels (and cuBLAS calls) on a stream.
struct Launch {
  const Op* op = nullptr;
  std::string route;
  std::function<cudaError_t(cudaStream_t)> run;
  std::vector<const Op*> group;  // the matmuls launched with `op` (group-matmuls)
};

struct CacheState {
  const KvCache* decl = nullptr;
  DeviceBuffer k, v;  // no K on a v_only cache
  KvCacheRef ref;
};

// A v_only cache's keys, and the queries and keys of rms_norm_rope, rotate by the (cos, sin) of
// their rotated pairs at every position of the plan's context: one table per distinct RoPE,
// [position][pair] (cpu::rope_table).
using RopeTableKey = std::tuple<int64_t, int64_t, double>;  // head_dim, rotated_pairs, theta

inline RopeTableKey rope_table_key(const Op& rms_norm_rope) {
  return {rms_norm_rope.get_int("head_dim"), rms_norm_rope.get_int("rotated_pairs"), rms_norm_rope.get_number("theta")};
}

struct WidthState {
  int64_t width = 0;
  DeviceBuffer arena;
  // The step's tokens, positions and sequences (width int32 each): the step's first launches copy
  // them into the arena, so a graph replay (or a profile run) always starts from real inputs even
  // though later values reuse the inputs' storage.
  DeviceBuffer staging;
  // The counters of attention kernels that merge their own splits (combine = last_block): zeroed
  // once, left zeroed by each launch, shared by the step's attention ops (they run one after another).
  DeviceBuffer attention_tickets;
  std::vector<Launch> launches;
  cudaGraphExec_t graph = nullptr;
  size_t graph_nodes = 0;  // of the captured step
  int32_t *tokens = nullptr, *positions = nullptr, *sequences = nullptr;
  const float* logits = nullptr;
  const int32_t* next = nullptr;
  ~WidthState() {
    if (graph) cudaGraphExecDestroy(graph);
  }
};

struct Executor::Impl {
  const Plan* plan = nullptr;
  ExecutorOptions options;
  StorageAnalysis storage;
  std::map<std::string, int64_t> buffer_offsets;
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

  void* address(WidthState& w, const std::string& value) {
    const ValueStorage& v = storage.values.at(value);
    return static_cast<char*>(w.arena.get()) + w.width * (buffer_offsets.at(v.root) + v.seq_offset);
  }
  // An op's scratch; a matmul that reads another op's prepared activations (quantize-once,
  // quantize-in-producer), that one's.
  void* scratch(WidthState& w, const Op& op) {
    const Attr* from = op.kind == OpKind::matmul ? op.find("activations_from") : nullptr;
    auto it = buffer_offsets.find(from ? activations_scratch_name(*from) : scratch_name(op));
    return it == buffer_offsets.end() ? nullptr : static_cast<char*>(w.arena.get()) + w.width * it->second;
  }
  int64_t elements(const WidthState& w, const std::string& value) const {
    return w.width * storage.values.at(value).seq_bytes / 4;
  }

  bool allocate_caches(DiagnosticEngine& diag);
  bool build_launches(WidthState& w, DiagnosticEngine& diag);
  std::optional<Launch> launch_for(const Op& op, WidthState& w, DiagnosticEngine& diag);
  AttentionInputsCall attention_inputs_call(const AttentionInputs& in, WidthState& w);
  bool capture(WidthState& w, DiagnosticEngine& diag);
  using LaunchFilter = std::function<bool(const Launch&)>;
  cudaError_t capture_graph(WidthState& w, const LaunchFilter& include, cudaGraphExec_t& exec, size_t* nodes);
  cudaError_t run_eagerly(WidthState& w, const LaunchFilter& include = nullptr);
};

}  // namespace g4c::gpu
