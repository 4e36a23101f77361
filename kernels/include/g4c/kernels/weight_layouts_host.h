// Host-side facts and repacking of the device weight layouts (weight_layouts.h), through the same
// index functions the repacking kernel uses: for the runtime's memory sizes, for tests, and for
// tools that want a layout on the host.
#pragma once

#include <cstdint>
#include <vector>

#include "g4c/kernels/weight_layouts.h"
#include "g4c/spec/quant_type.h"

namespace g4c {

// Whether the mma16 layout (and route) is defined for a weight type: Q4_K, Q6_K, Q8_0 and Q4_0.
bool mma16_supports(QuantType type);

// Bytes of a rows × cols weight of `type` in the mma16 layout (cols % 256 == 0).
int64_t mma16_bytes(QuantType type, int64_t rows, int64_t cols);

// A rows × cols matrix of `type` in GGUF's layout (rows of blocks) → the mma16 layout.
std::vector<uint8_t> repack_mma16(QuantType type, int64_t rows, int64_t cols, const uint8_t* gguf);

// Weight (row, col) read from the mma16 layout (layout::mma16_position), dequantized as GGUF's
// blocks of `type` dequantize it.
float mma16_weight(QuantType type, const uint8_t* repacked, int64_t cols, int64_t row, int64_t col);

}  // namespace g4c
