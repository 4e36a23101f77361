#include "g4c/runtime/generate.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace g4c {

namespace {

// A slot's rows in one step are a prefill chunk: at most prefill_chunk of them, at consecutive
// positions (in any row order), so the rings' spare slots cover them.
bool check_prefill_chunks(const plan::Plan& plan, const StepRows& rows, DiagnosticEngine& diag) {
  std::map<int32_t, std::vector<int32_t>> positions;
  for (size_t r = 0; r < rows.tokens.size(); ++r) positions[rows.sequences[r]].push_back(rows.positions[r]);
  for (auto& [slot, p] : positions) {
    if (static_cast<int64_t>(p.size()) > plan.header.prefill_chunk) {
      diag.error({}, "sequence slot " + std::to_string(slot) + " has " + std::to_string(p.size()) +
                         " rows in one step; the plan allows " + std::to_string(plan.header.prefill_chunk) +
                         " (g4c compile --prefill-chunk)");
      return false;
    }
    std::sort(p.begin(), p.end());
    for (size_t i = 1; i < p.size(); ++i)
      if (p[i] != p[i - 1] + 1) {
        diag.error({}, "sequence slot " + std::to_string(slot) + "'s rows in one step are not consecutive positions (" +
                           std::to_string(p[i - 1]) + " then " + std::to_string(p[i]) + ")");
        return false;
      }
  }
  return true;
}

}  // namespace

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
  }
  return check_prefill_chunks(plan, rows, diag);
}

namespace {

struct Active {
  int64_t sequence = 0;  // index into the prompts
  int32_t slot = 0;
  int32_t position = 0;  // the next position to feed
  int64_t rows = 0;      // rows in the step being built
};

// One generation run: admits waiting prompts into free slots, builds each step's rows (a prefill
// chunk for sequences still in their prompt), and consumes the step's results.
class Scheduler {
 public:
  Scheduler(DecodeBackend& backend, const std::vector<std::vector<int32_t>>& prompts, const GenerateOptions& options,
            int64_t max_active, int64_t chunk)
      : backend_(backend), prompts_(prompts), options_(options), chunk_(chunk) {
    for (int32_t slot = static_cast<int32_t>(max_active) - 1; slot >= 0; --slot) free_slots_.push_back(slot);
    result_.generated.resize(prompts.size());
    if (options.keep_logits) result_.logits.resize(prompts.size());
  }

  std::optional<GenerateResult> run(DiagnosticEngine& diag) {
    while (true) {
      admit();
      if (active_.empty()) return std::move(result_);
      build_rows();
      auto out = backend_.step({tokens_, positions_, slots_}, diag);
      if (!out) return std::nullopt;
      if (need_logits() && out->logits.size() < tokens_.size() * static_cast<size_t>(backend_.vocab())) {
        diag.error({}, "the backend returned no logits to sample from");
        return std::nullopt;
      }
      if (!logits_finite(*out, diag)) return std::nullopt;
      ++result_.decode_steps;
      result_.rows_per_step.push_back(static_cast<int64_t>(tokens_.size()));
      consume(*out);
    }
  }

 private:
  bool need_logits() const { return options_.keep_logits || !options_.sampling.greedy(); }

  // A NaN or infinite logit means the weights or the model's numbers overflowed float somewhere
  // in the step: every token after it would be noise, so the run stops, naming where.
  bool logits_finite(const StepOutput& out, DiagnosticEngine& diag) const {
    const int64_t vocab = backend_.vocab();
    const int64_t rows = std::min<int64_t>(static_cast<int64_t>(tokens_.size()),
                                           static_cast<int64_t>(out.logits.size()) / std::max<int64_t>(vocab, 1));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t t = 0; t < vocab; ++t) {
        const float v = out.logits[r * vocab + t];
        if (std::isfinite(v)) continue;
        int64_t sequence = 0;
        for (const Active& a : active_)
          if (a.slot == slots_[r]) sequence = a.sequence;
        diag.error({}, "step " + std::to_string(result_.decode_steps + 1) + ": the logits of sequence " +
                           std::to_string(sequence) + " at position " + std::to_string(positions_[r]) + " are not finite (" +
                           (std::isnan(v) ? "NaN" : "inf") + " at token " + std::to_string(t) +
                           "): the weights or the model's numbers overflow float");
        return false;
      }
    return true;
  }
  int32_t prompt_size(const Active& a) const { return static_cast<int32_t>(prompts_[a.sequence].size()); }

  // Waiting prompts join while slots are free; a sequence with nothing to generate never runs.
  void admit() {
    while (next_waiting_ < static_cast<int64_t>(prompts_.size()) && !free_slots_.empty()) {
      if (options_.steps > 0) {
        active_.push_back({next_waiting_, free_slots_.back(), 0, 0});
        free_slots_.pop_back();
      }
      ++next_waiting_;
    }
  }

