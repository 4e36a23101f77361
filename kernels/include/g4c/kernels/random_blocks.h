// Seeded random weights, generated block by block with integer arithmetic, so the CPU generator and
// a GPU generator (one thread per block) produce the same bytes on every machine.
//
// Each block draws from its own counter-based stream (splitmix64 keyed by the tensor's seed and the
// block index). Codes and scale factors are integers; the only float operations are a product of
// a float constant (computed once on the host, passed in RandomTensorParams) by an exact value,
// then a conversion to the stored format with round-to-nearest-even — both IEEE-deterministic, and
// free of any contraction into FMA. Quantized types are generated directly in the quantized
// domain: bell-shaped codes around the block's zero point and scales that vary ±25% per block,
// which is roughly N(0, sigma) — realistic magnitudes without running a quantizer.
//
// NVRTC-compatible: no standard library.
#pragma once

#include "g4c/kernels/quant_blocks.h"

namespace g4c {

// What a tensor's generator needs; computed on the host by random_tensor_params().
struct RandomTensorParams {
  unsigned long long seed = 0;  // mixed from the model seed and the tensor's name
  int kind = 0;                 // RandomKind
  float element_scale = 0;      // gaussian float types: sigma / kBellStd; uniform: a factor on [0.75, 1.25)
  float block_scale = 0;        // quantized types: the scale d of an average block
};

enum RandomKind : int {
  kRandomGaussian = 0,  // matrices: ~N(0, sigma)
  kRandomUniform = 1,   // norm weights and layer scales: uniform in [0.75, 1.25) times element_scale
};

G4C_HD constexpr unsigned long long mix64(unsigned long long z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct RandomStream {
  unsigned long long state;
  G4C_HD unsigned long long next() {
    state += 0x9E3779B97F4A7C15ull;
    return mix64(state);
  }
  G4C_HD unsigned int below(unsigned int n) { return static_cast<unsigned int>(next() % n); }
};

G4C_HD inline RandomStream block_stream(unsigned long long tensor_seed, long long block) {
  return RandomStream{mix64(tensor_seed ^ (static_cast<unsigned long long>(block) * 0xD1B54A32D192ED03ull))};
}

// The sum of four 16-bit uniforms, centred: bell-shaped with standard deviation kBellStd.
inline constexpr float kBellStd = 37837.69f;
G4C_HD inline int bell(unsigned long long x) {
  return static_cast<int>(x & 0xFFFF) + static_cast<int>((x >> 16) & 0xFFFF) + static_cast<int>((x >> 32) & 0xFFFF) +
         static_cast<int>(x >> 48) - 131070;
}

// A per-block factor in [0.75, 1.25) with 2^-17 steps; exact in float.
G4C_HD inline float block_factor(RandomStream& s) {
  return 0.75f + static_cast<float>(s.next() & 0xFFFF) * (1.0f / 131072.0f);
}

// Three draws of 0..n-1 from one 64-bit value, summed: a bell over 0..3(n-1).
G4C_HD inline int bell3(unsigned long long x, int n) {
  return static_cast<int>((x & 0xFFFF) % n) + static_cast<int>(((x >> 16) & 0xFFFF) % n) +
         static_cast<int>(((x >> 32) & 0xFFFF) % n);
}

// The float value of element `index` of a float-typed tensor.
G4C_HD inline float random_float_element(const RandomTensorParams& p, long long index) {
  RandomStream s = block_stream(p.seed, index);
  unsigned long long x = s.next();
  if (p.kind == kRandomUniform) return (0.75f + static_cast<float>(x & 0xFFFF) * (1.0f / 131072.0f)) * p.element_scale;
  return static_cast<float>(bell(x)) * p.element_scale;
}

G4C_HD inline void random_block(const RandomTensorParams& p, long long index, block_f32& b) {
  b.value = random_float_element(p, index);
}
G4C_HD inline void random_block(const RandomTensorParams& p, long long index, block_f16& b) {
  b.bits = float_to_fp16(random_float_element(p, index));
}
G4C_HD inline void random_block(const RandomTensorParams& p, long long index, block_bf16& b) {
  b.bits = float_to_bf16(random_float_element(p, index));
}

// Q8_0: codes ≈ N(0, 127/3), value d·q.
G4C_HD inline void random_block(const RandomTensorParams& p, long long index, block_q8_0& b) {
  RandomStream s = block_stream(p.seed, index);
  b.d = float_to_fp16(p.block_scale * block_factor(s));
  for (int j = 0; j < block_q8_0::kElems; ++j) {
    int q = bell(s.next()) / 894;  // kBellStd · 3 / 127
    b.qs[j] = static_cast<signed char>(q < -127 ? -127 : q > 127 ? 127 : q);
  }
}

// Q4_0: codes 0..15 around 8, ≈ N(8, 2.5), value d·(q − 8).
G4C_HD inline void random_block(const RandomTensorParams& p, long long index, block_q4_0& b) {
  RandomStream s = block_stream(p.seed, index);
  b.d = float_to_fp16(p.block_scale * block_factor(s));
  int q[block_q4_0::kElems];
  for (int j = 0; j < block_q4_0::kElems; ++j) {
    int c = 8 + bell(s.next()) / 15135;  // kBellStd / 2.5
    q[j] = c < 0 ? 0 : c > 15 ? 15 : c;
  }
  for (int j = 0; j < block_q4_0::kElems / 2; ++j)
    b.qs[j] = static_cast<unsigned char>(q[j] | (q[j + 16] << 4));
}

// Packs eight 6-bit (scale, min) pairs the way get_scale_min_k4 unpacks them.
G4C_HD inline void pack_scale_min_k4(const int* sc, const int* m, unsigned char* packed) {
  for (int j = 0; j < 4; ++j) {
    packed[j] = static_cast<unsigned char>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    packed[j + 4] = static_cast<unsigned char>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
    packed[j + 8] = static_cast<unsigned char>((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
  }
}

// Q4_K/Q5_K: sub-block scales in 32..63 with min = scale and dmin = d·(mean code), so each
// sub-block is centred on zero; codes bell-shaped over 0..15 (Q4_K) or 0..30 (Q5_K).
template <class Block>
G4C_HD inline void random_k_scales(const RandomTensorParams& p, RandomStream& s, Block& b, float mean_code,
                                   int* sc) {
  float d = p.block_scale * block_factor(s);
  b.d = float_to_fp16(d);
  b.dmin = float_to_fp16(fp16_to_float(b.d) * mean_code);
  int m[8];
  for (int j = 0; j < 8; ++j) m[j] = sc[j] = 32 + static_cast<int>(s.below(32));
  pack_scale_min_k4(sc, m, b.scales);
}

G4C_HD inline void random_block(const RandomTensorParams& p, long long index, block_q4_K& b) {
  RandomStream s = block_stream(p.seed, index);
  int sc[8];
  random_k_scales(p, s, b, 7.5f, sc);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      int low = bell3(s.next(), 6), high = bell3(s.next(), 6);  // 0..15
      b.qs[32 * c + l] = static_cast<unsigned char>(low | (high << 4));
    }
}

G4C_HD inline void random_block(const RandomTensorParams& p, long long index, block_q5_K& b) {
  RandomStream s = block_stream(p.seed, index);
  int sc[8];
  random_k_scales(p, s, b, 15.0f, sc);
  for (int l = 0; l < 32; ++l) b.qh[l] = 0;
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      int low = bell3(s.next(), 11), high = bell3(s.next(), 11);  // 0..30
      b.qs[32 * c + l] = static_cast<unsigned char>((low & 15) | ((high & 15) << 4));
      b.qh[l] = static_cast<unsigned char>(b.qh[l] | ((low >> 4) << (2 * c)) | ((high >> 4) << (2 * c + 1)));
    }
}

// Q6_K: codes bell-shaped over 0..63 (value q − 32), positive 8-bit scales in 16..127.
G4C_HD inline void random_block(const RandomTensorParams& p, long long index, block_q6_K& b) {
  RandomStream s = block_stream(p.seed, index);
  b.d = float_to_fp16(p.block_scale * block_factor(s));
  for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<signed char>(16 + s.below(112));
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {
      int q[4];
      for (int k = 0; k < 4; ++k) q[k] = bell3(s.next(), 22);  // element 128h + 32k + l
      b.ql[64 * h + l] = static_cast<unsigned char>((q[0] & 15) | ((q[2] & 15) << 4));
      b.ql[64 * h + l + 32] = static_cast<unsigned char>((q[1] & 15) | ((q[3] & 15) << 4));
      b.qh[32 * h + l] =
          static_cast<unsigned char>((q[0] >> 4) | ((q[1] >> 4) << 2) | ((q[2] >> 4) << 4) | ((q[3] >> 4) << 6));
    }
}

// Standard deviation of code × scale each quantized type draws, for the host to turn sigma into
// block_scale. A bell3 over n values has variance 3(n² − 1)/12; a scale uniform over a..b has
// mean square ((a + b)/2)² + ((b − a + 1)² − 1)/12. Q8_0 127/3; Q4_0 2.5; Q4_K/Q5_K scales 32..63
// (rms 48.38) times codes of std 2.958 / 5.477; Q6_K scales 16..127 (rms 78.47) times 10.99.
inline constexpr float kQ8_0CodeStd = 42.333f;
inline constexpr float kQ4_0CodeStd = 2.5f;
inline constexpr float kQ4_KCodeStd = 48.38f * 2.958f;
inline constexpr float kQ5_KCodeStd = 48.38f * 5.477f;
inline constexpr float kQ6_KCodeStd = 78.47f * 10.99f;

}  // namespace g4c
