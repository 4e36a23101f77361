#include "g4c/runtime/gpu/launch_matmul.h"

#include <array>
#include <cstdint>

#include "g4c/kernels/matmul_args.h"
#include "g4c/kernels/weight_layouts_host.h"
#include "g4c/plan/kernels.h"
#include "g4c/plan/routes.h"
#include "g4c/runtime/gpu/launch_record.h"

namespace g4c::gpu {

namespace {

struct BlockShape {
  int elems, bytes;
};
BlockShape block_shape(QuantType type) { return {info(type).block_elems, info(type).block_bytes}; }

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

unsigned grid_for(int64_t items, int64_t per_block) { return static_cast<unsigned>((items + per_block - 1) / per_block); }

// The blocks of one mma16 row group: 4 / k_split 16-row tiles each.
unsigned mma16_blocks(int64_t rows, int k_split) { return grid_for(layout::mma16_tiles(rows), matmul::kWarps / k_split); }

// mma16 runs wide widths as row groups of its capacity; mma16h holds every row in one kernel.
int mma16_capacity_of(plan::Route route, int width) {
  return route == plan::Route::mma16h ? matmul::mma16h_capacity(width) : matmul::mma16_capacity(width);
}
int mma16_row_groups_of(plan::Route route, int width) {
  return route == plan::Route::mma16h ? 1 : matmul::mma16_row_groups(width);
}

template <class Args>
cudaError_t launch_kernel(cudaKernel_t kernel, unsigned grid, int shared_bytes, const Args& args, LaunchTarget target) {
  return launch(kernel, LaunchDims{dim3(grid), dim3(matmul::kThreads), static_cast<unsigned>(shared_bytes)}, args,
                target);
}

// What every route needs of a call: the kernels of its roles (the matmul kernel but on cuBLAS;
// the activations' kernel where the route prepares them and the scratch does not hold them yet,
// and only there); the route-specific checks follow in each launcher.
cudaError_t check_call(plan::Route route, const OpKernels& k, const MatmulCall& c) {
  const bool prepares = plan::activation_kernel(route, c.type).has_value() && !c.activations_ready;
  if ((k.main == nullptr) != (route == plan::Route::cublas) || (k.activations != nullptr) != prepares)
    return cudaErrorInvalidValue;
  if (!c.weight || !c.x || !c.y || c.rows < 1 || c.cols < 1 || c.width < 1 || c.width > matmul::kMaxWidth ||
      c.cols % info(c.type).block_elems != 0)
    return cudaErrorInvalidValue;
  return aligned16(c.weight) ? cudaSuccess : cudaErrorMisalignedAddress;
}

int row_warps_for(plan::Route route, const MatmulCall& c) {
  const DeviceLimits limits = device_limits(c.limits);
  return mma_row_warps(route, c.type, c.rows, c.width, limits.sm_count, limits.max_shared_bytes);
}

cudaError_t launch_ws(cudaKernel_t kernel, const MatmulCall& c, LaunchTarget target) {
  const MatmulArgs args{c.weight, c.x, c.y, c.rows, c.cols, c.width, 0};
  return launch_kernel(kernel, grid_for(c.rows, matmul::kWsBlockRows),
                       matmul_shared_bytes(plan::Route::ws, c.type, c.width, 0), args, target);
}

// A route's activations of x into the scratch, one warp per (activation row, super-block); nothing
// when `quantize` is null (the scratch already holds them: MatmulCall::activations_ready).
cudaError_t launch_quantize(cudaKernel_t quantize, const MatmulCall& c, LaunchTarget target) {
  if (!quantize) return cudaSuccess;
  const QuantizeActivationsArgs args{c.x, c.scratch, c.cols, c.width};
  return launch_kernel(quantize, grid_for(c.width * (c.cols / matmul::kQ8SuperBlock), matmul::kWarps), 0, args, target);
}

cudaError_t launch_mmq(cudaKernel_t quantize, cudaKernel_t kernel, const MatmulCall& c, LaunchTarget target) {
  if (info(c.type).is_float || c.cols % matmul::kQ8SuperBlock != 0 || !c.scratch || !aligned16(c.scratch) ||
      !aligned16(c.x))
    return cudaErrorInvalidValue;
  if (cudaError_t e = launch_quantize(quantize, c, target); e != cudaSuccess) return e;
  const int row_warps = row_warps_for(plan::Route::mmq, c);
  const MmqArgs args{c.weight, c.scratch, c.y, c.rows, c.cols, c.width, row_warps};
  return launch_kernel(kernel, grid_for(c.rows, matmul::kTileRowsPerWarp * row_warps),
                       matmul_shared_bytes(plan::Route::mmq, c.type, c.width, row_warps), args, target);
}

// A geglu epilogue's segments are whole tiles of both members: one other member of the same rows,
// a multiple of 256.
bool geglu_epilogue_fits(const MatmulCall& c) {
  const MatmulCall::GegluEpilogue& g = *c.geglu;
  return c.group.size() == 1 && c.group[0].rows == c.rows && c.rows % matmul::kQ8SuperBlock == 0 && g.tickets &&
         g.gate && g.up && g.y && aligned16(g.gate) && aligned16(g.up) && aligned16(g.y) && (!g.x_q || aligned16(g.x_q));
}

// mma16 and mma16h: the same grid of 16-row tiles and launch-group members over the same weight
// layout; they differ in the activations' format and in row groups.
cudaError_t launch_mma16(plan::Route route, cudaKernel_t quantize, cudaKernel_t kernel, const MatmulCall& c,
                         LaunchTarget target) {
  if (!mma16_supports(c.type) || c.cols % matmul::kQ8SuperBlock != 0 || !c.scratch || !aligned16(c.scratch) ||
      !aligned16(c.x))
    return cudaErrorInvalidValue;
  if (c.geglu && !geglu_epilogue_fits(c)) return cudaErrorInvalidValue;
  if (cudaError_t e = launch_quantize(quantize, c, target); e != cudaSuccess) return e;
  if (c.group.size() + 1 > kMma16MaxMembers) return cudaErrorInvalidValue;
  std::array<int64_t, kMma16MaxMembers> rows = {c.rows};
  const DeviceLimits limits = device_limits(c.limits);
  const int capacity = mma16_capacity_of(route, c.width);
  Mma16Args args{{{c.weight, c.y, c.rows}}, {}, 1, c.scratch, c.cols, c.width, 0, mma16_row_groups_of(route, c.width), 0};
  for (const MatmulCall::GroupMember& g : c.group) {
    const bool last = &g == &c.group.back();
    if (!g.weight || !g.y || g.rows < 1 || (g.type != c.type && (!last || !mma16_supports(g.type))))
      return cudaErrorInvalidValue;
    if (!aligned16(g.weight)) return cudaErrorMisalignedAddress;
    rows[args.member_count] = g.rows;
    args.members[args.member_count++] = {g.weight, g.y, g.rows};
  }
  args.k_split = mma16_k_split(route, std::span(rows.data(), args.member_count), c.width, limits.sm_count);
  unsigned blocks = 0;
  for (int m = 0; m < args.member_count; ++m)
    args.member_end[m] = blocks += mma16_blocks(rows[m], args.k_split) * args.row_groups;
  if (c.geglu) args.geglu = *c.geglu;
  args.stages = mma16_launch_stages(limits);
  args.stage_bytes = mma16_stage_bytes(args.stages);
  return launch_kernel(kernel, blocks, matmul::mma16_shared_bytes(capacity, args.k_split, args.stage_bytes), args, target);
}

cudaError_t launch_gemm_n(cudaKernel_t kernel, const MatmulCall& c, LaunchTarget target) {
  if (c.cols % plan::kGemmNKStep != 0 || !aligned16(c.x)) return cudaErrorInvalidValue;
  const int row_warps = row_warps_for(plan::Route::gemm_n, c);
  const MatmulArgs args{c.weight, c.x, c.y, c.rows, c.cols, c.width, row_warps};
  return launch_kernel(kernel, grid_for(c.rows, matmul::kTileRowsPerWarp * row_warps),
                       matmul_shared_bytes(plan::Route::gemm_n, c.type, c.width, row_warps), args, target);
}

// y (width × rows, row-major) = x · Wᵀ is, column-major, yᵀ (rows × width) = W (cols × rows,
// transposed) · xᵀ (cols × width): op(A) = Aᵀ with A = W and lda = cols (CublasGemm).
cudaError_t launch_cublas(cudaKernel_t convert, const MatmulCall& c, LaunchTarget target, cublasHandle_t cublas) {
  CublasGemm gemm{static_cast<int>(c.rows), c.width, static_cast<int>(c.cols), c.weight, c.x, c.y, CUDA_R_32F};
  target = target.with_cublas(cublas);
  if (c.type == QuantType::F32) return target.add(gemm);
  const bool quantized = !info(c.type).is_float;
  if (!c.scratch || (quantized && !c.weight_f16)) return cudaErrorInvalidValue;
  const int64_t count = static_cast<int64_t>(c.width) * c.cols;
  const ConvertActivationsArgs args{c.x, static_cast<unsigned short*>(c.scratch), count};
  if (convert)
    if (cudaError_t e = launch_kernel(convert, grid_for(count, matmul::kThreads), 0, args, target); e != cudaSuccess)
      return e;
  gemm.element = c.type == QuantType::BF16 ? CUDA_R_16BF : CUDA_R_16F;
  gemm.a = quantized ? c.weight_f16 : c.weight;
  gemm.b = c.scratch;
  return target.add(gemm);
}

}  // namespace

int matmul_shared_bytes(plan::Route route, QuantType type, int width, int row_warps) {
  const BlockShape b = block_shape(type);
  switch (route) {
    case plan::Route::ws:
      return matmul::ws_shared_bytes(b.elems, b.bytes, matmul::ws_capacity(width));
    case plan::Route::mmq:
      return matmul::mmq_shared_bytes(b.elems, b.bytes, matmul::mmq_capacity(width), matmul::kWarps / row_warps);
    case plan::Route::gemm_n:
      return matmul::gemm_n_shared_bytes(b.elems, b.bytes, matmul::gemm_n_capacity(width), matmul::kWarps / row_warps);
    case plan::Route::cublas:
      return 0;
    case plan::Route::mma16:  // `row_warps` is the K split here (launch_mma16 decides staging)
    case plan::Route::mma16h:
      return matmul::mma16_shared_bytes(mma16_capacity_of(route, width), row_warps, 0);
  }
  return 0;
}

// The most warps per tile whose grid still runs in one wave of the blocks an SM holds at the
// kernel's register budget: more warps put more weight bytes in flight, a second wave costs a
// whole pass of latency. A grid that overflows even with a warp per tile takes one.
int mma16_k_split(plan::Route route, std::span<const int64_t> rows, int width, int sm_count) {
  const int64_t resident = static_cast<int64_t>(sm_count) * matmul::mma16_min_blocks_per_sm(mma16_capacity_of(route, width));
  for (int k_split : {4, 2}) {
    int64_t blocks = 0;
    for (int64_t r : rows) blocks += static_cast<int64_t>(mma16_blocks(r, k_split)) * mma16_row_groups_of(route, width);
    if (blocks <= resident) return k_split;
  }
  return 1;
}

int mma16_stage_bytes(int stages) {
  if (stages == 0) return 0;
  return stage_memory() == StageMemory::full ? matmul::kMma16StageBytes : matmul::mma16_warp_stage_bytes(stages);
}

int mma16_launch_stages(const DeviceLimits& limits) {
  const int stages = weight_stages();
  return matmul::mma16_staged_shared_bytes(mma16_stage_bytes(stages)) <= limits.max_shared_bytes ? stages : 0;
}

int mma_row_warps(plan::Route route, QuantType type, int64_t rows, int width, int sm_count, int max_shared_bytes) {
  const auto fits = [&](int row_warps) { return matmul_shared_bytes(route, type, width, row_warps) <= max_shared_bytes; };
  const auto blocks = [&](int row_warps) { return (rows + 16 * row_warps - 1) / (16 * row_warps); };
  // 64-row blocks share each activation tile among the most rows; take them while every SM still
  // gets two, 32-row blocks while every SM gets one, else 16-row blocks whose four warps split K.
  if (fits(4) && blocks(4) >= 2 * static_cast<int64_t>(sm_count)) return 4;
  if (fits(2) && blocks(2) >= sm_count) return 2;
  for (int row_warps : {1, 2, 4})
    if (fits(row_warps)) return row_warps;
  return 4;  // the smallest footprint; the launch reports what the device cannot hold
}

cudaError_t launch_matmul(plan::Route route, const OpKernels& kernels, const MatmulCall& call, LaunchTarget target,
                          cublasHandle_t cublas) {
  if (cudaError_t e = check_call(route, kernels, call); e != cudaSuccess) return e;
  if (!call.group.empty() && !plan::route_launches_groups(route)) return cudaErrorInvalidValue;  // one weight a launch
  switch (route) {
    case plan::Route::ws:
      return launch_ws(kernels.main, call, target);
    case plan::Route::mmq:
      return launch_mmq(kernels.activations, kernels.main, call, target);
    case plan::Route::gemm_n:
      return launch_gemm_n(kernels.main, call, target);
    case plan::Route::cublas:
      return launch_cublas(kernels.activations, call, target, cublas);
    case plan::Route::mma16:  // the weight_at_load kernel repacked the weight
    case plan::Route::mma16h:
      return launch_mma16(route, kernels.activations, kernels.main, call, target);
  }
  return cudaErrorInvalidValue;
}

cudaError_t prepare_mma16_weight(cudaKernel_t repack, const void* weight, QuantType type, int64_t rows, int64_t cols,
                                 void* out, LaunchTarget target) {
  if (!repack || !weight || !out || !mma16_supports(type) || rows < 1 || cols % matmul::kQ8SuperBlock != 0 ||
      !aligned16(out))
    return cudaErrorInvalidValue;
  const int64_t units = mma16_bytes(type, rows, cols) / 2;
  const RepackMma16Args args{weight, out, rows, cols, units};
  return launch_kernel(repack, grid_for(units, matmul::kThreads), 0, args, target);
}

cudaError_t prepare_cublas_weight(cudaKernel_t dequantize_f16, const void* weight, QuantType type, int64_t rows,
                                  int64_t cols, void* out_f16, LaunchTarget target) {
  if (!dequantize_f16 || !weight || !out_f16 || rows < 1 || cols < 1 || cols % info(type).block_elems != 0 ||
      !aligned16(out_f16))
    return cudaErrorInvalidValue;
  const DequantizeF16Args args{weight, static_cast<unsigned short*>(out_f16), rows, cols};
  const int64_t per_thread = cols % 8 == 0 ? 8 : 1;  // as the kernel decides
  return launch_kernel(dequantize_f16, grid_for(rows * cols / per_thread, matmul::kThreads), 0, args, target);
}

int64_t geglu_epilogue_tickets(plan::Route route, int64_t rows, int width) {
  return rows / matmul::kQ8SuperBlock * mma16_row_groups_of(route, width);
}

}  // namespace g4c::gpu
