// Creating an executor, stepping it and timing it; its state and per-op launches: executor_impl.h,
// executor_launches.cpp.
#include "g4c/runtime/gpu/executor.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <tuple>

#include "g4c/plan/bytes_read.h"
#include "g4c/plan/kernels.h"
#include "g4c/plan/storage.h"
#include "g4c/runtime/cpu_ops.h"
#include "g4c/runtime/gpu/device_weights.h"
#include "g4c/runtime/gpu/launch_matmul.h"
#include "g4c/runtime/gpu/launch_ops.h"
#include "g4c/runtime/load_weights.h"
#include "executor_impl.h"

namespace g4c::gpu {

namespace {

std::string gib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f GiB", static_cast<double>(bytes) / (1 << 30));
  return text;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

std::string WeightSource::description() const {
  return random_seed ? "random:seed=" + std::to_string(*random_seed) : host ? host->description() : "no weights";
}

namespace {

// The RoPE tables a plan's executor builds (executor_impl.h, RopeTableKey), and their bytes.
std::set<RopeTableKey> rope_tables_of(const Plan& plan) {
  std::set<RopeTableKey> keys;
  for (const KvCache& c : *plan.caches)
    if (c.v_only() && c.k_from_v.rotated_pairs > 0)
      keys.insert({c.k_from_v.head_dim, c.k_from_v.rotated_pairs, c.k_from_v.theta});
  for (const Op* op : plan.ops())  // rms_norm_rope looks its angles up too
    if (op->kind == OpKind::rms_norm_rope && op->get_int("rotated_pairs") > 0) keys.insert(rope_table_key(*op));
  return keys;
}

int64_t rope_table_bytes(const Plan& plan, const RopeTableKey& key) {
  return rope_table_floats(plan.header.context, std::get<1>(key)) * static_cast<int64_t>(sizeof(float));
}

}  // namespace

//===----------------------------------------------------------------------===//
// Creation
//===----------------------------------------------------------------------===//

MemoryPlan plan_memory(const Plan& plan, int max_sequences) {
  MemoryPlan m;
  for (const WeightDecl& w : plan.weights) m.weights += device_weight_bytes(w);
  m.weight_copies = plan_weight_copies(plan).bytes;
  for (const KvCache& c : *plan.caches) m.kv_per_sequence += c.seq_bytes();
  m.caches = m.kv_per_sequence * max_sequences;
  for (int64_t w : plan.header.widths) m.arenas += w * plan.buffers->seq_bytes;
  m.workspace = kCublasWorkspaceBytes;
  for (const RopeTableKey& key : rope_tables_of(plan)) m.rope_tables += rope_table_bytes(plan, key);
  return m;
}

namespace {

// The plan's kernel instances, plus the random-weight generators of its types when the weights
// are generated on the device.
std::vector<JitRequest> executor_kernels(const Plan& plan, bool random_weights) {
  std::vector<JitRequest> requests = jit_requests(plan);
  if (!random_weights) return requests;
  std::map<QuantType, bool> types;
  for (const WeightDecl& w : plan.weights) types[w.type] = true;
  for (const auto& [type, used] : types)
    requests.push_back({kernel_instance("random_weights", {{"type", Ident{std::string(name(type))}}}),
                        "random weights"});
  return requests;
}

}  // namespace

int64_t MemoryPlan::sequences_that_fit(int64_t free_bytes, int64_t headroom) const {
  const int64_t room = free_bytes - headroom - (total() - caches);
  return kv_per_sequence > 0 && room > 0 ? room / kv_per_sequence : 0;
}

std::string MemoryPlan::describe(int64_t free_bytes, int64_t headroom, const std::string& device) const {
  char per_sequence[32];
  std::snprintf(per_sequence, sizeof per_sequence, "%.1f MiB", static_cast<double>(kv_per_sequence) / (1 << 20));
  return "weights " + gib(weights) + ", weight copies " + gib(weight_copies) + ", arenas " + gib(arenas) +
         ", rope tables " + gib(rope_tables) + ", KV caches " + per_sequence + " per sequence; " +
         std::to_string(sequences_that_fit(free_bytes, headroom)) + " sequences fit in the " + gib(free_bytes) +
         " free on " + device;
}

// Caches for max_sequences sequences (V alone on v_only ones, with the K-norm weight and rope
// table that rebuild their keys), zeroed or poisoned.
bool Executor::Impl::allocate_caches(DiagnosticEngine& diag) {
  for (const RopeTableKey& key : rope_tables_of(*plan)) {
    const auto& [head_dim, pairs, theta] = key;
    const std::vector<cpu::CosSin> table = cpu::rope_table(theta, head_dim, pairs, plan->header.context);
    DeviceBuffer& buffer = rope_tables[key] = DeviceBuffer(table.size() * sizeof(cpu::CosSin));
    if (!buffer.ok()) {
      diag.error({}, "out of device memory allocating a rope table of " + std::to_string(plan->header.context) +
                         " positions");
      return false;
    }
    buffer.upload(table.data(), table.size() * sizeof(cpu::CosSin));
  }
  const unsigned char fill = options.poison_memory ? 0xFF : 0;
  for (const KvCache& c : *plan->caches) {
    CacheState& state = caches[c.name];
    state.decl = &c;
    const size_t bytes = static_cast<size_t>(c.plane_seq_bytes() * options.max_sequences);
    if (!c.v_only()) state.k = DeviceBuffer(bytes);
    state.v = DeviceBuffer(bytes);
    if (!state.k.ok() || !state.v.ok()) {
      diag.error({}, "out of device memory allocating KV cache " + c.name);
      return false;
    }
    state.k.fill(fill), state.v.fill(fill);
  }
  return true;
}

Executor::Executor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)), plan_(impl_->plan) {}
Executor::~Executor() = default;

