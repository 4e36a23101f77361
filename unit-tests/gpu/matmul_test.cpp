// The matmul routes (kernels/matmul_*.cuh) through their launcher (runtime/gpu/launch_matmul.h)
// against the CPU op g4c::cpu::matmul, at the real 12B / 12B QAT / E4B shapes and at odd ones, for
// every weight type a route takes and widths 1..32. Weights are seeded random weights in the
// declared type, activations uniform in [−1, 1) (never zero), outputs start poisoned (NaN).
//
// Tolerances, per route: runtime/include/g4c/runtime/matmul_check.h (shared with `g4run tune`);
// mmq is also held, against a reference fed the same q8_1 activations, to
// max |δ| ≤ 1e-4 · its RMS, which checks the integer path exactly, not statistically.
// Each test prints the worst error it measured per (route, type), as a fraction of the bound.
//
// The largest tests (12B and E4B shapes, the LM head) take minutes under compute-sanitizer; their
// names end in "Shapes" so a memcheck pass can filter them out.
#include <cublas_v2.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <thread>

#include "g4c/kernels/quant_host.h"
#include "g4c/kernels/weight_layouts_host.h"
#include "g4c/plan/routes.h"
#include "g4c/runtime/cpu_ops.h"
#include "g4c/runtime/gpu/launch_matmul.h"
#include "g4c/runtime/load_weights.h"
#include "g4c/runtime/matmul_check.h"
#include "g4c/plan/kernels.h"
#include "gpu_support.h"

namespace g4c {
namespace {

using plan::Ident;
using plan::KernelInstance;
using plan::Route;

constexpr int kMaxWidth = 32;
const std::vector<int> kAllWidths = [] {
  std::vector<int> w;
  for (int n = 1; n <= kMaxWidth; ++n) w.push_back(n);
  return w;
}();
const std::vector<int> kSomeWidths = {1, 2, 3, 4, 5, 8, 13, 16, 17, 32};
const std::vector<int> kCublasWidths = {1, 4, 8, 32};

using plan::kernel_instance;

Ident type_ident(QuantType t) { return Ident{std::string(name(t))}; }

//===----------------------------------------------------------------------===//
// Error measures and the per-(route, type) log of the worst
//===----------------------------------------------------------------------===//

class ErrorLog {
 public:
  void add(const std::string& check, double ratio) { worst_[check] = std::max(worst_[check], ratio); }
  void print() const {
    for (const auto& [check, ratio] : worst_) std::cout << "  worst " << check << ": " << ratio << "\n";
  }

 private:
  std::map<std::string, double> worst_;
};

//===----------------------------------------------------------------------===//
// Weights, activations, references
//===----------------------------------------------------------------------===//

struct Matrix {
  QuantType type;
  int64_t rows, cols;
  WeightSet host;  // one tensor "w"
  gpu::DeviceBuffer device;
  gpu::DeviceBuffer device_f16;    // the cuBLAS route's copy of a quantized weight
  gpu::DeviceBuffer device_mma16;  // the mma16 route's repacked copy
  const HostTensor& tensor() const { return host.at("w"); }
};

//===----------------------------------------------------------------------===//
// The fixture: one matmul shape, run on every requested route and width
//===----------------------------------------------------------------------===//

struct Case {
  QuantType type;
  int64_t rows, cols;
  std::vector<Route> routes;
  std::vector<int> widths;             // for ws, mmq, gemm_n
  std::vector<int> cublas_widths = kCublasWidths;
  int64_t sampled_rows = 0;            // > 0: compare this many evenly spread rows only
};

class MatmulTest : public testing::GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (IsSkipped()) return;
    ASSERT_EQ(cublasCreate(&cublas_), CUBLAS_STATUS_SUCCESS);
  }
  void TearDown() override {
    if (cublas_) cublasDestroy(cublas_);
    log_.print();
  }

