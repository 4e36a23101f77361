#include "g4c/runtime/interpreter.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "g4c/kernels/quant_host.h"
#include "g4c/support/text.h"

namespace g4c {

using namespace plan;

struct Interpreter::Step {
  int64_t width = 0;
  int64_t rows = 0;
  std::vector<float> arena;
};

namespace {

std::string describe(QuantType type, int64_t ne0, int64_t ne1) {
  return std::string(name(type)) + " [" + std::to_string(ne0) + ", " + std::to_string(ne1) + "]";
}

float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

float round_to(QuantType dtype, float v) {
  if (dtype == QuantType::F16) return fp16_to_float(float_to_fp16(v));
  if (dtype == QuantType::BF16) return bf16_to_float(float_to_bf16(v));
  return v;
}

int32_t load_i32(const float* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void store_i32(float* p, int32_t v) { std::memcpy(p, &v, sizeof v); }

}  // namespace

Interpreter::Interpreter(const Plan& plan, const WeightSet& weights, int max_sequences)
    : plan_(&plan), weights_(&weights), max_sequences_(max_sequences), storage_(analyze_storage(plan)) {
  for (const Buffer& b : plan.buffers->buffers) buffer_offsets_[b.value] = b.seq_offset;
  for (const KvCache& c : *plan.caches) caches_[c.name].decl = &c;
}

std::optional<Interpreter> Interpreter::create(const Plan& plan, const WeightSet& weights, int max_sequences,
                                               DiagnosticEngine& diag) {
  if (!plan.caches || !plan.buffers) {
    diag.error({}, "plan is incomplete (no kv_caches or buffers section); compile it with g4c compile");
    return std::nullopt;
  }
  for (const WeightDecl& w : plan.weights) {
    const HostTensor* t = weights.find(w.name);
    if (!t) {
      diag.error({}, "weights " + quote(weights.description()) + " have no tensor " + w.name + ", which the plan reads");
      return std::nullopt;
    }
    if (t->type != w.type || t->ne0 != w.ne0 || t->ne1 != w.ne1) {
      diag.error({}, "tensor " + w.name + " is " + describe(w.type, w.ne0, w.ne1) + " in the plan but " +
                         describe(t->type, t->ne0, t->ne1) + " in " + quote(weights.description()));
      return std::nullopt;
    }
  }
  return Interpreter(plan, weights, max_sequences);
}

void Interpreter::reset_sequence(int slot) {
  for (auto& [name, c] : caches_) {
    if (c.k.empty()) continue;
    int64_t per_sequence = c.decl->slots * c.row_elems();
    std::fill_n(c.k.begin() + slot * per_sequence, per_sequence, 0.0f);
    std::fill_n(c.v.begin() + slot * per_sequence, per_sequence, 0.0f);
  }
}

bool Interpreter::check_rows(const StepRows& rows, DiagnosticEngine& diag) const {
  size_t n = rows.tokens.size();
  if (rows.positions.size() != n || rows.sequences.size() != n) {
    diag.error({}, "a step needs one token, position and sequence per row");
    return false;
  }
  if (n == 0 || static_cast<int64_t>(n) > plan_->header.widths.back()) {
    diag.error({}, "a step of " + std::to_string(n) + " rows: the plan serves 1.." +
                       std::to_string(plan_->header.widths.back()) + " rows");
    return false;
  }
  for (size_t r = 0; r < n; ++r) {
    if (rows.tokens[r] < 0 || rows.tokens[r] >= plan_->header.vocab) {
      diag.error({}, "token id " + std::to_string(rows.tokens[r]) + " is outside the vocabulary (0.." +
                         std::to_string(plan_->header.vocab - 1) + ")");
      return false;
    }
    if (rows.positions[r] < 0 || rows.positions[r] >= plan_->header.context) {
      diag.error({}, "position " + std::to_string(rows.positions[r]) + " is past the plan's context (" +
                         std::to_string(plan_->header.context) + " positions)");
      return false;
    }
    if (rows.sequences[r] < 0 || rows.sequences[r] >= max_sequences_) {
      diag.error({}, "sequence slot " + std::to_string(rows.sequences[r]) + " is outside 0.." +
                         std::to_string(max_sequences_ - 1));
      return false;
    }
  }
  return true;
}

float* Interpreter::value(Step& step, const std::string& name) {
  const ValueStorage& v = storage_.values.at(name);
  int64_t byte_offset = step.width * (buffer_offsets_.at(v.root) + v.seq_offset);
  return step.arena.data() + byte_offset / 4;
}

Interpreter::Cache& Interpreter::cache(const std::string& name) { return caches_.at(name); }

std::optional<StepOutput> Interpreter::step(const StepRows& rows, DiagnosticEngine& diag) {
  if (!check_rows(rows, diag)) return std::nullopt;
  Step step;
  step.rows = static_cast<int64_t>(rows.tokens.size());
  step.width = *std::lower_bound(plan_->header.widths.begin(), plan_->header.widths.end(), step.rows);
  step.arena.assign(static_cast<size_t>(step.width * plan_->buffers->seq_bytes / 4), 0.0f);
  StepOutput out;
  out.width = step.width;
  for (const Op* op : plan_->ops()) {
    if (op->kind == OpKind::input) {
      float* dst = value(step, op->result);
      std::string role = op->get_ident("role");
      std::span<const int32_t> src = role == "tokens" ? rows.tokens : role == "positions" ? rows.positions : rows.sequences;
      for (int64_t r = 0; r < step.width; ++r)
        store_i32(dst + r, r < step.rows ? src[r] : (role == "sequences" ? -1 : 0));  // padding rows
      continue;
    }
    if (op->kind == OpKind::output) {
      const float* src = value(step, op->operands[0]);
      if (op->get_ident("role") == "logits") {
        int64_t vocab = plan_->header.vocab;
        out.logits.assign(src, src + step.rows * vocab);
      } else {
        for (int64_t r = 0; r < step.rows; ++r) out.next.push_back(load_i32(src + r));
      }
      continue;
    }
    run_op(*op, step);
  }
  return out;
}

// ---- ops ----

void Interpreter::run_op(const Op& op, Step& step) {
  const int64_t W = step.width;
  auto row_width = [&](const std::string& v) { return storage_.values.at(v).seq_bytes / 4; };
  switch (op.kind) {
    case OpKind::embed_gather: {
      const HostTensor& table = weights_->at(op.weight);
      const float* ids = value(step, op.operands[0]);
      float* dst = value(step, op.result);
      float scale = static_cast<float>(op.get_number("scale"));
      for (int64_t r = 0; r < W; ++r) {
        float* row = dst + r * table.ne0;
        dequantize_tensor_row(table, load_i32(ids + r), row);
        for (int64_t i = 0; i < table.ne0; ++i) row[i] *= scale;
      }
      return;
    }
    case OpKind::ple_combine: {
      int64_t L = op.get_int("layers"), P = op.get_int("width");
      const float* proj = value(step, op.operands[0]);
      const float* rows = value(step, op.operands[1]);
      std::vector<float> w = dequantize_tensor(weights_->at(op.weight));
      float* dst = value(step, op.result);
      float proj_scale = static_cast<float>(op.get_number("proj_scale"));
      float out_scale = static_cast<float>(op.get_number("out_scale"));
      float eps = static_cast<float>(op.get_number("eps"));
      for (int64_t r = 0; r < W; ++r)
        for (int64_t l = 0; l < L; ++l) {
          const float* z = proj + r * L * P + l * P;
          float ms = 0;
          for (int64_t i = 0; i < P; ++i) ms += (z[i] * proj_scale) * (z[i] * proj_scale);
          float inv = 1.0f / std::sqrt(ms / P + eps);
          float* o = dst + (l * W + r) * P;
          for (int64_t i = 0; i < P; ++i) o[i] = (z[i] * proj_scale * inv * w[i] + rows[r * L * P + l * P + i]) * out_scale;
        }
      return;
    }
    case OpKind::slice:
    case OpKind::alias:
      return;  // views: the bytes are already where the storage analysis says
    case OpKind::matmul: {
      const HostTensor& w = weights_->at(op.weight);
      const float* x = value(step, op.operands[0]);
      float* y = value(step, op.result);
      std::vector<float> row(static_cast<size_t>(w.ne0));
      for (int64_t j = 0; j < w.ne1; ++j) {
        dequantize_tensor_row(w, j, row.data());
        for (int64_t r = 0; r < W; ++r) {
          const float* xr = x + r * w.ne0;
          float sum = 0;
          for (int64_t i = 0; i < w.ne0; ++i) sum += xr[i] * row[i];
          y[r * w.ne1 + j] = sum;
        }
      }
      return;
    }
    case OpKind::rms_norm: {
      int64_t C = row_width(op.operands[0]), group = op.get_int("group");
      float eps = static_cast<float>(op.get_number("eps"));
      std::vector<float> w = op.weight.empty() ? std::vector<float>() : dequantize_tensor(weights_->at(op.weight));
      const float* x = value(step, op.operands[0]);
      float* y = value(step, op.result);
      for (int64_t start = 0; start < W * C; start += group) {
        float ms = 0;
        for (int64_t i = 0; i < group; ++i) ms += x[start + i] * x[start + i];
        float inv = 1.0f / std::sqrt(ms / group + eps);
        for (int64_t i = 0; i < group; ++i) y[start + i] = x[start + i] * inv * (w.empty() ? 1.0f : w[i]);
      }
      return;
    }
    case OpKind::rope: {
      int64_t C = row_width(op.operands[0]), d = op.get_int("head_dim"), pairs = op.get_int("rotated_pairs");
      double theta = op.get_number("theta");
      const float* x = value(step, op.operands[0]);
      const float* pos = value(step, op.operands[1]);
      float* y = value(step, op.result);
      for (int64_t r = 0; r < W; ++r) {
        int64_t p = load_i32(pos + r);
        for (int64_t head = r * C; head < (r + 1) * C; head += d)
          for (int64_t i = 0; i < d / 2; ++i) {
            float a = x[head + i], b = x[head + i + d / 2];
            if (i >= pairs) {
              y[head + i] = a;
              y[head + i + d / 2] = b;
              continue;
            }
            // The angle in double: p · θ^(−2i/d) reaches 10^5 rad at long contexts, past float's precision.
            double angle = static_cast<double>(p) * std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(d));
            float c = static_cast<float>(std::cos(angle)), s = static_cast<float>(std::sin(angle));
            y[head + i] = a * c - b * s;
            y[head + i + d / 2] = b * c + a * s;
          }
      }
      return;
    }
    case OpKind::kv_write: {
      Cache& c = cache(op.cache);
      const float* k = value(step, op.operands[0]);
      const float* v = value(step, op.operands[1]);
      const float* pos = value(step, op.operands[2]);
      const float* seq = value(step, op.operands[3]);
      int64_t E = c.row_elems(), slots = c.decl->slots;
      if (c.k.empty()) {
        c.k.assign(static_cast<size_t>(max_sequences_ * slots * E), 0.0f);
        c.v.assign(c.k.size(), 0.0f);
      }
      for (int64_t r = 0; r < W; ++r) {
        int32_t s = load_i32(seq + r);
        if (s < 0) continue;  // a padding row
        int64_t p = load_i32(pos + r);
        int64_t slot = c.decl->kind == KvKind::ring ? p % slots : p;
        float* kd = c.k.data() + (s * slots + slot) * E;
        float* vd = c.v.data() + (s * slots + slot) * E;
        for (int64_t i = 0; i < E; ++i) {
          kd[i] = round_to(c.decl->dtype, k[r * E + i]);
          vd[i] = round_to(c.decl->dtype, v[r * E + i]);
        }
      }
      return;
    }
    case OpKind::attention: {
      Cache& c = cache(op.cache);
      int64_t qh = op.get_int("q_heads"), kvh = op.get_int("kv_heads"), d = op.get_int("head_dim");
      int64_t window = op.get_int("window"), slots = c.decl->slots;
      float scale = static_cast<float>(op.get_number("scale"));
      const float* q = value(step, op.operands[0]);
      const float* pos = value(step, op.operands[1]);
      const float* seq = value(step, op.operands[2]);
      float* out = value(step, op.result);
      std::fill(out, out + W * qh * d, 0.0f);
      std::vector<float> scores;
      for (int64_t r = 0; r < W; ++r) {
        int32_t s = load_i32(seq + r);
        if (s < 0) continue;
        int64_t p = load_i32(pos + r);
        int64_t first = window > 0 ? std::max<int64_t>(0, p - window + 1) : 0;
        for (int64_t h = 0; h < qh; ++h) {
          int64_t g = h / (qh / kvh);
          const float* qv = q + r * qh * d + h * d;
          scores.assign(static_cast<size_t>(p - first + 1), 0.0f);
          for (int64_t j = first; j <= p; ++j) {
            int64_t slot = c.decl->kind == KvKind::ring ? j % slots : j;
            const float* kv = c.k.data() + ((s * slots + slot) * kvh + g) * d;
            float dot = 0;
            for (int64_t i = 0; i < d; ++i) dot += qv[i] * kv[i];
            scores[j - first] = dot * scale;
          }
          float mx = *std::max_element(scores.begin(), scores.end());
          float total = 0;
          for (float& sc : scores) total += (sc = std::exp(sc - mx));
          float* o = out + r * qh * d + h * d;
          for (int64_t j = first; j <= p; ++j) {
            int64_t slot = c.decl->kind == KvKind::ring ? j % slots : j;
            const float* vv = c.v.data() + ((s * slots + slot) * kvh + g) * d;
            float a = scores[j - first] / total;
            for (int64_t i = 0; i < d; ++i) o[i] += a * vv[i];
          }
        }
      }
      return;
    }
    case OpKind::geglu:
    case OpKind::add: {
      int64_t n = W * row_width(op.operands[0]);
      const float* a = value(step, op.operands[0]);
      const float* b = value(step, op.operands[1]);
      float* y = value(step, op.result);
      for (int64_t i = 0; i < n; ++i) y[i] = op.kind == OpKind::add ? a[i] + b[i] : gelu_tanh(a[i]) * b[i];
      return;
    }
    case OpKind::scale_by:
    case OpKind::softcap: {
      int64_t n = W * row_width(op.operands[0]);
      const float* x = value(step, op.operands[0]);
      float* y = value(step, op.result);
      if (op.kind == OpKind::scale_by) {
        float s = dequantize_tensor(weights_->at(op.weight)).at(0);
        for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s;
      } else {
        float cap = static_cast<float>(op.get_number("cap"));
        for (int64_t i = 0; i < n; ++i) y[i] = cap * std::tanh(x[i] / cap);
      }
      return;
    }
    case OpKind::sample: {
      int64_t V = row_width(op.operands[0]);
      const float* logits = value(step, op.operands[0]);
      float* dst = value(step, op.result);
      for (int64_t r = 0; r < W; ++r) {
        const float* row = logits + r * V;
        store_i32(dst + r, static_cast<int32_t>(std::max_element(row, row + V) - row));
      }
      return;
    }
    case OpKind::input:
    case OpKind::output:
      return;
  }
}

}  // namespace g4c
