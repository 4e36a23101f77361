// The int8 tensor-core step of the mmq route for each quantized type: one warp multiplies the
// staged super-block (256 columns) of its 16 weight rows by the staged q8_1 activations of all
// activation rows, adding into f32 accumulators laid out as mma C fragments.
//
// Weights enter the mma as their integer codes (Q4_0 and Q6_K re-centred to signed bytes, Q4_K
// and Q5_K unsigned with the minimum handled separately); each 32-column block's (or Q6_K's
// 16-column group's) int32 dot is then scaled by the weight scale × the activation block scale.
// The int32 results come out of the mma already offset by 1.5·2^23, which makes their bits an
// exact float, so one FADD converts them.
#pragma once

#include "matmul_common.cuh"
#include "quantize_activations.cuh"

namespace g4c::mm {

// What a warp needs of one block stage.
struct MmqWarpTile {
  const unsigned char* slots;   // the warp's 16 weight row slots (row i at slots + i · slot bytes)
  int phase_upper, phase_lower;  // where rows g and g + 8 start in their slots (Q6_K)
  const unsigned char* codes;    // activation row n's 256 codes at codes + n · kMmqCodeStride
  const unsigned char* scales;   // activation row n's 8 d (fp16) then 8 Σq (int16) at scales + n · 32
  int lane;
};

inline constexpr int kMmqBias = 0x4B400000;  // 1.5·2^23 as float bits: exact for |dot| < 2^22
inline constexpr float kMmqBiasValue = 12582912.0f;

__device__ __forceinline__ float unbias(int biased) { return __int_as_float(biased) - kMmqBiasValue; }

// The fragments of activation blocks `block` and `block + 1` (32 codes each) of activation rows
// 8·tile8 .. 8·tile8 + 7: b[0], b[1] for `block` (k32: columns 4t.. and 16 + 4t..; k16: its two
// 16-column halves), b[2], b[3] for `block + 1`.
__device__ __forceinline__ void activation_fragments(const MmqWarpTile& w, int tile8, int block, unsigned (&b)[4]) {
  const int row = 8 * tile8 + (w.lane & 7);
  ldmatrix_x4(b, shared_address(w.codes + row * matmul::kMmqCodeStride + 32 * block + 16 * (w.lane >> 3)));
}

// The scales d of blocks 2·pair and 2·pair + 1 (low and high half) of the lane's activation rows
// 8·tile8 + 2t and 8·tile8 + 2t + 1.
__device__ __forceinline__ void activation_scales(const MmqWarpTile& w, int tile8, int pair, unsigned (&d)[2]) {
  const int row = 8 * tile8 + 2 * (w.lane % 4);
  d[0] = shared_word(w.scales, row * matmul::kQ8ScaleBytes + 4 * pair);
  d[1] = shared_word(w.scales, (row + 1) * matmul::kQ8ScaleBytes + 4 * pair);
}

// acc += (row scale × activation scale) · dot for one C fragment: rows g, g + 8 × the lane's two
// activation rows; `dx_half` picks the low or high half of the activation scale words.
__device__ __forceinline__ void accumulate_block(float (&acc)[4], const int (&biased)[4], float upper, float lower,
                                                 const unsigned (&dx)[2], int dx_half) {
  const float d0 = half_to_float(dx[0] >> (16 * dx_half)), d1 = half_to_float(dx[1] >> (16 * dx_half));
  acc[0] = fmaf(upper * d0, unbias(biased[0]), acc[0]);
  acc[1] = fmaf(upper * d1, unbias(biased[1]), acc[1]);
  acc[2] = fmaf(lower * d0, unbias(biased[2]), acc[2]);
  acc[3] = fmaf(lower * d1, unbias(biased[3]), acc[3]);
}

// Row addresses for ldmatrix over a weight field of 32 bytes per row at byte `field`: matrices
// are rows 0-7 / 8-15 × bytes 0-15 / 16-31, giving A fragments a[0..3] in mma order.
__device__ __forceinline__ unsigned weight_fragment_address(const MmqWarpTile& w, int slot_bytes, int field) {
  const int row = (w.lane & 7) + 8 * ((w.lane >> 3) & 1);
  return shared_address(w.slots + row * slot_bytes + field + 16 * (w.lane >> 4));
}

template <class Block>
struct MmqType;

//===----------------------------------------------------------------------===//
// Q4_K and Q5_K: x = d·sc_j·q − dmin·m_j per 32-column sub-block j. The mma takes the codes q;
// the minimum terms Σ_j m_j·s_j, with s_j = d_j·Σq_j the sum of activation block j, take one
// fp16 mma per activation tile: m_j ≤ 63 is exact in fp16, and s_j (exact in f32) enters as an
// fp16 pair s_hi + s_lo in the mma's otherwise unused columns 8..15, good to 2^-22.
//===----------------------------------------------------------------------===//

// The B fragment of the minimum mma for activation row `row`: s of blocks 2t, 2t + 1 split into
// fp16 high parts (b0, columns 2t, 2t+1) and the remainders (b1, columns 2t+8, 2t+9).
__device__ __forceinline__ void block_sum_fragment(const MmqWarpTile& w, int row, int t, unsigned& b0,
                                                   unsigned& b1) {
  const unsigned d = shared_word(w.scales, row * matmul::kQ8ScaleBytes + 4 * t);
  const unsigned sums = shared_word(w.scales, row * matmul::kQ8ScaleBytes + 16 + 4 * t);
  const float s0 = half_to_float(d) * static_cast<float>(static_cast<short>(sums & 0xffffu));
  const float s1 = half_to_float(d >> 16) * static_cast<float>(static_cast<short>(sums >> 16));
  const HalfPairs halves = split_halves(s0, s1);
  b0 = halves.hi, b1 = halves.lo;
}

// The scale and minimum words of a Q4_K/Q5_K header: byte j of scales[j / 4] is sc_j, of
// mins[j / 4] is m_j (6 bits each).
struct KQuantRowScales {
  unsigned scales[2], mins[2];
  float d, dmin;
};

__device__ __forceinline__ KQuantRowScales k_quant_row_scales(uint4 header) {
  return {{header.y & 0x3f3f3f3fu, (header.w & 0x0f0f0f0fu) | ((header.y >> 2) & 0x30303030u)},
          {header.z & 0x3f3f3f3fu, ((header.w >> 4) & 0x0f0f0f0fu) | ((header.z >> 2) & 0x30303030u)},
          half_to_float(header.x),
          half_to_float(header.x >> 16)};
}

// d · sc_j for a run-time sub-block j.
__device__ __forceinline__ float k_quant_scale(const KQuantRowScales& r, int j) {
  return r.d * byte_as_float(j < 4 ? r.scales[0] : r.scales[1], j % 4);  // no array index: a select
}

// The fp16 pair (m_2t, m_2t+1): lane t's columns of the minimum mma.
__device__ __forceinline__ unsigned k_quant_min_pair(const KQuantRowScales& r, int t) {
  const unsigned word = t < 2 ? r.mins[0] : r.mins[1];
  return pack_half2(byte_as_float(word, 2 * (t % 2)), byte_as_float(word, 2 * (t % 2) + 1));
}

template <class Block, int kQsField, bool kFifthBit>
struct KQuantMmq {
  static constexpr int kSlotBytes = TileTraits<Block>::kSlotBytes;

