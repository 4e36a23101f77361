#include "g4c/runtime/gpu/bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "g4c/plan/bytes_read.h"
#include "g4c/plan/kernels.h"

namespace g4c::gpu {

using namespace plan;

double copy_bandwidth_gbps() {
  constexpr size_t kBytes = size_t{1} << 30;
  DeviceBuffer a(kBytes), b(kBytes);
  if (!a.get() || !b.get()) return 0;
  cudaEvent_t start, stop;
  cudaEventCreate(&start), cudaEventCreate(&stop);
  std::vector<double> gbps;
  for (int i = 0; i < 7; ++i) {
    cudaEventRecord(start);
    cudaMemcpy(b.get(), a.get(), kBytes, cudaMemcpyDeviceToDevice);
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    if (i > 0) gbps.push_back(2.0 * kBytes / (ms * 1e6));  // the first copy warms up
  }
  cudaEventDestroy(start), cudaEventDestroy(stop);
  std::sort(gbps.begin(), gbps.end());
  return gbps[gbps.size() / 2];
}

std::optional<BenchResult> bench(Executor& executor, int sequences, int prompt, int steps, double copy_gbps,
                                 DiagnosticEngine& diag, int64_t skip_to) {
  const Plan& plan = executor.plan();
  executor.set_keep_logits(false);
  for (int s = 0; s < sequences; ++s) executor.reset_sequence(s);
  std::vector<int32_t> tokens(sequences), positions(sequences), slots(sequences);
  for (int s = 0; s < sequences; ++s) slots[s] = s;
  // Prompt tokens are deterministic and differ per sequence; decode feeds back the samples.
  auto run = [&](int position, bool feed_back, const std::vector<int32_t>& next) {
    for (int s = 0; s < sequences; ++s) {
      tokens[s] = feed_back ? next[s] : static_cast<int32_t>((7 + 31 * position + 1009 * s) % plan.header.vocab);
      positions[s] = position;
    }
    return executor.step({tokens, positions, slots}, diag);
  };
  std::optional<StepOutput> out;
  const int64_t first = skip_to > 0 ? skip_to : prompt;
  if (skip_to > 0) {
    prompt = 0;
    if (!(out = run(static_cast<int>(first) - 1, false, {}))) return std::nullopt;  // one step for tokens to feed back
  }
  for (int p = 0; p < prompt; ++p)
    if (!(out = run(p, false, {}))) return std::nullopt;
  BenchResult r;
  r.sequences = sequences, r.prompt = prompt, r.steps = steps, r.context = first, r.width = out ? out->width : 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i)
    if (!(out = run(static_cast<int>(first) + i, true, out->next))) return std::nullopt;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.width = out->width;
  r.wall_step_ms = 1e3 * wall / steps;
  r.step_ms = executor.time_step(r.width, 20);
  r.tokens_per_s = sequences * steps / wall;
  r.tokens_per_s_per_sequence = steps / wall;
  r.weight_bytes = step_weight_bytes_read(plan, r.width);
  r.stored_weight_bytes = step_stored_weight_bytes(plan, r.width);
  r.kv_bytes = step_kv_bytes_read(plan, std::vector<int32_t>(sequences, static_cast<int32_t>(first + steps / 2)));
  r.launches = plan::launches_per_step(plan, r.width);
  r.achieved_gbps = static_cast<double>(r.weight_bytes + r.kv_bytes) / (r.step_ms * 1e6);
  // The floor (DESIGN.md §9): the bytes a step must read (each weight once as stored, the KV) at
  // the copy bandwidth, which counts a copy's reads and writes alike — the rate the memory system
  // sustains whichever way bytes move.
  const double floor_bytes = static_cast<double>(r.stored_weight_bytes + r.kv_bytes);
  r.floor_fraction = copy_gbps > 0 ? (floor_bytes / (copy_gbps * 1e6)) / r.step_ms : 0;
  executor.set_keep_logits(true);
  return r;
}

AttentionTimes attention_times(Executor& executor, int64_t width) {
  std::set<std::string> full_context;
  for (const plan::Op* op : executor.plan().ops())
    if (op->kind == plan::OpKind::attention && op->get_int("window") == 0) full_context.insert("%" + op->result);
  AttentionTimes times;
  for (const OpTiming& t : executor.profile(width, {}, 3))
    if (t.kind == "attention") {
      times.all += t.ms;
      if (full_context.count(t.op)) times.full_context += t.ms;
    }
  return times;
}

namespace {

std::string format(const char* fmt, auto... args) {
  char line[512];
  std::snprintf(line, sizeof line, fmt, args...);
  return line;
}

}  // namespace

