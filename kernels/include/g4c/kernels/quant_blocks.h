// ggml's quantized block layouts and their dequantization, one definition for host code (g++) and
// device code (NVRTC).
//
// The kernels and the host library (CPU backend, tests, random-weight quantizer) must turn a stored
// weight into the same float, bit for bit. So this header uses no standard library (NVRTC has
// none), no intrinsics and no exceptions: the float formats are converted with integer bit
// manipulation, and every dequantization is a product that is exact in float followed by at most
// one rounded subtraction:
//   - an fp16 scale has an 11-bit significand and is a multiple of 2^-24;
//   - Q4_0/Q8_0: d·q with |q| ≤ 128 needs at most 11 + 7 bits;
//   - Q4_K/Q5_K: (d·sc)·q with sc ≤ 63, q ≤ 31 needs at most 11 + 6 + 5 bits, dmin·m 11 + 6 bits;
//   - Q6_K: (d·sc)·q with |sc| ≤ 128, |q| ≤ 32 needs at most 11 + 7 + 5 bits;
// all within float's 24. Exact products make FMA contraction irrelevant, and every result is 0 or
// at least 2^-24 in magnitude, so flush-to-zero cannot change it either: host and device agree
// under any of nvcc's --fmad / --ftz settings. The formulas follow ggml's dequantize_row_* and
// shared/reference/routing.md §B.6.
#pragma once

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define G4C_HD __host__ __device__
#else
#define G4C_HD
#endif

namespace g4c {

//===----------------------------------------------------------------------===//
// Block layouts (little-endian; `d`, `dmin` are IEEE binary16 bit patterns)
//===----------------------------------------------------------------------===//

// 32 elements, x = d·(q − 8): element j in the low nibble of qs[j], j + 16 in the high nibble.
struct block_q4_0 {
  static constexpr int kElems = 32;
  unsigned short d;
  unsigned char qs[kElems / 2];
};

// 32 elements: x = d·qs[j].
struct block_q8_0 {
  static constexpr int kElems = 32;
  unsigned short d;
  signed char qs[kElems];
};

// Number of bytes that pack the eight 6-bit (scale, min) pairs of a Q4_K/Q5_K super-block.
inline constexpr int kKScaleBytes = 12;

// 256 elements in eight 32-element sub-blocks; x = d·sc·q − dmin·m with q in 0..15. qs[32c + l]
// holds element 64c + l in its low nibble and element 64c + 32 + l in its high nibble.
struct block_q4_K {
  static constexpr int kElems = 256;
  unsigned short d;
  unsigned short dmin;
  unsigned char scales[kKScaleBytes];
  unsigned char qs[kElems / 2];
};

// As Q4_K with a fifth bit per element: bit s of qh[l] is the high bit of element 32s + l.
struct block_q5_K {
  static constexpr int kElems = 256;
  unsigned short d;
  unsigned short dmin;
  unsigned char scales[kKScaleBytes];
  unsigned char qh[kElems / 8];
  unsigned char qs[kElems / 2];
};

// 256 elements as two 128-element halves, each four 32-element quarters; x = d·sc·(q − 32) with a
// signed 8-bit scale per 16 elements. Quarter k of half h takes its low 4 bits from
// ql[64h + 32(k&1) + l] (low nibble for k < 2, high nibble otherwise) and its high 2 bits from bits
// 2k..2k+1 of qh[32h + l].
struct block_q6_K {
  static constexpr int kElems = 256;
  unsigned char ql[kElems / 2];
  unsigned char qh[kElems / 4];
  signed char scales[kElems / 16];
  unsigned short d;
};

// Unquantized element types as one-element "blocks", so kernels can be templates over the block.
struct block_f16 {
  static constexpr int kElems = 1;
  unsigned short bits;
};
struct block_bf16 {
  static constexpr int kElems = 1;
  unsigned short bits;
};
struct block_f32 {
  static constexpr int kElems = 1;
  float value;
};

static_assert(sizeof(block_q4_0) == 18 && alignof(block_q4_0) == 2, "ggml block_q4_0");
static_assert(sizeof(block_q8_0) == 34 && alignof(block_q8_0) == 2, "ggml block_q8_0");
static_assert(sizeof(block_q4_K) == 144 && alignof(block_q4_K) == 2, "ggml block_q4_K");
static_assert(sizeof(block_q5_K) == 176 && alignof(block_q5_K) == 2, "ggml block_q5_K");
static_assert(sizeof(block_q6_K) == 210 && alignof(block_q6_K) == 2, "ggml block_q6_K");
static_assert(sizeof(block_f16) == 2 && sizeof(block_bf16) == 2 && sizeof(block_f32) == 4,
              "float element types");

//===----------------------------------------------------------------------===//
// Float formats (IEEE, round to nearest even, subnormals, inf and nan)
//===----------------------------------------------------------------------===//

G4C_HD constexpr unsigned int float_to_bits(float value) {
  return __builtin_bit_cast(unsigned int, value);
}

G4C_HD constexpr float bits_to_float(unsigned int bits) { return __builtin_bit_cast(float, bits); }

// `value >> shift` rounded to nearest, ties to even; 1 <= shift <= 31.
G4C_HD constexpr unsigned int round_shift_right_even(unsigned int value, int shift) {
  const unsigned int kept = value >> shift;
  const unsigned int dropped = value & ((1u << shift) - 1u);
  const unsigned int half = 1u << (shift - 1);
  const bool round_up = dropped > half || (dropped == half && (kept & 1u) != 0);
  return kept + (round_up ? 1u : 0u);
}

G4C_HD constexpr float fp16_to_float(unsigned short half) {
  const unsigned int sign = static_cast<unsigned int>(half & 0x8000u) << 16;
  const unsigned int exponent = (half >> 10) & 0x1fu;
  unsigned int mantissa = half & 0x3ffu;
  if (exponent == 0x1f) {  // inf, or nan: payload kept, made quiet (as ggml and IEEE convert)
    const unsigned int quiet = mantissa != 0 ? 0x400000u : 0u;
    return bits_to_float(sign | 0x7f800000u | quiet | (mantissa << 13));
  }
  if (exponent != 0)  // rebias 15 -> 127
    return bits_to_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  if (mantissa == 0) return bits_to_float(sign);
  // Subnormal half (mantissa · 2^-24): every float is normal here, so move the leading one to the
  // implicit-bit position, lowering the exponent of 2^-14 once per shift.
  unsigned int float_exponent = 113;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    --float_exponent;
  }
  return bits_to_float(sign | (float_exponent << 23) | ((mantissa & 0x3ffu) << 13));
}

