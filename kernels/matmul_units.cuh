// A lane's share of a staged row tile, decoded to floats: the weight decoders of the ws and gemm_n
// routes. A tile is split among the four lanes of a quad; lane `part` (0..3) takes kChunks chunks
// of four weights at tile offsets chunk_offset(part, chunk). load() reads the lane's bytes (and
// scales) from the tile's slot once; decode(chunk) yields a chunk's four weights, `chunk` being
// the counter of a fully unrolled loop, so the selections below fold away.
//
// Quantized weights are decoded with one byte permute and one FMA each (matmul_common.cuh):
// exactly for Q4_0, Q8_0 and Q6_K, and within 2^-17 of the sub-block scale for Q4_K/Q5_K, whose
// minimum term is folded into the FMA's addend.
#pragma once

#include "matmul_common.cuh"

namespace g4c::mm {

template <class Block>
struct LaneUnit;

// Offsets of the four-weight chunks of the types whose lanes take contiguous runs.
template <int kChunks>
__device__ __forceinline__ constexpr int contiguous_chunk_offset(int part, int chunk) {
  return 4 * (kChunks * part + chunk);
}

//===----------------------------------------------------------------------===//
// K-quants: a tile is one super-block; lane `part` takes sub-blocks 2·part and 2·part + 1, whose
// codes share qs[32·part .. 32·part + 31] (low nibbles, then high nibbles).
//===----------------------------------------------------------------------===//

// The dequantization maps of sub-blocks 2·part and 2·part + 1 from a Q4_K/Q5_K header (d, dmin,
// 12 scale bytes: bytes 0-3 scales 0-3 and the high bits of scales 4-7, bytes 4-7 the same for
// mins, bytes 8-11 the low nibbles of scales (low) and mins (high) 4-7).
__device__ __forceinline__ void k_quant_affines(uint4 header, int part, Affine& low, Affine& high) {
  const float d = half_to_float(header.x), dmin = half_to_float(header.x >> 16);
  const bool upper = part >= 2;
  const unsigned scales = upper ? (header.w & 0x0f0f0f0fu) | ((header.y >> 2) & 0x30303030u) : header.y & 0x3f3f3f3fu;
  const unsigned mins =
      upper ? ((header.w >> 4) & 0x0f0f0f0fu) | ((header.z >> 2) & 0x30303030u) : header.z & 0x3f3f3f3fu;
  const int byte = 2 * (part & 1);
  low = affine_for_code(d * byte_as_float(scales, byte), dmin * byte_as_float(mins, byte));
  high = affine_for_code(d * byte_as_float(scales, byte + 1), dmin * byte_as_float(mins, byte + 1));
}

template <>
struct LaneUnit<block_q4_K> {
  static constexpr int kChunks = 16;
  __device__ static constexpr int chunk_offset(int part, int chunk) { return contiguous_chunk_offset<16>(part, chunk); }

  __device__ void load(const unsigned char* slot, int /*phase: always 0*/, int part) {
    const uint4 low = shared_u128(slot, 16 + 32 * part), high = shared_u128(slot, 32 + 32 * part);
    qs[0] = low.x, qs[1] = low.y, qs[2] = low.z, qs[3] = low.w;
    qs[4] = high.x, qs[5] = high.y, qs[6] = high.z, qs[7] = high.w;
    k_quant_affines(shared_u128(slot, 0), part, map[0], map[1]);
  }

  __device__ void decode(int chunk, float (&w)[4]) const {
    const int word = chunk % 8, nibble = chunk / 8;
    affine_codes((qs[word] >> (4 * nibble)) & 0x0f0f0f0fu, map[nibble], w);
  }

  unsigned qs[8];
  Affine map[2];
};

// As Q4_K plus a fifth bit: bit s of qh[l] tops element 32s + l.
template <>
struct LaneUnit<block_q5_K> {
  static constexpr int kChunks = 16;
  __device__ static constexpr int chunk_offset(int part, int chunk) { return contiguous_chunk_offset<16>(part, chunk); }

