// One sequence's generated tokens turned into text as they arrive, for streaming: push() returns
// only what can no longer change — whole UTF-8 characters (a character split over byte tokens is
// held until its last byte), and nothing that might still become the start of a stop string. When
// a stop string appears the stream stops: the stop string and everything after it are dropped.
// Text is always well-formed UTF-8: bytes that form no character become U+FFFD.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "g4c/runtime/tokenizer/tokenizer.h"

namespace g4c::tokenizer {

class TextStream {
 public:
  explicit TextStream(const Tokenizer& tokenizer, std::vector<std::string> stop_strings = {});

  // The text that token `id` makes final (often empty).
  std::string push(int32_t id);
  // Whether a stop string has appeared; push() returns nothing after that.
  bool stopped() const { return stopped_; }
  // What was held back, when the sequence ends.
  std::string finish();

 private:
  const Tokenizer* tokenizer_;
  std::vector<std::string> stop_strings_;
  std::string pending_;  // decoded bytes not yet returned
  bool stopped_ = false;
};

}  // namespace g4c::tokenizer
