// Kernel families: how a plan's kernel instance (family + constants) becomes the C++ name
// expression NVRTC instantiates from the family's source under kernels/.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "g4c/plan/plan.h"

namespace g4c {

struct KernelFamily {
  std::string_view family;  // as plan::KernelInstance::family names it: "matmul.ws"
  std::string_view source;  // the kernels/ file that defines it: "matmul_ws.cuh"
  // The template instance, e.g. "g4c::matmul_ws<g4c::block_q4_K, 8>".
  std::string (*name_expression)(const plan::KernelInstance&);
};

// Registered by the kernel groups (runtime/jit/families_*.cpp).
std::span<const KernelFamily> matmul_kernel_families();
std::span<const KernelFamily> op_kernel_families();

const KernelFamily* find_kernel_family(std::string_view family);

// Helpers for name expressions: the block struct of a weight type ("g4c::block_q4_K") and an
// instance constant.
std::string block_type_name(std::string_view quant_type);
int64_t instance_int(const plan::KernelInstance& k, std::string_view key);
std::string instance_ident(const plan::KernelInstance& k, std::string_view key);
bool instance_bool(const plan::KernelInstance& k, std::string_view key);
// `quantize = q8_1 | mma16 | mma16h` (quantize-in-producer) as the kernels' template argument
// (g4c::matmul::kActivations*; None without the constant).
std::string instance_quantize_format(const plan::KernelInstance& k);

}  // namespace g4c
