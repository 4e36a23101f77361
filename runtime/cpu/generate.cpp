#include "g4c/runtime/generate.h"

#include <string>

namespace g4c {

bool check_step_rows(const plan::Plan& plan, int max_sequences, const StepRows& rows, DiagnosticEngine& diag) {
  size_t n = rows.tokens.size();
  if (rows.positions.size() != n || rows.sequences.size() != n) {
    diag.error({}, "a step needs one token, position and sequence per row");
    return false;
  }
  if (n == 0 || static_cast<int64_t>(n) > plan.header.widths.back()) {
    diag.error({}, "a step of " + std::to_string(n) + " rows: the plan serves 1.." +
                       std::to_string(plan.header.widths.back()) + " rows");
    return false;
  }
  for (size_t r = 0; r < n; ++r) {
    if (rows.tokens[r] < 0 || rows.tokens[r] >= plan.header.vocab) {
      diag.error({}, "token id " + std::to_string(rows.tokens[r]) + " is outside the vocabulary (0.." +
                         std::to_string(plan.header.vocab - 1) + ")");
      return false;
    }
    if (rows.positions[r] < 0 || rows.positions[r] >= plan.header.context) {
      diag.error({}, "position " + std::to_string(rows.positions[r]) + " is past the plan's context (" +
                         std::to_string(plan.header.context) + " positions)");
      return false;
    }
    if (rows.sequences[r] < 0 || rows.sequences[r] >= max_sequences) {
      diag.error({}, "sequence slot " + std::to_string(rows.sequences[r]) + " is outside 0.." +
                         std::to_string(max_sequences - 1));
      return false;
    }
    for (size_t other = 0; other < r; ++other)
      if (rows.sequences[other] == rows.sequences[r]) {
        diag.error({}, "sequence slot " + std::to_string(rows.sequences[r]) +
                           " has two rows in one step (a step advances each sequence by one token)");
        return false;
      }
  }
  return true;
}

std::optional<GenerateResult> generate(DecodeBackend& backend, const std::vector<std::vector<int32_t>>& prompts,
                                       const GenerateOptions& options, DiagnosticEngine& diag) {
  int64_t n = static_cast<int64_t>(prompts.size());
  if (n == 0 || n > backend.max_rows()) {
    diag.error({}, std::to_string(n) + " sequences: the plan serves 1.." + std::to_string(backend.max_rows()) +
                       " sequences per step");
    return std::nullopt;
  }
  for (const auto& p : prompts)
    if (p.empty()) {
      diag.error({}, "every sequence needs at least one prompt token");
      return std::nullopt;
    }
  GenerateResult result;
  result.generated.resize(n);
  if (options.keep_logits) result.logits.resize(n);
  std::vector<int32_t> position(n, 0);
  std::vector<int32_t> tokens, positions, sequences;
  std::vector<int64_t> active;
  while (true) {
    tokens.clear(), positions.clear(), sequences.clear(), active.clear();
    for (int64_t s = 0; s < n; ++s) {
      if (static_cast<int>(result.generated[s].size()) >= options.steps) continue;
      int32_t pos = position[s];
      bool in_prompt = pos < static_cast<int32_t>(prompts[s].size());
      tokens.push_back(in_prompt ? prompts[s][pos] : result.generated[s].back());
      positions.push_back(pos);
      sequences.push_back(static_cast<int32_t>(s));
      active.push_back(s);
    }
    if (active.empty()) return result;
    auto out = backend.step({tokens, positions, sequences}, diag);
    if (!out) return std::nullopt;
    ++result.decode_steps;
    for (size_t r = 0; r < active.size(); ++r) {
      int64_t s = active[r];
      if (options.keep_logits)
        result.logits[s].emplace_back(out->logits.begin() + r * backend.vocab(),
                                      out->logits.begin() + (r + 1) * backend.vocab());
      // The sample after the last prompt token is the first generated one.
      if (++position[s] >= static_cast<int32_t>(prompts[s].size())) result.generated[s].push_back(out->next[r]);
    }
  }
}

}  // namespace g4c
