// The cuBLAS route's own kernels: dequantize_f16 turns a quantized weight into the fp16 copy
// cuBLAS multiplies (once, when weights are loaded), and convert_activations rounds each step's
// f32 activations to the fp16 or bf16 elements of the GEMM's other operand.
#pragma once

#include "g4c/kernels/injected_bugs.h"
#include "g4c/kernels/matmul_args.h"
#include "launch_order.cuh"
#include "g4c/kernels/quant_blocks.h"

namespace g4c {

// W (rows × cols of Block) → fp16 rows × cols, rounded to nearest even; eight elements a thread
// (one 16-byte store) where cols % 8 == 0, else one. Grid: ceil(rows · cols / (8 or 1) /
// matmul::kThreads) blocks of matmul::kThreads threads.
template <class Block>
__global__ void __launch_bounds__(matmul::kThreads) dequantize_f16(DequantizeF16Args args) {
  wait_for_prior_grids();
  const long long count = args.rows * args.cols;
  const long long row_bytes = args.cols / Block::kElems * static_cast<long long>(sizeof(Block));
  const int per_thread = args.cols % 8 == 0 ? 8 : 1;
  const long long first = (static_cast<long long>(blockIdx.x) * matmul::kThreads + threadIdx.x) * per_thread;
  if (first >= count) return;
  const long long row = first / args.cols, col = first % args.cols;
  const Block* blocks = reinterpret_cast<const Block*>(static_cast<const unsigned char*>(args.weight) + row * row_bytes);
  const auto element = [&](long long c) {
    return Block::kElems > 1 && injected_drop(c) ? 0.0f : dequantize_element(blocks, c);
  };
  if (per_thread == 1) {
    args.out[first] = float_to_fp16(element(col));
    return;
  }
  unsigned packed[4];
  for (int i = 0; i < 4; ++i)
    packed[i] = float_to_fp16(element(col + 2 * i)) | static_cast<unsigned>(float_to_fp16(element(col + 2 * i + 1))) << 16;
  *reinterpret_cast<uint4*>(args.out + first) = make_uint4(packed[0], packed[1], packed[2], packed[3]);
}

// The bits of v rounded to nearest even in an element type, chosen by the type of the null tag.
__device__ inline unsigned short element_bits(const block_f16*, float v) { return float_to_fp16(v); }
__device__ inline unsigned short element_bits(const block_bf16*, float v) { return float_to_bf16(v); }

// x f32 → Elem (block_f16 or block_bf16), rounded to nearest even; one element a thread.
// Grid: ceil(count / matmul::kThreads) blocks of matmul::kThreads threads.
template <class Elem>
__global__ void __launch_bounds__(matmul::kThreads) convert_activations(ConvertActivationsArgs args) {
  wait_for_prior_grids();
  const long long i = static_cast<long long>(blockIdx.x) * matmul::kThreads + threadIdx.x;
  if (i < args.count) args.out[i] = element_bits(static_cast<const Elem*>(nullptr), args.x[i]);
}

}  // namespace g4c
