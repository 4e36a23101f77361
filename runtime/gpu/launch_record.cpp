#include "g4c/runtime/gpu/launch_record.h"

#include <cstdint>

namespace g4c::gpu {

namespace {

// A block above this much shared memory, static and dynamic together, must opt in per kernel.
constexpr size_t kDefaultSharedLimit = 48 * 1024;

// The kernel's static shared memory (e.g. a one-launch attention's combine weights) counts against
// the same 48 KB as the dynamic bytes; only kernels that take dynamic bytes are asked.
size_t block_shared_bytes(const KernelLaunch& l) {
  if (l.dims.shared_bytes == 0) return 0;
  cudaFuncAttributes attributes{};
  if (cudaFuncGetAttributes(&attributes, reinterpret_cast<const void*>(l.kernel)) != cudaSuccess) return SIZE_MAX;
  return attributes.sharedSizeBytes + l.dims.shared_bytes;
}

struct Enqueue {
  cudaStream_t stream;
  cublasHandle_t cublas;

  // A kernel with that much shared memory also asks for the largest carveout: the driver's own
  // choice may hold fewer of its blocks per SM than its launcher sized the grid for.
  cudaError_t operator()(const KernelLaunch& l) const {
    if (block_shared_bytes(l) > kDefaultSharedLimit) {
      const void* kernel = reinterpret_cast<const void*>(l.kernel);
      if (cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(l.dims.shared_bytes));
          e != cudaSuccess)
        return e;
      if (cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
                                               cudaSharedmemCarveoutMaxShared);
          e != cudaSuccess)
        return e;
    }
    void* params[] = {const_cast<std::byte*>(l.args.data())};
    return launch_kernel_args(l.kernel, l.dims, params, stream);
  }

  cudaError_t operator()(const CublasGemm& g) const {
    if (!cublas || cublasSetStream(cublas, stream) != CUBLAS_STATUS_SUCCESS) return cudaErrorUnknown;
    const float alpha = 1.0f, beta = 0.0f;
    const cublasStatus_t status =
        g.element == CUDA_R_32F
            ? cublasSgemm(cublas, CUBLAS_OP_T, CUBLAS_OP_N, g.m, g.n, g.k, &alpha, static_cast<const float*>(g.a), g.k,
                          static_cast<const float*>(g.b), g.k, &beta, g.c, g.m)
            : cublasGemmEx(cublas, CUBLAS_OP_T, CUBLAS_OP_N, g.m, g.n, g.k, &alpha, g.a, g.element, g.k, g.b, g.element,
                           g.k, &beta, g.c, CUDA_R_32F, g.m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    return status == CUBLAS_STATUS_SUCCESS ? cudaSuccess : cudaErrorUnknown;
  }

  cudaError_t operator()(const DeviceCopy& c) const {
    return cudaMemcpyAsync(c.to, c.from, c.bytes, cudaMemcpyDeviceToDevice, stream);
  }
};

}  // namespace

cudaError_t enqueue(const LaunchRecord& record, cudaStream_t stream, cublasHandle_t cublas) {
  return std::visit(Enqueue{stream, cublas}, record);
}

}  // namespace g4c::gpu