G4C_HD constexpr unsigned short float_to_fp16(float value) {
  const unsigned int bits = float_to_bits(value);
  const unsigned int sign = (bits >> 16) & 0x8000u;
  const unsigned int magnitude = bits & 0x7fffffffu;
  unsigned int half = 0;
  if (magnitude > 0x7f800000u) {
    half = 0x7e00u;  // any nan becomes the canonical quiet nan, keeping its sign (as ggml)
  } else if (magnitude >= 0x477ff000u) {
    // 65520 and above round past the largest half (65504) to inf; so does inf.
    half = 0x7c00u;
  } else if (magnitude >= 0x38800000u) {
    // Normal half: rebias 127 -> 15 and round 23 mantissa bits to 10; a carry out of the mantissa
    // correctly bumps the exponent.
    half = round_shift_right_even(magnitude - 0x38000000u, 13);
  } else if (magnitude >= 0x33000000u) {
    // Subnormal half: count units of 2^-24. The float is significand · 2^(exponent − 150).
    const unsigned int exponent = magnitude >> 23;
    const unsigned int significand = (magnitude & 0x7fffffu) | 0x800000u;
    half = round_shift_right_even(significand, static_cast<int>(126u - exponent));
  }  // else: at most half of 2^-24, which rounds to zero
  return static_cast<unsigned short>(sign | half);
}

G4C_HD constexpr float bf16_to_float(unsigned short value) {
  return bits_to_float(static_cast<unsigned int>(value) << 16);
}

