#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "g4c/kernels/injected_bugs.h"
#include "g4c/kernels/quant_host.h"
#include "g4c/kernels/rope_angles.h"
#include "g4c/runtime/cpu_ops.h"

namespace g4c::cpu {

void matmul(const HostTensor& w, const float* x, float* y, int64_t n) {
  std::vector<float> row(static_cast<size_t>(w.ne0));
  const bool quantized = !info(w.type).is_float;
  for (int64_t j = 0; j < w.ne1; ++j) {
    dequantize_tensor_row(w, j, row.data());
    if (quantized)
      for (int64_t i = 0; i < w.ne0; ++i)
        if (injected_drop(i)) row[i] = 0.0f;
    for (int64_t r = 0; r < n; ++r) {
      const float* xr = x + r * w.ne0;
      float sum = 0;
      for (int64_t i = 0; i < w.ne0; ++i) sum += xr[i] * row[i];
      y[r * w.ne1 + j] = sum;
    }
  }
}

void embed_gather(const HostTensor& table, const int32_t* ids, float scale, float* out, int64_t n) {
  for (int64_t r = 0; r < n; ++r) {
    if (ids[r] < 0 || ids[r] >= table.ne1)
      throw IndexError("token id " + std::to_string(ids[r]) + " is outside " + table.name + " (" +
                       std::to_string(table.ne1) + " rows)");
    float* row = out + r * table.ne0;
    dequantize_tensor_row(table, ids[r], row);
    for (int64_t i = 0; i < table.ne0; ++i) row[i] *= scale;
  }
}

void rms_norm(const float* x, const float* weight, float* y, int64_t total, int64_t group, float eps) {
  for (int64_t start = 0; start < total; start += group) {
    float ms = 0;
    for (int64_t i = 0; i < group; ++i) ms += x[start + i] * x[start + i];
    float inv = 1.0f / std::sqrt(ms / static_cast<float>(group) + eps);
    if (!weight && injected(InjectedBug::skip_v_norm)) inv = 1.0f;
    for (int64_t i = 0; i < group; ++i) y[start + i] = x[start + i] * inv * (weight ? weight[i] : 1.0f);
  }
}

namespace {

// θ^(−2i/d), and the cos and sin of pos times it: the angle in double, since pos · θ^(−2i/d)
// reaches 10^5 rad at long contexts, past float's precision.
double inverse_frequency(double theta, int64_t head_dim, int64_t pair) {
  return std::pow(theta, -2.0 * static_cast<double>(pair) / static_cast<double>(head_dim));
}

CosSin rounded_cos_sin(double inverse_frequency, int64_t position) {
  const double angle = static_cast<double>(position) * inverse_frequency;
  return {static_cast<float>(std::cos(angle)), static_cast<float>(std::sin(angle))};
}

// The angle at `position` as rope_angles.h factors it: coarse (the multiple of 16) turned by fine.
CosSin cos_sin_at(double inverse_frequency, int64_t position) {
  const int64_t fine = position % kRopeFinePositions;
  return rope_angle_sum(rounded_cos_sin(inverse_frequency, position - fine), rounded_cos_sin(inverse_frequency, fine));
}

}  // namespace

CosSin rope_cos_sin(double theta, int64_t head_dim, int64_t position, int64_t pair) {
  return cos_sin_at(inverse_frequency(theta, head_dim, pair), position);
}

std::vector<CosSin> rope_table(double theta, int64_t head_dim, int64_t rotated_pairs, int64_t positions) {
  std::vector<CosSin> table(static_cast<size_t>(rope_table_floats(positions, rotated_pairs) / 2));
  CosSin* fine = table.data() + rope_fine_offset(positions, rotated_pairs) / 2;
  CosSin* coarse = table.data() + rope_coarse_offset(positions, rotated_pairs) / 2;
  for (int64_t i = 0; i < rotated_pairs; ++i) {
    const double inverse = inverse_frequency(theta, head_dim, i);  // rope_cos_sin's, computed once per pair
    for (int64_t l = 0; l < kRopeFinePositions; ++l) fine[l * rotated_pairs + i] = rounded_cos_sin(inverse, l);
    for (int64_t h = 0; h < rope_coarse_rows(positions); ++h)
      coarse[h * rotated_pairs + i] = rounded_cos_sin(inverse, h * kRopeFinePositions);
  }
  // cos_sin_at's product, of the factors just made (no trigonometry per position).
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t i = 0; i < rotated_pairs; ++i)
      table[p * rotated_pairs + i] = rope_angle_sum(coarse[p / kRopeFinePositions * rotated_pairs + i],
                                                    fine[p % kRopeFinePositions * rotated_pairs + i]);
  return table;
}