std::unique_ptr<Executor> Executor::create(const Plan& plan, const WeightSource& source,
                                           const ExecutorOptions& options, DiagnosticEngine& diag) {
  std::string why;
  auto device = find_device(why);
  if (!device) {
    diag.error({}, "no CUDA device: " + why);
    return nullptr;
  }
  if (!check_runnable(plan, diag)) return nullptr;
  if (source.host && !check_weights_match_plan(plan, *source.host, diag)) return nullptr;
  if (options.max_sequences < 1) {
    diag.error({}, "an executor needs room for at least one sequence");
    return nullptr;
  }
  const MemoryPlan memory = plan_memory(plan, options.max_sequences);
  const int64_t free_bytes = static_cast<int64_t>(device->free_bytes);
  if (memory.total() + kDeviceHeadroomBytes > free_bytes) {
    diag.error({}, plan.header.name + " needs " + gib(memory.total()) + " on the device (weights " + gib(memory.weights) +
                       ", weight copies " + gib(memory.weight_copies) + ", KV caches for " +
                       std::to_string(options.max_sequences) + " sequences " + gib(memory.caches) + ", arenas " +
                       gib(memory.arenas) + ", rope tables " + gib(memory.rope_tables) + ") but " + device->name +
                       " has " + gib(free_bytes) + " free, room for " +
                       std::to_string(memory.sequences_that_fit(free_bytes, kDeviceHeadroomBytes)) +
                       " sequences; compile with a shorter --context or run fewer sequences");
    return nullptr;
  }
  if (options.progress) options.progress("memory: " + memory.describe(free_bytes, kDeviceHeadroomBytes, device->name));

  auto impl = std::make_unique<Impl>();
  impl->plan = &plan;
  impl->options = options;

  JitOptions jit = options.jit;
  jit.arch = device->arch();
  if (options.early_launch) jit.defines.push_back("G4C_EARLY_LAUNCH");
  JitStats stats;
  auto programs = jit_compile(executor_kernels(plan, source.random_seed.has_value()), jit, stats, diag);
  if (!programs) return nullptr;
  impl->library = KernelLibrary::load(*programs, diag);
  if (!impl->library) return nullptr;

  impl->weights = source.random_seed
                      ? DeviceWeights::generate(plan, *source.random_seed, *impl->library, diag, options.progress)
                      : DeviceWeights::upload(plan, *source.host, diag, options.progress);
  if (!impl->weights || !impl->weights->make_copies(plan, *impl->library, diag)) return nullptr;

  if (!impl->allocate_caches(diag)) return nullptr;

  if (cublasCreate(&impl->cublas) != CUBLAS_STATUS_SUCCESS) {
    diag.error({}, "cuBLAS failed to initialize");
    return nullptr;
  }
  impl->cublas_workspace = DeviceBuffer(kCublasWorkspaceBytes);
  cublasSetWorkspace(impl->cublas, impl->cublas_workspace.get(), kCublasWorkspaceBytes);
  cublasSetStream(impl->cublas, impl->stream.s);

  for (int64_t width : plan.header.widths) {
    auto w = std::make_unique<WidthState>();
    w->width = width;
    w->arena = DeviceBuffer(static_cast<size_t>(width * plan.buffers->seq_bytes));
    if (!w->arena.ok()) {
      diag.error({}, "out of device memory allocating the width-" + std::to_string(width) + " arena");
      return nullptr;
    }
    w->arena.fill(options.poison_memory ? 0xFF : 0);
    w->staging = DeviceBuffer(static_cast<size_t>(3 * width * 4));
    w->tickets = DeviceBuffer(static_cast<size_t>(step_tickets(plan, width) * 4));
    if (w->tickets.ok()) w->tickets.fill(0);
    if (!w->staging.ok() || !w->tickets.ok()) {
      diag.error({}, "out of device memory allocating the width-" + std::to_string(width) + " inputs");
      return nullptr;
    }
    if (!impl->build_launches(*w, diag)) return nullptr;
    impl->widths.push_back(std::move(w));
  }
  const int64_t widest = plan.header.widths.back();
  impl->host_inputs = std::make_unique<Pinned<int32_t>>(3 * widest);
  impl->host_next = std::make_unique<Pinned<int32_t>>(widest);
  impl->host_logits = std::make_unique<Pinned<float>>(widest * plan.header.vocab);
  if (cudaError_t e = cudaDeviceSynchronize(); e != cudaSuccess) {
    diag.error({}, std::string("setting up the device failed: ") + cudaGetErrorString(e));
    return nullptr;
  }

  std::unique_ptr<Executor> executor(new Executor(std::move(impl)));
  executor->device_ = *device;
  executor->memory_ = memory;
  executor->jit_stats_ = stats;
  executor->keep_logits_ = options.keep_logits;
  return executor;
}