  template <int kTiles8>
  __device__ static void multiply(const MmqWarpTile& w, float (&acc)[kTiles8][4]) {
    const int g = w.lane / 4, t = w.lane % 4;
    const KQuantRowScales upper = k_quant_row_scales(shared_u128(w.slots, g * kSlotBytes));
    const KQuantRowScales lower = k_quant_row_scales(shared_u128(w.slots, (g + 8) * kSlotBytes));

    // acc −= dmin · Σ_j m_j · s_j
    const unsigned upper_mins = k_quant_min_pair(upper, t), lower_mins = k_quant_min_pair(lower, t);
    const unsigned min_a[4] = {upper_mins, lower_mins, upper_mins, lower_mins};
#pragma unroll
    for (int j = 0; j < kTiles8; ++j) {
      float mins[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      unsigned s_high, s_low;
      block_sum_fragment(w, 8 * j + g, t, s_high, s_low);
      mma_f16_k16(mins, min_a, s_high, s_low);
      acc[j][0] = fmaf(-upper.dmin, mins[0], acc[j][0]);
      acc[j][1] = fmaf(-upper.dmin, mins[1], acc[j][1]);
      acc[j][2] = fmaf(-lower.dmin, mins[2], acc[j][2]);
      acc[j][3] = fmaf(-lower.dmin, mins[3], acc[j][3]);
    }

    unsigned qh[4];
    if (kFifthBit) ldmatrix_x4(qh, weight_fragment_address(w, kSlotBytes, 16));
    // Chunk c of qs holds sub-block 2c (low nibbles) and 2c + 1 (high nibbles). A run-time loop:
    // unrolling it lets the scheduler hoist loads past what the registers hold.
#pragma unroll 1
    for (int c = 0; c < 4; ++c) {
      unsigned raw[4], low[4], high[4];
      ldmatrix_x4(raw, weight_fragment_address(w, kSlotBytes, kQsField + 32 * c));
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        low[i] = raw[i] & 0x0f0f0f0fu;
        high[i] = (raw[i] >> 4) & 0x0f0f0f0fu;
        if (kFifthBit) {
          low[i] |= ((qh[i] >> (2 * c)) & 0x01010101u) << 4;
          high[i] |= ((qh[i] >> (2 * c + 1)) & 0x01010101u) << 4;
        }
      }
      const float upper_low = k_quant_scale(upper, 2 * c), upper_high = k_quant_scale(upper, 2 * c + 1);
      const float lower_low = k_quant_scale(lower, 2 * c), lower_high = k_quant_scale(lower, 2 * c + 1);
#pragma unroll
      for (int j = 0; j < kTiles8; ++j) {
        unsigned b[4], dx[2];
        activation_fragments(w, j, 2 * c, b);
        activation_scales(w, j, c, dx);
        int dot[4];
        mma_s8_k32(dot, low, b[0], b[1], kMmqBias);
        accumulate_block(acc[j], dot, upper_low, lower_low, dx, 0);
        mma_s8_k32(dot, high, b[2], b[3], kMmqBias);
        accumulate_block(acc[j], dot, upper_high, lower_high, dx, 1);
      }
    }
  }
};

template <>
struct MmqType<block_q4_K> : KQuantMmq<block_q4_K, 16, false> {};
template <>
struct MmqType<block_q5_K> : KQuantMmq<block_q5_K, 48, true> {};

//===----------------------------------------------------------------------===//
// Q4_0 and Q8_0: a tile is eight 32-column blocks; codes enter the mma as signed bytes. mmq needs
// cols % 256 == 0, so every row and tile starts on a 16-byte boundary and only the blocks' own
// 2-byte scale headers misalign their codes.
//===----------------------------------------------------------------------===//

// The word at an even byte offset of a 16-byte aligned row slot.
__device__ __forceinline__ unsigned slot_word(const unsigned char* row, int offset) {
  unsigned word[1];
  shared_words(row, offset, word);
  return word[0];
}

template <class Block>
struct LegacyMmq {
  static constexpr int kSlotBytes = TileTraits<Block>::kSlotBytes;
  static constexpr int kBlockBytes = sizeof(Block);
  static constexpr bool kNibbles = kBlockBytes == 18;  // Q4_0: columns j and j + 16 share byte j

