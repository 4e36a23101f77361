// libFuzzer target: bytes through the GGUF reader and, when they parse, `g4c import` (metadata to
// a declaration, tensor types to a quant recipe). Files come from the internet; any bytes must
// end in a model or a diagnostic, with every size checked before it is used.
//
// Property (a failure aborts, a finding): what import prints is a declaration `g4c check`
// accepts, and it compiles to a plan that verifies.
#include <cstdint>
#include <vector>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  g4c::DiagnosticEngine diag;
  auto file = g4c::gguf::File::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.gguf", diag);
  if (file) g4c::fuzz::import_and_compile(*file, 16, 1, true, diag);
  return 0;
}
