// libFuzzer target: a GGUF file bound to the plan of the model it declares, and run. The bytes go
// through the reader and `g4c import`; the declaration is compiled (short context, widths 1 and
// 2); the file's tensors are bound to the plan as `g4run --weights FILE.gguf` binds them (names,
// types, shapes, k_eq_v, KV heads, rope_freqs, tensors of another model, NaN in vectors); and a
// plan that binds runs a few steps on the CPU backend with the file's own weights. Any bytes must
// end in a diagnostic or a run without a sanitizer report.
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
  if (!spec) return 0;  // the gguf fuzzer's property
  g4c::LowerOptions lower;
  lower.widths = {1, 2};
  lower.context = std::min<int64_t>(spec->context, 8);
  lower.prefill_chunk = size % 2 == 0 ? 2 : 1;
  g4c::plan::Plan plan = g4c::lower_model(*spec, lower);
  g4c::RouteOptions routes;
  g4c::PassContext ctx{*spec, routes, diag};
  std::ostringstream ignored;
  if (!g4c::run_pipeline(plan, ctx, {}, false, ignored) || !g4c::plan::verify_plan(plan, diag)) return 0;
  if (!g4c::fuzz::small_enough_to_run(plan)) return 0;  // before the tensors are copied
  auto weights = g4c::bind_gguf_weights(plan, *file, diag);
  if (weights) g4c::fuzz::run_on_cpu(plan, &*weights);
  return 0;
}
