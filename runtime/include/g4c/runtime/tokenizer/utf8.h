// UTF-8 facts the tokenizer and its users share: validation, character lengths, repair of text
// cut in the middle of a character, and Python's notion of whitespace (for chat templates, whose
// `trim` is Python's str.strip()).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace g4c::tokenizer {

// Bytes of the character a lead byte starts, as llama.cpp splits text: 1 for ASCII and for bytes
// that cannot start a character, else 2, 3 or 4 from the lead byte's high bits.
size_t utf8_sequence_length(unsigned char lead);

// The offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong
// forms, surrogates or code points past U+10FFFF), or nothing when all of `text` is.
std::optional<size_t> first_invalid_utf8(std::string_view text);

// Bytes at the end of `text` that begin a character the text does not finish (0..3).
size_t incomplete_utf8_tail(std::string_view text);

// `text` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD.
std::string repair_utf8(std::string_view text);

// `text` without the leading and trailing characters Python's str.isspace() accepts.
std::string_view strip_python_whitespace(std::string_view text);

}  // namespace g4c::tokenizer
