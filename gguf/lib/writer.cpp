#include "g4c/gguf/writer.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "g4c/gguf/file.h"
#include "g4c/support/file_io.h"
#include "g4c/support/text.h"

namespace g4c::gguf {

namespace {

constexpr uint8_t kZeros[64] = {};

class ByteBuffer {
 public:
  void raw(const void* p, size_t n) {
    size_t at = bytes_.size();
    bytes_.resize(at + n);
    if (n > 0) std::memcpy(bytes_.data() + at, p, n);
  }
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void string(std::string_view s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  void value(const Value& v) {
    if (v.type == ValueType::string) {
      string(v.text);
    } else if (v.type == ValueType::array) {
      u32(static_cast<uint32_t>(v.element_type));
      u64(v.items.size());
      for (const Value& item : v.items) value(item);
    } else {
      raw(&v.bits, scalar_size(v.type));  // the low bytes of a little-endian u64
    }
  }
  void pad_to(uint64_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

uint64_t align_up(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

// Where a value breaks the rules a reader checks; empty when it is well formed.
std::string value_problem(const Value& v, int depth) {
  if (!is_valid_value_type(static_cast<uint32_t>(v.type))) return "unknown value type " + value_type_name(v.type);
  if (v.type != ValueType::array) return {};
  if (depth + 1 > kMaxArrayDepth) return "arrays nested more than " + std::to_string(kMaxArrayDepth) + " deep";
  for (size_t i = 0; i < v.items.size(); ++i) {
    const Value& item = v.items[i];
    if (item.type != v.element_type)
      return "element " + std::to_string(i) + " is " + value_type_name(item.type) + " in an array of " +
             value_type_name(v.element_type);
    if (std::string p = value_problem(item, depth + 1); !p.empty()) return p;
  }
  return {};
}

}  // namespace

void Writer::set(std::string key, Value value) {
  for (auto& [k, v] : metadata_)
    if (k == key) {
      v = std::move(value);
      return;
    }
  metadata_.emplace_back(std::move(key), std::move(value));
}

const Value* Writer::find(std::string_view key) const {
  for (const auto& [k, v] : metadata_)
    if (k == key) return &v;
  return nullptr;
}

bool Writer::erase(std::string_view key) {
  auto it = std::find_if(metadata_.begin(), metadata_.end(), [&](const auto& kv) { return kv.first == key; });
  if (it == metadata_.end()) return false;
  metadata_.erase(it);
  return true;
}

void Writer::add_tensor(std::string name, std::vector<int64_t> dims, uint32_t ggml_type, std::vector<uint8_t> data) {
  tensors_.push_back(PendingTensor{std::move(name), std::move(dims), ggml_type, std::move(data), {}, false});
}

void Writer::add_tensor(std::string name, std::vector<int64_t> dims, uint32_t ggml_type,
                        std::span<const uint8_t> data) {
  tensors_.push_back(PendingTensor{std::move(name), std::move(dims), ggml_type, {}, data, true});
}

uint64_t Writer::alignment() const {
  const Value* v = find("general.alignment");
  if (!v) return kDefaultAlignment;
  return v->type == ValueType::u32 ? v->bits : 0;
}

uint64_t Writer::usable_alignment() const {
  uint64_t a = alignment();
  return a != 0 && std::has_single_bit(a) ? a : kDefaultAlignment;
}

bool Writer::check(const std::string& path, DiagnosticEngine& diag) const {
  SourceLoc loc{std::make_shared<const std::string>(path), 0, 0};
  auto fail = [&](const std::string& message) {
    diag.error(loc, "GGUF writer: " + message);
    return false;
  };
  for (const auto& [key, value] : metadata_)
    if (std::string p = value_problem(value, 0); !p.empty()) return fail("metadata key " + quote(key) + ": " + p);
  uint64_t a = alignment();
  if (a == 0 || !std::has_single_bit(a))
    return fail("metadata key \"general.alignment\": " + find("general.alignment")->summary() +
                " (expected a u32 power of two)");
  std::set<std::string_view> names;
  for (const PendingTensor& t : tensors_) {
    std::string where = "tensor " + quote(t.name);
    if (!names.insert(t.name).second) return fail(where + ": the name appears twice");
    if (t.dims.size() > kMaxDims)
      return fail(where + ": " + std::to_string(t.dims.size()) + " dimensions (expected at most 4)");
    if (!ggml_type_info(t.ggml_type)) return fail(where + ": unknown ggml type " + std::to_string(t.ggml_type));
    auto bytes = ggml_tensor_bytes(t.ggml_type, t.dims);
    if (!bytes) return fail(where + ": the shape does not fit whole " + ggml_type_name(t.ggml_type) + " blocks");
    if (*bytes != t.data().size())
      return fail(where + ": " + std::to_string(t.data().size()) + " bytes of data (expected " +
                  std::to_string(*bytes) + " for " + ggml_type_name(t.ggml_type) + ")");
  }
  return true;
}

std::vector<uint8_t> Writer::head() const {
  uint64_t alignment = usable_alignment();
  ByteBuffer out;
  out.u32(kMagic);
  out.u32(3);
  out.u64(tensors_.size());
  out.u64(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    out.string(key);
    out.u32(static_cast<uint32_t>(value.type));
    out.value(value);
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    out.string(t.name);
    out.u32(static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) out.u64(static_cast<uint64_t>(d));
    out.u32(t.ggml_type);
    out.u64(offset);
    offset = align_up(offset + t.data().size(), alignment);
  }
  out.pad_to(alignment);
  return std::move(out.bytes());
}

std::vector<uint8_t> Writer::to_bytes() const {
  uint64_t alignment = usable_alignment();
  std::vector<uint8_t> bytes = head();
  for (const PendingTensor& t : tensors_) {
    bytes.insert(bytes.end(), t.data().begin(), t.data().end());
    bytes.resize(align_up(bytes.size(), alignment), 0);
  }
  return bytes;
}

bool Writer::write(const std::string& path, DiagnosticEngine& diag) const {
  if (!check(path, diag)) return false;
  const uint64_t alignment = usable_alignment();
  std::string why;
  auto out = OutputFile::open(path, why);
  if (out) {
    std::vector<uint8_t> h = head();
    out->write(h.data(), h.size());
    for (const PendingTensor& t : tensors_) {
      out->write(t.data().data(), t.data().size());
      for (uint64_t n = align_up(t.data().size(), alignment) - t.data().size(); n > 0;) {
        const uint64_t chunk = std::min<uint64_t>(n, sizeof kZeros);
        out->write(kZeros, chunk);
        n -= chunk;
      }
    }
    if (out->commit(why)) return true;
  }
  diag.error(SourceLoc{std::make_shared<const std::string>(path), 0, 0}, "GGUF writer: cannot write the file: " + why);
  return false;
}

}  // namespace g4c::gguf