  // Every active sequence gets a row; rows left in the widest step go to prompt chunks, in order.
  void build_rows() {
    int64_t spare = backend_.max_rows() - static_cast<int64_t>(active_.size());
    tokens_.clear(), positions_.clear(), slots_.clear();
    for (Active& a : active_) {
      const int64_t in_prompt = std::max<int64_t>(0, prompt_size(a) - a.position);
      const int64_t extra = std::min({spare, std::max<int64_t>(0, std::min(in_prompt, chunk_) - 1)});
      spare -= extra;
      a.rows = 1 + extra;
      for (int64_t i = 0; i < a.rows; ++i) {
        const int32_t pos = a.position + static_cast<int32_t>(i);
        tokens_.push_back(pos < prompt_size(a) ? prompts_[a.sequence][pos] : result_.generated[a.sequence].back());
        positions_.push_back(pos);
        slots_.push_back(a.slot);
      }
    }
  }

  uint64_t sequence_id(int64_t s) const {
    return options_.sequence_ids.empty() ? static_cast<uint64_t>(s) : options_.sequence_ids[s];
  }

  void consume(const StepOutput& out) {
    const int64_t vocab = backend_.vocab();
    const auto row_logits = [&](int64_t r) {
      return need_logits() ? std::span<const float>(out.logits).subspan(r * vocab, vocab) : std::span<const float>();
    };
    std::vector<Active> still;
    int64_t r = 0;
    for (Active a : active_) {
      for (int64_t i = 0; i < a.rows; ++i)
        if (options_.keep_logits) result_.logits[a.sequence].emplace_back(row_logits(r + i).begin(), row_logits(r + i).end());
      const int64_t last = r + a.rows - 1;
      r += a.rows;
      a.position += static_cast<int32_t>(a.rows);
      auto& generated = result_.generated[a.sequence];
      // The sample after the last prompt token is the first generated one.
      if (a.position >= prompt_size(a))
        generated.push_back(options_.sampling.greedy()
                                ? out.next[last]
                                : sample_token(row_logits(last), options_.sampling, sequence_id(a.sequence), a.position));
      const bool ended = a.position >= prompt_size(a) && options_.on_token &&
                         !options_.on_token(a.sequence, generated.back());
      if (ended || static_cast<int>(generated.size()) >= options_.steps)
        free_slots_.push_back(a.slot);
      else
        still.push_back(a);
    }
    active_ = std::move(still);
  }

  DecodeBackend& backend_;
  const std::vector<std::vector<int32_t>>& prompts_;
  const GenerateOptions& options_;
  int64_t chunk_;
  GenerateResult result_;
  std::vector<int32_t> free_slots_;
  std::vector<Active> active_;
  int64_t next_waiting_ = 0;
  std::vector<int32_t> tokens_, positions_, slots_;
};

}  // namespace

std::string check_sequences_at_once(int64_t sequences, int64_t widest) {
  if (sequences <= widest) return {};
  return std::to_string(sequences) + " sequences at once: the plan serves 1.." + std::to_string(widest) +
         " sequences per step";
}

std::optional<GenerateResult> generate(DecodeBackend& backend, const std::vector<std::vector<int32_t>>& prompts,
                                       const GenerateOptions& options, DiagnosticEngine& diag) {
  const int64_t max_active = options.max_active > 0 ? options.max_active : backend.max_rows();
  if (std::string why = check_sequences_at_once(max_active, backend.max_rows()); !why.empty()) {
    diag.error({}, why);
    return std::nullopt;
  }
  const int64_t chunk = options.prompt_chunk > 0 ? options.prompt_chunk : backend.max_rows_per_sequence();
  if (chunk > backend.max_rows_per_sequence()) {
    diag.error({}, "prompt chunks of " + std::to_string(chunk) + " tokens: the plan allows " +
                       std::to_string(backend.max_rows_per_sequence()) + " (g4c compile --prefill-chunk)");
    return std::nullopt;
  }
  if (std::string why = check_sampling_options(options.sampling); !why.empty()) {
    diag.error({}, why);
    return std::nullopt;
  }
  if (!options.sequence_ids.empty() && options.sequence_ids.size() != prompts.size()) {
    diag.error({}, "one sampling id per prompt, or none");
    return std::nullopt;
  }
  for (const auto& p : prompts)
    if (p.empty()) {
      diag.error({}, "every sequence needs at least one prompt token");
      return std::nullopt;
    }
  return Scheduler(backend, prompts, options, max_active, chunk).run(diag);
}

}  // namespace g4c
