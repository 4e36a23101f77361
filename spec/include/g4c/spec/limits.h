// Limits on what a model declaration (TOML, or GGUF metadata through `g4c import`) and a plan may
// state. They reject declarations that no device could hold before anything is sized from them,
// and they keep every byte count derived from them far inside int64.
#pragma once

#include <cstddef>
#include <cstdint>

namespace g4c {

// One dimension (vocab, hidden, context, FFN width, window, PLE width): 2^24, sixteen times
// Gemma 4's largest (the 262144-token vocabulary).
inline constexpr int64_t kMaxDim = int64_t{1} << 24;
inline constexpr int64_t kMaxLayers = 1024;
inline constexpr size_t kMaxModelNameBytes = 256;  // a model name becomes the plan's @name
inline constexpr int64_t kMaxHeads = 4096;    // query or KV heads
inline constexpr int64_t kMaxHeadDim = 65536;

// A model whose weights take more than 4 TiB, or whose KV cache for one sequence at its context
// takes more than 1 TiB, fits on no device: the largest GPUs hold under 0.2 TiB and a whole
// 8-GPU node about 1.1 TiB. Gemma 4 31B in F32 is 0.12 TiB. Below these caps every total g4c
// forms (weights, KV caches for up to 4096 sequences) stays under 2^53 bytes.
inline constexpr int64_t kMaxWeightBytes = int64_t{1} << 42;
inline constexpr int64_t kMaxKvBytesPerSequence = int64_t{1} << 40;

}  // namespace g4c
