// The step as data: each piece of GPU work a launcher decides (a kernel with its grid, block,
// shared memory and argument struct; a GEMM handed to cuBLAS; a device-to-device copy) is a
// record. Launchers (launch_ops.h, launch_matmul.h) hand their records to a LaunchTarget: a stream
// enqueues each as it is made, a record list keeps them to be enqueued later (the executor's step,
// its graph capture, profile) or printed without a device (`g4run plan-launches`).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstring>
#include <type_traits>
#include <variant>
#include <vector>

#include "g4c/runtime/gpu/cuda.h"

namespace g4c::gpu {

struct KernelLaunch {
  cudaKernel_t kernel = nullptr;
  LaunchDims dims;
  std::vector<std::byte> args;  // the kernel's one by-value argument struct
};

// y = x · Wᵀ as cuBLAS sees it, column-major: C (m × n) = Aᵀ · B with A = W (k × m, lda = k),
// B = xᵀ (k × n), F32 accumulation and output. `element` CUDA_R_32F: cublasSgemm on F32 operands;
// else cublasGemmEx on 16-bit A and B.
struct CublasGemm {
  int m = 0, n = 0, k = 0;
  const void* a = nullptr;
  const void* b = nullptr;
  float* c = nullptr;
  cudaDataType element = CUDA_R_32F;
};

struct DeviceCopy {
  void* to = nullptr;
  const void* from = nullptr;
  size_t bytes = 0;
};

using LaunchRecord = std::variant<KernelLaunch, CublasGemm, DeviceCopy>;

// Enqueues one record on `stream` (kernels above 48 KiB of dynamic shared memory opt in first;
// a GEMM needs `cublas`, else cudaErrorUnknown, as does a failed cuBLAS call).
cudaError_t enqueue(const LaunchRecord& record, cudaStream_t stream, cublasHandle_t cublas);

// Kernel launches a record makes: a kernel or a GEMM one (cuBLAS launches at least one), a copy none.
inline int kernel_launches(const LaunchRecord& record) { return std::holds_alternative<DeviceCopy>(record) ? 0 : 1; }

// Where launchers put their records: enqueued on a stream now, or kept in a list.
class LaunchTarget {
 public:
  LaunchTarget(cudaStream_t stream = nullptr) : stream_(stream) {}  // NOLINT: a stream is a target
  explicit LaunchTarget(std::vector<LaunchRecord>& records) : records_(&records) {}

  // The same target with the cuBLAS handle its GEMMs are enqueued with (a record list needs none).
  LaunchTarget with_cublas(cublasHandle_t cublas) const {
    LaunchTarget t = *this;
    t.cublas_ = cublas;
    return t;
  }

  cudaError_t add(LaunchRecord record) const {
    if (!records_) return enqueue(record, stream_, cublas_);
    records_->push_back(std::move(record));
    return cudaSuccess;
  }

 private:
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  std::vector<LaunchRecord>* records_ = nullptr;
};

// Launches `kernel` with a single by-value argument struct (every g4c kernel takes one).
template <class Args>
cudaError_t launch(cudaKernel_t kernel, const LaunchDims& dims, const Args& args, LaunchTarget target = {}) {
  static_assert(std::is_trivially_copyable_v<Args>, "kernel arguments are copied as bytes");
  KernelLaunch l{kernel, dims, std::vector<std::byte>(sizeof(Args))};
  std::memcpy(l.args.data(), &args, sizeof(Args));
  return target.add(std::move(l));
}

}  // namespace g4c::gpu
