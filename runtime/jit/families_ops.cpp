// Kernel families of every op but matmul (kernels/*.cuh).
#include "g4c/runtime/kernel_family.h"

namespace g4c {

std::span<const KernelFamily> op_kernel_families() { return {}; }

}  // namespace g4c