namespace {

// Rotates the pair (a, b) by the angle of `cs`: each product rounded, then the sum.
void rotate(CosSin cs, float& a, float& b) {
  const float first = a * cs.cos - b * cs.sin, second = b * cs.cos + a * cs.sin;
  a = first, b = second;
}

// rope(), with pairs 0 and 1 trading angles when `swap_pairs` (an injected bug).
void rotate_pairs(const float* x, const int32_t* pos, float* y, int64_t n, int64_t row_elems, int64_t head_dim,
                  int64_t rotated_pairs, double theta, bool swap_pairs) {
  int64_t half = head_dim / 2;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t head = r * row_elems; head < (r + 1) * row_elems; head += head_dim)
      for (int64_t i = 0; i < half; ++i) {
        float a = x[head + i], b = x[head + i + half];
        if (i >= rotated_pairs) {
          y[head + i] = a;
          y[head + i + half] = b;
          continue;
        }
        const int64_t angle_pair = swap_pairs ? swapped_rope_pair(static_cast<int>(i)) : i;
        rotate(rope_cos_sin(theta, head_dim, pos[r], angle_pair), a, b);
        y[head + i] = a;
        y[head + i + half] = b;
      }
}

}  // namespace

void rope(const float* x, const int32_t* pos, float* y, int64_t n, int64_t row_elems, int64_t head_dim,
          int64_t rotated_pairs, double theta) {
  rotate_pairs(x, pos, y, n, row_elems, head_dim, rotated_pairs, theta, injected(InjectedBug::swap_rope_pairs));
}

static float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

void geglu(const float* gate, const float* up, float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) y[i] = gelu_tanh(gate[i]) * up[i];
}
void add(const float* a, const float* b, float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) y[i] = a[i] + b[i];
}
void scale(const float* x, float s, float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) y[i] = x[i] * s;
}
void softcap(const float* x, float cap, float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) y[i] = cap * std::tanh(x[i] / cap);
}

void add_rms_norm(const float* residual, const float* x, const float* weight, float* y, int64_t total, int64_t group,
                  float eps) {
  // A group at a time: its normed values are complete before y, which may be either input, changes.
  std::vector<float> normed(static_cast<size_t>(group));
  for (int64_t start = 0; start < total; start += group) {
    rms_norm(x + start, weight, normed.data(), group, group, eps);
    add(residual + start, normed.data(), y + start, group);
  }
}

void rms_norm_rope(const float* x, const float* weight, const int32_t* pos, float* y, int64_t n, int64_t row_elems,
                   float eps, int64_t head_dim, int64_t rotated_pairs, double theta) {
  rms_norm(x, weight, y, n * row_elems, head_dim, eps);
  const bool swap = injected(InjectedBug::swap_rope_pairs) || injected(InjectedBug::swap_rope_pairs_fused);
  rotate_pairs(y, pos, y, n, row_elems, head_dim, rotated_pairs, theta, swap);  // each pair read before written
}

void ple_combine(const float* proj, const float* rows, const float* norm, float* out, int64_t n, int64_t out_rows,
                 int64_t layers, int64_t width, float proj_scale, float eps, float out_scale) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t l = 0; l < layers; ++l) {
      const float* z = proj + (r * layers + l) * width;
      float ms = 0;
      for (int64_t i = 0; i < width; ++i) ms += (z[i] * proj_scale) * (z[i] * proj_scale);
      float inv = 1.0f / std::sqrt(ms / static_cast<float>(width) + eps);
      float* o = out + (l * out_rows + r) * width;
      const float* row = rows + (r * layers + l) * width;
      for (int64_t i = 0; i < width; ++i) o[i] = (z[i] * proj_scale * inv * norm[i] + row[i]) * out_scale;
    }
}

int32_t argmax(const float* row, int64_t count) {
  return static_cast<int32_t>(std::max_element(row, row + count) - row);
}

float KvCacheView::load(const void* base, int64_t index) const {
  switch (dtype) {
    case QuantType::F16: return fp16_to_float(static_cast<const uint16_t*>(base)[index]);
    case QuantType::BF16: return bf16_to_float(static_cast<const uint16_t*>(base)[index]);
    default: return static_cast<const float*>(base)[index];
  }
}

