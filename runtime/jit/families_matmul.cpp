// Kernel families of the matmul routes (kernels/matmul_*.cuh).
#include "g4c/runtime/kernel_family.h"

namespace g4c {

std::span<const KernelFamily> matmul_kernel_families() { return {}; }

}  // namespace g4c
