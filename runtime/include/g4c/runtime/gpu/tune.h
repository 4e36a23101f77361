// `g4run tune`: measures every legal route of every matmul shape of one or more plans at every
// width on this device, admits a route only when its output passes the CPU op's check
// (runtime/matmul_check.h), and picks the fastest — the tuning file `g4c compile --tuning` reads.
//
// Method (DESIGN.md §9): each (shape, route, width) runs as a CUDA graph of back-to-back launches
// — the way the executor replays a step — over rotating copies of the weight that together exceed
// the L2 cache several times, so every launch streams its weight from memory; warm-up replays
// first, then the median of timed replays (CUDA events), divided by the launches per replay.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "g4c/plan/plan.h"
#include "g4c/plan/tuning_file.h"
#include "g4c/runtime/jit.h"
#include "g4c/support/diagnostics.h"

namespace g4c::gpu {

// A distinct matmul weight shape among the plans, with the ops that multiply by it.
struct MatmulShape {
  QuantType type = QuantType::F32;
  int64_t rows = 0, cols = 0;
  std::vector<std::string> ops;  // "%l5.q", in plan order
};

// Every distinct (type, rows, cols) of the plans' matmuls, in order of first use.
std::vector<MatmulShape> matmul_shapes(const std::vector<const plan::Plan*>& plans);

struct TuneOptions {
  std::vector<int64_t> widths;  // batch widths to tune, each 1 .. 32
  int repeats = 15;             // timed graph replays per candidate; the median is kept
  int warmup = 3;
  int64_t check_rows = 256;     // output rows (per width) compared against the CPU op
  // Candidates within this fraction of the fastest tie; the tie goes to the earliest route of
  // plan::kAllRoutes (ws, mmq, gemm_n, cublas), so a file is stable under timing noise.
  double tie = 0.02;
  // The routes to consider (where legal); empty: all. Leaving out cublas keeps a plan from
  // needing fp16 copies of its quantized weights (up to 4x their memory).
  std::vector<plan::Route> routes;
  uint64_t seed = 1;            // of the random weights and activations
  JitOptions jit;
  std::function<void(const std::string&)> progress;
};

struct TuneCandidate {
  plan::Route route = plan::Route::ws;
  bool admitted = false;
  double median_us = 0;   // per launch (all of the route's kernels and cuBLAS calls)
  double error_ratio = 0; // the larger of its error / bound ratios against the CPU op
  std::string rejected;   // why it was not admitted
};

struct TuneResult {
  const MatmulShape* shape = nullptr;
  int64_t width = 0;
  std::vector<TuneCandidate> candidates;  // the legal routes considered, in kAllRoutes order
  plan::Route chosen = plan::Route::ws;
  double chosen_us = 0;
  int64_t bytes_read = 0;                 // the chosen route's weight bytes per launch
};

// Tunes every shape at every width of options.widths. Reports CUDA, cuBLAS and JIT failures;
// nullopt then. A shape where no route passes its check is an error too (a kernel is wrong).
std::optional<std::vector<TuneResult>> tune_matmuls(const std::vector<MatmulShape>& shapes,
                                                    const TuneOptions& options, DiagnosticEngine& diag);

// The results as a tuning table: one entry per (shape, width), each commented with every
// candidate's time and the ops it serves.
TuningTable tuning_table(const std::vector<TuneResult>& results, const std::string& target,
                         const std::string& device, const std::string& comment);

// A table for people: per shape and width, each route's µs (or why it was rejected), the choice,
// the GB/s of weight bytes it reaches and that as a share of `copy_gbps` (the device-to-device
// copy bandwidth measured in the same run, bench.h).
std::string format_tune_report(const std::vector<TuneResult>& results, double copy_gbps);

}  // namespace g4c::gpu