G4C_HD constexpr unsigned short float_to_bf16(float value) {
  const unsigned int bits = float_to_bits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u)  // nan: truncate and set the quiet bit (as ggml)
    return static_cast<unsigned short>((bits >> 16) | 0x40u);
  // Round to nearest even on the dropped 16 bits; overflow carries into inf as IEEE requires.
  return static_cast<unsigned short>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

//===----------------------------------------------------------------------===//
// K-quant scale/min unpack
//===----------------------------------------------------------------------===//

struct KScaleMin {
  unsigned char scale;  // 0..63
  unsigned char min;    // 0..63
};

// The 6-bit scale and min of sub-block `sub_block` (0..7) of a Q4_K/Q5_K super-block. Bytes 0-3
// hold scales 0-3 and, in their top two bits, the high bits of scales 4-7; bytes 4-7 the same for
// mins; bytes 8-11 hold the low four bits of scale (low nibble) and min (high nibble) of 4-7.
G4C_HD constexpr KScaleMin get_scale_min_k4(int sub_block, const unsigned char* packed) {
  if (sub_block < 4)
    return {static_cast<unsigned char>(packed[sub_block] & 63),
            static_cast<unsigned char>(packed[sub_block + 4] & 63)};
  return {
      static_cast<unsigned char>((packed[sub_block + 4] & 0xF) |
                                 ((packed[sub_block - 4] >> 6) << 4)),
      static_cast<unsigned char>((packed[sub_block + 4] >> 4) | ((packed[sub_block] >> 6) << 4))};
}

//===----------------------------------------------------------------------===//
// One element of a block (for gathers and per-element kernels)
//===----------------------------------------------------------------------===//

G4C_HD inline float dequantize_block_element(const block_q4_0& block, int index) {
  const unsigned char byte = block.qs[index % 16];
  const int code = index < 16 ? (byte & 0xF) : (byte >> 4);
  return (code - 8) * fp16_to_float(block.d);
}

G4C_HD inline float dequantize_block_element(const block_q8_0& block, int index) {
  return block.qs[index] * fp16_to_float(block.d);
}

// Shared by Q4_K and Q5_K once the 4- or 5-bit code is known.
G4C_HD inline float dequantize_k4_code(unsigned short d, unsigned short dmin,
                                       const unsigned char* scales, int sub_block, int code) {
  const KScaleMin scale_min = get_scale_min_k4(sub_block, scales);
  return fp16_to_float(d) * scale_min.scale * code - fp16_to_float(dmin) * scale_min.min;
}

G4C_HD inline float dequantize_block_element(const block_q4_K& block, int index) {
  const int sub_block = index / 32;
  const unsigned char byte = block.qs[32 * (sub_block / 2) + index % 32];
  const int code = (sub_block & 1) ? (byte >> 4) : (byte & 0xF);
  return dequantize_k4_code(block.d, block.dmin, block.scales, sub_block, code);
}

G4C_HD inline float dequantize_block_element(const block_q5_K& block, int index) {
  const int sub_block = index / 32;
  const int lane = index % 32;
  const unsigned char byte = block.qs[32 * (sub_block / 2) + lane];
  const int low_bits = (sub_block & 1) ? (byte >> 4) : (byte & 0xF);
  const int high_bit = (block.qh[lane] >> sub_block) & 1;
  return dequantize_k4_code(block.d, block.dmin, block.scales, sub_block,
                            low_bits | (high_bit << 4));
}

G4C_HD inline float dequantize_block_element(const block_q6_K& block, int index) {
  const int half = index / 128;
  const int quarter = (index % 128) / 32;
  const int lane = index % 32;
  const unsigned char low_byte = block.ql[64 * half + 32 * (quarter & 1) + lane];
  const int low_bits = (quarter & 2) ? (low_byte >> 4) : (low_byte & 0xF);
  const int high_bits = (block.qh[32 * half + lane] >> (2 * quarter)) & 3;
  const int scale = block.scales[8 * half + 2 * quarter + lane / 16];
  return fp16_to_float(block.d) * scale * ((low_bits | (high_bits << 4)) - 32);
}

G4C_HD inline float dequantize_block_element(const block_f16& block, int) {
  return fp16_to_float(block.bits);
}
G4C_HD inline float dequantize_block_element(const block_bf16& block, int) {
  return bf16_to_float(block.bits);
}
G4C_HD inline float dequantize_block_element(const block_f32& block, int) { return block.value; }