  __device__ void load(const unsigned char* slot, int /*phase: always 0*/, int part) {
    const uint4 low = shared_u128(slot, 48 + 32 * part), high = shared_u128(slot, 64 + 32 * part);
    qs[0] = low.x, qs[1] = low.y, qs[2] = low.z, qs[3] = low.w;
    qs[4] = high.x, qs[5] = high.y, qs[6] = high.z, qs[7] = high.w;
    const uint4 qh_low = shared_u128(slot, 16), qh_high = shared_u128(slot, 32);
    const unsigned qh[8] = {qh_low.x, qh_low.y, qh_low.z, qh_low.w, qh_high.x, qh_high.y, qh_high.z, qh_high.w};
#pragma unroll
    for (int i = 0; i < 8; ++i) high_bits[i] = qh[i] >> (2 * part);
    k_quant_affines(shared_u128(slot, 0), part, map[0], map[1]);
  }

  __device__ void decode(int chunk, float (&w)[4]) const {
    const int word = chunk % 8, nibble = chunk / 8;
    const unsigned low = (qs[word] >> (4 * nibble)) & 0x0f0f0f0fu;
    const unsigned fifth = (high_bits[word] << (4 - nibble)) & 0x10101010u;
    affine_codes(low | fifth, map[nibble], w);
  }

  unsigned qs[8];
  unsigned high_bits[8];  // qh >> 2·part: bit 0 of each byte tops the low nibbles, bit 1 the high
  Affine map[2];
};

// Q6_K: lane `part` takes half h = part / 2 and elements l in [16·(part % 2), +16) of each of its
// four 32-element quarters k (x = 128h + 32k + l), with one signed scale per quarter.
template <>
struct LaneUnit<block_q6_K> {
  static constexpr int kChunks = 16;
  __device__ static constexpr int chunk_offset(int part, int chunk) {
    return 128 * (part / 2) + 16 * (part % 2) + 32 * (chunk / 4) + 4 * (chunk % 4);
  }

  __device__ void load(const unsigned char* slot, int phase, int part) {
    const int half = part / 2, l0 = 16 * (part % 2);
    shared_words(slot, phase + 64 * half + l0, ql[0]);
    shared_words(slot, phase + 64 * half + 32 + l0, ql[1]);
    shared_words(slot, phase + 128 + 32 * half + l0, qh);
    unsigned scales[2], d_bits[1];
    shared_words(slot, phase + 192 + 8 * half, scales);
    shared_words(slot, phase + 208, d_bits);
    const float d = half_to_float(d_bits[0]);
    // Quarter k's scale is scales[8h + 2k + part % 2].
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const float scale = d * static_cast<float>(signed_byte(scales[k / 2], 2 * (k % 2) + part % 2));
      map[k] = {64.0f * scale, -160.0f * scale};  // scale · (code − 32), codes read as 2 + code / 64
    }
  }

  __device__ void decode(int chunk, float (&w)[4]) const {
    const int quarter = chunk / 4, word = chunk % 4;
    const unsigned low = (ql[quarter & 1][word] >> (4 * (quarter / 2))) & 0x0f0f0f0fu;
    const unsigned top = quarter < 2 ? qh[word] << (4 - 2 * quarter) : qh[word] >> (2 * quarter - 4);
    affine_codes(low | (top & 0x30303030u), map[quarter], w);
  }

  unsigned ql[2][4];  // ql[64h + l0 ..] (quarters 0, 2) and ql[64h + 32 + l0 ..] (quarters 1, 3)
  unsigned qh[4];
  Affine map[4];
};

//===----------------------------------------------------------------------===//
// 32-weight types: a tile is eight blocks; lane `part` takes blocks 2·part and 2·part + 1.
//===----------------------------------------------------------------------===//

// Q4_0: element j of a block in the low nibble of qs[j], j + 16 in the high nibble; x = d·(q − 8).
template <>
struct LaneUnit<block_q4_0> {
  static constexpr int kChunks = 16;
  __device__ static constexpr int chunk_offset(int part, int chunk) { return contiguous_chunk_offset<16>(part, chunk); }

