// Inputs the fuzzers found (unit-tests/fuzz/regressions/), replayed on every build through what
// the fuzz targets assert: a declaration ends in a spec or diagnostics, and a spec compiles to a
// plan that verifies and runs; a plan that parses prints and parses back to itself, and one that
// verifies runs on the CPU backend; a GGUF file that imports compiles, binds and runs. In the
// sanitizer build any undefined behaviour or memory error they once caused aborts the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "../fuzz/fuzz_support.h"
#include "g4c/support/file_io.h"

namespace g4c {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::string why;
  auto text = read_file(path.string(), why);
  EXPECT_TRUE(text) << path << ": " << why;
  return text.value_or("");
}

std::vector<fs::path> regressions(std::string_view extension) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(G4C_SOURCE_DIR) / "unit-tests/fuzz/regressions"))
    if (e.path().extension() == extension) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FuzzRegressions, DeclarationsEndInDiagnosticsOrAPlanThatRuns) {
  int replayed = 0;
  for (const fs::path& path : regressions(".toml")) {
    DiagnosticEngine diag;
    auto spec = load_model_spec_from_string(read(path), "regression.toml", diag);
    EXPECT_TRUE(spec.has_value() || diag.has_errors()) << path;
    if (spec) fuzz::run_on_cpu(*fuzz::compile(*spec, {1, 2}, 16, 1, true, diag));
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

TEST(FuzzRegressions, PlansRoundTripAndVerifiedOnesRun) {
  int replayed = 0;
  for (const fs::path& path : regressions(".plan")) {
    DiagnosticEngine diag;
    auto plan = plan::parse_plan(read(path), path.string(), diag);
    ++replayed;
    if (!plan) continue;
    const bool verified = plan::verify_plan(*plan, diag);
    fuzz::check_print_round_trip(*plan, verified);
    if (verified) fuzz::run_on_cpu(*plan);
  }
  EXPECT_GT(replayed, 0);
}

// gguf-alignment-1.gguf: a legal file whose tensors sit at odd offsets (general.alignment = 1);
// reading blocks in place was a misaligned load, tensors are now copied to aligned memory.
TEST(FuzzRegressions, GgufFilesImportCompileBindAndRun) {
  int bound = 0;
  for (const fs::path& path : regressions(".gguf")) {
    DiagnosticEngine diag;
    std::string bytes = read(path);
    auto file = gguf::File::from_bytes(std::vector<uint8_t>(bytes.begin(), bytes.end()), path.string(), diag);
    if (!file) continue;
    auto plan = fuzz::import_and_compile(*file, 8, 1, true, diag);
    if (!plan) continue;
    auto weights = bind_gguf_weights(*plan, *file, diag);
    if (!weights) continue;
    fuzz::run_on_cpu(*plan, &*weights);
    ++bound;
  }
  EXPECT_GT(bound, 0);
}

}  // namespace
}  // namespace g4c
