// Tuning files (docs/routes.md): TOML that `g4run tune` writes from measurements on a device and
// `g4c compile --tuning` reads, keyed by a matmul's weight type, shape and batch width. Part of
// the plan library because both tools share the format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "g4c/plan/plan.h"
#include "g4c/spec/quant_type.h"
#include "g4c/support/diagnostics.h"

namespace g4c {

// A tuning file (docs/routes.md): measured best routes keyed by (type, rows, cols, width).
struct TuningEntry {
  QuantType type;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t width = 0;
  plan::Route route = plan::Route::ws;
  SourceLoc loc;
  double median_us = 0;  // the measurement behind the choice; 0 when the file gives none
  std::string comment;   // written above the entry (`g4run tune`: every candidate's time); not read
};

struct TuningTable {
  std::string path;
  std::string target;
  std::string device;   // informational
  std::string comment;  // written at the top of the file (how it was made); not read
  std::vector<TuningEntry> entries;

  // The entry for a matmul of this type and shape at this width, or null.
  const TuningEntry* find(QuantType type, int64_t rows, int64_t cols, int64_t width) const;
  // Why these routes may not suit `running_device`: they were measured on another card (a route
  // the H200 chose can be much slower on an H100). Empty when the names agree or either is unknown.
  std::string measured_elsewhere(const std::string& running_device) const;
};

std::optional<TuningTable> load_tuning_file(const std::string& path, DiagnosticEngine& diag);

// The table as a tuning file that load_tuning_file reads back to the same entries; comments
// become `#` lines.
std::string format_tuning_file(const TuningTable& table);

}  // namespace g4c
