// Inputs the fuzzers found (unit-tests/fuzz/regressions/), replayed through the same entry points
// on every build: each must end in a result or diagnostics. In the sanitizer build (preset
// `sanitize`) any undefined behaviour they once triggered aborts the test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "g4c/spec/load.h"

namespace g4c {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

TEST(FuzzRegressions, DeclarationsEndInASpecOrDiagnostics) {
  int replayed = 0;
  for (const auto& e : fs::directory_iterator(fs::path(G4C_SOURCE_DIR) / "unit-tests/fuzz/regressions")) {
    if (e.path().extension() != ".toml") continue;
    DiagnosticEngine diag;
    auto spec = load_model_spec_from_string(read(e.path()), "regression.toml", diag);
    EXPECT_TRUE(spec.has_value() || diag.has_errors()) << e.path();
    ++replayed;
  }
  EXPECT_GT(replayed, 0);
}

// The first finding: TOML++ 3.3 hits __builtin_unreachable deciding whether U+00A7 is whitespace
// while it records text; non-ASCII is now blanked in comments and refused elsewhere.
TEST(FuzzRegressions, NonAsciiIsFineInCommentsAndRefusedElsewhere) {
  DiagnosticEngine diag;
  const std::string base = "extends = \"models/synthetic/pairing-12b-tiny.toml\"\n";
  EXPECT_TRUE(load_model_spec_from_string(base + "# \xc2\xa7 4 of the spec, caf\xc3\xa9\n",
                                          std::string(G4C_SOURCE_DIR) + "/x.toml", diag))
      << (diag.diagnostics().empty() ? "" : diag.diagnostics()[0].message);
  EXPECT_FALSE(load_model_spec_from_string(base + "[model]\nname = \"caf\xc3\xa9\"\n",
                                           std::string(G4C_SOURCE_DIR) + "/x.toml", diag));
  ASSERT_FALSE(diag.diagnostics().empty());
  EXPECT_EQ(diag.diagnostics().back().message, "non-ASCII character outside a comment (declarations are ASCII)");
  EXPECT_EQ(diag.diagnostics().back().loc.line, 3);
  EXPECT_EQ(diag.diagnostics().back().loc.col, 12);
}

}  // namespace
}  // namespace g4c
