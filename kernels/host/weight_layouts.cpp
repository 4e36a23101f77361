#include <cstring>

#include "g4c/kernels/weight_layouts_host.h"

namespace g4c {

std::vector<uint8_t> repack_mma16(int64_t rows, int64_t cols, const uint8_t* gguf) {
  std::vector<uint8_t> out(static_cast<size_t>(layout::mma16_bytes(rows, cols)), 0);
  for (int64_t word = 0; word < static_cast<int64_t>(out.size()); word += 4)
    if (const int64_t from = layout::mma16_source_offset(rows, cols, word); from >= 0)
      std::memcpy(out.data() + word, gguf + from, 4);
  return out;
}

float mma16_weight(const uint8_t* repacked, int64_t cols, int64_t row, int64_t col) {
  const layout::Mma16Position at = layout::mma16_position(cols, row, col);
  block_q4_K header{};
  std::memcpy(&header, repacked + at.header_byte, layout::kQ4KHeaderBytes);
  const int sub_block = static_cast<int>(col % layout::kMma16SuperBlock) / 32;
  const int q = (repacked[at.code_byte] >> at.shift) & 0x0f;
  return dequantize_k4_code(header.d, header.dmin, header.scales, sub_block, q);
}

}  // namespace g4c
