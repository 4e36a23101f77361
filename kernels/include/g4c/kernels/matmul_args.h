// The argument structs of the matmul route kernels (kernels/matmul_*.cuh) and the launch geometry
// the kernels and their host launchers (runtime/gpu/launch_matmul.cpp) must agree on. One
// definition for g++ and NVRTC: no standard library, only fixed-size scalars and pointers, so each
// struct has the same layout to both compilers. Every kernel takes exactly one struct by value.
//
// Memory contract of every matmul kernel:
//   - the weight is row-major, row j being cols / block_elems consecutive blocks, and starts on a
//     16-byte boundary; kernels copy it with aligned 16-byte loads, so they may read up to 15
//     bytes past its last byte, inside that byte's aligned 16-byte chunk (never another page);
//   - x is f32 [width][cols] and y f32 [width][rows], both row-major; every kernel writes all of
//     y for the width it was compiled for.
#pragma once

#include "g4c/kernels/quant_blocks.h"

namespace g4c {

//===----------------------------------------------------------------------===//
// Arguments
//===----------------------------------------------------------------------===//

// matmul_ws and matmul_gemm_n: y = x · Wᵀ for `width` activation rows (at most the kernel's
// capacity, see below).
struct MatmulArgs {
  const void* weight;
  const float* x;
  float* y;
  long long rows;
  long long cols;
  int width;
  int row_warps;  // gemm_n: warps of a block along the rows (1, 2 or 4); ws ignores it
};

// matmul_mmq: y = x · Wᵀ with x already quantized by quantize_q8_1 (for the same width).
struct MmqArgs {
  const void* weight;
  const void* x_q8;
  float* y;
  long long rows;
  long long cols;
  int width;
  int row_warps;  // warps of a block along the rows (1, 2 or 4); the others split K
};

// matmul_mma16: y_m = x · W_mᵀ for the members m of a launch group (the plan's `launched_with`;
// one member without it), each W_m in the mma16 layout (weight_layouts.h) with `cols` columns,
// x quantized by quantize_mma16 (for the same width).
inline constexpr int kMma16MaxMembers = 3;
struct Mma16Member {
  const void* weight;
  float* y;
  long long rows;
};
// geglu-epilogue: a launch of two members, gate and up, of rows a multiple of 256 also computes
// y = gelu_tanh(gate) · up and, in the format of the kernel's GEGLU_QUANTIZE template argument, the
// next matmul's activations: the last block to finish a 256-row segment (of either member, for
// its row group) computes that segment, as geglu_quantize computes it. `tickets`: a zeroed counter
// per (segment, row group), left zeroed.
struct Mma16Geglu {
  const float* gate;
  const float* up;
  float* y;
  void* x_q;
  unsigned* tickets;
};
// GEGLU_QUANTIZE of a launch without the epilogue (else a kActivations* format, None included).
inline constexpr int kNoGegluEpilogue = -1;
struct Mma16Args {
  Mma16Member members[kMma16MaxMembers];
  unsigned member_end[kMma16MaxMembers];  // the grid's blocks of members 0..m (cumulative)
  int member_count;
  const void* x_q;
  long long cols;
  int width;
  int k_split;     // warps per 16-row tile (1, 2 or 4), splitting its super-blocks; 4 / k_split tiles a block
  int row_groups;  // blocks per tile block, each taking `capacity` activation rows (mma16_row_groups)
  int stages;      // > 0: records each warp keeps in flight as bulk copies into shared memory (at
                   // most what stage_bytes hold of the type); 0: the weights stream through registers
  int stage_bytes;   // each warp's share of the stages (mma16_warp_stage_bytes), the mbarriers after all
  Mma16Geglu geglu;  // read by GEGLU_QUANTIZE != kNoGegluEpilogue instances only
};

// quantize_q8_1, quantize_mma16, quantize_mma16h: x f32 [width][cols] → a route's activations
// (q8_1, the mma16 layout, mma16h's fp16; layouts below).
struct QuantizeActivationsArgs {
  const float* x;
  void* x_q;
  long long cols;
  int width;
};

// repack_mma16: a GGUF-layout weight → the mma16 layout, `units` 2-byte units of output.
struct RepackMma16Args {
  const void* source;
  void* out;
  long long rows;
  long long cols;
  long long units;
};

// dequantize_f16: a whole weight → fp16 [rows][cols] (the cuBLAS route's copy, made at load).
struct DequantizeF16Args {
  const void* weight;
  unsigned short* out;
  long long rows;
  long long cols;
};

// convert_activations: count floats → fp16 or bf16.
struct ConvertActivationsArgs {
  const float* x;
  unsigned short* out;
  long long count;
};

//===----------------------------------------------------------------------===//
// Launch geometry
//===----------------------------------------------------------------------===//

namespace matmul {

// Kernel capacities. A matmul kernel is a template over the most activation rows it holds in
// registers at once, and takes the plan's width N at run time: the plan's instances for all the
// widths of one capacity name the same kernel, so NVRTC compiles a handful of kernels per weight
// type rather than 32 per route (the whole matmul family set in about a minute on two cores).
//   - ws holds 1, 2, 4 or 8 rows; wider batches take passes of 8 over the weights (ws is the
//     fallback there, for shapes small enough that the second pass reads L2).
//   - mmq holds whole mma tiles of 8 rows, up to 32.
//   - gemm_n holds 8, 16 or 32 rows (17..24 pad to 32).
inline constexpr int kMaxWidth = 32;
G4C_HD constexpr int ws_capacity(int n) { return n <= 1 ? 1 : n <= 2 ? 2 : n <= 4 ? 4 : 8; }
G4C_HD constexpr int padded_width(int n) { return (n + 7) / 8 * 8; }
G4C_HD constexpr int mmq_capacity(int n) { return padded_width(n); }
G4C_HD constexpr int gemm_n_capacity(int n) { return n <= 8 ? 8 : n <= 16 ? 16 : 32; }

// Every matmul kernel runs blocks of four warps. The minimum resident blocks per SM bound the
// registers ptxas may use (65536 / (128 · blocks)): enough warps to hide shared-memory and mma
// latency, with the cp.async rings keeping the memory system busy.
inline constexpr int kThreads = 128;
inline constexpr int kWarps = kThreads / 32;
inline constexpr int kWsMinBlocksPerSm = 4;
inline constexpr int kMmqMinBlocksPerSm = 3;
inline constexpr int kGemmNMinBlocksPerSm = 2;

// A K-step ("tile") is 256 weights of one row for the quantized types (one K-quant super-block,
// eight 32-weight blocks); the float types use tiles of the same 256 bytes. Every tile is split
// among the four lanes of a lane quad, each taking 16 chunks of 4 weights (quantized) or fewer.
G4C_HD constexpr int tile_elems(int block_elems, int block_bytes) {
  return block_elems > 1 ? 256 : 256 / block_bytes;
}
G4C_HD constexpr int tile_bytes(int block_elems, int block_bytes) {
  return tile_elems(block_elems, block_bytes) / block_elems * block_bytes;
}

// Row tiles are staged in shared memory from the aligned 16-byte chunks that cover them. Types
// whose blocks are 16-byte multiples (Q4_K, Q5_K) always start a tile on a chunk boundary; the
// others may start up to 14 bytes into one (blocks are even-sized), so their slots hold a chunk
// more.
G4C_HD constexpr bool tile_always_aligned(int block_bytes) { return block_bytes % 16 == 0; }
G4C_HD constexpr int tile_slot_bytes(int block_elems, int block_bytes) {
  return tile_always_aligned(block_bytes) ? tile_bytes(block_elems, block_bytes)
                                          : (tile_bytes(block_elems, block_bytes) + 14 + 15) / 16 * 16;
}

// Shared-memory reads of misaligned fields may touch one word past a stage's last slot.
inline constexpr int kSharedSlack = 16;

G4C_HD constexpr int max_of(int a, int b) { return a > b ? a : b; }

// ws: a warp's eight lane quads each take kWsRowsPerQuad rows, so a block covers kWsBlockRows
// rows, and its four warps split the K tiles. Each warp streams its tiles through a private ring
// of kWsStages slots per row; the cross-warp reduction reuses the rings afterwards.
inline constexpr int kWsStages = 3;
inline constexpr int kWsRowsPerQuad = 2;
inline constexpr int kWsBlockRows = 8 * kWsRowsPerQuad;
G4C_HD constexpr int ws_shared_bytes(int block_elems, int block_bytes, int capacity) {
  return max_of(kWarps * kWsStages * kWsBlockRows * tile_slot_bytes(block_elems, block_bytes) + kSharedSlack,
                kWarps * kWsBlockRows * capacity * 4);
}

// mmq and gemm_n lay a block out as row_warps × (4 / row_warps) warps: each warp owns 16 rows and
// the warps of a row group (the K-lanes) split the K tiles. A block stage holds the weight tiles
// of all 64 (row, K-lane) pairs, then each K-lane's activations; the cross-K-lane reduction
// reuses the stages afterwards.
inline constexpr int kTileRowsPerWarp = 16;
inline constexpr int kBlockTileSlots = kWarps * kTileRowsPerWarp;
G4C_HD constexpr int tile_reduction_bytes(int capacity) { return kWarps * 32 * capacity / 2 * 4; }

// q8_1 activations as quantize_q8_1 writes them and mmq reads them: for each 256-column
// super-block kb, the width rows' 256 int8 codes q (row-major, width × 256 bytes), then per row
// the eight 32-value block scales d (fp16) followed by the eight code sums Σq (int16; 32 bytes
// per row). That is width × 288 bytes per super-block: 36 bytes per 32 values, as the plan's
// scratch holds. The sums are kept as integers rather than as ggml's fp16 s = d·Σq so that the
// K-quants' minimum terms, which nearly cancel the codes' mean, come out exact.
inline constexpr int kQ8SuperBlock = 256;
// The activation formats (plan::ActivationFormat) as the quantizing kernels' template argument:
// none (a producer that does not quantize), q8_1 (mmq), the mma16 layout, mma16h's fp16.
inline constexpr int kActivationsNone = 0;
inline constexpr int kActivationsQ81 = 1;
inline constexpr int kActivationsMma16 = 2;
inline constexpr int kActivationsMma16h = 3;
inline constexpr int kQ8CodeBytes = 256;
inline constexpr int kQ8ScaleBytes = 32;
inline constexpr int kQ8RowBytes = kQ8CodeBytes + kQ8ScaleBytes;

// mma16 activations as quantize_mma16 writes them and matmul_mma16 reads them, per 256-column
// super-block kb: the width rows' 256 int8 codes, in the order the mma B fragments take them —
// for each pair of 32-value blocks (2c, 2c + 1), lane t of a quad finds at bytes 64c + 16t the
// columns 4t..4t+3 and 16+4t..16+4t+3 of block 2c, then the same of block 2c + 1 — then per row
// the eight block scales d (d = fp16(max|x| / 127), as q8_1) and the eight sums s = d·Σq, as
// floats: 320 bytes per row and super-block, the route's per-sequence scratch.
inline constexpr int kMma16ScaleFloats = 16;  // per row: d[8], then s[8]
inline constexpr int kMma16RowBytes = kQ8CodeBytes + kMma16ScaleFloats * 4;
G4C_HD constexpr long long mma16_activation_row_bytes(long long cols) { return cols / kQ8SuperBlock * kMma16RowBytes; }
// Within one super-block's activations (width rows): where column p (0..31) of 32-value block j
// of row n sits, and where row n's block scales d[8] (then sums s[8]) start.
G4C_HD constexpr int mma16_code_byte(int n, int block, int p) {
  return n * kQ8CodeBytes + 64 * (block / 2) + 16 * ((p % 16) / 4) + 8 * (block % 2) + 4 * (p / 16) + p % 4;
}
G4C_HD constexpr int mma16_scales_byte(int width, int n) { return width * kQ8CodeBytes + n * kMma16ScaleFloats * 4; }
// mma16h activations as quantize_mma16h writes them and matmul_mma16h reads them: for each
// 256-column super-block kb, the width rows' 256 values as fp16 (512 bytes a row), each 32-value
// block in the order of the route's K mapping (g4c/kernels/mma16h_fragments.h): lane t of a quad
// finds at bytes 16t of the block columns 4t, 4t+2, 4t+1, 4t+3, then 16 + the same — its B
// fragments of both k16 mmas in one 16-byte load. 2 bytes a value: the route's scratch.
inline constexpr int kMma16hRowBytes = kQ8SuperBlock * 2;
G4C_HD constexpr long long mma16h_activation_row_bytes(long long cols) { return cols * 2; }
// Within one super-block's activations (width rows): the byte of column p (0..31) of block j of row n.
G4C_HD constexpr int mma16h_half_byte(int n, int block, int p) {
  return n * kMma16hRowBytes + 64 * block + 16 * ((p % 16) / 4) + 8 * (p / 16) + 2 * ((p % 2) * 2 + (p % 4) / 2);
}
// mma16h holds up to 32 rows in one kernel (its arithmetic per tile is the mma alone): 8, 16 or 32.
G4C_HD constexpr int mma16h_capacity(int n) { return n <= 8 ? 8 : n <= 16 ? 16 : 32; }
// A kernel holds at most kMma16MaxCapacity activation rows; wider widths run as row groups: each
// tile block is launched once per group of rows, the groups of one tile block side by side in the
// grid, so that the later ones find the weights in L2. Groups of 8 rows beat kernels holding 16 or
// 32 at N = 16 and 32 on the 12B (docs/perf.md, "mma16 row groups"); the others stay buildable
// (-DG4C_MMA16_MAX_CAPACITY=16 or 32) to repeat that measurement.
#ifndef G4C_MMA16_MAX_CAPACITY
#define G4C_MMA16_MAX_CAPACITY 8
#endif
inline constexpr int kMma16MaxCapacity = G4C_MMA16_MAX_CAPACITY;
G4C_HD constexpr int mma16_capacity(int n) { return padded_width(n < kMma16MaxCapacity ? n : kMma16MaxCapacity); }
G4C_HD constexpr int mma16_row_groups(int n) { return (n + mma16_capacity(n) - 1) / mma16_capacity(n); }
// Resident blocks per SM the kernel is compiled for: 128 registers a thread up to 8 activation
// rows, 168 beyond (the accumulators and a wider tile's fragments).
G4C_HD constexpr int mma16_min_blocks_per_sm(int capacity) { return capacity <= 8 ? 4 : 3; }
// Weight staging (Mma16Args::stages): each warp keeps its next records in flight as bulk copies
// into its share of the block's shared memory (Mma16Args::stage_bytes). mma16_warp_stage_bytes
// sizes that share by the count — `stages` records of the largest type (Q8_0's 4,352 bytes) — up
// to kMma16StageBytes, which holds 6 Q4_K or Q4_0 records, 4 Q6_K, 3 Q8_0 (where the register path
// holds one more); what a block leaves of an SM's 256 KB of L1 and shared memory stays L1, where
// the activations are read — opt-in (`g4run --stage-memory=sized`); the default keeps
// kMma16StageBytes a warp whatever the count. The K-split reduction reuses the stages (they are
// drained by then); the mbarriers follow them.
inline constexpr int kMma16StageBytes = 13824;
inline constexpr int kMma16MaxRecordBytes = 4352;
inline constexpr int kMma16MaxStages = 8;
G4C_HD constexpr int mma16_stages(int record_bytes) { return kMma16StageBytes / record_bytes; }
G4C_HD constexpr int mma16_warp_stage_bytes(int stages) {
  return stages * kMma16MaxRecordBytes < kMma16StageBytes ? stages * kMma16MaxRecordBytes : kMma16StageBytes;
}
G4C_HD constexpr int mma16_staged_shared_bytes(int stage_bytes) { return kWarps * (stage_bytes + 8 * kMma16MaxStages); }
// `stage_bytes` 0: the register path.
G4C_HD constexpr int mma16_shared_bytes(int capacity, int k_split, int stage_bytes) {
  return stage_bytes > 0 ? mma16_staged_shared_bytes(stage_bytes) : k_split > 1 ? tile_reduction_bytes(capacity) : 0;
}
static_assert(tile_reduction_bytes(32) <= kWarps * mma16_warp_stage_bytes(1), "the reduction fits in the drained stages");

// mmq stage, per K-lane: each activation row's codes padded to 272 bytes (conflict-free
// ldmatrix), then the rows' scale records as they are.
inline constexpr int kMmqStages = 3;
inline constexpr int kMmqCodeStride = kQ8CodeBytes + 16;
G4C_HD constexpr int mmq_activation_bytes(int capacity) { return capacity * (kMmqCodeStride + kQ8ScaleBytes); }
G4C_HD constexpr int mmq_shared_bytes(int block_elems, int block_bytes, int capacity, int k_warps) {
  return max_of(kMmqStages * (kBlockTileSlots * tile_slot_bytes(block_elems, block_bytes) +
                              k_warps * mmq_activation_bytes(capacity)) +
                    kSharedSlack,
                tile_reduction_bytes(capacity));
}

// gemm_n stage, per K-lane: the activation rows' f32 values of its tile, chunk p (4 floats) of a
// row at chunk index p + p / (chunks per lane), rows (tile_elems / 4 + 4 chunks) ≡ 4 (mod 8)
// chunks apart, so the eight lanes of a shared-memory phase read distinct banks.
inline constexpr int kGemmNStages = 2;
G4C_HD constexpr int gemm_n_activation_row_bytes(int tile_elems_) { return 16 * (tile_elems_ / 4 + 4); }
G4C_HD constexpr int gemm_n_shared_bytes(int block_elems, int block_bytes, int capacity, int k_warps) {
  return max_of(kGemmNStages * (kBlockTileSlots * tile_slot_bytes(block_elems, block_bytes) +
                                k_warps * capacity * gemm_n_activation_row_bytes(tile_elems(block_elems, block_bytes))) +
                    kSharedSlack,
                tile_reduction_bytes(capacity));
}

}  // namespace matmul

}  // namespace g4c
