#include "g4c/runtime/gpu/tune.h"

#include <cublas_v2.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <tuple>

#include "g4c/kernels/matmul_args.h"
#include "g4c/kernels/weight_layouts_host.h"
#include "g4c/plan/bytes_read.h"
#include "g4c/plan/kernels.h"
#include "g4c/plan/routes.h"
#include "g4c/runtime/gpu/cuda.h"
#include "g4c/runtime/gpu/launch_matmul.h"
#include "g4c/runtime/load_weights.h"
#include "g4c/runtime/matmul_check.h"

namespace g4c::gpu {

using plan::Route;

namespace {

constexpr int64_t kCublasWorkspaceBytes = int64_t{32} << 20;
// Each replay streams at least this many weight bytes (capped by kMaxLaunches), so its time is
// far above the events' resolution and a graph launch's fixed cost.
constexpr int64_t kReplayBytes = int64_t{256} << 20;
constexpr int64_t kMaxLaunches = 256;
// The rotating copies together exceed the L2 this many times over.
constexpr int64_t kL2Multiple = 4;
// Copies are this far apart, so each starts 16-byte aligned with the kernels' read-past slack.
constexpr int64_t kCopyAlignment = 256;

std::string format(const char* fmt, auto... args) {
  char text[512];
  std::snprintf(text, sizeof text, fmt, args...);
  return text;
}

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::vector<float> uniform_floats(size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// A CUDA stream and two events that release themselves.
struct Timer {
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  Timer() {
    cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
    cudaEventCreate(&start), cudaEventCreate(&stop);
  }
  ~Timer() {
    cudaEventDestroy(start), cudaEventDestroy(stop);
    cudaStreamDestroy(stream);
  }
};

// `count` copies of one weight, kCopyAlignment apart, in the route's storage (the weight's own
// type, or the fp16 copy the cublas route multiplies).
struct WeightCopies {
  DeviceBuffer data;
  int64_t stride = 0, count = 0, bytes = 0;
  const void* copy(int64_t i) const { return static_cast<const char*>(data.get()) + (i % count) * stride; }
};

// Launches of one timed replay of a weight of `bytes`: enough to stream kReplayBytes.
int64_t replay_launches(int64_t bytes) {
  return std::clamp<int64_t>((kReplayBytes + bytes - 1) / bytes, 1, kMaxLaunches);
}

// As many copies as rotate past the L2, but no more than one replay launches.
int64_t copies_for(int64_t bytes, int64_t l2_bytes) {
  return std::clamp<int64_t>((kL2Multiple * l2_bytes + bytes - 1) / bytes, 1, replay_launches(bytes));
}

std::string check_cuda(cudaError_t e, const std::string& what) {
  return e == cudaSuccess ? "" : what + ": " + cudaGetErrorString(e);
}

// Everything one shape's candidates share: its weight on the host (for the CPU check) and on the
// device, activations, outputs, scratch and the CPU reference.
class ShapeBench {
 public:
  ShapeBench(const MatmulShape& shape, const TuneOptions& options, int64_t l2_bytes, const KernelLibrary& library,
             cublasHandle_t cublas, Timer& timer)
      : shape_(shape), options_(options), l2_bytes_(l2_bytes), library_(library), cublas_(cublas), timer_(timer) {}

  // Generates the weight and the CPU reference; a CUDA error's text, or empty.
  std::string prepare(uint64_t seed);
  // Checks, then times one route at one width.
  TuneCandidate measure(Route route, int64_t width, std::string& cuda_failure);

 private:
  OpKernels kernels(Route route, int64_t width) const;
  template <class Prepare>
  std::string make_derived_copies(WeightCopies& copies, int64_t bytes, const char* what, Prepare prepare);
  std::string make_f16_copies();
  std::string make_mma16_copies(Route route);
  const WeightCopies& copies_for_route(Route route) const;
  MatmulCall call(Route route, int64_t width, int64_t copy) const;
  std::string check(Route route, int64_t width, TuneCandidate& c);
  std::string time(Route route, int64_t width, double& median_us);

  const MatmulShape& shape_;
  const TuneOptions& options_;
  int64_t l2_bytes_;
  const KernelLibrary& library_;
  cublasHandle_t cublas_;
  Timer& timer_;
  WeightSet host_;
  WeightCopies weights_, weights_f16_, weights_mma16_;
  DeviceBuffer x_, y_, scratch_;
  MatmulReference reference_;
};

std::string ShapeBench::prepare(uint64_t seed) {
  const TensorShape tensor{"w", shape_.type, shape_.cols, shape_.rows};
  host_ = random_weights(std::span(&tensor, 1), seed);
  const HostTensor& w = host_.at("w");
  weights_.bytes = static_cast<int64_t>(w.bytes.size());
  weights_.count = copies_for(weights_.bytes, l2_bytes_);
  weights_.stride = round_up(weights_.bytes + 16, kCopyAlignment);
  weights_.data = DeviceBuffer(weights_.stride * weights_.count);
  if (!weights_.data.get()) return "cudaMalloc of the weight copies failed";
  for (int64_t i = 0; i < weights_.count; ++i)
    weights_.data.upload(w.bytes.data(), w.bytes.size(), i * weights_.stride);

  const int64_t max_width = matmul::kMaxWidth;
  const std::vector<float> x = uniform_floats(static_cast<size_t>(max_width * shape_.cols), seed + 1);
  x_ = DeviceBuffer(x.size() * sizeof(float));
  y_ = DeviceBuffer(static_cast<size_t>(max_width * shape_.rows) * sizeof(float));
  int64_t scratch = 16;
  for (Route r : plan::kAllRoutes)
    scratch = std::max(scratch, max_width * plan::route_scratch_seq_bytes(r, shape_.type, shape_.cols));
  scratch_ = DeviceBuffer(scratch);
  if (!x_.get() || !y_.get() || !scratch_.get()) return "cudaMalloc of activations, outputs or scratch failed";
  x_.upload(x.data(), x.size() * sizeof(float));
  reference_ = cpu_matmul_reference(w, x, static_cast<int>(max_width), spread_rows(shape_.rows, options_.check_rows));
  // The copies went through the legacy stream, which the timing stream does not wait for.
  return check_cuda(cudaDeviceSynchronize(), "uploading the weight");
}

OpKernels ShapeBench::kernels(Route route, int64_t width) const {
  return library_.by_role(plan::matmul_route_kernels(route, shape_.type, width));
}

// Copies of a form of the weight that a route reads instead of the weight itself, each made from
// the weight by `prepare` (a load-time kernel launch) once, as at load.
template <class Prepare>
std::string ShapeBench::make_derived_copies(WeightCopies& copies, int64_t bytes, const char* what, Prepare prepare) {
  if (copies.data.get()) return "";
  copies.bytes = bytes;
  copies.count = copies_for(bytes, l2_bytes_);
  copies.stride = round_up(bytes + 16, kCopyAlignment);
  copies.data = DeviceBuffer(copies.stride * copies.count);
  if (!copies.data.get()) return std::string("cudaMalloc of the copies for ") + what + " failed";
  for (int64_t i = 0; i < copies.count; ++i)
    if (std::string e = check_cuda(prepare(static_cast<char*>(copies.data.get()) + i * copies.stride), what); !e.empty())
      return e;
  return check_cuda(cudaStreamSynchronize(timer_.stream), what);
}

// The cublas route multiplies an fp16 copy of a quantized weight.
std::string ShapeBench::make_f16_copies() {
  if (info(shape_.type).is_float) return "";
  const cudaKernel_t dequantize = kernels(Route::cublas, 1).weight_at_load;
  return make_derived_copies(weights_f16_, shape_.rows * shape_.cols * 2, "dequantize_f16", [&](void* out) {
    return prepare_cublas_weight(dequantize, weights_.copy(0), shape_.type, shape_.rows, shape_.cols, out,
                                 timer_.stream);
  });
}

// The mma16 and mma16h routes multiply the weight repacked into its layout (by the route's
// weight_at_load kernel).
std::string ShapeBench::make_mma16_copies(Route route) {
  const cudaKernel_t repack = kernels(route, 1).weight_at_load;
  return make_derived_copies(weights_mma16_, mma16_bytes(shape_.type, shape_.rows, shape_.cols), "repack_mma16",
                             [&](void* out) {
                               return prepare_mma16_weight(repack, weights_.copy(0), shape_.type, shape_.rows,
                                                           shape_.cols, out, timer_.stream);
                             });
}

// The copies a route reads: the weight's own, its fp16 copy (cublas on a quantized weight) or its
// repacked copy (mma16, mma16h).
const WeightCopies& ShapeBench::copies_for_route(Route route) const {
  if (route == Route::cublas && !info(shape_.type).is_float) return weights_f16_;
  return plan::route_layout(route) == WeightLayout::mma16 ? weights_mma16_ : weights_;
}

MatmulCall ShapeBench::call(Route route, int64_t width, int64_t copy) const {
  const bool f16 = route == Route::cublas && !info(shape_.type).is_float;
  const int64_t scratch = width * plan::route_scratch_seq_bytes(route, shape_.type, shape_.cols);
  return MatmulCall{f16 ? weights_.copy(0) : copies_for_route(route).copy(copy),
                    f16 ? weights_f16_.copy(copy) : nullptr,
                    shape_.type,
                    shape_.rows,
                    shape_.cols,
                    x_.as<float>(),
                    y_.as<float>(),
                    static_cast<int>(width),
                    scratch ? scratch_.get() : nullptr};
}

// Runs the route once on poisoned outputs and compares with the CPU op; a launch the launcher
// refuses (a precondition, a shared-memory size) rejects the candidate, a failure while it runs
// (which leaves the context unusable) is returned.
std::string ShapeBench::check(Route route, int64_t width, TuneCandidate& c) {
  y_.fill(0xFF);
  if (std::string e = check_cuda(cudaDeviceSynchronize(), "poisoning the outputs"); !e.empty()) return e;
  if (cudaError_t e = launch_matmul(route, kernels(route, width), call(route, width, 0), timer_.stream, cublas_);
      e != cudaSuccess) {
    c.rejected = std::string("launch failed: ") + cudaGetErrorString(e);
    cudaGetLastError();  // launch errors are not sticky: clear it for the next candidate
    return "";
  }
  if (std::string e = check_cuda(cudaStreamSynchronize(timer_.stream), "matmul"); !e.empty()) return e;
  std::vector<float> got(static_cast<size_t>(width * shape_.rows));
  y_.download(got.data(), got.size() * sizeof(float));
  const MatmulErrors errors = measure_matmul_errors(got, reference_, static_cast<int>(width), shape_.rows);
  const RouteErrorRatios ratios = route_error_ratios(route, shape_.type, errors);
  c.error_ratio = !errors.comparable() ? INFINITY : std::max(ratios.element, ratios.overall);
  if (!ratios.passes(errors))
    c.rejected =
        !errors.comparable() ? "non-finite or missing outputs (NaN: left unwritten)" : format("output %.3g× its bound against the CPU op", c.error_ratio);
  return "";
}

// One graph of back-to-back launches over the rotating copies, replayed: µs per launch.
std::string ShapeBench::time(Route route, int64_t width, double& median_us) {
  const WeightCopies& copies = copies_for_route(route);
  const int64_t launches = replay_launches(copies.bytes);  // ≥ copies.count (copies_for)
  const OpKernels k = kernels(route, width);
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  cudaError_t e = cudaStreamBeginCapture(timer_.stream, cudaStreamCaptureModeThreadLocal);
  for (int64_t i = 0; i < launches && e == cudaSuccess; ++i)
    e = launch_matmul(route, k, call(route, width, i), timer_.stream, cublas_);
  const cudaError_t end = cudaStreamEndCapture(timer_.stream, &graph);
  if (e == cudaSuccess) e = end;
  if (e == cudaSuccess) e = cudaGraphInstantiate(&exec, graph, 0);
  std::vector<double> samples;
  for (int i = 0; i < options_.warmup + options_.repeats && e == cudaSuccess; ++i) {
    e = cudaEventRecord(timer_.start, timer_.stream);
    if (e == cudaSuccess) e = cudaGraphLaunch(exec, timer_.stream);
    if (e == cudaSuccess) e = cudaEventRecord(timer_.stop, timer_.stream);
    if (e == cudaSuccess) e = cudaEventSynchronize(timer_.stop);
    float ms = 0;
    if (e == cudaSuccess) e = cudaEventElapsedTime(&ms, timer_.start, timer_.stop);
    if (i >= options_.warmup) samples.push_back(1e3 * ms / static_cast<double>(launches));
  }
  if (exec) cudaGraphExecDestroy(exec);
  if (graph) cudaGraphDestroy(graph);
  median_us = median(samples);
  return check_cuda(e, "timing graph");
}

TuneCandidate ShapeBench::measure(Route route, int64_t width, std::string& cuda_failure) {
  TuneCandidate c;
  c.route = route;
  if (route == Route::cublas && (cuda_failure = make_f16_copies(), !cuda_failure.empty())) return c;
  if (plan::route_layout(route) == WeightLayout::mma16 && (cuda_failure = make_mma16_copies(route), !cuda_failure.empty()))
    return c;
  if (cuda_failure = check(route, width, c); !cuda_failure.empty() || !c.rejected.empty()) return c;
  cuda_failure = time(route, width, c.median_us);
  c.admitted = cuda_failure.empty();
  return c;
}

// The fastest admitted candidate whose route reads `layout`; ties (within options.tie) go to the
// earliest route. chosen_us stays 0 when there is none.
void choose(TuneResult& r, double tie, WeightLayout layout) {
  double best = INFINITY;
  for (const TuneCandidate& c : r.candidates)
    if (c.admitted && plan::route_layout(c.route) == layout) best = std::min(best, c.median_us);
  r.chosen_us = 0;
  for (const TuneCandidate& c : r.candidates)
    if (c.admitted && plan::route_layout(c.route) == layout && c.median_us <= best * (1 + tie)) {
      r.chosen = c.route, r.chosen_us = c.median_us;
      return;
    }
}

// A weight is laid out one way for all widths (compiler/passes/weight_layout.cpp): a shape takes
// the mma16 layout's routes (mma16, mma16h) at every width when they are faster, summed over the
// widths, than the best GGUF route at each; else no width takes them.
void choose_for_shape(std::span<TuneResult> widths, double tie) {
  double repacked = 0, plain = 0;
  for (TuneResult& r : widths) {
    choose(r, tie, WeightLayout::mma16);
    repacked = r.chosen_us > 0 ? repacked + r.chosen_us : INFINITY;
    choose(r, tie, WeightLayout::gguf);
    plain = r.chosen_us > 0 ? plain + r.chosen_us : INFINITY;
  }
  if (repacked < plain)
    for (TuneResult& r : widths) choose(r, tie, WeightLayout::mma16);
}

std::vector<Route> candidate_routes(const MatmulShape& s, const TuneOptions& options) {
  std::vector<Route> out;
  for (Route r : plan::legal_routes(s.type, s.rows, s.cols))
    if (options.routes.empty() || std::find(options.routes.begin(), options.routes.end(), r) != options.routes.end())
      out.push_back(r);
  return out;  // empty when no route of --routes is legal for the shape: the rules keep it
}

// Every kernel instance the candidates launch, compiled and loaded at once.
std::optional<KernelLibrary> load_candidate_kernels(const std::vector<MatmulShape>& shapes, const TuneOptions& options,
                                                    DiagnosticEngine& diag) {
  std::vector<JitRequest> requests;
  std::map<std::string, bool> seen;
  for (const MatmulShape& s : shapes)
    for (Route r : candidate_routes(s, options))
      for (int64_t width : options.widths)
        for (plan::KernelInstance& k : plan::matmul_route_kernels(r, s.type, width))
          if (seen.emplace(k.key(), true).second) requests.push_back({std::move(k), s.ops.front()});
  JitStats stats;
  auto programs = jit_compile(requests, options.jit, stats, diag);
  if (!programs) return std::nullopt;
  if (options.progress)
    options.progress(format("tune: %d kernel instances in %d programs (%d from the cache, %.1f s)", stats.instances,
                            stats.programs, stats.cache_hits, stats.compile_seconds));
  return KernelLibrary::load(*programs, diag);
}

}  // namespace

std::vector<MatmulShape> matmul_shapes(const std::vector<const plan::Plan*>& plans) {
  std::vector<MatmulShape> shapes;
  std::map<std::tuple<QuantType, int64_t, int64_t>, size_t> index;
  for (const plan::Plan* p : plans)
    for (const plan::Op* op : p->ops()) {
      if (op->kind != plan::OpKind::matmul) continue;
      const plan::WeightDecl* w = p->find_weight(op->weight);
      if (!w) continue;
      const auto key = std::make_tuple(w->type, op->get_int("rows"), op->get_int("cols"));
      auto [it, added] = index.emplace(key, shapes.size());
      if (added) shapes.push_back({w->type, std::get<1>(key), std::get<2>(key), {}});
      shapes[it->second].ops.push_back("%" + op->result);
    }
  return shapes;
}

std::optional<std::vector<TuneResult>> tune_matmuls(const std::vector<MatmulShape>& shapes, const TuneOptions& options,
                                                    DiagnosticEngine& diag) {
  for (int64_t w : options.widths)
    if (w < 1 || w > matmul::kMaxWidth) {
      diag.error({}, format("tune: width %lld: the matmul routes run widths 1..%d", static_cast<long long>(w),
                            matmul::kMaxWidth));
      return std::nullopt;
    }
  auto library = load_candidate_kernels(shapes, options, diag);
  if (!library) return std::nullopt;
  int device = 0, l2_bytes = 0;
  cudaGetDevice(&device);
  cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device);
  cublasHandle_t cublas = nullptr;
  if (cublasCreate(&cublas) != CUBLAS_STATUS_SUCCESS) {
    diag.error({}, "tune: cublasCreate failed");
    return std::nullopt;
  }
  Timer timer;
  DeviceBuffer workspace(kCublasWorkspaceBytes);
  cublasSetWorkspace(cublas, workspace.get(), kCublasWorkspaceBytes);
  cublasSetStream(cublas, timer.stream);