std::string format_bench_table(const std::vector<BenchResult>& results, double copy_gbps) {
  std::string out = format(
      "copy bandwidth %.0f GB/s (bytes read + written per second); floor = (model MB + KV MB) / that\n", copy_gbps);
  out += format("%4s %5s %7s %10s %10s %12s %12s %10s %10s %10s %6s %9s %8s %8s %7s %8s %9s\n", "N", "width", "context",
                "step ms", "wall ms", "tok/s", "tok/s/seq", "weight MB", "model MB", "KV MB", "KV %", "GB/s", "% floor",
                "attn ms", "attn %", "full ms", "launches");
  for (const BenchResult& r : results) {
    const double kv_share = static_cast<double>(r.kv_bytes) / static_cast<double>(r.weight_bytes + r.kv_bytes);
    out += format("%4d %5lld %7lld %10.3f %10.3f %12.1f %12.1f %10.1f %10.1f %10.1f %5.1f%% %9.1f %7.1f%% %8.3f %6.1f%% %8.3f %9lld\n",
                  r.sequences, static_cast<long long>(r.width), static_cast<long long>(r.context), r.step_ms,
                  r.wall_step_ms, r.tokens_per_s, r.tokens_per_s_per_sequence, r.weight_bytes / 1e6,
                  r.stored_weight_bytes / 1e6, r.kv_bytes / 1e6,
                  100 * kv_share, r.achieved_gbps, 100 * r.floor_fraction, r.attention.all,
                  100 * r.attention.all / r.step_ms, r.attention.full_context, static_cast<long long>(r.launches));
  }
  out += "weight: bytes the routes read (cublas: the fp16 copy); model: the weights as stored, the floor's share\n"
         "KV: bytes the attention ops read per step at the timed positions' middle; attn ms: those ops timed alone;\n"
         "full ms: the attention ops over whole-context caches (window 0) among them;\n"
         "launches: kernel launches per step (g4c compile --emit=kernels; the graph adds 3 input copies)\n";
  return out;
}

std::string format_bench_json(const std::string& plan_name, const std::vector<BenchResult>& results, double copy_gbps) {
  std::string out = format("{\"plan\": \"%s\", \"copy_gbps\": %.1f, \"results\": [", plan_name.c_str(), copy_gbps);
  for (size_t i = 0; i < results.size(); ++i) {
    const BenchResult& r = results[i];
    out += format(
        "%s\n  {\"sequences\": %d, \"width\": %lld, \"prompt\": %d, \"context\": %lld, \"steps\": %d, \"step_ms\": %.4f, "
        "\"wall_step_ms\": %.4f, \"tokens_per_s\": %.2f, \"tokens_per_s_per_sequence\": %.2f, \"weight_bytes\": %lld, "
        "\"stored_weight_bytes\": %lld, \"kv_bytes\": %lld, \"achieved_gbps\": %.2f, \"floor_fraction\": %.4f, \"attention_ms\": %.4f, \"full_context_attention_ms\": %.4f, \"launches\": %lld}",
        i ? "," : "", r.sequences, static_cast<long long>(r.width), r.prompt, static_cast<long long>(r.context), r.steps, r.step_ms, r.wall_step_ms,
        r.tokens_per_s, r.tokens_per_s_per_sequence, static_cast<long long>(r.weight_bytes),
        static_cast<long long>(r.stored_weight_bytes), static_cast<long long>(r.kv_bytes), r.achieved_gbps, r.floor_fraction, r.attention.all,
        r.attention.full_context, static_cast<long long>(r.launches));
  }
  return out + "\n]}\n";
}

std::string format_step_parts(const std::vector<StepPart>& parts, double step_ms) {
  double sum = 0;
  for (const StepPart& p : parts) sum += p.ms;
  std::string out = format("%-22s %9s %10s %8s\n", "kind (graph alone)", "launches", "ms", "of step");
  for (const StepPart& p : parts)
    out += format("%-22s %9lld %10.4f %7.1f%%\n", p.kind.c_str(), static_cast<long long>(p.launches), p.ms,
                  100 * p.ms / step_ms);
  out += format("%-22s %9s %10.4f %7.1f%%\n%-22s %9s %10.4f\n", "sum of the kinds", "", sum, 100 * sum / step_ms,
                "whole step (graph)", "", step_ms);
  return out;
}

std::string format_profile(const std::vector<OpTiming>& timings) {
  double total = 0;
  for (const OpTiming& t : timings) total += t.ms;
  std::string out = format("%-28s %-12s %-7s %10s %8s %9s\n", "op", "kind", "route", "ms", "share", "GB/s");
  // Per kind first: where the step's time goes.
  std::map<std::string, double> by_kind;
  for (const OpTiming& t : timings) by_kind[t.kind + (t.route.empty() ? "" : " " + t.route)] += t.ms;
  for (const OpTiming& t : timings) {
    const std::string gbps = t.bytes_read ? format("%9.1f", t.bytes_read / (t.ms * 1e6)) : format("%9s", "");
    out += format("%-28s %-12s %-7s %10.4f %7.2f%% %s\n", t.op.c_str(), t.kind.c_str(), t.route.c_str(), t.ms,
                  100 * t.ms / total, gbps.c_str());
  }
  out += format("\n%-41s %10.4f\n", "total (ops launched one by one)", total);
  for (const auto& [kind, ms] : by_kind) out += format("  %-39s %10.4f %7.2f%%\n", kind.c_str(), ms, 100 * ms / total);
  return out;
}

}  // namespace g4c::gpu
