#include "g4c/plan/parser.h"
#include "g4c/plan/verifier.h"
#include "g4c/support/file_io.h"
#include "g4c/support/text.h"

namespace g4c::plan {

std::optional<Plan> load_plan_file(const std::string& path, DiagnosticEngine& diag) {
  std::string why;
  std::optional<std::string> text = read_file(path, why);
  if (!text) {
    diag.error({}, "cannot read " + quote(path) + ": " + why);
    return std::nullopt;
  }
  auto plan = parse_plan(*text, path == "-" ? "<stdin>" : path, diag);
  if (plan && !verify_plan(*plan, diag)) return std::nullopt;
  return plan;
}

}  // namespace g4c::plan