  Matrix make_matrix(QuantType type, int64_t rows, int64_t cols, uint64_t seed) {
    const TensorShape shape{"w", type, cols, rows};
    Matrix m{type, rows, cols, random_weights(std::span(&shape, 1), seed), {}, {}, {}};
    const HostTensor& t = m.tensor();
    m.device = gpu::DeviceBuffer(t.bytes.size() + 16);  // the kernels may read into the last aligned chunk
    m.device.upload(t.bytes.data(), t.bytes.size());
    return m;
  }

  // The kernels of every (route, width) the case runs, from one JIT call.
  void load_kernels(const Case& c) {
    std::vector<KernelInstance> all;
    for (Route route : c.routes)
      for (int width : route == Route::cublas ? c.cublas_widths : c.widths)
        for (KernelInstance& k : plan::matmul_route_kernels(route, c.type, width)) all.push_back(std::move(k));
    library_.emplace(load(all));
  }

  gpu::OpKernels kernels(Route route, QuantType type, int width) {
    return library_->by_role(plan::matmul_route_kernels(route, type, width));
  }

  // y (width × rows) for the first `width` rows of x, on one route.
  std::vector<float> run(Route route, Matrix& m, const gpu::DeviceBuffer& x, int width) {
    gpu::OpKernels k = kernels(route, m.type, width);
    if (route == Route::cublas && !info(m.type).is_float && !m.device_f16.get()) {
      m.device_f16 = gpu::DeviceBuffer(m.rows * m.cols * 2);
      EXPECT_EQ(gpu::prepare_cublas_weight(k.weight_at_load, m.device.get(), m.type, m.rows, m.cols, m.device_f16.get(), nullptr),
                cudaSuccess);
    }
    const bool repacked = plan::route_layout(route) == WeightLayout::mma16;
    if (repacked && !m.device_mma16.get()) {
      m.device_mma16 = gpu::DeviceBuffer(mma16_bytes(m.type, m.rows, m.cols) + 16);
      EXPECT_EQ(gpu::prepare_mma16_weight(k.weight_at_load, m.device.get(), m.type, m.rows, m.cols, m.device_mma16.get(), nullptr),
                cudaSuccess);
    }
    const int64_t scratch_bytes = width * plan::route_scratch_seq_bytes(route, m.type, m.cols);
    gpu::DeviceBuffer scratch = poisoned(std::max<int64_t>(scratch_bytes, 16));
    gpu::DeviceBuffer y = poisoned(width * m.rows * sizeof(float));
    const void* weight = repacked ? m.device_mma16.get() : m.device.get();
    const gpu::MatmulCall call{weight,         m.device_f16.get(), m.type, m.rows, m.cols, x.as<float>(),
                               y.as<float>(),  width,              scratch_bytes ? scratch.get() : nullptr};
    EXPECT_EQ(gpu::launch_matmul(route, k, call, nullptr, cublas_), cudaSuccess)
        << name(route) << " " << name(m.type) << " " << m.rows << "x" << m.cols << " N=" << width;
    sync();
    return download<float>(y, width * m.rows);
  }

  // Checks `got` against the reference under the route's tolerance and logs the ratio of error
  // to bound; returns whether it held.
  bool check(Route route, QuantType type, const std::string& what, const MatmulErrors& e) {
    EXPECT_TRUE(e.comparable()) << what << ": a NaN or infinity among the outputs (NaN: never written), or a size mismatch";
    const std::string key = std::string(name(route)) + " " + std::string(name(type));
    const RouteErrorRatios r = route_error_ratios(route, type, e);
    log_.add(key + " (" + r.element_bound + ")", r.element);
    EXPECT_LE(r.element, 1.0) << what << ": max |δ| " << e.max_abs << " vs max |ref| " << e.max_ref << ", RMS "
                              << e.rms_ref;
    if (!r.overall_bound.empty()) {
      log_.add(key + " (" + r.overall_bound + ")", r.overall);
      EXPECT_LE(r.overall, 1.0) << what << ": RMS δ " << e.rms_err << " vs RMS " << e.rms_ref;
    }
    return r.passes(e);
  }

