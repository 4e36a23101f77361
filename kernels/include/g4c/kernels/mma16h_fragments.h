// The fp16 A fragments of the mma16h route (kernels/matmul_mma16h.cuh): a record of the mma16
// weight layout (weight_layouts.h) dequantized once to fp16 weights, in the order the
// mma.m16n8k16 f16 fragments take them. One definition for the kernel (NVRTC) and the CPU model
// that checks it (unit-tests/runtime/mma16h_model_test.cpp): the integer steps are plain C++, the
// fp16 ones (fma, mul, sub of half pairs) are one PTX instruction on the device and their exact
// emulation on the host (one rounding of the exact result).
//
// K order. A lane 4g + t holds columns 4t..4t+3 of its 32-column block in one word per row (the
// mma16 layout, made for the int8 k32 fragment). The f16 k16 fragment wants columns 2t, 2t+1 and
// 2t+8, 2t+9 of 16; since a dot product does not care in which order it sums, the route maps
// logical k 2t, 2t+1, 2t+8, 2t+9 of the first mma to columns 4t, 4t+2, 4t+1, 4t+3 of the block
// (bytes 0 and 2, then 1 and 3 of the word: one mask each), and of the second mma to the same
// + 16. The activations are stored in that order (matmul::mma16h_half_byte in matmul_args.h), so a
// lane's B fragments for both mmas are one 16-byte load.
//
// Codes become halves exactly by the magic-number trick: a code q < 1024 or-ed into the mantissa
// of 1024.0 (0x6400) is the half 1024 + q; subtracting 1024 (or scaling a high nibble's 1024 + 16q
// by 1/16 and subtracting 64) leaves q exactly. A weight then takes one rounding: d·sc and dmin·m
// are each rounded once to fp16 (fma of (1024 + sc)·d − 1024·d), the weight once more (q·s − o).
#pragma once

#include "g4c/kernels/quant_blocks.h"

#if !defined(__CUDA_ARCH__)
#include <cmath>
#include <cstring>
#endif

