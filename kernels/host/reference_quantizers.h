// ggml's reference quantizers over the shared block structs, one overload per block type:
// `quantize_blocks(x, y, n)` reads n · Block::kElems floats from x and writes n blocks to y.
#pragma once

#include <cstdint>

#include "g4c/kernels/quant_blocks.h"

namespace g4c {

void quantize_blocks(const float* x, block_q4_0* y, int64_t blocks);
void quantize_blocks(const float* x, block_q8_0* y, int64_t blocks);
void quantize_blocks(const float* x, block_q4_K* y, int64_t blocks);
void quantize_blocks(const float* x, block_q5_K* y, int64_t blocks);
void quantize_blocks(const float* x, block_q6_K* y, int64_t blocks);
void quantize_blocks(const float* x, block_f16* y, int64_t blocks);
void quantize_blocks(const float* x, block_bf16* y, int64_t blocks);
void quantize_blocks(const float* x, block_f32* y, int64_t blocks);

}  // namespace g4c