  // Runs the case on all its routes and widths against the CPU op.
  void run_case(const Case& c, uint64_t seed) {
    SCOPED_TRACE(std::string(name(c.type)) + " " + std::to_string(c.rows) + "x" + std::to_string(c.cols));
    Matrix m = make_matrix(c.type, c.rows, c.cols, seed);
    load_kernels(c);
    int max_width = 0;
    for (int w : c.widths) max_width = std::max(max_width, w);
    for (int w : c.cublas_widths) max_width = std::max(max_width, w);
    const std::vector<float> x = testing::random_floats(static_cast<size_t>(max_width) * c.cols, uint32_t(seed + 1));
    const gpu::DeviceBuffer dx = upload(x);

    const std::vector<int64_t> columns = spread_rows(c.rows, c.sampled_rows > 0 ? c.sampled_rows : c.rows);
    const MatmulReference want = cpu_matmul_reference(m.tensor(), x, max_width, columns);
    MatmulReference want_q8;  // the int8 routes' own view of x, where one runs
    const auto runs = [&](Route r) { return std::find(c.routes.begin(), c.routes.end(), r) != c.routes.end(); };
    if (runs(Route::mmq) || runs(Route::mma16))
      want_q8 = cpu_matmul_reference(m.tensor(), q8_1_activations(x), max_width, columns);

    for (Route route : c.routes)
      for (int width : route == Route::cublas ? c.cublas_widths : c.widths) {
        const std::string what = std::string(name(route)) + " N=" + std::to_string(width);
        const std::vector<float> got = run(route, m, dx, width);
        const bool ok = check(route, c.type, what, measure_matmul_errors(got, want, width, c.rows));
        if (route == Route::mmq || route == Route::mma16) {
          const MatmulErrors e = measure_matmul_errors(got, want_q8, width, c.rows);
          const double ratio = e.max_abs / (1e-4 * e.rms_ref);
          log_.add(std::string(name(route)) + " " + std::string(name(c.type)) +
                       " vs q8_1 reference (max |δ| / 1e-4 RMS)",
                   ratio);
          EXPECT_LE(ratio, 1.0) << what << " against the q8_1-activation reference";
        }
        if (!ok) break;  // one failing width tells enough about a route; the rest would repeat it
      }
  }

  cublasHandle_t cublas_ = nullptr;
  std::optional<gpu::KernelLibrary> library_;
  ErrorLog log_;
};

//===----------------------------------------------------------------------===//
// Every type, every route, every width
//===----------------------------------------------------------------------===//

TEST_F(MatmulTest, EveryRouteAndWidthForEveryType) {
  uint64_t seed = 100;
  for (QuantType type : kAllQuantTypes)
    run_case({type, 2096, 1024, plan::legal_routes(type, 2096, 1024), kAllWidths}, seed++);
}

TEST_F(MatmulTest, OddShapes) {
  uint64_t seed = 200;
  const std::vector<int> widths = {1, 2, 3, 5, 8, 9, 17, 31, 32};
  for (QuantType type : kAllQuantTypes) {
    const int64_t block = info(type).block_elems;
    // The smallest cols each route allows for the type, and a row count off every tile.
    std::vector<int64_t> cols_list = {block, 256, 288, 2560 + 32};
    if (info(type).is_float) cols_list.push_back(33);
    for (int64_t rows : {1, 33, 100})
      for (int64_t cols : cols_list)
        if (cols % block == 0)
          run_case({type, rows, cols, plan::legal_routes(type, rows, cols), widths, {1, 3, 32}}, seed++);
  }
}