namespace g4c::mma16h {

inline constexpr unsigned kMagic = 0x64006400u;        // (1024, 1024): also the value subtracted
inline constexpr unsigned kHalfMinus1024 = 0xE400E400u;
inline constexpr unsigned kHalf1032 = 0x64086408u;     // 1024 + 8: Q4_0's q − 8
inline constexpr unsigned kHalf1056 = 0x64206420u;     // 1024 + 32: Q6_K's q − 32
inline constexpr unsigned kHalf1152 = 0x64806480u;     // 1024 + 128: a biased int8
inline constexpr unsigned kHalfSixteenth = 0x2C002C00u;  // 1/16
inline constexpr unsigned kHalfMinus64 = 0xD400D400u;
inline constexpr unsigned kHalfMinus72 = 0xD480D480u;  // −64 − 8

//===----------------------------------------------------------------------===//
// Half-pair arithmetic
//===----------------------------------------------------------------------===//

#if defined(__CUDA_ARCH__)
G4C_HD __forceinline__ unsigned hfma2(unsigned a, unsigned b, unsigned c) {
  unsigned d;
  asm("fma.rn.f16x2 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}
G4C_HD __forceinline__ unsigned hmul2(unsigned a, unsigned b) {
  unsigned d;
  asm("mul.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
  return d;
}
G4C_HD __forceinline__ unsigned hsub2(unsigned a, unsigned b) {
  unsigned d;
  asm("sub.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
  return d;
}
G4C_HD __forceinline__ unsigned byte_perm(unsigned x, unsigned y, unsigned selector) {
  return __byte_perm(x, y, selector);
}
// (a & mask) | c in one LOP3: written as C, the two constants make two (an instruction has one
// immediate).
G4C_HD __forceinline__ unsigned mask_or(unsigned a, unsigned mask, unsigned c) {
  unsigned d;
  asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(d) : "r"(a), "r"(mask), "r"(c));
  return d;
}
#else
// The host's fp16: one rounding of a double (exact for every product and sum of two halves the
// route forms, so emulating an fma this way rounds once, as the instruction does).
inline double half_value(unsigned bits) {
  _Float16 h;
  const unsigned short b = static_cast<unsigned short>(bits);
  std::memcpy(&h, &b, 2);
  return static_cast<double>(h);
}
inline unsigned half_bits(double v) {
  const _Float16 h = static_cast<_Float16>(v);
  unsigned short b;
  std::memcpy(&b, &h, 2);
  return b;
}
template <class F>
inline unsigned halves(unsigned a, unsigned b, unsigned c, F f) {
  const unsigned lo = half_bits(f(half_value(a), half_value(b), half_value(c)));
  const unsigned hi = half_bits(f(half_value(a >> 16), half_value(b >> 16), half_value(c >> 16)));
  return lo | hi << 16;
}
inline unsigned hfma2(unsigned a, unsigned b, unsigned c) {
  return halves(a, b, c, [](double x, double y, double z) { return std::fma(x, y, z); });
}
inline unsigned hmul2(unsigned a, unsigned b) {
  return halves(a, b, 0, [](double x, double y, double) { return x * y; });
}
inline unsigned hsub2(unsigned a, unsigned b) {
  return halves(a, b, 0, [](double x, double y, double) { return x - y; });
}
inline unsigned mask_or(unsigned a, unsigned mask, unsigned c) { return (a & mask) | c; }
inline unsigned byte_perm(unsigned x, unsigned y, unsigned selector) {
  const unsigned long long bytes = static_cast<unsigned long long>(y) << 32 | x;
  unsigned out = 0;
  for (int i = 0; i < 4; ++i) out |= static_cast<unsigned>(bytes >> (8 * ((selector >> (4 * i)) & 7)) & 0xffu) << (8 * i);
  return out;
}
#endif

// The selector that broadcasts byte `index` of x with byte 1 of y (0x64 when y = kMagic) above
// it: the half 1024 + byte, twice.
G4C_HD constexpr unsigned broadcast_selector(int index) {
  return 0x5050u | static_cast<unsigned>(index) | static_cast<unsigned>(index) << 8;
}
// The half pair (h, h) from 16-bit half `index` (0 low, 1 high) of `word`.
G4C_HD inline unsigned broadcast_half(unsigned word, int index) {
  return byte_perm(word, 0u, index ? 0x3232u : 0x1010u);
}

//===----------------------------------------------------------------------===//
// A block's fragments
//===----------------------------------------------------------------------===//

// The A fragments of one 32-column block of a 16-row tile: the first mma's (columns 0..15) and
// the second's (16..31), each {row g even pair, row g + 8 even pair, row g odd, row g + 8 odd}.
struct BlockFragments {
  unsigned first[4], second[4];
};

// Bytes 0 and 2 (even) and 1 and 3 (odd) of `word` under `mask` (within each 16-bit half), or-ed
// into 1024.0: the halves 1024 + code.
struct CodePairs {
  unsigned even, odd;
};
G4C_HD inline CodePairs code_pairs(unsigned word, unsigned mask) {
  return {mask_or(word, mask, kMagic), mask_or(word >> 8, mask, kMagic)};
}

// Four code pairs (rows g, g + 8 of columns 0..15, then of 16..31) to a block's fragments, each
// pair turned into weights by `weights(pair, upper_row, first_half)`.
template <class F>
G4C_HD inline BlockFragments assemble(const CodePairs (&p)[4], F weights) {
  return {{weights(p[0].even, true, true), weights(p[1].even, false, true), weights(p[0].odd, true, true),
           weights(p[1].odd, false, true)},
          {weights(p[2].even, true, false), weights(p[3].even, false, false), weights(p[2].odd, true, false),
           weights(p[3].odd, false, false)}};
}

// s = round(v·scale) for an integer v ≤ 1023 held as the half 1024 + v: one fma with −1024·scale
// (exact), so the product is rounded once.
G4C_HD inline unsigned scaled_code(unsigned biased, unsigned scale2) {
  return hfma2(biased, scale2, hmul2(scale2, kHalfMinus1024));
}

//===----------------------------------------------------------------------===//
// Per type. The words are one lane's 16 bytes of a chunk (x: row g columns 4t..4t+3, y: row g + 8,
// z: row g columns 16 + 4t.., w: row g + 8); `b` is the 32-column block of the record.
//===----------------------------------------------------------------------===//

// Q4_K: x = d·sc_j·q − dmin·m_j, chunk b / 2, low nibbles for even b, high for odd. A row's
// header (16 bytes: d | dmin << 16, then the 12 scale bytes) as the words the blocks need: sc_j
// in byte j % 4 of scales[j / 4], m_j likewise in mins, and (d, d), (−dmin, −dmin).
struct Q4KRow {
  unsigned scales[2], mins[2], d, negated_dmin;
};
G4C_HD inline Q4KRow q4_k_row(const unsigned (&h)[4]) {
  // j < 4: sc_j, m_j in bytes j of words 1 and 2 (low 6 bits); j ≥ 4: the low / high nibble of
  // byte j of word 3 with the top 2 bits of byte j − 4 of word 1 / 2 (ggml's get_scale_min_k4).
  return {{h[1] & 0x3f3f3f3fu, (h[3] & 0x0f0f0f0fu) | ((h[1] >> 2) & 0x30303030u)},
          {h[2] & 0x3f3f3f3fu, ((h[3] >> 4) & 0x0f0f0f0fu) | ((h[2] >> 2) & 0x30303030u)},
          broadcast_half(h[0], 0),
          broadcast_half(h[0], 1) ^ 0x80008000u};
}

G4C_HD inline BlockFragments q4_k_fragments(unsigned x, unsigned y, unsigned z, unsigned w, const Q4KRow& upper,
                                            const Q4KRow& lower, int b) {
  const bool high = b % 2 != 0;
  const unsigned mask = high ? 0x00F000F0u : 0x000F000Fu;
  const CodePairs p[4] = {code_pairs(x, mask), code_pairs(y, mask), code_pairs(z, mask), code_pairs(w, mask)};
  // (1024 + sc_b) twice, and its products: d·sc_b and −dmin·m_b, each rounded once.
  const auto scale = [&](const Q4KRow& r) {
    return scaled_code(byte_perm(r.scales[b / 4], kMagic, broadcast_selector(b % 4)), r.d);
  };
  const auto negated_minimum = [&](const Q4KRow& r) {
    return scaled_code(byte_perm(r.mins[b / 4], kMagic, broadcast_selector(b % 4)), r.negated_dmin);
  };
  const unsigned su = scale(upper), ou = negated_minimum(upper), sl = scale(lower), ol = negated_minimum(lower);
  return assemble(p, [&](unsigned biased, bool upper_row, bool) {
    const unsigned q = high ? hfma2(biased, kHalfSixteenth, kHalfMinus64) : hsub2(biased, kMagic);
    return hfma2(q, upper_row ? su : sl, upper_row ? ou : ol);
  });
}

// Q6_K: x = d·sc·(q − 32), q = 4 low bits (ql) | 2 high (qh) << 4; block b = half h, quarter q:
// ql words of chunk 2h + q % 2 (low nibbles for q < 2, high for q ≥ 2), qh words of half h (bits
// 2q, 2q + 1 of each byte). scales_*: a row's 16 signed scales as four words; d_*: its fp16 d.
G4C_HD inline BlockFragments q6_k_fragments(unsigned x, unsigned y, unsigned z, unsigned w, unsigned hx, unsigned hy,
                                            unsigned hz, unsigned hw, const unsigned (&scales_upper)[4],
                                            const unsigned (&scales_lower)[4], unsigned d_upper, unsigned d_lower, int b) {
  const int h = b / 4, q = b % 4;
  const int low_shift = 4 * (q / 2);
  const auto codes = [&](unsigned ql, unsigned qh) {
    const unsigned high_bits = 2 * q <= 4 ? qh << (4 - 2 * q) : qh >> (2 * q - 4);
    const CodePairs low = code_pairs(ql >> low_shift, 0x000F000Fu);
    return CodePairs{mask_or(high_bits, 0x00300030u, low.even), mask_or(high_bits >> 8, 0x00300030u, low.odd)};
  };
  const CodePairs p[4] = {codes(x, hx), codes(y, hy), codes(z, hz), codes(w, hw)};
  const int first_scale = 8 * h + 2 * q;
  const auto scale = [&](const unsigned (&s)[4], unsigned d, int index) {
    const unsigned biased = byte_perm(s[index / 4] ^ 0x80808080u, kMagic, broadcast_selector(index % 4));
    return hmul2(hsub2(biased, kHalf1152), broadcast_half(d, 0));  // sc exact, then d·sc rounded once
  };
  const unsigned su0 = scale(scales_upper, d_upper, first_scale), su1 = scale(scales_upper, d_upper, first_scale + 1);
  const unsigned sl0 = scale(scales_lower, d_lower, first_scale), sl1 = scale(scales_lower, d_lower, first_scale + 1);
  return assemble(p, [&](unsigned biased, bool upper_row, bool first_half) {
    return hmul2(hsub2(biased, kHalf1056), upper_row ? (first_half ? su0 : su1) : (first_half ? sl0 : sl1));
  });
}

// Q8_0: x = d·q, signed codes, chunk b; d_*: the rows' fp16 block scale of block b.
G4C_HD inline BlockFragments q8_0_fragments(unsigned x, unsigned y, unsigned z, unsigned w, unsigned d_upper,
                                            unsigned d_lower) {
  const auto codes = [](unsigned word) {
    const unsigned biased = word ^ 0x80808080u;  // q + 128
    return CodePairs{byte_perm(biased, kMagic, 0x5250u), byte_perm(biased, kMagic, 0x5351u)};
  };
  const CodePairs p[4] = {codes(x), codes(y), codes(z), codes(w)};
  const unsigned du = broadcast_half(d_upper, 0), dl = broadcast_half(d_lower, 0);
  return assemble(p, [&](unsigned biased, bool upper_row, bool) {
    return hmul2(hsub2(biased, kHalf1152), upper_row ? du : dl);
  });
}

// Q4_0: x = d·(q − 8); the block's words of rows g (upper) and g + 8 (lower): columns 4t + i in
// the low nibbles, 16 + 4t + i in the high ones.
G4C_HD inline BlockFragments q4_0_fragments(unsigned upper, unsigned lower, unsigned d_upper, unsigned d_lower) {
  const CodePairs p[4] = {code_pairs(upper, 0x000F000Fu), code_pairs(lower, 0x000F000Fu),
                          code_pairs(upper, 0x00F000F0u), code_pairs(lower, 0x00F000F0u)};
  const unsigned du = broadcast_half(d_upper, 0), dl = broadcast_half(d_lower, 0);
  return assemble(p, [&](unsigned biased, bool upper_row, bool first_half) {
    const unsigned q = first_half ? hsub2(biased, kHalf1032) : hfma2(biased, kHalfSixteenth, kHalfMinus72);
    return hmul2(q, upper_row ? du : dl);
  });
}

}  // namespace g4c::mma16h