// Element `index` of a row stored as consecutive blocks of type Block.
template <class Block>
G4C_HD inline float dequantize_element(const Block* row, long long index) {
  return dequantize_block_element(row[index / Block::kElems],
                                  static_cast<int>(index % Block::kElems));
}

//===----------------------------------------------------------------------===//
// Whole blocks, in ggml's loop order (out receives Block::kElems floats)
//===----------------------------------------------------------------------===//

G4C_HD inline void dequantize_block(const block_q4_0& block, float* out) {
  const float d = fp16_to_float(block.d);
  for (int j = 0; j < block_q4_0::kElems / 2; ++j) {
    out[j] = ((block.qs[j] & 0xF) - 8) * d;
    out[j + block_q4_0::kElems / 2] = ((block.qs[j] >> 4) - 8) * d;
  }
}

G4C_HD inline void dequantize_block(const block_q8_0& block, float* out) {
  const float d = fp16_to_float(block.d);
  for (int j = 0; j < block_q8_0::kElems; ++j) out[j] = block.qs[j] * d;
}

// Q4_K and Q5_K: per 64-element chunk, one (scale, min) pair for each 32-element half;
// code(chunk, l, upper) is the code of element l of the chunk's lower or upper half.
template <class Block, class Code>
G4C_HD inline void dequantize_k_chunks(const Block& block, float* out, Code code) {
  const float d = fp16_to_float(block.d);
  const float dmin = fp16_to_float(block.dmin);
  for (int chunk = 0; chunk < 4; ++chunk) {
    const KScaleMin low = get_scale_min_k4(2 * chunk, block.scales);
    const KScaleMin high = get_scale_min_k4(2 * chunk + 1, block.scales);
    const float d_low = d * low.scale, m_low = dmin * low.min;
    const float d_high = d * high.scale, m_high = dmin * high.min;
    for (int l = 0; l < 32; ++l) out[64 * chunk + l] = d_low * code(chunk, l, false) - m_low;
    for (int l = 0; l < 32; ++l) out[64 * chunk + 32 + l] = d_high * code(chunk, l, true) - m_high;
  }
}

G4C_HD inline void dequantize_block(const block_q4_K& block, float* out) {
  dequantize_k_chunks(block, out, [&](int chunk, int l, bool upper) {
    const int q = block.qs[32 * chunk + l];
    return upper ? q >> 4 : q & 0xF;
  });
}

// Q5_K: the fifth bit of each code from qh, bit 2·chunk (lower half) or 2·chunk + 1 (upper).
G4C_HD inline void dequantize_block(const block_q5_K& block, float* out) {
  dequantize_k_chunks(block, out, [&](int chunk, int l, bool upper) {
    const int q = block.qs[32 * chunk + l];
    const int bit = (upper ? 2 : 1) << (2 * chunk);
    return (upper ? q >> 4 : q & 0xF) + (block.qh[l] & bit ? 16 : 0);
  });
}

G4C_HD inline void dequantize_block(const block_q6_K& block, float* out) {
  const float d = fp16_to_float(block.d);
  for (int half = 0; half < 2; ++half) {
    const unsigned char* ql = block.ql + 64 * half;
    const unsigned char* qh = block.qh + 32 * half;
    const signed char* scales = block.scales + 8 * half;
    float* y = out + 128 * half;
    for (int l = 0; l < 32; ++l) {
      const int group = l / 16;
      const int q0 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q1 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * scales[group] * q0;
      y[l + 32] = d * scales[group + 2] * q1;
      y[l + 64] = d * scales[group + 4] * q2;
      y[l + 96] = d * scales[group + 6] * q3;
    }
  }
}

G4C_HD inline void dequantize_block(const block_f16& block, float* out) {
  out[0] = fp16_to_float(block.bits);
}
G4C_HD inline void dequantize_block(const block_bf16& block, float* out) {
  out[0] = bf16_to_float(block.bits);
}
G4C_HD inline void dequantize_block(const block_f32& block, float* out) { out[0] = block.value; }

}  // namespace g4c
