// The NVRTC disk cache: a second compile of the same instances reads every program from the
// cache; changing what decides the output (the arch) misses; a damaged or foreign entry (even one
// of the right length: entries carry a checksum) is ignored and rewritten; writers racing on one
// entry leave a valid file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "g4c/plan/kernels.h"
#include "g4c/runtime/jit.h"

namespace g4c {
namespace {

namespace fs = std::filesystem;

class KernelCache : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("g4c-cache-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::optional<std::vector<CompiledProgram>> compile(const std::string& arch, JitStats& stats) {
    std::vector<JitRequest> requests = {{plan::kernel_instance("add"), "a test"},
                                        {plan::kernel_instance("softcap"), "a test"}};
    JitOptions options;
    options.arch = arch;
    options.cache_dir = dir_.string();
    DiagnosticEngine diag;
    auto out = jit_compile(requests, options, stats, diag);
    EXPECT_TRUE(out) << (diag.diagnostics().empty() ? "" : diag.diagnostics()[0].message);
    return out;
  }

  std::vector<fs::path> entries() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path());
    return out;
  }

  fs::path dir_;
};

TEST_F(KernelCache, SecondCompileHitsAndGivesTheSameCubin) {
  JitStats first, second;
  auto a = compile("sm_90", first);
  auto b = compile("sm_90", second);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(first.cache_hits, 0);
  EXPECT_EQ(second.cache_hits, second.programs);
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].cubin, (*b)[i].cubin);
    EXPECT_EQ((*a)[i].lowered_names, (*b)[i].lowered_names);  // stored with the cubin
  }
}

TEST_F(KernelCache, AnotherArchMisses) {
  JitStats first, other;
  ASSERT_TRUE(compile("sm_90", first));
  ASSERT_TRUE(compile("sm_80", other));
  EXPECT_EQ(other.cache_hits, 0);
}

TEST_F(KernelCache, DamagedEntriesAreIgnoredAndRewritten) {
  JitStats first, second, third;
  ASSERT_TRUE(compile("sm_90", first));
  for (const fs::path& p : entries()) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << "not a cache entry";
  }
  ASSERT_TRUE(compile("sm_90", second));
  EXPECT_EQ(second.cache_hits, 0);
  ASSERT_TRUE(compile("sm_90", third));
  EXPECT_EQ(third.cache_hits, third.programs);
}

// A damage that keeps the entry's length and structure (one byte of the cubin flipped) is caught by
// the entry's checksum: the cubin is compiled again, not loaded.
TEST_F(KernelCache, SameLengthCorruptionIsCaughtByTheChecksum) {
  JitStats first, second;
  auto good = compile("sm_90", first);
  ASSERT_TRUE(good);
  for (const fs::path& p : entries()) {
    std::fstream f(p, std::ios::binary | std::ios::in | std::ios::out);
    f.seekg(-64, std::ios::end);
    char c = 0;
    f.read(&c, 1);
    f.seekp(-64, std::ios::end);
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }
  auto again = compile("sm_90", second);
  ASSERT_TRUE(again);
  EXPECT_EQ(second.cache_hits, 0);
  for (size_t i = 0; i < good->size(); ++i) EXPECT_EQ((*good)[i].cubin, (*again)[i].cubin);
}

TEST_F(KernelCache, ConcurrentWritersLeaveValidEntries) {
  std::vector<std::thread> writers;
  for (int i = 0; i < 4; ++i)
    writers.emplace_back([&] {
      JitStats stats;
      compile("sm_90", stats);
    });
  for (std::thread& t : writers) t.join();
  for (const fs::path& p : entries()) EXPECT_EQ(p.extension(), ".g4ck") << "a temporary file was left: " << p;
  JitStats after;
  ASSERT_TRUE(compile("sm_90", after));
  EXPECT_EQ(after.cache_hits, after.programs);
}

// A kernel that does not compile (here a static_assert: 6 query heads do not form whole groups
// over 4 KV heads) fails the whole request with the source, the plan ops that wanted each
// instance and NVRTC's own log, and leaves nothing in the cache.
TEST_F(KernelCache, CompileErrorsNameThePlanOpAndShowTheNvrtcLog) {
  using plan::Ident;
  const plan::KernelInstance bad = plan::kernel_instance(
      "attention.partial", {{"kind", Ident{"full"}},
                            {"head_dim", int64_t{64}},
                            {"q_heads", int64_t{6}},
                            {"kv_heads", int64_t{4}},
                            {"dtype", Ident{"F32"}},
                            {"window", int64_t{0}}});
  JitOptions options;
  options.arch = "sm_90";
  options.cache_dir = dir_.string();
  JitStats stats;
  DiagnosticEngine diag;
  const std::vector<JitRequest> requests = {{bad, "%l3.attn"}};
  EXPECT_FALSE(jit_compile(requests, options, stats, diag));
  ASSERT_FALSE(diag.diagnostics().empty());
  const std::string& message = diag.diagnostics()[0].message;
  EXPECT_NE(message.find("kernels/attention.cuh failed to compile for sm_90"), std::string::npos) << message;
  EXPECT_NE(message.find("(used by %l3.attn)"), std::string::npos) << message;
  EXPECT_NE(message.find("NVRTC log:"), std::string::npos) << message;
  EXPECT_NE(message.find("query heads form whole GQA groups"), std::string::npos) << message;
  EXPECT_TRUE(!fs::exists(dir_) || fs::is_empty(dir_));
}

}  // namespace
}  // namespace g4c