// The mma16 routes at every weight-stage setting (`g4run --weight-stages`): the register path (0),
// one to eight records in flight a warp (past a type's capacity the kernel takes what fits), on
// shapes whose launches stage automatically or not (the tests above run the automatic choice).
TEST_F(MatmulTest, Mma16RoutesAtEveryWeightStageCount) {
  struct Restore {
    int was = gpu::weight_stages();
    ~Restore() { gpu::set_weight_stages(was); }
  } restore;
  uint64_t seed = 250;
  for (int stages : {0, 1, 2, 3, 5, 8}) {
    SCOPED_TRACE("--weight-stages " + std::to_string(stages));
    gpu::set_weight_stages(stages);
    for (QuantType type : {QuantType::Q4_K, QuantType::Q6_K, QuantType::Q8_0, QuantType::Q4_0})
      for (int64_t cols : {256, 2560 + 256})
        run_case({type, 100, cols, {Route::mma16, Route::mma16h}, {1, 3, 8, 9, 17, 32}}, seed++);
  }
}

// Every weight of a few rows, read back through one-hot activations: x[n] = e_(k0 + n) makes
// y[n][j] = W[j][k0 + n], so a wrong decode shows up as the exact element (row phase, sub-block,
// quarter) it hits, where the random-input tests only see a wrong sum. ws decodes exactly (the
// K-quants' minimum to 2^-17 of the scale), the fp16 routes to half precision, mmq to the q8_1
// rounding of the one-hot value (1/127 in fp16: 2^-11 relative).
TEST_F(MatmulTest, OneHotActivationsReadBackEveryWeight) {
  uint64_t seed = 150;
  for (QuantType type : kAllQuantTypes) {
    const int64_t rows = 9, cols = info(type).is_float ? 264 : 512;  // rows of every phase; two tiles
    SCOPED_TRACE(std::string(name(type)));
    const std::vector<Route> routes = plan::legal_routes(type, rows, cols);
    const Case c{type, rows, cols, routes, {kMaxWidth}, {kMaxWidth}};
    Matrix m = make_matrix(type, rows, cols, seed++);
    load_kernels(c);
    std::vector<float> want(rows * cols);
    for (int64_t j = 0; j < rows; ++j) dequantize_tensor_row(m.tensor(), j, want.data() + j * cols);
    double max_weight = 0;
    for (float w : want) max_weight = std::max(max_weight, static_cast<double>(std::abs(w)));
    for (Route route : routes) {
      const double tolerance = route == Route::ws ? 1e-5 : 2e-3;  // fp16 routes; int8 routes (q8_1 of 1.0)
      int mismatches = 0;
      double worst = 0;
      for (int64_t k0 = 0; k0 < cols; k0 += kMaxWidth) {
        std::vector<float> x(kMaxWidth * cols, 0.0f);
        for (int n = 0; n < kMaxWidth && k0 + n < cols; ++n) x[n * cols + k0 + n] = 1.0f;
        const std::vector<float> got = run(route, m, upload(x), kMaxWidth);
        for (int n = 0; n < kMaxWidth && k0 + n < cols; ++n)
          for (int64_t j = 0; j < rows; ++j) {
            const double g = got[n * rows + j], w = want[j * cols + k0 + n];
            const double error = std::abs(g - w) / max_weight;
            worst = std::max(worst, std::isnan(g) ? INFINITY : error);
            if (!(error <= tolerance) && ++mismatches <= 8)
              ADD_FAILURE() << name(route) << " " << name(type) << ": W[" << j << "][" << k0 + n << "] read as " << g
                            << ", is " << w;
          }
      }
      log_.add(std::string(name(route)) + " " + std::string(name(type)) + " one-hot (max |δ| / max |W|)", worst);
      EXPECT_EQ(mismatches, 0) << name(route) << " " << name(type);
    }
  }
}

//===----------------------------------------------------------------------===//
// The shipped models' shapes
//===----------------------------------------------------------------------===//

struct Shape {
  QuantType type;
  int64_t rows, cols;
};