  __device__ void load(const unsigned char* slot, int phase, int part) {
#pragma unroll
    for (int b = 0; b < 2; ++b) {
      const int block = phase + 36 * part + 18 * b;
      shared_words(slot, block + 2, qs[b]);
      const float d = half_to_float(shared_u16(slot, block));
      map[b] = {64.0f * d, -136.0f * d};  // d · (code − 8), codes read as 2 + code / 64
    }
  }

  __device__ void decode(int chunk, float (&w)[4]) const {
    const int block = chunk / 8, nibble = (chunk / 4) % 2, word = chunk % 4;
    affine_codes((qs[block][word] >> (4 * nibble)) & 0x0f0f0f0fu, map[block], w);
  }

  unsigned qs[2][4];
  Affine map[2];
};

// Q8_0: x = d·q with signed 8-bit codes, read as 1 + (q + 128) / 32768. Eight codes a lane's
// chunk pair would hold 16 registers per row; the codes are read from the slot chunk by chunk.
template <>
struct LaneUnit<block_q8_0> {
  static constexpr int kChunks = 16;
  __device__ static constexpr int chunk_offset(int part, int chunk) { return contiguous_chunk_offset<16>(part, chunk); }

  __device__ void load(const unsigned char* slot, int phase, int part) {
    base = slot;
    first_block = phase + 68 * part;
#pragma unroll
    for (int b = 0; b < 2; ++b) {
      const float d = half_to_float(shared_u16(slot, first_block + 34 * b));
      map[b] = {32768.0f * d, -32896.0f * d};
    }
  }

  __device__ void decode(int chunk, float (&w)[4]) const {
    unsigned codes[1];
    shared_words(base, first_block + 34 * (chunk / 8) + 2 + 4 * (chunk % 8), codes);
    const unsigned biased = codes[0] ^ 0x80808080u;
    const Affine m = map[chunk / 8];
#pragma unroll
    for (int k = 0; k < 4; ++k) w[k] = fmaf(wide_code_as_float(biased, k), m.a, m.b);
  }

  const unsigned char* base;
  int first_block;  // byte offset of the lane's first block in the slot
  Affine map[2];
};

//===----------------------------------------------------------------------===//
// Float types: a tile is 256 bytes; lane `part` takes a contiguous quarter of it, read from the
// slot chunk by chunk.
//===----------------------------------------------------------------------===//

template <>
struct LaneUnit<block_f32> {
  static constexpr int kChunks = 4;
  __device__ static constexpr int chunk_offset(int part, int chunk) { return contiguous_chunk_offset<4>(part, chunk); }

  __device__ void load(const unsigned char* slot, int phase, int part) { base = slot + phase + 64 * part; }

  __device__ void decode(int chunk, float (&w)[4]) const {
#pragma unroll
    for (int e = 0; e < 4; ++e) w[e] = __uint_as_float(shared_word(base, 16 * chunk + 4 * e));
  }

  const unsigned char* base;  // 4-byte aligned
};

// F16 and BF16: lane `part` takes 32 consecutive 2-byte elements.
template <bool kBrainFloat>
struct HalfLaneUnit {
  static constexpr int kChunks = 8;
  __device__ static constexpr int chunk_offset(int part, int chunk) { return contiguous_chunk_offset<8>(part, chunk); }

  __device__ void load(const unsigned char* slot, int phase, int part) {
    base = slot;
    offset = phase + 64 * part;
  }

  __device__ void decode(int chunk, float (&w)[4]) const {
    unsigned pair[2];
    shared_words(base, offset + 8 * chunk, pair);
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const unsigned bits = pair[e / 2] >> (16 * (e % 2));
      w[e] = kBrainFloat ? __uint_as_float(bits << 16) : half_to_float(bits);
    }
  }

  const unsigned char* base;
  int offset;
};

template <>
struct LaneUnit<block_f16> : HalfLaneUnit<false> {};
template <>
struct LaneUnit<block_bf16> : HalfLaneUnit<true> {};

}  // namespace g4c::mm
