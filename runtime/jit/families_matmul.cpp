// Kernel families of the matmul routes (kernels/matmul_*.cuh): how each plan instance
// (compiler/plan/kernels.cpp, kernels_for) names its template instance.
//
// The matmul kernels are templates over a register capacity, not over the plan's width N: every
// width of one capacity names the same kernel (matmul_args.h, ws/mmq/gemm_n_capacity), which
// takes N at run time. NVRTC then compiles one kernel per capacity and the JIT maps each plan
// instance to it.
#include <array>

#include "g4c/kernels/matmul_args.h"
#include "g4c/runtime/kernel_family.h"

namespace g4c {

namespace {

std::string instance_of(std::string_view kernel, const std::string& block, int64_t capacity) {
  return "g4c::" + std::string(kernel) + "<" + block + ", " + std::to_string(capacity) + ">";
}

int capacity_argument(const plan::KernelInstance& k) { return static_cast<int>(instance_int(k, "n")); }

std::string weight_block(const plan::KernelInstance& k) { return block_type_name(instance_ident(k, "type")); }

std::string matmul_ws(const plan::KernelInstance& k) {
  return instance_of("matmul_ws", weight_block(k), matmul::ws_capacity(capacity_argument(k)));
}

std::string matmul_gemm_n(const plan::KernelInstance& k) {
  return instance_of("matmul_gemm_n", weight_block(k), matmul::gemm_n_capacity(capacity_argument(k)));
}

std::string matmul_mmq(const plan::KernelInstance& k) {
  return instance_of("matmul_mmq", weight_block(k), matmul::mmq_capacity(capacity_argument(k)));
}

std::string quantize_q8_1(const plan::KernelInstance&) { return "g4c::quantize_q8_1"; }

// `epilogue = geglu` (geglu-epilogue): the launch also computes its members' geglu, quantized as
// the instance's `quantize` says; `last_type = T` (group-matmuls): its last member's weights are T.
std::string mma16_instance(std::string_view kernel, const plan::KernelInstance& k, int capacity) {
  std::string name = instance_of(kernel, weight_block(k), capacity);
  const bool geglu = instance_ident(k, "epilogue") == "geglu";
  const std::string last_type = instance_ident(k, "last_type");
  if (!geglu && last_type.empty()) return name;
  name.pop_back();
  name += ", " + (geglu ? instance_quantize_format(k) : std::string("g4c::kNoGegluEpilogue"));
  if (!last_type.empty()) name += ", " + block_type_name(last_type);
  return name + ">";
}

std::string matmul_mma16(const plan::KernelInstance& k) {
  return mma16_instance("matmul_mma16", k, matmul::mma16_capacity(capacity_argument(k)));
}

std::string quantize_mma16(const plan::KernelInstance&) { return "g4c::quantize_mma16"; }

std::string matmul_mma16h(const plan::KernelInstance& k) {
  return mma16_instance("matmul_mma16h", k, matmul::mma16h_capacity(capacity_argument(k)));
}

std::string quantize_mma16h(const plan::KernelInstance&) { return "g4c::quantize_mma16h"; }

std::string repack_mma16(const plan::KernelInstance& k) { return "g4c::repack_mma16<" + weight_block(k) + ">"; }

std::string dequantize_f16(const plan::KernelInstance& k) { return "g4c::dequantize_f16<" + weight_block(k) + ">"; }

// {to = F16 | BF16}: the element type cuBLAS multiplies.
std::string convert_activations(const plan::KernelInstance& k) {
  return "g4c::convert_activations<" + block_type_name(instance_ident(k, "to")) + ">";
}

const std::array kMatmulFamilies = {
    KernelFamily{"matmul.ws", "matmul_ws.cuh", matmul_ws},
    KernelFamily{"quantize_q8_1", "matmul_mmq.cuh", quantize_q8_1},
    KernelFamily{"matmul.mmq", "matmul_mmq.cuh", matmul_mmq},
    KernelFamily{"matmul.gemm_n", "matmul_gemm_n.cuh", matmul_gemm_n},
    KernelFamily{"repack_mma16", "matmul_mma16.cuh", repack_mma16},
    KernelFamily{"quantize_mma16", "matmul_mma16.cuh", quantize_mma16},
    KernelFamily{"matmul.mma16", "matmul_mma16.cuh", matmul_mma16},
    KernelFamily{"quantize_mma16h", "matmul_mma16h.cuh", quantize_mma16h},
    KernelFamily{"matmul.mma16h", "matmul_mma16h.cuh", matmul_mma16h},
    KernelFamily{"dequantize_f16", "matmul_cublas.cuh", dequantize_f16},
    KernelFamily{"convert_activations", "matmul_cublas.cuh", convert_activations},
};

}  // namespace

std::span<const KernelFamily> matmul_kernel_families() { return kMatmulFamilies; }

}  // namespace g4c
