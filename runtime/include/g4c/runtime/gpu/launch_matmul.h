// Host launchers of the matmul routes (kernels/matmul_*.cuh, docs/routes.md): one call runs a
// matmul op at one width on its route, y = x · Wᵀ for `width` activation rows.
//
// Like the other launchers, these only hand records to `target` (launch_record.h: kernels and
// cuBLAS GEMMs, enqueued on a stream or kept): no allocation, no synchronization, no read of device
// memory, so a decode step can be captured into a CUDA graph (cuBLAS then needs a workspace set
// with cublasSetWorkspace before capture) or printed without a device. Each
// returns the first error, cudaErrorInvalidValue for a call that breaks the stated preconditions,
// cudaErrorMisalignedAddress for a weight that does not start on a 16-byte boundary, and
// cudaErrorUnknown when cuBLAS fails.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "g4c/kernels/matmul_args.h"
#include "g4c/plan/plan.h"
#include "g4c/runtime/gpu/launch_record.h"
#include "g4c/spec/quant_type.h"

namespace g4c::gpu {

struct MatmulCall {
  // The weight's bytes on the device in `type`, rows × cols row-major, 16-byte aligned. Kernels
  // may read up to 15 bytes past its end, inside the last byte's aligned 16-byte chunk.
  const void* weight = nullptr;
  // cublas route with a quantized type: the fp16 copy made by prepare_cublas_weight; else null.
  const void* weight_f16 = nullptr;
  QuantType type = QuantType::F32;
  int64_t rows = 0, cols = 0;
  const float* x = nullptr;  // width × cols
  float* y = nullptr;        // width × rows, every element written
  int width = 0;             // 1 .. 32, the width the op's kernel instances were listed for
  // The op's plan scratch: width × plan::route_scratch_seq_bytes(route, type, cols) bytes, 16-byte
  // aligned (q8_1 activations for mmq, fp16/bf16 activations for cublas); null when that is 0.
  void* scratch = nullptr;
  // The scratch already holds x prepared for this route by an earlier matmul of the same input
  // (the plan's `activations_from`): the activation kernel is not run, and `kernels` lacks it.
  bool activations_ready = false;
  // The other members of the op's launch group (the plan's `launched_with`, mma16 only): matmuls of
  // the same x and weight type — but the last, whose type the kernel instance names as its
  // `last_type` —, computed by this launch into their own outputs.
  struct GroupMember {
    const void* weight;  // in the mma16 layout, rows × cols
    float* y;            // width × rows
    int64_t rows;
    QuantType type;
  };
  std::vector<GroupMember> group;
  // The device the grid is shaped for (SMs, shared memory a block may take); zero: the current one.
  DeviceLimits limits;
  // geglu-epilogue (mma16/mma16h; one group member of the op's rows, a multiple of 256; the main
  // kernel an `epilogue = geglu` instance): the launch also writes y = gelu_tanh(gate) · up (width ×
  // rows each, 16-byte aligned; y may be gate) and, where the instance quantizes, the next
  // matmul's activations at x_q. `tickets`: geglu_epilogue_tickets zeroed counters, left zeroed.
  using GegluEpilogue = Mma16Geglu;
  std::optional<GegluEpilogue> geglu;
};

// The counters a launch with a geglu epilogue over members of `rows` rows takes at `width`: one
// per (256-row segment, row group).
int64_t geglu_epilogue_tickets(plan::Route route, int64_t rows, int width);

// `kernels`: the op's instances at this width (plan::kernels_for) by role, resolved by the caller
// from a KernelLibrary (KernelLibrary::by_role): `main` the route's matmul kernel (none on cublas);
// `activations` the kernel preparing x in the scratch (plan::activation_kernel: quantize_q8_1 on
// mmq, quantize_mma16[h] on mma16[h], convert_activations on cublas for non-F32 weights), present
// exactly when the route has one and `call.activations_ready` is false. The weight_at_load kernel
// (repack_mma16, dequantize_f16) ran when the weights were loaded.
cudaError_t launch_matmul(plan::Route route, const OpKernels& kernels, const MatmulCall& call, LaunchTarget target,
                          cublasHandle_t cublas);

// cublas route, quantized types: dequantizes the whole weight into `out_f16` (rows × cols
// halves, 16-byte aligned), once, when weights are loaded.
cudaError_t prepare_cublas_weight(cudaKernel_t dequantize_f16, const void* weight, QuantType type, int64_t rows,
                                  int64_t cols, void* out_f16, LaunchTarget target);

// mma16 route: repacks a GGUF-layout Q4_K weight into the mma16 layout (layout::mma16_bytes(rows,
// cols) bytes at `out`, 16-byte aligned), once, when weights are loaded.
cudaError_t prepare_mma16_weight(cudaKernel_t repack, const void* weight, QuantType type, int64_t rows, int64_t cols,
                                 void* out, LaunchTarget target);

// How many warps of the mma16 route share a 16-row tile, splitting its super-blocks (1, 2 or 4):
// the most whose grid (all row groups of `width`, for weights of these rows: a launch group's
// members) still fits one wave on `sm_count` SMs.
int mma16_k_split(plan::Route route, std::span<const int64_t> rows, int width, int sm_count);
inline int mma16_k_split(int64_t rows, int width, int sm_count, plan::Route route = plan::Route::mma16) {
  return mma16_k_split(route, {&rows, 1}, width, sm_count);
}

// How the mma routes (mmq, gemm_n) lay out a block for a matmul of `rows` rows: the number of its
// four warps that take different rows (4, 2 or 1; the others split K). Fewer row warps mean more,
// smaller blocks, for shapes whose 64-row blocks would leave SMs idle; the choice also keeps the
// block's shared memory within `max_shared_bytes`.
int mma_row_warps(plan::Route route, QuantType type, int64_t rows, int width, int sm_count,
                  int max_shared_bytes);

// Records each warp of an mma16 / mma16h launch keeps in flight through shared memory
// (Mma16Args::stages; the kernel takes at most what the warp's stage bytes hold of its type): the
// weight_stages setting, or none where a block cannot hold the stages.
int mma16_launch_stages(const DeviceLimits& limits);

// Each warp's share of the stages of `stages` records (Mma16Args::stage_bytes) as the
// stage_memory setting sizes it; 0 for none.
int mma16_stage_bytes(int stages);

// Dynamic shared memory one block of the route's kernel takes (mma16, mma16h: without weight
// staging, which launch_mma16 adds where it is on and the device holds it).
int matmul_shared_bytes(plan::Route route, QuantType type, int width, int row_warps);

}  // namespace g4c::gpu