//===----------------------------------------------------------------------===//
// Steps
//===----------------------------------------------------------------------===//

std::optional<StepOutput> Executor::step(const StepRows& rows, DiagnosticEngine& diag) {
  if (!check_step_rows(*plan_, impl_->options.max_sequences, rows, diag)) return std::nullopt;
  const int64_t n = static_cast<int64_t>(rows.tokens.size());
  const auto& widths = plan_->header.widths;
  const size_t index = std::lower_bound(widths.begin(), widths.end(), n) - widths.begin();
  WidthState& w = *impl_->widths[index];
  const cudaStream_t s = impl_->stream.s;
  // Capturing runs the step once on padding rows through the staging buffer: before this step's
  // inputs are copied there.
  if (impl_->options.use_graphs && !w.graph && !impl_->capture(w, diag)) return std::nullopt;

  int32_t* in = impl_->host_inputs->p;
  for (int64_t r = 0; r < w.width; ++r) {
    const bool real = r < n;
    in[r] = real ? rows.tokens[r] : 0;
    in[w.width + r] = real ? rows.positions[r] : 0;
    in[2 * w.width + r] = real ? rows.sequences[r] : -1;  // padding rows touch no cache
  }
  cudaError_t e = cudaMemcpyAsync(w.staging.get(), in, static_cast<size_t>(3 * w.width) * 4, cudaMemcpyHostToDevice, s);
  if (e == cudaSuccess && impl_->options.poison_memory) e = cudaMemsetAsync(w.arena.get(), 0xFF, w.arena.bytes(), s);
  if (e == cudaSuccess) e = impl_->options.use_graphs ? cudaGraphLaunch(w.graph, s) : impl_->run_eagerly(w);
  const int64_t vocab = plan_->header.vocab;
  if (e == cudaSuccess)
    e = cudaMemcpyAsync(impl_->host_next->p, w.step.next, static_cast<size_t>(n) * 4, cudaMemcpyDeviceToHost, s);
  if (e == cudaSuccess && keep_logits_ && w.step.logits)
    e = cudaMemcpyAsync(impl_->host_logits->p, w.step.logits, static_cast<size_t>(n * vocab) * 4, cudaMemcpyDeviceToHost, s);
  if (e == cudaSuccess) e = cudaStreamSynchronize(s);
  if (e != cudaSuccess) {
    diag.error({}, std::string("a decode step on the device failed: ") + cudaGetErrorString(e));
    return std::nullopt;
  }
  StepOutput out;
  out.width = w.width;
  out.next.assign(impl_->host_next->p, impl_->host_next->p + n);
  if (keep_logits_ && w.step.logits) out.logits.assign(impl_->host_logits->p, impl_->host_logits->p + n * vocab);
  return out;
}

void Executor::reset_sequence(int slot) {
  const int fill = impl_->options.poison_memory ? 0xFF : 0;
  for (auto& [name, c] : impl_->caches) {
    const int64_t per_sequence = c.decl->plane_seq_bytes();
    for (DeviceBuffer* plane : {&c.k, &c.v})
      if (plane->get())
        cudaMemset(static_cast<char*>(plane->get()) + slot * per_sequence, fill, static_cast<size_t>(per_sequence));
  }
  cudaDeviceSynchronize();
}

