#include "g4c/runtime/tokenizer/text_stream.h"

#include <algorithm>

#include "g4c/runtime/tokenizer/utf8.h"

namespace g4c::tokenizer {

namespace {

// The longest end of `text` that begins some stop string (and is not a whole one).
size_t stop_prefix_at_end(std::string_view text, const std::vector<std::string>& stop_strings) {
  size_t longest = 0;
  for (const std::string& stop : stop_strings)
    for (size_t n = std::min(text.size(), stop.size() - 1); n > longest; --n)
      if (text.substr(text.size() - n) == std::string_view(stop).substr(0, n)) {
        longest = n;
        break;
      }
  return longest;
}

}  // namespace

TextStream::TextStream(const Tokenizer& tokenizer, std::vector<std::string> stop_strings)
    : tokenizer_(&tokenizer), stop_strings_(std::move(stop_strings)) {
  std::erase_if(stop_strings_, [](const std::string& s) { return s.empty(); });
}

std::string TextStream::push(int32_t id) {
  if (stopped_) return {};
  pending_ += tokenizer_->piece(id);
  size_t first_stop = std::string::npos;
  for (const std::string& stop : stop_strings_) first_stop = std::min(first_stop, pending_.find(stop));
  if (first_stop != std::string::npos) {
    stopped_ = true;
    std::string text = repair_utf8(std::string_view(pending_).substr(0, first_stop));
    pending_.clear();
    return text;
  }
  const size_t hold = std::max(incomplete_utf8_tail(pending_), stop_prefix_at_end(pending_, stop_strings_));
  std::string text = repair_utf8(std::string_view(pending_).substr(0, pending_.size() - hold));
  pending_.erase(0, pending_.size() - hold);
  return text;
}

std::string TextStream::finish() {
  std::string text = stopped_ ? std::string() : repair_utf8(pending_);
  pending_.clear();
  return text;
}

}  // namespace g4c::tokenizer
