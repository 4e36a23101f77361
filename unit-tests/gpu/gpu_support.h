// Support for GPU kernel tests (ctest label `gpu`): a fixture that skips through GoogleTest when no
// CUDA device is present, compiles and loads the kernel instances a test needs, and device buffers
// that start poisoned so unwritten outputs show up as NaN.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "g4c/kernels/matmul_args.h"
#include "g4c/runtime/gpu/launch_record.h"
#include "g4c/runtime/jit.h"
#include "injected_bug_env.h"
#include "numeric_compare.h"

namespace g4c::testing {

class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    device_ = gpu::find_device(why);
    if (!device_) GTEST_SKIP() << "needs a CUDA device: " << why;
  }

  const gpu::DeviceInfo& device() const { return *device_; }

  // Compiles (through the build tree's kernel cache) and loads the instances.
  // `defines`: builds beside the default (G4C_EARLY_LAUNCH, say).
  gpu::KernelLibrary load(const std::vector<plan::KernelInstance>& instances, const std::vector<std::string>& defines = {}) {
    std::vector<JitRequest> requests;
    for (const plan::KernelInstance& k : instances) requests.push_back({k, "a test"});
    JitOptions options;
    options.arch = device_->arch();
    options.cache_dir = G4C_TEST_KERNEL_CACHE;
    options.defines = injected_bug_defines();  // a mutation run's bug, if any
    options.defines.insert(options.defines.end(), defines.begin(), defines.end());
    JitStats stats;
    DiagnosticEngine diag;
    auto programs = jit_compile(requests, options, stats, diag);
    EXPECT_TRUE(programs) << (diag.diagnostics().empty() ? "" : diag.diagnostics()[0].message);
    auto lib = programs ? gpu::KernelLibrary::load(*programs, diag) : std::nullopt;
    EXPECT_TRUE(lib) << (diag.diagnostics().empty() ? "" : diag.diagnostics().back().message);
    if (!lib) throw std::runtime_error("kernel library failed to load");
    return std::move(*lib);
  }

  // A device copy of host data.
  template <class T>
  gpu::DeviceBuffer upload(const std::vector<T>& host) {
    gpu::DeviceBuffer b(host.size() * sizeof(T));
    b.upload(host.data(), b.bytes());
    return b;
  }

  // Output space filled with 0xFF bytes (NaN as float).
  gpu::DeviceBuffer poisoned(size_t bytes) {
    gpu::DeviceBuffer b(bytes);
    b.fill(0xFF);
    return b;
  }

  template <class T>
  std::vector<T> download(const gpu::DeviceBuffer& b, size_t count) {
    std::vector<T> out(count);
    b.download(out.data(), count * sizeof(T));
    return out;
  }

  // Waits for the device and fails the test on any launch or execution error.
  void sync() {
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  }

 private:
  std::optional<gpu::DeviceInfo> device_;
};

// Deterministic values in [-scale, scale) (never all zeros).
inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// A route's own quantization kernel (quantize_q8_1, quantize_mma16 or quantize_mma16h) over `rows`
// rows of `cols` floats already written, launched as launch_matmul launches it: what a producer's
// `quantize` must write, byte for byte.
inline cudaError_t launch_route_quantization(cudaKernel_t kernel, const float* x, void* x_q, int64_t rows, int64_t cols) {
  const QuantizeActivationsArgs args{x, x_q, cols, static_cast<int>(rows)};
  const int64_t threads = rows * cols / matmul::kQ8SuperBlock * 32;
  return gpu::launch(kernel, {dim3(unsigned((threads + matmul::kThreads - 1) / matmul::kThreads)), dim3(matmul::kThreads)},
                     args);
}

}  // namespace g4c::testing