int64_t Executor::graph_nodes(int64_t width) const {
  const auto& widths = plan_->header.widths;
  const auto at = std::find(widths.begin(), widths.end(), width);
  return at == widths.end() ? 0 : static_cast<int64_t>(impl_->widths[at - widths.begin()]->graph_nodes);
}

//===----------------------------------------------------------------------===//
// Timing
//===----------------------------------------------------------------------===//

namespace {

struct Events {
  cudaEvent_t start = nullptr, stop = nullptr;
  Events() { cudaEventCreate(&start), cudaEventCreate(&stop); }
  ~Events() { cudaEventDestroy(start), cudaEventDestroy(stop); }
  double ms() const {
    float t = 0;
    cudaEventElapsedTime(&t, start, stop);
    return t;
  }
};

}  // namespace

std::vector<OpTiming> Executor::profile(int64_t width, std::span<const int32_t> positions, int repeats) {
  const auto& widths = plan_->header.widths;
  WidthState& w = *impl_->widths[std::lower_bound(widths.begin(), widths.end(), width) - widths.begin()];
  const cudaStream_t s = impl_->stream.s;
  const std::vector<OpLaunches>& launches = w.step.ops;
  std::vector<std::vector<double>> times(launches.size());
  Events events;
  impl_->run_eagerly(w);  // warm-up
  for (int r = 0; r < repeats; ++r)
    for (size_t i = 0; i < launches.size(); ++i) {
      cudaEventRecord(events.start, s);
      impl_->run(launches[i]);
      cudaEventRecord(events.stop, s);
      cudaEventSynchronize(events.stop);
      times[i].push_back(events.ms());
    }
  std::vector<OpTiming> out;
  for (size_t i = 0; i < launches.size(); ++i) {
    const Op& op = *launches[i].op;
    int64_t bytes = weight_bytes_read(*plan_, op, w.width) + kv_bytes_read(*plan_, op, positions);
    std::string name = "%" + op.result;
    for (const Op* member : launches[i].group) {  // one launch computes them all
      bytes += weight_bytes_read(*plan_, *member, w.width);
      name += "+%" + member->result;
    }
    out.push_back({name, std::string(schema(op.kind).name), launches[i].route, median(times[i]), bytes});
  }
  return out;
}

namespace {

// The median of `repeats` timed runs after three untimed ones.
template <class Run>
double median_run_ms(cudaStream_t s, int repeats, Run run) {
  for (int i = 0; i < 3; ++i) run();
  Events events;
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    cudaEventRecord(events.start, s);
    run();
    cudaEventRecord(events.stop, s);
    cudaEventSynchronize(events.stop);
    times.push_back(events.ms());
  }
  return median(times);
}

}  // namespace

double Executor::time_step(int64_t width, int repeats) {
  const auto& widths = plan_->header.widths;
  WidthState& w = *impl_->widths[std::lower_bound(widths.begin(), widths.end(), width) - widths.begin()];
  const cudaStream_t s = impl_->stream.s;
  DiagnosticEngine ignored;
  if (impl_->options.use_graphs && !w.graph && !impl_->capture(w, ignored)) return 0;
  return median_run_ms(s, repeats,
                       [&] { return impl_->options.use_graphs ? cudaGraphLaunch(w.graph, s) : impl_->run_eagerly(w); });
}

std::vector<StepPart> Executor::time_step_parts(int64_t width, int repeats) {
  const auto& widths = plan_->header.widths;
  WidthState& w = *impl_->widths[std::lower_bound(widths.begin(), widths.end(), width) - widths.begin()];
  const cudaStream_t s = impl_->stream.s;
  DiagnosticEngine ignored;
  if (!w.graph && !impl_->capture(w, ignored)) return {};
  std::vector<StepPart> parts;
  for (const OpLaunches& l : w.step.ops) {
    const std::string kind(schema(l.op->kind).name);
    if (std::none_of(parts.begin(), parts.end(), [&](const StepPart& p) { return p.kind == kind; }))
      parts.push_back({kind, 0, 0});
  }
  for (StepPart& part : parts) {
    const Impl::LaunchFilter only = [&](const OpLaunches& l) { return schema(l.op->kind).name == part.kind; };
    for (const OpLaunches& l : w.step.ops)  // the step's input copies, one each; the op's kernels
      if (only(l)) part.launches += static_cast<int64_t>(l.records.size());
    cudaGraphExec_t exec = nullptr;
    if (impl_->capture_graph(w, only, exec, nullptr) != cudaSuccess) return {};
    part.ms = median_run_ms(s, repeats, [&] { return cudaGraphLaunch(exec, s); });
    cudaGraphExecDestroy(exec);
  }
  return parts;
}

}  // namespace g4c::gpu
