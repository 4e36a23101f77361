// libFuzzer target: plan text through the parser and, when it parses, the verifier and the
// printer. Plans are edited by hand; any text must end in a plan or one diagnostic.
#include <cstdint>
#include <sstream>
#include <string_view>

#include "g4c/plan/parser.h"
#include "g4c/plan/printer.h"
#include "g4c/plan/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  g4c::DiagnosticEngine diag;
  auto plan = g4c::plan::parse_plan(text, "fuzz.plan", diag);
  if (!plan) return 0;
  if (g4c::plan::verify_plan(*plan, diag)) {
    std::ostringstream os;
    g4c::plan::print_plan(*plan, os);
  }
  return 0;
}
