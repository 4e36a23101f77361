// llama.cpp's tokenizer test vectors (models/ggml-vocab-*.gguf.inp/.out, made by the reference
// tokenizers): every input encodes to exactly the expected ids, and those ids decode back to the
// input. As llama.cpp's test-tokenizer-0 does, no BOS is added and control tokens are not parsed.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "vocab_files.h"

namespace g4c::tokenizer {
namespace {

struct Vector {
  std::string input;
  std::vector<int32_t> ids;
};

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Inputs are separated by "\n__ggml_vocab_test__\n"; the .out file has one line of ids per input.
std::vector<Vector> read_vectors(const std::string& vocab) {
  const std::string base = testing::vocab_path(vocab);
  auto inputs = slurp(base + ".inp");
  auto outputs = slurp(base + ".out");
  if (!inputs || !outputs) {
    ADD_FAILURE() << testing::missing_data_message(base + (inputs ? ".out" : ".inp"));
    return {};
  }
  std::vector<Vector> vectors;
  const std::string separator = "\n__ggml_vocab_test__\n";
  for (size_t at = 0; at < inputs->size();) {
    const size_t next = inputs->find(separator, at);
    vectors.push_back({inputs->substr(at, next == std::string::npos ? std::string::npos : next - at), {}});
    if (next == std::string::npos) break;
    at = next + separator.size();
  }
  std::istringstream lines(*outputs);
  size_t i = 0;
  for (std::string line; std::getline(lines, line); ++i) {
    if (i >= vectors.size()) break;
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) vectors[i].ids.push_back(id);
  }
  EXPECT_EQ(i, vectors.size()) << "inputs and outputs of " << vocab << " disagree in number";
  return vectors;
}

std::string show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

class VocabVectors : public ::testing::TestWithParam<const char*> {};

TEST_P(VocabVectors, EncodeExactlyAndDecodeBack) {
  const Tokenizer* t = testing::load_vocab(GetParam());
  if (!t) return;
  const std::vector<Vector> vectors = read_vectors(GetParam());
  ASSERT_GT(vectors.size(), 20u);
  const EncodeOptions options{.add_bos = false, .parse_special = false};
  for (const Vector& v : vectors) {
    const std::vector<int32_t> ids = t->encode(v.input, options);
    EXPECT_EQ(show(ids), show(v.ids)) << "input " << quote(v.input);
    EXPECT_EQ(t->decode(v.ids), v.input) << "ids " << show(v.ids);
  }
}

INSTANTIATE_TEST_SUITE_P(LlamaCpp, VocabVectors, ::testing::Values("ggml-vocab-gemma-4.gguf", "ggml-vocab-llama-spm.gguf"),
                         [](const auto& info) {
                           return std::string(info.param).find("gemma") != std::string::npos ? "Gemma4" : "LlamaSpm";
                         });

}  // namespace
}  // namespace g4c::tokenizer
