// A structure-aware mutation for the plan fuzzer: byte-level mutations almost never keep a plan
// parseable, so half of the time an input that parses gets one change to what it means — an op's
// attribute, an operand swapped for another value, a value's shape, a cache's or a weight's
// dimensions, a header number — and its bookkeeping (buffer layout, kernel list, section counts)
// recomputed by the compiler's own passes and the printer. The result parses, and whether it runs
// is up to the verifier's rules about what ops compute and index with.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "g4c/compiler/passes.h"
#include "g4c/plan/parser.h"
#include "g4c/plan/printer.h"

namespace g4c::fuzz {

// An integer near `v` or at a boundary (off by one, doubled, halved, zero, negative, larger), kept
// within ±limit so that the sizes the passes multiply out of it stay far from overflow: the
// parser's own limits are what the fuzzer tests, not int64 arithmetic in the mutator.
inline int64_t mutate_int(int64_t v, std::mt19937& rng, int64_t limit) {
  int64_t out = v;
  switch (rng() % 8) {
    case 0: out = v + 1; break;
    case 1: out = v - 1; break;
    case 2: out = v * 2; break;
    case 3: out = v / 2; break;
    case 4: out = 0; break;
    case 5: out = -v; break;
    case 6: out = static_cast<int64_t>(rng() % 64); break;
    default: out = v + static_cast<int64_t>(rng() % 4096);
  }
  return std::clamp<int64_t>(out, -limit, limit);
}

// A positive size near `v`, at most `limit`.
inline int64_t mutate_size(int64_t v, std::mt19937& rng, int64_t limit) {
  return std::max<int64_t>(1, mutate_int(std::min(v, limit), rng, limit));
}

inline double mutate_number(double v, std::mt19937& rng) {
  switch (rng() % 6) {
    case 0: return v * 2;
    case 1: return v * 1e30;
    case 2: return 0;
    case 3: return -v;
    case 4: return v * 1e-30;
    default: return v + 1;
  }
}

inline void mutate_op(plan::Plan& p, plan::Op& op, const std::vector<std::string>& values, std::mt19937& rng) {
  const unsigned choice = rng() % 4;
  if (choice == 0 && !op.operands.empty() && !values.empty()) {  // another value as an operand
    op.operands[rng() % op.operands.size()] = values[rng() % values.size()];
    return;
  }
  if (choice == 1 && !op.result.empty() && !op.type.dims.empty()) {  // another result shape
    int64_t& d = op.type.dims[rng() % op.type.dims.size()];
    if (d != plan::kBatch) d = mutate_size(d, rng, int64_t{1} << 14);
    return;
  }
  if (choice == 2 && op.kind == plan::OpKind::input) {
    static const char* kRoles[] = {"tokens", "positions", "sequences"};
    op.set("role", plan::Ident{kRoles[rng() % 3]});
    return;
  }
  if (op.attrs.empty()) return;
  plan::Attr& a = op.attrs[rng() % op.attrs.size()];
  if (auto* i = std::get_if<int64_t>(&a.value)) *i = mutate_int(*i, rng, int64_t{1} << 16);
  if (auto* d = std::get_if<double>(&a.value)) *d = mutate_number(*d, rng);
  if (auto* b = std::get_if<bool>(&a.value)) *b = !*b;
  (void)p;
}

inline void mutate_plan(plan::Plan& p, std::mt19937& rng) {
  std::vector<plan::Op*> ops = p.mutable_ops();
  std::vector<std::string> values;
  for (const plan::Op* op : ops)
    if (!op->result.empty()) values.push_back(op->result);
  switch (rng() % 8) {
    case 0:
      if (p.caches && !p.caches->empty()) {
        plan::KvCache& c = (*p.caches)[rng() % p.caches->size()];
        switch (rng() % 4) {
          case 0: c.slots = mutate_size(c.slots, rng, int64_t{1} << 16); break;
          case 1: c.kv_heads = static_cast<int>(mutate_size(c.kv_heads, rng, 256)); break;
          case 2: c.head_dim = static_cast<int>(mutate_size(c.head_dim, rng, 4096)); break;
          default: c.kind = c.kind == plan::KvKind::ring ? plan::KvKind::full : plan::KvKind::ring;
        }
      }
      return;
    case 1:
      if (!p.weights.empty()) {
        plan::WeightDecl& w = p.weights[rng() % p.weights.size()];
        int64_t& d = rng() % 2 ? w.ne0 : w.ne1;
        d = mutate_size(d, rng, int64_t{1} << 16);
      }
      return;
    case 2: {
      int64_t* fields[] = {&p.header.context, &p.header.vocab, &p.header.prefill_chunk};
      int64_t& f = *fields[rng() % 3];
      f = mutate_size(f, rng, int64_t{1} << 16);
      return;
    }
    case 3:
      if (!p.blocks.empty()) {
        plan::Block& b = p.blocks[rng() % p.blocks.size()];
        if (b.kind == plan::BlockKind::layer) b.layer_kind = b.layer_kind == "sliding" ? "global" : "sliding";
      }
      return;
    default:
      if (!ops.empty()) mutate_op(p, *ops[rng() % ops.size()], values, rng);
  }
}

// Parses `text`, mutates what it means, recomputes the bookkeeping and prints the result; empty
// when the text is not a complete plan.
inline std::string mutate_plan_text(std::string_view text, unsigned seed) {
  DiagnosticEngine diag;
  auto p = plan::parse_plan(text, "mutating.plan", diag);
  if (!p || !p->caches || !p->buffers || !p->kernels) return {};
  std::mt19937 rng(seed);
  mutate_plan(*p, rng);
  if (p->header.widths.empty()) return {};
  static const ModelSpec no_spec;  // neither pass reads the declaration
  const RouteOptions routes;
  PassContext ctx{no_spec, routes, diag};
  run_buffer_plan(*p, ctx);
  run_kernel_instances(*p, ctx);
  std::ostringstream os;
  plan::print_plan(*p, os);
  return os.str();
}

}  // namespace g4c::fuzz
