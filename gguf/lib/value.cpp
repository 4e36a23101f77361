#include "g4c/gguf/value.h"

#include <bit>
#include <charconv>
#include <limits>

#include "g4c/support/text.h"

namespace g4c::gguf {

namespace {

constexpr const char* kTypeNames[kValueTypeCount] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                                     "bool", "string", "array", "u64", "i64", "f64"};

Value scalar(ValueType t, uint64_t bits) {
  Value v;
  v.type = t;
  v.bits = bits;
  return v;
}

// Sign-extends the low `bytes` bytes of `bits`.
int64_t sign_extend(uint64_t bits, uint32_t bytes) {
  if (bytes >= 8) return static_cast<int64_t>(bits);
  uint32_t shift = 64 - 8 * bytes;
  return static_cast<int64_t>(bits << shift) >> shift;
}

bool is_signed(ValueType t) {
  return t == ValueType::i8 || t == ValueType::i16 || t == ValueType::i32 || t == ValueType::i64;
}

template <typename T, typename Accessor>
std::optional<std::vector<T>> array_of(const Value& v, Accessor get) {
  if (!v.is_array()) return std::nullopt;
  std::vector<T> out;
  out.reserve(v.items.size());
  for (const Value& item : v.items) {
    auto x = get(item);
    if (!x) return std::nullopt;
    out.push_back(*x);
  }
  return out;
}

}  // namespace

std::string format_float32(float v) {
  char buf[32];
  auto result = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, result.ptr);
}

std::string value_type_name(ValueType t) {
  auto id = static_cast<uint32_t>(t);
  return id < kValueTypeCount ? kTypeNames[id] : "type " + std::to_string(id);
}

bool is_valid_value_type(uint32_t id) { return id < kValueTypeCount; }

bool is_integer_type(ValueType t) {
  switch (t) {
    case ValueType::u8:
    case ValueType::i8:
    case ValueType::u16:
    case ValueType::i16:
    case ValueType::u32:
    case ValueType::i32:
    case ValueType::u64:
    case ValueType::i64:
      return true;
    default:
      return false;
  }
}

bool is_float_type(ValueType t) { return t == ValueType::f32 || t == ValueType::f64; }

uint32_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::u8:
    case ValueType::i8:
    case ValueType::boolean:
      return 1;
    case ValueType::u16:
    case ValueType::i16:
      return 2;
    case ValueType::u32:
    case ValueType::i32:
    case ValueType::f32:
      return 4;
    case ValueType::u64:
    case ValueType::i64:
    case ValueType::f64:
      return 8;
    default:
      return 0;
  }
}


Value Value::make_u8(uint8_t v) { return scalar(ValueType::u8, v); }
Value Value::make_i8(int8_t v) { return make_integer(ValueType::i8, v); }
Value Value::make_u16(uint16_t v) { return scalar(ValueType::u16, v); }
Value Value::make_i16(int16_t v) { return make_integer(ValueType::i16, v); }
Value Value::make_u32(uint32_t v) { return scalar(ValueType::u32, v); }
Value Value::make_i32(int32_t v) { return make_integer(ValueType::i32, v); }
Value Value::make_u64(uint64_t v) { return scalar(ValueType::u64, v); }
Value Value::make_i64(int64_t v) { return make_integer(ValueType::i64, v); }
Value Value::make_f32(float v) { return scalar(ValueType::f32, std::bit_cast<uint32_t>(v)); }
Value Value::make_f64(double v) { return scalar(ValueType::f64, std::bit_cast<uint64_t>(v)); }
Value Value::make_bool(bool v) { return scalar(ValueType::boolean, v ? 1 : 0); }

Value Value::make_string(std::string v) {
  Value out;
  out.type = ValueType::string;
  out.text = std::move(v);
  return out;
}

Value Value::make_array(ValueType element_type, std::vector<Value> items) {
  Value out;
  out.type = ValueType::array;
  out.element_type = element_type;
  out.items = std::move(items);
  return out;
}

Value Value::make_integer(ValueType t, int64_t v) {
  uint32_t size = scalar_size(t);
  uint64_t bits = static_cast<uint64_t>(v);
  if (size < 8) bits &= (uint64_t{1} << (8 * size)) - 1;
  return scalar(t, t == ValueType::boolean ? (v != 0) : bits);
}

