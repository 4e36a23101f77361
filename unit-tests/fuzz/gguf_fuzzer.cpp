// libFuzzer target: bytes through the GGUF reader and, when they parse, `g4c import` (metadata to
// a declaration, tensor types to a quant recipe) and the tokenizer (its keys, then an encoding
// and decoding of mixed text). Files come from the internet; any bytes must end in a model or a
// diagnostic, with every size checked before it is used.
//
// Property (a failure aborts, a finding): what import prints is a declaration `g4c check`
// accepts, and it compiles to a plan that verifies.
#include <cstdint>
#include <vector>

#include "fuzz_support.h"
#include "g4c/runtime/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  g4c::DiagnosticEngine diag;
  auto file = g4c::gguf::File::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.gguf", diag);
  if (!file) return 0;
  g4c::fuzz::import_and_compile(*file, 16, 1, true, diag);
  if (g4c::tokenizer::Tokenizer::present(*file))
    if (auto tokenizer = g4c::tokenizer::Tokenizer::load(*file, diag))
      tokenizer->decode(tokenizer->encode("<bos>Hello,  w\xC3\xB6rld!\n\n\t\xF0\x9F\x9A\x80 \xFF<|turn>"));
  return 0;
}
