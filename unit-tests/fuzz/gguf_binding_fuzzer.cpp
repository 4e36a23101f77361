// libFuzzer target: a GGUF file bound to the plan of the model it declares, and run. The bytes go
// through the reader and `g4c import`; the declaration is compiled (short context, widths 1 and
// 2); the file's tensors are bound to the plan as `g4run --weights FILE.gguf` binds them (names,
// types, shapes, k_eq_v, KV heads, rope_freqs, tensors of another model, NaN in vectors); and a
// plan that binds runs a few steps on the CPU backend with the file's own weights. Any bytes must
// end in a diagnostic or a run without a sanitizer report.
#include <cstdint>
#include <vector>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  g4c::DiagnosticEngine diag;
  auto file = g4c::gguf::File::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.gguf", diag);
  if (!file) return 0;
  // The import properties are the gguf fuzzer's; here a file that does not compile just ends.
  auto plan = g4c::fuzz::import_and_compile(*file, 8, size % 2 == 0 ? 2 : 1, false, diag);
  if (!plan || !g4c::fuzz::small_enough_to_run(*plan)) return 0;  // checked before tensors are copied
  auto weights = g4c::bind_gguf_weights(*plan, *file, diag);
  if (weights) g4c::fuzz::run_on_cpu(*plan, &*weights);
  return 0;
}