Value Value::make_int_array(ValueType element_type, std::span<const int64_t> values) {
  std::vector<Value> items;
  items.reserve(values.size());
  for (int64_t v : values) items.push_back(make_integer(element_type, v));
  return make_array(element_type, std::move(items));
}

Value Value::make_float_array(ValueType element_type, std::span<const double> values) {
  std::vector<Value> items;
  items.reserve(values.size());
  for (double v : values)
    items.push_back(element_type == ValueType::f32 ? make_f32(static_cast<float>(v)) : make_f64(v));
  return make_array(element_type == ValueType::f32 ? ValueType::f32 : ValueType::f64, std::move(items));
}

Value Value::make_bool_array(std::span<const bool> values) {
  std::vector<Value> items;
  for (bool v : values) items.push_back(make_bool(v));
  return make_array(ValueType::boolean, std::move(items));
}

Value Value::make_bool_array(const std::vector<bool>& values) {
  std::vector<Value> items;
  for (bool v : values) items.push_back(make_bool(v));
  return make_array(ValueType::boolean, std::move(items));
}

Value Value::make_string_array(std::span<const std::string> values) {
  std::vector<Value> items;
  items.reserve(values.size());
  for (const std::string& v : values) items.push_back(make_string(v));
  return make_array(ValueType::string, std::move(items));
}

std::optional<int64_t> Value::as_int() const {
  if (!is_integer_type(type)) return std::nullopt;
  if (is_signed(type)) return sign_extend(bits, scalar_size(type));
  if (bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(bits);
}

std::optional<double> Value::as_float() const {
  if (type == ValueType::f32) return std::bit_cast<float>(static_cast<uint32_t>(bits));
  if (type == ValueType::f64) return std::bit_cast<double>(bits);
  if (type == ValueType::u64) return static_cast<double>(bits);
  if (auto i = as_int()) return static_cast<double>(*i);
  return std::nullopt;
}

std::optional<bool> Value::as_bool() const {
  if (type != ValueType::boolean) return std::nullopt;
  return bits != 0;
}

std::optional<std::string> Value::as_string() const {
  if (type != ValueType::string) return std::nullopt;
  return text;
}

std::optional<std::vector<int64_t>> Value::as_int_array() const {
  return array_of<int64_t>(*this, [](const Value& v) { return v.as_int(); });
}

std::optional<std::vector<double>> Value::as_float_array() const {
  return array_of<double>(*this, [](const Value& v) { return v.as_float(); });
}

std::optional<std::vector<bool>> Value::as_bool_array() const {
  return array_of<bool>(*this, [](const Value& v) { return v.as_bool(); });
}

std::optional<std::vector<std::string>> Value::as_string_array() const {
  return array_of<std::string>(*this, [](const Value& v) { return v.as_string(); });
}

std::string Value::summary() const {
  switch (type) {
    case ValueType::string: {
      // A file's string may hold megabytes (a whole tokenizer); a message shows its start.
      constexpr size_t kShownBytes = 64;
      if (text.size() <= kShownBytes) return quote(text);
      return quote(text.substr(0, kShownBytes)) + "... (" + std::to_string(text.size()) + " bytes)";
    }
    case ValueType::array:
      return std::string("[") + std::to_string(items.size()) + " x " + value_type_name(element_type) + "]";
    case ValueType::boolean:
      return bits ? "true" : "false";
    case ValueType::f32:
      return format_float32(static_cast<float>(*as_float()));
    case ValueType::f64:
      return format_double(*as_float());
    case ValueType::u64:
      return std::to_string(bits);
    default:
      if (auto i = as_int()) return std::to_string(*i);
      return value_type_name(type);
  }
}

bool operator==(const Value& a, const Value& b) {
  if (a.type != b.type) return false;
  if (a.type == ValueType::string) return a.text == b.text;
  if (a.type == ValueType::array) return a.element_type == b.element_type && a.items == b.items;
  return a.bits == b.bits;
}

}  // namespace g4c::gguf
