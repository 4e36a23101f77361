// The float64 building blocks of the reference model (shared/reference/gemma4.md), exposed so
// tests can check each against hand-computed values.
#pragma once

#include <cstdint>
#include <cmath>
#include <functional>
#include <optional>
#include <vector>

namespace g4c::reference {

using Vec = std::vector<double>;

// §5: x · (mean(x²) + eps)^(−1/2) [⊙ w], separately over each `group` consecutive elements.
Vec rms_norm(const Vec& x, const Vec* weight, int64_t group, double eps);

// §2.4: NeoX RoPE on each head of `head_dim`: element i pairs with i + head_dim/2 and, for
// i < rotated_pairs, rotates by pos · theta^(−2i/head_dim) (the full head_dim, also when only a
// fraction of the pairs rotate).
Vec rope(const Vec& x, int64_t head_dim, int64_t rotated_pairs, double theta, int64_t pos);

// §8.3.4: attention of the token at position `pos` over the keys at positions
// [max(0, pos − window + 1), pos] (window 0: [0, pos]); query head h reads KV head
// h / (q_heads / kv_heads); scale 1, no softcap. key(j) and value(j) give position j's rows.
Vec attend(const Vec& q, int64_t q_heads, int64_t kv_heads, int64_t head_dim, int64_t pos, int64_t window,
           const std::function<const Vec&(int64_t)>& key, const std::function<const Vec&(int64_t)>& value);

// §3.2: one layer's per-layer input from its slice of the projection W_plproj·e (before the H^−½
// scale) and its slice of the PLE table row (before the √P scale):
// (RMS(proj·H^−½; norm) + row·√P) · 2^−½, with P = proj.size().
Vec per_layer_input(const Vec& proj, const Vec& row, const Vec& norm, int64_t hidden, double eps);

double gelu_tanh(double x);
inline double softcap(double x, double cap) { return cap * std::tanh(x / cap); }

}  // namespace g4c::reference
