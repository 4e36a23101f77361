// Host-side repacking into the device weight layouts (weight_layouts.h), through the same index
// functions the repacking kernel uses: for tests, and for tools that want a layout on the host.
#pragma once

#include <cstdint>
#include <vector>

#include "g4c/kernels/weight_layouts.h"

namespace g4c {

// A rows × cols Q4_K matrix in GGUF's layout (rows of blocks) → the mma16 layout
// (layout::mma16_bytes(rows, cols) bytes).
std::vector<uint8_t> repack_mma16(int64_t rows, int64_t cols, const uint8_t* gguf);

// Weight (row, col) read from the mma16 layout (layout::mma16_position), dequantized as GGUF's
// Q4_K dequantizes it: d·sc·q − dmin·m.
float mma16_weight(const uint8_t* repacked, int64_t cols, int64_t row, int64_t col);

}  // namespace g4c