TEST_F(MatmulTest, TwelveBShapes) {
  const Shape shapes[] = {
      {QuantType::Q4_K, 4096, 3840},  {QuantType::Q4_K, 2048, 3840},  {QuantType::Q4_K, 512, 3840},
      {QuantType::Q4_K, 8192, 3840},  {QuantType::Q4_K, 3840, 4096},  {QuantType::Q4_K, 3840, 8192},
      {QuantType::Q4_K, 15360, 3840}, {QuantType::Q4_K, 3840, 15360}, {QuantType::Q6_K, 3840, 15360},
      {QuantType::Q6_K, 2048, 3840},
  };
  uint64_t seed = 300;
  for (const Shape& s : shapes)
    run_case({s.type, s.rows, s.cols, plan::legal_routes(s.type, s.rows, s.cols), kSomeWidths}, seed++);
}

TEST_F(MatmulTest, TwelveBQatShapes) {
  const Shape shapes[] = {
      {QuantType::Q4_0, 4096, 3840}, {QuantType::Q4_0, 2048, 3840},  {QuantType::Q4_0, 512, 3840},
      {QuantType::Q4_0, 3840, 4096}, {QuantType::Q4_0, 15360, 3840}, {QuantType::Q4_0, 3840, 15360},
  };
  uint64_t seed = 400;
  for (const Shape& s : shapes)
    run_case({s.type, s.rows, s.cols, plan::legal_routes(s.type, s.rows, s.cols), kSomeWidths}, seed++);
}

TEST_F(MatmulTest, LmHeadShapes) {
  // The 12B's Q6_K and the E4B's Q8_0 output projections; a few hundred sampled rows keep the CPU
  // side fast.
  Case q6k{QuantType::Q6_K, 262144, 3840, plan::legal_routes(QuantType::Q6_K, 262144, 3840), {1, 2, 5, 8, 16, 32},
           {1, 32}};
  q6k.sampled_rows = 384;
  run_case(q6k, 500);
  Case q8{QuantType::Q8_0, 262144, 2560, plan::legal_routes(QuantType::Q8_0, 262144, 2560), {1, 8, 32}, {8}};
  q8.sampled_rows = 256;
  run_case(q8, 501);
}

TEST_F(MatmulTest, E4BShapes) {
  const Shape shapes[] = {
      {QuantType::Q8_0, 2048, 2560},  {QuantType::Q8_0, 512, 2560}, {QuantType::Q8_0, 10240, 2560},
      {QuantType::Q8_0, 2560, 10240}, {QuantType::F32, 256, 2560},  {QuantType::F32, 2560, 256},
      {QuantType::BF16, 10752, 2560},
  };
  uint64_t seed = 600;
  for (const Shape& s : shapes)
    run_case({s.type, s.rows, s.cols, plan::legal_routes(s.type, s.rows, s.cols), kSomeWidths}, seed++);
}

TEST_F(MatmulTest, F16AndQ5KShapes) {
  const Shape shapes[] = {
      {QuantType::F16, 2048, 3840}, {QuantType::F16, 3840, 2048}, {QuantType::Q5_K, 4096, 3840},
      {QuantType::Q5_K, 3840, 15360},
  };
  uint64_t seed = 700;
  for (const Shape& s : shapes)
    run_case({s.type, s.rows, s.cols, plan::legal_routes(s.type, s.rows, s.cols), kSomeWidths}, seed++);
}

//===----------------------------------------------------------------------===//
// The routes against one another
//===----------------------------------------------------------------------===//

