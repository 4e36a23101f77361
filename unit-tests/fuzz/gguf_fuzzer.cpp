// libFuzzer target: bytes through the GGUF reader and, when they parse, `g4c import` (metadata to
// a declaration, tensor types to a quant recipe). Files come from the internet; any bytes must
// end in a model or a diagnostic, with every size checked before it is used.
//
// Property (a failure aborts, a finding): what import prints is a declaration `g4c check`
// accepts, and it compiles to a plan that verifies.
#include <algorithm>
#include <cstdint>
#include <sstream>
#include <vector>

#include "fuzz_support.h"
#include "g4c/compiler/lower.h"
#include "g4c/compiler/passes.h"
#include "g4c/gguf/file.h"
#include "g4c/gguf/import.h"
#include "g4c/spec/load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  g4c::DiagnosticEngine diag;
  auto file = g4c::gguf::File::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.gguf", diag);
  if (!file) return 0;
  auto toml = g4c::gguf::import_model(*file, diag);
  if (!toml) return 0;
  auto spec = g4c::load_model_spec_from_string(*toml, "imported.toml", diag);
  if (!spec) g4c::fuzz::finding("g4c import printed a declaration that g4c check refuses", &diag);
  g4c::LowerOptions lower;
  lower.widths = {1, 2};
  lower.context = std::min<int64_t>(spec->context, 16);
  g4c::plan::Plan plan = g4c::lower_model(*spec, lower);
  g4c::RouteOptions routes;
  g4c::PassContext ctx{*spec, routes, diag};
  std::ostringstream ignored;
  if (!g4c::run_pipeline(plan, ctx, {}, false, ignored) || !g4c::plan::verify_plan(plan, diag))
    g4c::fuzz::finding("an imported declaration does not compile to a plan that verifies", &diag);
  return 0;
}