void KvCacheView::store(void* base, int64_t index, float value) const {
  switch (dtype) {
    case QuantType::F16: static_cast<uint16_t*>(base)[index] = float_to_fp16(value); return;
    case QuantType::BF16: static_cast<uint16_t*>(base)[index] = float_to_bf16(value); return;
    default: static_cast<float*>(base)[index] = value;
  }
}

void KvCacheView::load_key(int64_t seq, int64_t pos, int64_t head, float* key) const {
  const int64_t base = element_index(seq, pos) + head * head_dim;
  if (!v_only()) {
    for (int64_t i = 0; i < head_dim; ++i) key[i] = load(k, base + i);
    return;
  }
  for (int64_t i = 0; i < head_dim; ++i) key[i] = load(v, base + i) * k_norm[i];
  const bool swap_pairs = injected(InjectedBug::swap_rope_pairs);
  for (int64_t i = 0; i < rotated_pairs; ++i) {
    const int64_t angle_pair = swap_pairs ? swapped_rope_pair(static_cast<int>(i)) : i;
    rotate(rope_cos_sin(theta, head_dim, pos, angle_pair), key[i], key[i + head_dim / 2]);
  }
}

void KvCacheView::check(int64_t seq, int64_t pos) const {
  if (seq < 0 || (sequences > 0 && seq >= sequences) || pos < 0 || (kind == plan::KvKind::full && pos >= slots))
    throw IndexError("sequence slot " + std::to_string(seq) + " at position " + std::to_string(pos) +
                     " is outside a KV cache of " + std::to_string(sequences) + " sequences and " +
                     std::to_string(slots) + " slots");
}

void kv_write(const float* k, const float* v, const int32_t* pos, const int32_t* seq, int64_t n, KvCacheView& cache) {
  int64_t E = cache.row_elems();
  for (int64_t r = 0; r < n; ++r) {
    if (seq[r] < 0) continue;
    cache.check(seq[r], pos[r]);
    int64_t base = cache.element_index(seq[r], pos[r]);
    for (int64_t i = 0; i < E; ++i) {
      if (!cache.v_only()) cache.store(cache.k, base + i, k[r * E + i]);
      cache.store(cache.v, base + i, v[r * E + i]);
    }
  }
}

void attention(const float* q, const int32_t* pos, const int32_t* seq, int64_t n, const KvCacheView& cache,
               int64_t q_heads, int64_t window, float scale, float* out) {
  int64_t d = cache.head_dim, kvh = cache.kv_heads;
  std::fill(out, out + n * q_heads * d, 0.0f);
  std::vector<float> scores, keys_of_head;
  for (int64_t r = 0; r < n; ++r) {
    if (seq[r] < 0) continue;
    cache.check(seq[r], pos[r]);
    int64_t p = pos[r];
    int64_t keys = window;
    if (window > 0 && cache.kind == plan::KvKind::ring && injected(InjectedBug::ring_size_as_window)) keys = cache.slots;
    if (window > 0 && injected(InjectedBug::window_plus_one)) keys += 1;
    int64_t first = keys > 0 ? std::max<int64_t>(0, p - keys + 1) : 0;
    for (int64_t h = 0; h < q_heads; ++h) {
      int64_t g = h / (q_heads / kvh);
      if (h % (q_heads / kvh) == 0) {  // the keys of KV head g, loaded (or rebuilt) once for its query heads
        keys_of_head.resize(static_cast<size_t>((p - first + 1) * d));
        for (int64_t j = first; j <= p; ++j) cache.load_key(seq[r], j, g, keys_of_head.data() + (j - first) * d);
      }
      const float* qv = q + (r * q_heads + h) * d;
      scores.assign(static_cast<size_t>(p - first + 1), 0.0f);
      for (int64_t j = first; j <= p; ++j) {
        const float* key = keys_of_head.data() + (j - first) * d;
        float dot = 0;
        for (int64_t i = 0; i < d; ++i) dot += qv[i] * key[i];
        scores[j - first] = dot * scale;
      }
      float mx = *std::max_element(scores.begin(), scores.end());
      float total = 0;
      for (float& s : scores) total += (s = std::exp(s - mx));
      float* o = out + (r * q_heads + h) * d;
      for (int64_t j = first; j <= p; ++j) {
        int64_t base = cache.element_index(seq[r], j) + g * d;
        float a = scores[j - first] / total;
        for (int64_t i = 0; i < d; ++i) o[i] += a * cache.load(cache.v, base + i);
      }
    }
  }
}

}  // namespace g4c::cpu
