// libFuzzer target: a model declaration (TOML) through the reader and validator, and — when it
// validates — through lowering, every pass and the plan verifier. Any input must end in a spec or
// diagnostics: no crash, no sanitizer report, no unbounded allocation.
#include <cstdint>
#include <iostream>
#include <sstream>
#include <string>

#include "g4c/compiler/lower.h"
#include "g4c/compiler/passes.h"
#include "g4c/plan/verifier.h"
#include "g4c/spec/load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  g4c::DiagnosticEngine diag;
  auto spec = g4c::load_model_spec_from_string(text, "fuzz.toml", diag);
  if (!spec) return 0;
  g4c::LowerOptions lower;
  lower.widths = {1, 8};
  lower.context = 256;  // full caches of the model's context are not what this target explores
  g4c::plan::Plan plan = g4c::lower_model(*spec, lower);
  g4c::RouteOptions routes;
  g4c::PassContext ctx{*spec, routes, diag};
  std::ostringstream ignored;
  if (g4c::run_pipeline(plan, ctx, {}, false, ignored)) g4c::plan::verify_plan(plan, diag);
  return 0;
}
