#include <cstring>

#include "g4c/kernels/quant_host.h"
#include "g4c/kernels/weight_layouts_host.h"

namespace g4c {

namespace {

// Calls visitor(BlockTypeTag<B>{}) for the types the mma16 layout is defined for.
template <class Visitor>
auto visit_mma16_type(QuantType type, Visitor&& visitor) {
  if (type == QuantType::Q4_K) return visitor(BlockTypeTag<block_q4_K>{});
  if (type == QuantType::Q4_0) return visitor(BlockTypeTag<block_q4_0>{});
  return type == QuantType::Q6_K ? visitor(BlockTypeTag<block_q6_K>{}) : visitor(BlockTypeTag<block_q8_0>{});
}

}  // namespace

bool mma16_supports(QuantType type) {
  return type == QuantType::Q4_K || type == QuantType::Q6_K || type == QuantType::Q8_0 || type == QuantType::Q4_0;
}

int64_t mma16_bytes(QuantType type, int64_t rows, int64_t cols) {
  return visit_mma16_type(type, [&](auto tag) { return layout::mma16_bytes<typename decltype(tag)::type>(rows, cols); });
}

std::vector<uint8_t> repack_mma16(QuantType type, int64_t rows, int64_t cols, const uint8_t* gguf) {
  return visit_mma16_type(type, [&](auto tag) {
    using Block = typename decltype(tag)::type;
    std::vector<uint8_t> out(static_cast<size_t>(layout::mma16_bytes<Block>(rows, cols)), 0);
    for (int64_t unit = 0; unit < static_cast<int64_t>(out.size()); unit += 2)
      if (const int64_t from = layout::mma16_source_offset<Block>(rows, cols, unit); from >= 0)
        std::memcpy(out.data() + unit, gguf + from, 2);
    return out;
  });
}

float mma16_weight(QuantType type, const uint8_t* repacked, int64_t cols, int64_t row, int64_t col) {
  const int block = static_cast<int>(col % layout::kMma16SuperBlock) / 32;
  if (type == QuantType::Q6_K) {
    const layout::Mma16Q6KPosition at = layout::mma16_q6_k_position(cols, row, col);
    const int low = (repacked[at.low_byte] >> at.low_shift) & 0xf, high = (repacked[at.high_byte] >> at.high_shift) & 3;
    const int within = static_cast<int>(col % layout::kMma16SuperBlock);
    const int scale = static_cast<int8_t>(repacked[at.scales_byte + 8 * (within / 128) + 2 * (within % 128 / 32) +
                                                   within % 32 / 16]);
    uint16_t d;
    std::memcpy(&d, repacked + at.d_byte, 2);
    return fp16_to_float(d) * scale * ((low | (high << 4)) - 32);
  }
  if (type == QuantType::Q8_0) {
    const layout::Mma16Position at = layout::mma16_position<block_q8_0>(cols, row, col);
    uint16_t d;
    std::memcpy(&d, repacked + at.scales_byte + 2 * block, 2);
    return fp16_to_float(d) * static_cast<float>(static_cast<int8_t>(repacked[at.code_byte]));
  }
  if (type == QuantType::Q4_0) {
    const layout::Mma16Position at = layout::mma16_q4_0_position(cols, row, col);
    uint16_t d;
    std::memcpy(&d, repacked + at.scales_byte + 2 * block, 2);
    return fp16_to_float(d) * static_cast<float>(((repacked[at.code_byte] >> at.shift) & 0x0f) - 8);
  }
  const layout::Mma16Position at = layout::mma16_position<block_q4_K>(cols, row, col);
  block_q4_K header{};
  std::memcpy(&header, repacked + at.scales_byte, layout::Mma16Layout<block_q4_K>::kHeaderBytes);
  const int q = (repacked[at.code_byte] >> at.shift) & 0x0f;
  return dequantize_k4_code(header.d, header.dmin, header.scales, block, q);
}

}  // namespace g4c
