#include "g4c/runtime/interpreter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "g4c/kernels/quant_host.h"
#include "g4c/runtime/host_memory.h"
#include "g4c/runtime/load_weights.h"
#include "g4c/support/text.h"

namespace g4c {

using namespace plan;

struct Interpreter::Step {
  int64_t width = 0;
  int64_t rows = 0;
  std::vector<float> arena;
};

namespace {

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
  for (const KvCache& c : *plan.caches) {
    Cache& cache = caches_[c.name];
    cache.decl = &c;
    if (c.v_only()) cache.k_norm = dequantize_tensor(weights.at(c.k_from_v.norm));
  }
}

std::optional<Interpreter> Interpreter::create(const Plan& plan, const WeightSet& weights, int max_sequences,
                                               DiagnosticEngine& diag) {
  if (!check_runnable(plan, diag)) return std::nullopt;
  if (!check_weights_match_plan(plan, weights, diag)) return std::nullopt;
  if (!check_host_memory("the CPU backend for " + plan.header.name,
                         {{"KV caches for " + count_text(max_sequences, "sequence"), cache_bytes(plan, max_sequences)},
                          {"arena", arena_bytes(plan)}},
                         diag))
    return std::nullopt;
  return Interpreter(plan, weights, max_sequences);
}

// Under the plan's limits (caches ≤ 2^40 bytes per sequence, arenas ≤ 2^40 in all) and at most
// kMaxWidth sequences, neither overflows.
int64_t Interpreter::cache_bytes(const Plan& plan, int max_sequences) {
  int64_t per_sequence = 0;
  for (const KvCache& c : *plan.caches) per_sequence += c.seq_bytes();
  return per_sequence * std::max(max_sequences, 0);
}

int64_t Interpreter::arena_bytes(const Plan& plan) { return plan.header.widths.back() * plan.buffers->seq_bytes; }

cpu::KvCacheView Interpreter::Cache::view(int64_t sequences) {
  cpu::KvCacheView view{k.data(), v.data(), decl->dtype, decl->kind, decl->slots, decl->kv_heads, decl->head_dim,
                        sequences};
  if (decl->v_only()) {  // no K array (k stays empty): attention rebuilds K from V
    view.k = nullptr;
    view.k_norm = k_norm.data();
    view.rotated_pairs = decl->k_from_v.rotated_pairs;
    view.theta = decl->k_from_v.theta;
  }
  return view;
}

void Interpreter::reset_sequence(int slot) {
  for (auto& [name, c] : caches_) {
    if (c.v.empty()) continue;
    size_t per_sequence = static_cast<size_t>(c.decl->plane_seq_bytes());
    const uint8_t fill = poison_ ? 0xFF : 0;
    if (!c.k.empty()) std::fill_n(c.k.begin() + slot * per_sequence, per_sequence, fill);
    std::fill_n(c.v.begin() + slot * per_sequence, per_sequence, fill);
  }
}

bool Interpreter::check_rows(const StepRows& rows, DiagnosticEngine& diag) const {
  return check_step_rows(*plan_, max_sequences_, rows, diag);
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
  step.arena.assign(static_cast<size_t>(step.width * plan_->buffers->seq_bytes / 4),
                    poison_ ? std::numeric_limits<float>::quiet_NaN() : 0.0f);
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
    try {
      run_op(*op, step);
    } catch (const cpu::IndexError& e) {
      diag.error(op->loc, "internal error: " + std::string(e.what()) + " in " + std::string(schema(op->kind).name) +
                              " (the step's rows were checked; please report this)");
      return std::nullopt;
    }
  }
  return out;
}

// ---- ops ----

