#include "g4c/runtime/generate.h"

#include <span>
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

namespace {

struct Active {
  int64_t sequence = 0;  // index into the prompts
  int32_t slot = 0;
  int32_t position = 0;
};

}  // namespace

std::optional<GenerateResult> generate(DecodeBackend& backend, const std::vector<std::vector<int32_t>>& prompts,
                                       const GenerateOptions& options, DiagnosticEngine& diag) {
  const int64_t n = static_cast<int64_t>(prompts.size());
  const int64_t max_active = options.max_active > 0 ? options.max_active : backend.max_rows();
  if (max_active > backend.max_rows()) {
    diag.error({}, std::to_string(max_active) + " sequences at once: the plan serves 1.." +
                       std::to_string(backend.max_rows()) + " sequences per step");
    return std::nullopt;
  }
  if (std::string why = check_sampling_options(options.sampling); !why.empty()) {
    diag.error({}, why);
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
  if (!options.sequence_ids.empty() && options.sequence_ids.size() != prompts.size()) {
    diag.error({}, "one sampling id per prompt, or none");
    return std::nullopt;
  }
  const auto sequence_id = [&](int64_t s) {
    return options.sequence_ids.empty() ? static_cast<uint64_t>(s) : options.sequence_ids[s];
  };
  const bool need_logits = options.keep_logits || !options.sampling.greedy();
  const int64_t vocab = backend.vocab();

  std::vector<int32_t> free_slots;
  for (int32_t slot = static_cast<int32_t>(max_active) - 1; slot >= 0; --slot) free_slots.push_back(slot);
  std::vector<Active> active;
  int64_t next_waiting = 0;
  std::vector<int32_t> tokens, positions, slots;
  while (true) {
    // Waiting prompts join while slots are free; a sequence with nothing to generate never runs.
    while (next_waiting < n && !free_slots.empty()) {
      if (options.steps > 0) {
        active.push_back({next_waiting, free_slots.back(), 0});
        free_slots.pop_back();
      }
      ++next_waiting;
    }
    if (active.empty()) return result;
    tokens.clear(), positions.clear(), slots.clear();
    for (const Active& a : active) {
      const auto& prompt = prompts[a.sequence];
      const bool in_prompt = a.position < static_cast<int32_t>(prompt.size());
      tokens.push_back(in_prompt ? prompt[a.position] : result.generated[a.sequence].back());
      positions.push_back(a.position);
      slots.push_back(a.slot);
    }
    auto out = backend.step({tokens, positions, slots}, diag);
    if (!out) return std::nullopt;
    if (need_logits && out->logits.size() < active.size() * static_cast<size_t>(vocab)) {
      diag.error({}, "the backend returned no logits to sample from");
      return std::nullopt;
    }
    ++result.decode_steps;
    result.rows_per_step.push_back(static_cast<int64_t>(active.size()));
    std::vector<Active> still;
    for (size_t r = 0; r < active.size(); ++r) {
      Active a = active[r];
      const auto row = need_logits ? std::span<const float>(out->logits).subspan(r * vocab, vocab)
                                   : std::span<const float>();
      if (options.keep_logits) result.logits[a.sequence].emplace_back(row.begin(), row.end());
      auto& generated = result.generated[a.sequence];
      // The sample after the last prompt token is the first generated one.
      if (++a.position >= static_cast<int32_t>(prompts[a.sequence].size()))
        generated.push_back(options.sampling.greedy()
                                ? out->next[r]
                                : sample_token(row, options.sampling, sequence_id(a.sequence), a.position));
      if (static_cast<int>(generated.size()) >= options.steps)
        free_slots.push_back(a.slot);
      else
        still.push_back(a);
    }
    active = std::move(still);
  }
}

}  // namespace g4c