  // The A fragment of block b for rows g (upper) and g + 8 (lower).
  __device__ static void fragment(const unsigned char* upper, const unsigned char* lower, int b, int t,
                                  unsigned (&a)[4]) {
    const int codes = kBlockBytes * b + 2 + 4 * t;
    if (kNibbles) {
      const unsigned u = slot_word(upper, codes), l = slot_word(lower, codes);
      a[0] = subtract_bytes(u & 0x0f0f0f0fu, 0x08080808u);
      a[1] = subtract_bytes(l & 0x0f0f0f0fu, 0x08080808u);
      a[2] = subtract_bytes((u >> 4) & 0x0f0f0f0fu, 0x08080808u);
      a[3] = subtract_bytes((l >> 4) & 0x0f0f0f0fu, 0x08080808u);
    } else {
      a[0] = slot_word(upper, codes);
      a[1] = slot_word(lower, codes);
      a[2] = slot_word(upper, codes + 16);
      a[3] = slot_word(lower, codes + 16);
    }
  }

  template <int kTiles8>
  __device__ static void multiply(const MmqWarpTile& w, float (&acc)[kTiles8][4]) {
    const int g = w.lane / 4, t = w.lane % 4;
    const unsigned char* upper = w.slots + g * kSlotBytes;
    const unsigned char* lower = w.slots + (g + 8) * kSlotBytes;
#pragma unroll 1
    for (int pair = 0; pair < 4; ++pair) {
      unsigned a[2][4];
      float d_upper[2], d_lower[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int block = 2 * pair + i;
        fragment(upper, lower, block, t, a[i]);
        d_upper[i] = half_to_float(shared_u16(upper, kBlockBytes * block));
        d_lower[i] = half_to_float(shared_u16(lower, kBlockBytes * block));
      }
#pragma unroll
      for (int j = 0; j < kTiles8; ++j) {
        unsigned b[4], dx[2];
        activation_fragments(w, j, 2 * pair, b);
        activation_scales(w, j, pair, dx);
        int dot[4];
        mma_s8_k32(dot, a[0], b[0], b[1], kMmqBias);
        accumulate_block(acc[j], dot, d_upper[0], d_lower[0], dx, 0);
        mma_s8_k32(dot, a[1], b[2], b[3], kMmqBias);
        accumulate_block(acc[j], dot, d_upper[1], d_lower[1], dx, 1);
      }
    }
  }
};

template <>
struct MmqType<block_q4_0> : LegacyMmq<block_q4_0> {};
template <>
struct MmqType<block_q8_0> : LegacyMmq<block_q8_0> {};

//===----------------------------------------------------------------------===//
// Q6_K: x = d·sc·(q − 32) with a signed scale per 16 columns, so each 32-column block takes two
// k16 mmas whose dots are scaled by their own sc in int32 before meeting the activation scale.
// Rows start at any even byte of their slot (210-byte blocks), so fields are read as words.
// Element 128h + 32q + l takes its low bits from ql[64h + 32(q & 1) + l] (nibble q / 2), its top
// bits from qh[32h + l] (bits 2q, 2q + 1) and its scale from scales[8h + 2q + l / 16].
//===----------------------------------------------------------------------===//

// What a lane needs of one row for quarters q0 and q0 + 1 of half h (q0 even): the code words of
// its columns 4t.. of each 16-column group, and the four scales.
struct Q6KQuarters {
  unsigned ql[2][2];  // [q & 1][group]
  unsigned qh[2];     // [group]
  unsigned scales;    // bytes 2·(q − q0) + group
};

__device__ __forceinline__ Q6KQuarters q6_k_quarters(const unsigned char* slot, int phase, int h, int q0, int t) {
  Q6KQuarters r;
#pragma unroll
  for (int group = 0; group < 2; ++group) {
#pragma unroll
    for (int odd = 0; odd < 2; ++odd) r.ql[odd][group] = slot_word(slot, phase + 64 * h + 32 * odd + 16 * group + 4 * t);
    r.qh[group] = slot_word(slot, phase + 128 + 32 * h + 16 * group + 4 * t);
  }
  r.scales = slot_word(slot, phase + 192 + 8 * h + 2 * q0);
  return r;
}

// Codes of quarter q0 + dq, 16-column group `group`, as signed bytes code − 32.
__device__ __forceinline__ unsigned q6_k_codes(const Q6KQuarters& r, int q0, int dq, int group) {
  const int q = q0 + dq;
  const unsigned low = (r.ql[dq][group] >> (4 * (q / 2))) & 0x0f0f0f0fu;
  const unsigned top = ((r.qh[group] >> (2 * q)) & 0x03030303u) << 4;
  return subtract_bytes(low | top, 0x20202020u);
}

template <>
struct MmqType<block_q6_K> {
  template <int kTiles8>
  __device__ static void multiply(const MmqWarpTile& w, float (&acc)[kTiles8][4]) {
    constexpr int kSlotBytes = TileTraits<block_q6_K>::kSlotBytes;
    const int g = w.lane / 4, t = w.lane % 4;
    const unsigned char* upper_slot = w.slots + g * kSlotBytes;
    const unsigned char* lower_slot = w.slots + (g + 8) * kSlotBytes;
    const float d_upper = half_to_float(slot_word(upper_slot, w.phase_upper + 208));
    const float d_lower = half_to_float(slot_word(lower_slot, w.phase_lower + 208));
    // Activation blocks 2·pair and 2·pair + 1 are quarters q0, q0 + 1 of half h.
#pragma unroll 1
    for (int pair = 0; pair < 4; ++pair) {
      const int h = pair / 2, q0 = 2 * (pair % 2);
      const Q6KQuarters upper = q6_k_quarters(upper_slot, w.phase_upper, h, q0, t);
      const Q6KQuarters lower = q6_k_quarters(lower_slot, w.phase_lower, h, q0, t);
#pragma unroll
      for (int j = 0; j < kTiles8; ++j) {
        unsigned b[4], dx[2];
        activation_fragments(w, j, 2 * pair, b);
        activation_scales(w, j, pair, dx);
#pragma unroll
        for (int dq = 0; dq < 2; ++dq) {
          int first[4], second[4];
          mma_s8_k16(first, q6_k_codes(upper, q0, dq, 0), q6_k_codes(lower, q0, dq, 0), b[2 * dq], 0);
          mma_s8_k16(second, q6_k_codes(upper, q0, dq, 1), q6_k_codes(lower, q0, dq, 1), b[2 * dq + 1], 0);
          const int su0 = signed_byte(upper.scales, 2 * dq), su1 = signed_byte(upper.scales, 2 * dq + 1);
          const int sl0 = signed_byte(lower.scales, 2 * dq), sl1 = signed_byte(lower.scales, 2 * dq + 1);
          const float d0 = half_to_float(dx[0] >> (16 * dq)), d1 = half_to_float(dx[1] >> (16 * dq));
          acc[j][0] = fmaf(d_upper * d0, static_cast<float>(first[0] * su0 + second[0] * su1), acc[j][0]);
          acc[j][1] = fmaf(d_upper * d1, static_cast<float>(first[1] * su0 + second[1] * su1), acc[j][1]);
          acc[j][2] = fmaf(d_lower * d0, static_cast<float>(first[2] * sl0 + second[2] * sl1), acc[j][2]);
          acc[j][3] = fmaf(d_lower * d1, static_cast<float>(first[3] * sl0 + second[3] * sl1), acc[j][3]);
        }
      }
    }
  }
};

}  // namespace g4c::mm