// Every pair of routes agrees at every width on one Q4_K shape, within the looser route's
// tolerance of the CPU reference (twice it: both sides may err).
TEST_F(MatmulTest, RoutesAgreeWithEachOther) {
  const Case c{QuantType::Q4_K, 4096, 3840,
               {Route::ws, Route::mmq, Route::gemm_n, Route::cublas, Route::mma16, Route::mma16h}, kAllWidths, kAllWidths};
  Matrix m = make_matrix(c.type, c.rows, c.cols, 800);
  load_kernels(c);
  const std::vector<float> x = testing::random_floats(kMaxWidth * c.cols, 801);
  const gpu::DeviceBuffer dx = upload(x);
  const std::vector<int64_t> columns = spread_rows(c.rows, c.rows);
  const std::vector<float> magnitudes = cpu_matmul_reference(m.tensor(), x, kMaxWidth, columns).magnitudes;
  for (int width : kAllWidths) {
    std::map<Route, std::vector<float>> results;
    for (Route route : c.routes) results[route] = run(route, m, dx, width);
    for (auto a = results.begin(); a != results.end(); ++a)
      for (auto b = std::next(a); b != results.end(); ++b) {
        const MatmulReference reference{columns, b->second, magnitudes};
        const MatmulErrors e = measure_matmul_errors(a->second, reference, width, c.rows);
        const std::string what = std::string(name(a->first)) + " vs " + std::string(name(b->first)) +
                                 " N=" + std::to_string(width);
        const auto int8 = [](Route r) { return r == Route::mmq || r == Route::mma16; };
        if (int8(a->first) || int8(b->first)) {
          const double ratio = e.max_abs / (2 * 0.03 * e.rms_ref);
          log_.add(what.substr(0, what.find(" N=")) + " (max |δ| / 6% RMS)", ratio);
          EXPECT_LE(ratio, 1.0) << what;
        } else {
          const double tolerance =
              2 * std::max(route_element_tolerance(a->first, c.type), route_element_tolerance(b->first, c.type));
          const double ratio = e.max_abs / (tolerance * e.max_ref);
          log_.add(what.substr(0, what.find(" N=")) + " (max |δ| / " + std::to_string(tolerance) + " max |ref|)",
                   ratio);
          EXPECT_LE(ratio, 1.0) << what;
        }
      }
  }
}

//===----------------------------------------------------------------------===//
// The launcher's preconditions
//===----------------------------------------------------------------------===//

TEST_F(MatmulTest, LauncherRejectsCallsOutsideItsContract) {
  const Case c{QuantType::Q4_K, 64, 512, {Route::ws, Route::mmq}, {4}, {}};
  Matrix m = make_matrix(c.type, c.rows, c.cols, 900);
  load_kernels(c);
  const gpu::DeviceBuffer x = upload(testing::random_floats(4 * 512, 901));
  gpu::DeviceBuffer y = poisoned(4 * 64 * 4), scratch = poisoned(4 * 512 / 32 * 36);
  const gpu::MatmulCall good{m.device.get(), nullptr, c.type, 64, 512, x.as<float>(), y.as<float>(), 4, scratch.get()};
  const gpu::OpKernels ws = kernels(Route::ws, c.type, 4), mmq = kernels(Route::mmq, c.type, 4);
  EXPECT_EQ(gpu::launch_matmul(Route::ws, ws, good, nullptr, cublas_), cudaSuccess);

  gpu::MatmulCall bad = good;
  bad.weight = static_cast<const char*>(m.device.get()) + 2;
  EXPECT_EQ(gpu::launch_matmul(Route::ws, ws, bad, nullptr, cublas_), cudaErrorMisalignedAddress);
  bad = good;
  bad.width = 33;
  EXPECT_EQ(gpu::launch_matmul(Route::ws, ws, bad, nullptr, cublas_), cudaErrorInvalidValue);
  bad = good;
  bad.cols = 500;  // not whole Q4_K blocks
  EXPECT_EQ(gpu::launch_matmul(Route::ws, ws, bad, nullptr, cublas_), cudaErrorInvalidValue);
  bad = good;
  bad.scratch = nullptr;
  EXPECT_EQ(gpu::launch_matmul(Route::mmq, mmq, bad, nullptr, cublas_), cudaErrorInvalidValue);
  EXPECT_EQ(gpu::launch_matmul(Route::mmq, ws, good, nullptr, cublas_), cudaErrorInvalidValue);  // no activations' kernel
  bad = good;
  bad.activations_ready = true;  // the scratch holds them: its kernel must not run again
  EXPECT_EQ(gpu::launch_matmul(Route::mmq, mmq, bad, nullptr, cublas_), cudaErrorInvalidValue);
  sync();
}

}  // namespace
}  // namespace g4c