void Interpreter::run_op(const Op& op, Step& step) {
  const int64_t W = step.width;
  auto elements = [&](const std::string& v) { return W * storage_.values.at(v).seq_bytes / 4; };
  auto ids = [&](const std::string& v) { return reinterpret_cast<const int32_t*>(value(step, v)); };
  auto weight_vector = [&]() { return dequantize_tensor(weights_->at(op.weight)); };
  const float* x = op.operands.empty() ? nullptr : value(step, op.operands[0]);
  float* y = op.result.empty() ? nullptr : value(step, op.result);
  switch (op.kind) {
    case OpKind::embed_gather:
      return cpu::embed_gather(weights_->at(op.weight), ids(op.operands[0]), static_cast<float>(op.get_number("scale")),
                               y, W);
    case OpKind::ple_combine:
      return cpu::ple_combine(x, value(step, op.operands[1]), weight_vector().data(), y, W, W, op.get_int("layers"),
                              op.get_int("width"), static_cast<float>(op.get_number("proj_scale")),
                              static_cast<float>(op.get_number("eps")), static_cast<float>(op.get_number("out_scale")));
    case OpKind::slice:
    case OpKind::alias:
      return;  // views: the bytes are already where the storage analysis says
    case OpKind::matmul:
      return cpu::matmul(weights_->at(op.weight), x, y, W);
    case OpKind::rms_norm: {
      std::vector<float> w = op.weight.empty() ? std::vector<float>() : weight_vector();
      return cpu::rms_norm(x, w.empty() ? nullptr : w.data(), y, elements(op.operands[0]), op.get_int("group"),
                           static_cast<float>(op.get_number("eps")));
    }
    case OpKind::rope:
      return cpu::rope(x, ids(op.operands[1]), y, W, elements(op.operands[0]) / W, op.get_int("head_dim"),
                       op.get_int("rotated_pairs"), op.get_number("theta"));
    case OpKind::add_rms_norm: {
      std::vector<float> w = op.weight.empty() ? std::vector<float>() : weight_vector();
      return cpu::add_rms_norm(x, value(step, op.operands[1]), w.empty() ? nullptr : w.data(), y,
                               elements(op.operands[1]), op.get_int("group"), static_cast<float>(op.get_number("eps")));
    }
    case OpKind::rms_norm_rope: {
      std::vector<float> w = op.weight.empty() ? std::vector<float>() : weight_vector();
      return cpu::rms_norm_rope(x, w.empty() ? nullptr : w.data(), ids(op.operands[1]), y, W,
                                elements(op.operands[0]) / W, static_cast<float>(op.get_number("eps")),
                                op.get_int("head_dim"), op.get_int("rotated_pairs"), op.get_number("theta"));
    }
    case OpKind::kv_write: {
      Cache& c = cache(op.cache);
      if (c.v.empty()) {  // allocated on first use: full caches of long contexts are large
        size_t bytes = static_cast<size_t>(max_sequences_ * c.decl->plane_seq_bytes());
        if (!c.decl->v_only()) c.k.assign(bytes, poison_ ? 0xFF : 0);
        c.v.assign(bytes, poison_ ? 0xFF : 0);
      }
      const KvWriteOperands io = kv_write_operands(op);
      cpu::KvCacheView view = c.view(max_sequences_);
      return cpu::kv_write(io.k.empty() ? nullptr : value(step, io.k), value(step, io.v), ids(io.pos), ids(io.seq), W,
                           view);
    }
    case OpKind::attention:
      return cpu::attention(x, ids(op.operands[1]), ids(op.operands[2]), W, cache(op.cache).view(max_sequences_),
                            op.get_int("q_heads"), op.get_int("window"), static_cast<float>(op.get_number("scale")), y);
    case OpKind::geglu:
      return cpu::geglu(x, value(step, op.operands[1]), y, elements(op.operands[0]));
    case OpKind::add:
      return cpu::add(x, value(step, op.operands[1]), y, elements(op.operands[0]));
    case OpKind::scale_by:
      return cpu::scale(x, weight_vector().at(0), y, elements(op.operands[0]));
    case OpKind::softcap:
      return cpu::softcap(x, static_cast<float>(op.get_number("cap")), y, elements(op.operands[0]));
    case OpKind::sample: {
      int64_t vocab = elements(op.operands[0]) / W;
      for (int64_t r = 0; r < W; ++r) store_i32(y + r, cpu::argmax(x + r * vocab, vocab));
      return;
    }
    case OpKind::input:
    case OpKind::output:
      return;
  }
}

}  // namespace g4c
