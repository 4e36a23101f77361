// Reads the text form of a plan (docs/plan-format.md). Syntax errors are reported as
// `file:line:col: error: …` and stop the parse; cross-references are the verifier's business.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "g4c/plan/plan.h"
#include "g4c/support/diagnostics.h"

namespace g4c::plan {

std::optional<Plan> parse_plan(std::string_view text, const std::string& path, DiagnosticEngine& diag);

// Reads, parses and verifies a plan file (`-`: standard input, named <stdin> in diagnostics).
std::optional<Plan> load_plan_file(const std::string& path, DiagnosticEngine& diag);

}  // namespace g4c::plan
