// A GGUF metadata value: one scalar, a string, or a typed array of values (arrays may nest).
//
// Scalars keep the bits the file stored (zero-extended to 64), so a value read and written back
// is byte-identical, NaN payloads included; the accessors decode them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace g4c::gguf {

enum class ValueType : uint32_t {
  u8 = 0,
  i8 = 1,
  u16 = 2,
  i16 = 3,
  u32 = 4,
  i32 = 5,
  f32 = 6,
  boolean = 7,
  string = 8,
  array = 9,
  u64 = 10,
  i64 = 11,
  f64 = 12,
};

inline constexpr uint32_t kValueTypeCount = 13;

// "u32", "string", ...; "type 13" for an id that is not a ValueType.
std::string value_type_name(ValueType t);
// Shortest text that reads back as the same float (f32 metadata such as 1e-6 prints as "1e-06").
std::string format_float32(float v);
bool is_valid_value_type(uint32_t id);
bool is_integer_type(ValueType t);
bool is_float_type(ValueType t);
// Bytes one scalar of `t` takes in the file; 0 for string and array.
uint32_t scalar_size(ValueType t);

struct Value {
  ValueType type = ValueType::u8;
  uint64_t bits = 0;                       // scalars: the stored little-endian bits, zero-extended
  std::string text;                        // string
  ValueType element_type = ValueType::u8;  // array
  std::vector<Value> items;                // array

  // ---- construction ----
  static Value make_u8(uint8_t v);
  static Value make_i8(int8_t v);
  static Value make_u16(uint16_t v);
  static Value make_i16(int16_t v);
  static Value make_u32(uint32_t v);
  static Value make_i32(int32_t v);
  static Value make_u64(uint64_t v);
  static Value make_i64(int64_t v);
  static Value make_f32(float v);
  static Value make_f64(double v);
  static Value make_bool(bool v);
  static Value make_string(std::string v);
  // An array of `element_type`; every item must have that type.
  static Value make_array(ValueType element_type, std::vector<Value> items);
  // Arrays of scalars from plain values: each element converted to `element_type`.
  static Value make_int_array(ValueType element_type, std::span<const int64_t> values);
  static Value make_float_array(ValueType element_type, std::span<const double> values);
  static Value make_bool_array(std::span<const bool> values);
  static Value make_bool_array(const std::vector<bool>& values);
  static Value make_string_array(std::span<const std::string> values);
  // A scalar of `t` (an integer or boolean type) holding `v` truncated to its width.
  static Value make_integer(ValueType t, int64_t v);

  // ---- access ----
  bool is_array() const { return type == ValueType::array; }
  bool is_string() const { return type == ValueType::string; }
  // Integer types (signed or unsigned) that fit in int64; nullopt for anything else.
  std::optional<int64_t> as_int() const;
  // Float types, and integer types converted; nullopt for bool, string and array.
  std::optional<double> as_float() const;
  std::optional<bool> as_bool() const;
  std::optional<std::string> as_string() const;
  // Arrays whose every element as_int() / as_float() / as_bool() accepts.
  std::optional<std::vector<int64_t>> as_int_array() const;
  std::optional<std::vector<double>> as_float_array() const;
  std::optional<std::vector<bool>> as_bool_array() const;
  std::optional<std::vector<std::string>> as_string_array() const;

  // Short human-readable form for messages: `42`, `"gemma4"`, `[48 x u32]`; strings longer than
  // 64 bytes show their first 64 and their length.
  std::string summary() const;

  friend bool operator==(const Value& a, const Value& b);
};

}  // namespace g4c::gguf