  std::vector<TuneResult> results;
  std::string failure;
  for (size_t i = 0; i < shapes.size() && failure.empty(); ++i) {
    const MatmulShape& s = shapes[i];
    const std::string what = format("%s %lldx%lld", std::string(name(s.type)).c_str(), static_cast<long long>(s.rows),
                                    static_cast<long long>(s.cols));
    if (candidate_routes(s, options).empty()) {
      // No entry: one for a route outside --routes (ws measured instead, say) would override the
      // rule that chose this shape's route, as it once sent the E4B's float matrices to ws.
      if (options.progress)
        options.progress(format("tune: %s (%zu/%zu): no route of --routes is legal for it; the rules keep it",
                                what.c_str(), i + 1, shapes.size()));
      continue;
    }
    if (options.progress)
      options.progress(format("tune: %s (%zu/%zu, %zu ops)", what.c_str(), i + 1, shapes.size(), s.ops.size()));
    ShapeBench bench(s, options, l2_bytes, *library, cublas, timer);
    if (failure = bench.prepare(options.seed + 2 * i); !failure.empty()) failure = what + ": " + failure;
    const size_t shape_first = results.size();
    for (size_t wi = 0; wi < options.widths.size() && failure.empty(); ++wi) {
      TuneResult r{&s, options.widths[wi], {}, Route::ws, 0, 0};
      for (Route route : candidate_routes(s, options)) {
        r.candidates.push_back(bench.measure(route, r.width, failure));
        if (!failure.empty()) {
          failure = format("%s, %s at N = %lld: ", what.c_str(), std::string(plan::name(route)).c_str(),
                           static_cast<long long>(r.width)) +
                    failure;
          break;
        }
      }
      if (!failure.empty()) break;
      results.push_back(std::move(r));
    }
    if (!failure.empty()) break;
    choose_for_shape(std::span(results).subspan(shape_first), options.tie);
    for (size_t k = shape_first; k < results.size(); ++k) {
      TuneResult& r = results[k];
      if (r.chosen_us == 0) {
        diag.error({}, format("tune: %s at N = %lld: no route's output passed the CPU check (a kernel is wrong)",
                              what.c_str(), static_cast<long long>(r.width)));
        cublasDestroy(cublas);
        return std::nullopt;
      }
      r.bytes_read = plan::matmul_weight_bytes_read(r.chosen, s.type, s.rows, s.cols);
    }
  }
  cublasDestroy(cublas);
  if (!failure.empty()) {
    diag.error({}, "tune: " + failure);
    return std::nullopt;
  }
  return results;
}

namespace {

std::string candidate_text(const TuneCandidate& c) {
  if (!c.admitted) return std::string(plan::name(c.route)) + " rejected (" + c.rejected + ")";
  return format("%s %.2f us", std::string(plan::name(c.route)).c_str(), c.median_us);
}

std::string ops_text(const std::vector<std::string>& ops) {
  std::string out = ops.front();
  if (ops.size() > 1) out += format(" and %zu more", ops.size() - 1);
  return out;
}

}  // namespace

TuningTable tuning_table(const std::vector<TuneResult>& results, const std::string& target, const std::string& device,
                         const std::string& comment) {
  TuningTable table;
  table.target = target, table.device = device, table.comment = comment;
  for (const TuneResult& r : results) {
    TuningEntry e{r.shape->type, r.shape->rows, r.shape->cols, r.width, r.chosen, {}, r.chosen_us, {}};
    for (const TuneCandidate& c : r.candidates) e.comment += (e.comment.empty() ? "" : ", ") + candidate_text(c);
    e.comment += "; " + ops_text(r.shape->ops);
    table.entries.push_back(std::move(e));
  }
  return table;
}

std::string format_tune_report(const std::vector<TuneResult>& results, double copy_gbps) {
  std::string out = format("copy bandwidth %.0f GB/s (bytes read + written per second)\n", copy_gbps);
  out += format("%-6s %7s %7s %4s", "type", "rows", "cols", "N");
  for (Route r : plan::kAllRoutes) out += format(" %10s", (std::string(plan::name(r)) + " us").c_str());
  out += format("  %-7s %8s %6s  %s\n", "chosen", "GB/s", "copy%", "ops");
  for (const TuneResult& r : results) {
    out += format("%-6s %7lld %7lld %4lld", std::string(name(r.shape->type)).c_str(),
                  static_cast<long long>(r.shape->rows), static_cast<long long>(r.shape->cols),
                  static_cast<long long>(r.width));
    for (Route route : plan::kAllRoutes) {
      auto c = std::find_if(r.candidates.begin(), r.candidates.end(),
                            [&](const TuneCandidate& t) { return t.route == route; });
      out += c == r.candidates.end() ? format(" %10s", "-")
             : c->admitted           ? format(" %10.2f", c->median_us)
                                     : format(" %10s", "rejected");
    }
    const double gbps = r.bytes_read / (r.chosen_us * 1e3);
    out += format("  %-7s %8.0f %5.1f%%  %s\n", std::string(plan::name(r.chosen)).c_str(), gbps,
                  copy_gbps > 0 ? 100 * gbps / copy_gbps : 0.0, ops_text(r.shape->ops).c_str());
  }
  return out;
}

}  // namespace g4c::gpu
