// Compiling a model and running it on the reference model and the interpreter, for runtime tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "compile_helpers.h"
#include "g4c/runtime/generate.h"
#include "g4c/runtime/interpreter.h"
#include "g4c/runtime/load_weights.h"
#include "g4c/runtime/reference_model.h"
#include "numeric_compare.h"

namespace g4c::testing {

// Logits of every fed position: [sequence][position][vocab].
using LogitTrace = std::vector<std::vector<std::vector<double>>>;

inline LogitTrace run_reference(const ModelSpec& spec, const WeightSet& weights,
                                const std::vector<std::vector<int32_t>>& tokens) {
  LogitTrace trace;
  for (const auto& seq : tokens) {
    ReferenceModel model(spec, weights);
    trace.emplace_back();
    for (int32_t t : seq) trace.back().push_back(model.step(t));
  }
  return trace;
}

// Feeds each sequence's tokens (all of them, no sampling) to a backend, batching the sequences
// row by row; sequence s uses cache slot first_slot + s.
inline LogitTrace run_backend(DecodeBackend& backend, const std::vector<std::vector<int32_t>>& tokens,
                              int first_slot = 0) {
  DiagnosticEngine diag;
  LogitTrace trace(tokens.size());
  size_t longest = 0;
  for (const auto& s : tokens) longest = std::max(longest, s.size());
  for (size_t pos = 0; pos < longest; ++pos) {
    std::vector<int32_t> tok, position, seq;
    std::vector<size_t> which;
    for (size_t s = 0; s < tokens.size(); ++s)
      if (pos < tokens[s].size()) {
        tok.push_back(tokens[s][pos]);
        position.push_back(static_cast<int32_t>(pos));
        seq.push_back(static_cast<int32_t>(first_slot + s));
        which.push_back(s);
      }
    auto out = backend.step({tok, position, seq}, diag);
    EXPECT_TRUE(out.has_value()) << (diag.diagnostics().empty() ? "" : diag.diagnostics().back().message);
    if (!out) return trace;
    const int64_t vocab = backend.vocab();
    for (size_t r = 0; r < which.size(); ++r)
      trace[which[r]].emplace_back(out->logits.begin() + r * vocab, out->logits.begin() + (r + 1) * vocab);
  }
  return trace;
}

inline LogitTrace run_interpreter(const plan::Plan& plan, const WeightSet& weights,
                                  const std::vector<std::vector<int32_t>>& tokens) {
  DiagnosticEngine diag;
  auto interp = Interpreter::create(plan, weights, static_cast<int>(tokens.size()), diag);
  EXPECT_TRUE(interp.has_value());
  if (!interp) return {};
  interp->poison_memory();  // a value read before it is written shows as NaN
  return run_backend(*interp, tokens);
}

// max |a − b| / max |b| over one position's logits; infinite on a NaN/inf or a size mismatch.
inline double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  return deviation(a, b).relative();
}

// The first maximum; a non-finite element fails the running test.
inline size_t argmax(const std::vector<double>& v) { return checked_argmax(v); }

// Deterministic token sequences of the given lengths.
inline std::vector<std::vector<int32_t>> token_sequences(std::vector<int> lengths, int64_t vocab, int salt = 0) {
  std::vector<std::vector<int32_t>> out;
  for (size_t s = 0; s < lengths.size(); ++s) {
    out.emplace_back();
    for (int i = 0; i < lengths[s]; ++i)
      out.back().push_back(static_cast<int32_t>((1 + 37 * i + 101 * s + 13 * salt) % vocab));
  }
  return out;
}

}  // namespace g4c::testing
