// A Gemma-4-style tokenizer of a few dozen tokens, built in memory: small enough to reason about
// (which merge wins, where bytes fall back), and quick to load in every test process.
//
//   0 <pad>  1 <eos>  2 <bos>  3 <unk>  4 <|turn>  5 <turn|>  (control, <unk> unknown)
//   6 <|channel>  (user-defined)        7..262 <0x00>..<0xFF>  (byte)
//   263 ▁  264 a  265 b  266 aa  267 ab  268 aab  269 \n  270 \n\n  271 H  272 i  273 Hi  274 ▁Hi
//   merges, in order: a b, a a, a ab, H i, ▁ Hi, \n \n
#pragma once

#include <gtest/gtest.h>

#include <cstdio>

#include "g4c/gguf/file.h"
#include "g4c/gguf/writer.h"
#include "g4c/runtime/tokenizer/tokenizer.h"

namespace g4c::tokenizer::testing {

enum TinyToken : int32_t {
  kEos = 1, kBos = 2, kUnk = 3, kTurn = 4, kEndTurn = 5, kChannel = 6, kBytes = 7,
  kSpace = 263, kA, kB, kAA, kAB, kAAB, kNewline, kTwoNewlines, kH, kI, kHi, kSpaceHi,
};

inline int32_t byte_token(unsigned char b) { return kBytes + b; }

inline Tokenizer tiny_tokenizer() {
  std::vector<std::string> tokens = {"<pad>", "<eos>", "<bos>", "<unk>", "<|turn>", "<turn|>", "<|channel>"};
  std::vector<int64_t> types = {3, 3, 3, 2, 3, 3, 4};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    tokens.push_back(name);
    types.push_back(6);
  }
  for (const char* t : {"\xE2\x96\x81", "a", "b", "aa", "ab", "aab", "\n", "\n\n", "H", "i", "Hi", "\xE2\x96\x81Hi"}) {
    tokens.push_back(t);
    types.push_back(1);
  }
  const std::vector<std::string> merges = {"a b", "a a", "a ab", "H i", "\xE2\x96\x81 Hi", "\n \n"};
  gguf::Writer w;
  w.set("tokenizer.ggml.model", gguf::Value::make_string("gemma4"));
  w.set("tokenizer.ggml.tokens", gguf::Value::make_string_array(tokens));
  w.set("tokenizer.ggml.token_type", gguf::Value::make_int_array(gguf::ValueType::i32, types));
  w.set("tokenizer.ggml.merges", gguf::Value::make_string_array(merges));
  w.set("tokenizer.ggml.bos_token_id", gguf::Value::make_u32(kBos));
  w.set("tokenizer.ggml.eos_token_id", gguf::Value::make_u32(kEos));
  w.set("tokenizer.ggml.unknown_token_id", gguf::Value::make_u32(kUnk));
  w.set("tokenizer.ggml.add_bos_token", gguf::Value::make_bool(true));
  DiagnosticEngine diag;
  auto file = gguf::File::from_bytes(w.to_bytes(), "tiny.gguf", diag);
  std::optional<Tokenizer> t = file ? Tokenizer::load(*file, diag) : std::nullopt;
  for (const Diagnostic& d : diag.diagnostics()) ADD_FAILURE() << format_diagnostic(d, "test");
  return t.value();
}

}  // namespace g4c::tokenizer::testing
