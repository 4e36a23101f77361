// What the fusion passes share: how often each value is read, and the rewrite of a producer whose
// only reader is a consumer into one op standing at the consumer's place. The fused op keeps the
// consumer's result name, so the ops after it read what they read before; it stands where the
// consumer stood, where every operand of either op is already defined.
#pragma once

#include <algorithm>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "g4c/compiler/passes.h"
#include "g4c/plan/plan.h"

namespace g4c::fusion {

// How many operand slots of the plan's ops read each value (an op reading a value twice counts
// twice; outputs count like any reader).
inline std::map<std::string, int> count_reads(const plan::Plan& plan) {
  std::map<std::string, int> reads;
  for (const plan::Op* op : plan.ops())
    for (const std::string& v : op->operands) ++reads[v];
  return reads;
}

// The op of `ops` before `before` whose result is `value`, or null.
inline plan::Op* producer_of(std::vector<plan::Op>& ops, size_t before, const std::string& value) {
  for (size_t i = 0; i < before; ++i)
    if (ops[i].result == value) return &ops[i];
  return nullptr;
}

// A producer-consumer pair of one block to fuse: the consumer is replaced by `fused`, the
// producer removed.
struct Rewrite {
  const plan::Op* producer;
  plan::Op* consumer;
  plan::Op fused;
};

inline void apply(std::vector<plan::Op>& ops, std::vector<Rewrite>& rewrites) {
  for (Rewrite& r : rewrites) *r.consumer = std::move(r.fused);
  std::vector<plan::Op> kept;
  auto fused_away = [&](const plan::Op& op) {
    for (const Rewrite& r : rewrites)
      if (r.producer == &op) return true;
    return false;
  };
  for (plan::Op& op : ops)
    if (!fused_away(op)) kept.push_back(std::move(op));
  ops = std::move(kept);
}

// Names a fusion pass in the plan's header once, in pipeline order, however often and in
// whichever order it runs (`g4c opt` may run it on a plan that already lists it).
inline void record(plan::Plan& plan, std::string_view pass) {
  std::vector<std::string>& fusions = plan.header.fusions;
  if (std::find(fusions.begin(), fusions.end(), pass) != fusions.end()) return;
  fusions.emplace_back(pass);
  std::vector<std::string> ordered;
  for (const PassInfo& p : pass_pipeline())
    if (std::find(fusions.begin(), fusions.end(), p.name) != fusions.end()) ordered.emplace_back(p.name);
  fusions = std::move(ordered);
}

}  // namespace g4c::fusion
