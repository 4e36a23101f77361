// The vocab files of llama.cpp the tokenizer tests read, from the cache .ci/fetch-test-data fills.
// A missing file fails the test that needs it, saying how to fetch it: CI fetches them, so a
// test that skipped there would hide a broken fetch.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "g4c/gguf/file.h"
#include "g4c/runtime/tokenizer/tokenizer.h"
#include "g4c/support/text.h"

namespace g4c::tokenizer::testing {

inline std::string vocab_path(const std::string& name) { return std::string(G4C_VOCAB_DIR) + "/" + name; }

inline std::string missing_data_message(const std::string& path) {
  return path + " is missing: run .ci/fetch-test-data (part of .ci/install-deps) to fetch llama.cpp's vocab "
         "files, or point G4C_VOCAB_DIR at them";
}

// The tokenizer of vocab file `name` (e.g. ggml-vocab-gemma-4.gguf), loaded once per test binary;
// nullptr after reporting a failure.
inline const Tokenizer* load_vocab(const std::string& name) {
  static std::map<std::string, std::optional<Tokenizer>> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    DiagnosticEngine diag;
    std::optional<Tokenizer> t;
    if (auto file = gguf::File::open(vocab_path(name), diag)) t = Tokenizer::load(*file, diag);
    for (const Diagnostic& d : diag.diagnostics()) ADD_FAILURE() << format_diagnostic(d, "test");
    it = cache.emplace(name, std::move(t)).first;
  }
  if (!it->second) ADD_FAILURE() << missing_data_message(vocab_path(name));
  return it->second ? &*it->second : nullptr;
}

}  // namespace g4c::tokenizer::testing
