// GGUF reader. Layout (little-endian): "GGUF", u32 version, u64 tensor count, u64 metadata count;
// metadata entries (string key, u32 value type, value); tensor infos (string name, u32 n_dims,
// n_dims × u64 dims, u32 ggml type, u64 offset); padding to the alignment; the data section.
// A string is a u64 byte count and the bytes; an array is a u32 element type, a u64 count and the
// elements.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "g4c/gguf/file.h"
#include "g4c/support/file_io.h"
#include "g4c/support/text.h"

namespace g4c::gguf {

// Where a file's bytes come from: a buffer that holds them all, or an open file of which only a
// prefix (the header) is in memory and tensors are read on demand.
class File::Storage {
 public:
  virtual ~Storage() = default;
  virtual std::span<const uint8_t> bytes() const = 0;  // the bytes in memory, from the start
  virtual uint64_t size() const = 0;                   // the whole file's
  // Brings more of the file into memory; false (with `why` unless nothing is left) when it cannot.
  virtual bool grow(std::string& why) = 0;
  virtual bool read(uint64_t offset, std::span<uint8_t> out, std::string& why) const = 0;
  virtual bool whole() const = 0;  // every byte is in memory
};

namespace {

class BufferStorage final : public File::Storage {
 public:
  explicit BufferStorage(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  std::span<const uint8_t> bytes() const override { return bytes_; }
  uint64_t size() const override { return bytes_.size(); }
  bool grow(std::string&) override { return false; }
  bool read(uint64_t offset, std::span<uint8_t> out, std::string&) const override {
    // Callers stay inside the file; a zero-byte tensor's buffer may be null, which memcpy may not see.
    if (!out.empty()) std::memcpy(out.data(), bytes_.data() + offset, out.size());
    return true;
  }
  bool whole() const override { return true; }

 private:
  std::vector<uint8_t> bytes_;
};

// The header of a GGUF file is read into memory with read(), growing until it parses; tensor data
// is read with pread() when asked for. Nothing is mapped, so a file that shrinks while it is read
// is a short read, reported, and never a SIGBUS.
class FileStorage final : public File::Storage {
 public:
  FileStorage(int fd, uint64_t size) : fd_(fd), size_(size) {}
  ~FileStorage() override { ::close(fd_); }
  std::span<const uint8_t> bytes() const override { return prefix_; }
  uint64_t size() const override { return size_; }
  bool grow(std::string& why) override {
    const uint64_t limit = std::min(size_, kMaxHeaderBytes);
    if (prefix_.size() >= limit) {
      if (size_ > limit)
        why = "its metadata and tensor infos take more than " + byte_count_text(static_cast<int64_t>(kMaxHeaderBytes)) +
              " (g4c's limit)";
      return false;
    }
    const uint64_t old = prefix_.size();
    prefix_.resize(std::min(limit, std::max<uint64_t>(old * 4, kFirstReadBytes)));
    if (read_exactly(fd_, old, std::span<uint8_t>(prefix_).subspan(old), why)) return true;
    prefix_.resize(old);
    return false;
  }
  bool read(uint64_t offset, std::span<uint8_t> out, std::string& why) const override {
    return read_exactly(fd_, offset, out, why);
  }
  bool whole() const override { return prefix_.size() == size_; }

 private:
  static constexpr uint64_t kFirstReadBytes = uint64_t{1} << 20;
  int fd_;
  uint64_t size_;
  std::vector<uint8_t> prefix_;
};

constexpr uint64_t kHeaderBytes = 24;
// The fewest bytes a metadata entry (empty key, type, one-byte value) and a tensor info (empty
// name, n_dims, type, offset) can take: counts are checked against these before any loop runs.
constexpr uint64_t kMinMetadataEntryBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;

// Bytes the smallest element of an array of `t` takes (a string's length, an array's header).
uint64_t min_element_bytes(ValueType t) {
  if (t == ValueType::string) return 8;
  if (t == ValueType::array) return 12;
  return scalar_size(t);
}

std::string dims_text(const std::vector<int64_t>& dims) {
  std::vector<std::string> parts;
  for (int64_t d : dims) parts.push_back(std::to_string(d));
  return std::string("[") + join(parts) + "]";
}

}  // namespace

// Walks the bytes once, front to back; the first problem ends the walk.
class FileParser {
 public:
  FileParser(File& file, DiagnosticEngine& diag)
      : file_(file),
        bytes_(file.storage_->bytes()),
        size_(file.storage_->size()),
        diag_(diag),
        loc_{std::make_shared<const std::string>(file.path()), 0, 0} {}

  bool parse() {
    return parse_header() && parse_metadata() && parse_alignment() && parse_tensor_infos() && place_tensors() &&
           check_overlaps();
  }

  // The parse stopped where the bytes in memory ended, inside the file: read more and parse again.
  bool needs_more() const { return needs_more_; }

 private:
  uint64_t remaining() const { return size_ - pos_; }
  std::string file_size() const { return std::string("(") + std::to_string(size_) + " bytes)"; }
  // Whether the `n` bytes at the cursor, which lie inside the file, are in memory.
  bool have(uint64_t n) {
    if (pos_ + n <= bytes_.size()) return true;
    needs_more_ = true;
    return false;
  }

  bool fail(const std::string& message) {
    diag_.error(loc_, "GGUF: " + message);
    return false;
  }
  // `where` at byte `at`: `what` runs past the end of the file.
  bool past_end(const std::string& where, uint64_t at, std::string_view what) {
    return fail(where + " at byte " + std::to_string(at) + ": " + std::string(what) +
                " runs past the end of the file " + file_size());
  }

  template <typename T>
  T take() {
    static_assert(std::endian::native == std::endian::little, "GGUF integers are read in place as little-endian");
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  template <typename T>
  std::optional<T> read(const std::string& where, std::string_view what) {
    if (remaining() < sizeof(T)) {
      past_end(where, pos_, what);
      return std::nullopt;
    }
    if (!have(sizeof(T))) return std::nullopt;
    return take<T>();
  }

  // `where` at byte `at`: `what` goes past `limit`, whose limit it is (the GGUF format's or g4c's).
  bool over_limit(const std::string& where, uint64_t at, const std::string& what, uint64_t limit,
                  std::string_view whose) {
    return fail(where + " at byte " + std::to_string(at) + ": " + what + " " + std::to_string(limit) + " (" +
                std::string(whose) + " limit)");
  }

  // A string of at most `max_length` bytes (`whose` limit that is), checked before the file's
  // size. Messages are built only on failure: tokenizer arrays hold hundreds of thousands of
  // strings.
  std::optional<std::string> read_string(const std::string& where, std::string_view what, uint64_t max_length,
                                         std::string_view whose) {
    uint64_t at = pos_;
    if (remaining() < 8) {
      past_end(where, at, std::string(what) + " length");
      return std::nullopt;
    }
    if (!have(8)) return std::nullopt;
    uint64_t length = take<uint64_t>();
    if (length > max_length) {
      over_limit(where, at, std::string(what) + " of " + std::to_string(length) + " bytes is longer than", max_length,
                 whose);
      return std::nullopt;
    }
    if (length > remaining()) {
      past_end(where, at, std::string(what) + " of " + std::to_string(length) + " bytes");
      return std::nullopt;
    }
    if (!have(length)) return std::nullopt;
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
    pos_ += length;
    return s;
  }

  bool parse_header() {
    if (size_ >= kHeaderBytes && !have(kHeaderBytes)) return false;
    if (bytes_.size() >= 4) {
      uint32_t magic;
      std::memcpy(&magic, bytes_.data(), 4);
      if (magic != kMagic) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%08X", magic);
        return fail(std::string("bad magic ") + hex + " (expected \"GGUF\")");
      }
    }
    if (size_ < kHeaderBytes)
      return fail("truncated header: the file has " + std::to_string(size_) + " bytes, the header needs " +
                  std::to_string(kHeaderBytes));
    pos_ = 4;
    uint32_t version = take<uint32_t>();
    if (version != 2 && version != 3) {
      std::string hint;
      uint32_t swapped = __builtin_bswap32(version);
      if (swapped == 2 || swapped == 3) hint = "; this is a big-endian file, which g4c does not read";
      return fail("unsupported version " + std::to_string(version) + " (expected 2 or 3" + hint + ")");
    }
    file_.version_ = version;
    tensor_count_ = take<uint64_t>();
    metadata_count_ = take<uint64_t>();
    // Limits first: they hold whatever the file's size.
    if (tensor_count_ > kMaxTensors)
      return over_limit("header", 8, "tensor count " + std::to_string(tensor_count_) + " is more than", kMaxTensors,
                        "g4c's");
    if (metadata_count_ > kMaxMetadataEntries)
      return over_limit("header", 16, "metadata count " + std::to_string(metadata_count_) + " is more than",
                        kMaxMetadataEntries, "g4c's");
    if (metadata_count_ > remaining() / kMinMetadataEntryBytes)
      return fail("header: metadata count " + std::to_string(metadata_count_) + " runs past the end of the file " +
                  file_size() + "; an entry takes at least " + std::to_string(kMinMetadataEntryBytes) + " bytes");
    if (tensor_count_ > remaining() / kMinTensorInfoBytes)
      return fail("header: tensor count " + std::to_string(tensor_count_) + " runs past the end of the file " +
                  file_size() + "; a tensor info takes at least " + std::to_string(kMinTensorInfoBytes) + " bytes");
    return true;
  }

  std::optional<Value> read_scalar(ValueType t, const std::string& where) {
    uint32_t size = scalar_size(t);
    if (remaining() < size) {
      past_end(where, pos_, value_type_name(t) + " value");
      return std::nullopt;
    }
    if (!have(size)) return std::nullopt;
    Value v;
    v.type = t;
    std::memcpy(&v.bits, bytes_.data() + pos_, size);  // zero-extended: bits started at 0
    pos_ += size;
    return v;
  }

  std::optional<Value> read_array(const std::string& where, int depth) {
    uint64_t at = pos_;
    auto element_id = read<uint32_t>(where, "array element type");
    if (!element_id) return std::nullopt;
    if (!is_valid_value_type(*element_id)) {
      fail(where + " at byte " + std::to_string(at) + ": unknown array element type " + std::to_string(*element_id) +
           " (expected 0..12)");
      return std::nullopt;
    }
    auto element = static_cast<ValueType>(*element_id);
    auto count = read<uint64_t>(where, "array length");
    if (!count) return std::nullopt;
    if (*count > remaining() / min_element_bytes(element)) {
      past_end(where, at, "array of " + std::to_string(*count) + " " + value_type_name(element) + " elements");
      return std::nullopt;
    }
    // This array is nesting level depth + 1; arrays inside it would be level depth + 2.
    if (element == ValueType::array && depth + 2 > kMaxArrayDepth) {
      fail(where + " at byte " + std::to_string(at) + ": arrays nested more than " + std::to_string(kMaxArrayDepth) +
           " deep (g4c's limit)");
      return std::nullopt;
    }
    values_ += *count;
    if (values_ > kMaxMetadataValues) {
      fail(where + " at byte " + std::to_string(at) + ": array of " + std::to_string(*count) +
           " elements takes the metadata past " + std::to_string(kMaxMetadataValues) + " values (g4c's limit)");
      return std::nullopt;
    }
    std::vector<Value> items;
    items.reserve(*count);  // bounded: count × smallest element ≤ the bytes that remain
    for (uint64_t i = 0; i < *count; ++i) {
      auto item = read_value(element, where, depth + 1);
      if (!item) return std::nullopt;
      items.push_back(std::move(*item));
    }
    return Value::make_array(element, std::move(items));
  }

  std::optional<Value> read_value(ValueType t, const std::string& where, int depth) {
    if (t == ValueType::string) {
      auto s = read_string(where, "string", kMaxStringBytes, "g4c's");
      if (!s) return std::nullopt;
      return Value::make_string(std::move(*s));
    }
    if (t == ValueType::array) return read_array(where, depth);
    return read_scalar(t, where);
  }

  bool parse_metadata() {
    for (uint64_t i = 0; i < metadata_count_; ++i) {
      uint64_t entry_at = pos_;
      auto key = read_string("metadata entry " + std::to_string(i), "key", kMaxKeyBytes, "the GGUF format's");
      if (!key) return false;
      if (key->empty()) return fail("metadata entry " + std::to_string(i) + " at byte " + std::to_string(entry_at) + ": the key is empty");
      std::string where = "metadata key " + quote(*key);
      if (file_.metadata_index_.count(*key))
        return fail(where + " at byte " + std::to_string(entry_at) + ": the key appears twice");
      uint64_t type_at = pos_;
      auto type_id = read<uint32_t>(where, "value type");
      if (!type_id) return false;
      if (!is_valid_value_type(*type_id))
        return fail(where + " at byte " + std::to_string(type_at) + ": unknown value type " + std::to_string(*type_id) +
                    " (expected 0..12)");
      auto value = read_value(static_cast<ValueType>(*type_id), where, 0);
      if (!value) return false;
      file_.metadata_index_.emplace(*key, file_.metadata_.size());
      file_.metadata_.emplace_back(std::move(*key), std::move(*value));
    }
    return true;
  }

  bool parse_alignment() {
    const Value* v = file_.find("general.alignment");
    if (!v) return true;
    if (v->type != ValueType::u32)
      return fail("metadata key \"general.alignment\": type " + value_type_name(v->type) + " (expected u32)");
    if (v->bits == 0 || !std::has_single_bit(v->bits))
      return fail("metadata key \"general.alignment\": " + std::to_string(v->bits) +
                  " is not a power of two (expected 1, 2, 4, ... such as 32)");
    file_.alignment_ = v->bits;
    return true;
  }

  bool parse_tensor_info(uint64_t index) {
    TensorInfo t;
    uint64_t entry_at = pos_;
    auto name = read_string("tensor " + std::to_string(index), "name", kMaxTensorNameBytes, "the GGUF format's");
    if (!name) return false;
    if (name->empty()) return fail("tensor " + std::to_string(index) + " at byte " + std::to_string(entry_at) + ": the name is empty");
    t.name = std::move(*name);
    std::string where = "tensor " + quote(t.name);
    if (file_.tensor_index_.count(t.name))
      return fail(where + " at byte " + std::to_string(entry_at) + ": the name appears twice");
    uint64_t dims_at = pos_;
    auto n_dims = read<uint32_t>(where, "dimension count");
    if (!n_dims) return false;
    if (*n_dims > kMaxDims)
      return fail(where + " at byte " + std::to_string(dims_at) + ": " + std::to_string(*n_dims) +
                  " dimensions (expected at most " + std::to_string(kMaxDims) + ")");
    for (uint32_t d = 0; d < *n_dims; ++d) {
      auto ne = read<uint64_t>(where, "dimension " + std::to_string(d));
      if (!ne) return false;
      if (*ne > static_cast<uint64_t>(INT64_MAX))
        return fail(where + ": dimension " + std::to_string(d) + " is " + std::to_string(*ne) +
                    " (expected less than 2^63)");
      t.dims.push_back(static_cast<int64_t>(*ne));
    }
    auto type = read<uint32_t>(where, "ggml type");
    auto offset = type ? read<uint64_t>(where, "data offset") : std::nullopt;
    if (!offset) return false;
    t.ggml_type = *type;
    t.offset = *offset;
    file_.tensor_index_.emplace(t.name, file_.tensors_.size());
    file_.tensors_.push_back(std::move(t));
    return true;
  }

  bool parse_tensor_infos() {
    for (uint64_t i = 0; i < tensor_count_; ++i)
      if (!parse_tensor_info(i)) return false;
    // pos_ ≤ size and the alignment ≤ 2^32, so this cannot overflow.
    file_.data_offset_ = (pos_ + file_.alignment_ - 1) / file_.alignment_ * file_.alignment_;
    return true;
  }

  bool place_tensor(TensorInfo& t) {
    std::string where = "tensor " + quote(t.name);
    auto type = ggml_type_info(t.ggml_type);
    if (!type) return fail(where + ": unknown ggml type " + std::to_string(t.ggml_type));
    if (t.ne(0) % type->block_elems != 0)
      return fail(where + ": rows of " + std::to_string(t.ne(0)) + " elements are not a whole number of " + type->name +
                  " blocks (" + std::to_string(type->block_elems) + " elements each)");
    auto bytes = ggml_tensor_bytes(t.ggml_type, t.dims);
    if (!bytes)
      return fail(where + ": " + dims_text(t.dims) + " " + type->name +
                  " is too large (its bytes or elements reach 2^63)");
    t.bytes = *bytes;
    if (t.offset % file_.alignment_ != 0)
      return fail(where + ": offset " + std::to_string(t.offset) + " is not a multiple of the alignment (" +
                  std::to_string(file_.alignment_) + ")");
    uint64_t begin = 0, end = 0;
    if (__builtin_add_overflow(file_.data_offset_, t.offset, &begin) || __builtin_add_overflow(begin, t.bytes, &end))
      return fail(where + ": offset " + std::to_string(t.offset) + " runs past the end of the file " + file_size());
    if (end > size_)
      return fail(where + ": data [" + std::to_string(begin) + ", " + std::to_string(end) +
                  ") runs past the end of the file " + file_size());
    if (file_.storage_->whole()) t.data = bytes_.data() + begin;
    return true;
  }

  // Each byte of the data section belongs to one tensor at most: writers lay tensors one after
  // another, and two names over the same bytes are a corrupt or crafted file.
  bool check_overlaps() {
    std::vector<const TensorInfo*> by_offset;
    for (const TensorInfo& t : file_.tensors_)
      if (t.bytes > 0) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
      return a->offset < b->offset;
    });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      const TensorInfo& a = *by_offset[i - 1];
      const TensorInfo& b = *by_offset[i];
      if (a.offset + a.bytes <= b.offset) continue;
      return fail("tensor " + quote(b.name) + ": data at offset " + std::to_string(b.offset) + " overlaps tensor " +
                  quote(a.name) + " (offsets " + std::to_string(a.offset) + " to " + std::to_string(a.offset + a.bytes) +
                  ")");
    }
    return true;
  }

  bool place_tensors() {
    for (TensorInfo& t : file_.tensors_)
      if (!place_tensor(t)) return false;
    return true;
  }

  File& file_;
  std::span<const uint8_t> bytes_;  // what is in memory
  uint64_t size_;                   // the whole file
  bool needs_more_ = false;
  DiagnosticEngine& diag_;
  SourceLoc loc_;
  uint64_t pos_ = 0;
  uint64_t tensor_count_ = 0;
  uint64_t metadata_count_ = 0;
  uint64_t values_ = 0;  // metadata array elements read so far
};

int64_t TensorInfo::elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

std::string TensorInfo::shape() const { return dims_text(dims); }

File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;
File::~File() = default;

uint64_t File::size() const { return storage_ ? storage_->size() : 0; }
std::span<const uint8_t> File::bytes() const { return storage_ ? storage_->bytes() : std::span<const uint8_t>{}; }

const Value* File::find(std::string_view key) const {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::optional<std::vector<uint8_t>> File::read_tensor(const TensorInfo& t, DiagnosticEngine& diag) const {
  std::vector<uint8_t> out(static_cast<size_t>(t.bytes));
  std::string why;
  if (storage_->read(data_offset_ + t.offset, out, why)) return out;
  diag.error(SourceLoc{std::make_shared<const std::string>(path_), 0, 0},
             "GGUF: tensor " + quote(t.name) + ": cannot read its data: " + why);
  return std::nullopt;
}

// Parses the bytes in memory; when they end inside the header, reads more of the file and parses
// again, so only the header of a large file is read.
std::optional<File> File::parse(std::unique_ptr<Storage> storage, std::string path, DiagnosticEngine& diag) {
  while (true) {
    File file;
    file.storage_ = std::move(storage);
    file.path_ = path;
    DiagnosticEngine attempt;
    FileParser parser(file, attempt);
    const bool ok = parser.parse();
    if (parser.needs_more()) {
      std::string why;
      storage = std::move(file.storage_);
      if (storage->grow(why)) continue;
      diag.error(SourceLoc{std::make_shared<const std::string>(path), 0, 0}, "GGUF: cannot read the file: " + why);
      return std::nullopt;
    }
    for (const Diagnostic& d : attempt.diagnostics()) diag.report(d.severity, d.loc, d.message);
    if (!ok) return std::nullopt;
    return file;
  }
}

std::optional<File> File::from_bytes(std::vector<uint8_t> bytes, std::string name, DiagnosticEngine& diag) {
  return parse(std::make_unique<BufferStorage>(std::move(bytes)), std::move(name), diag);
}

std::optional<File> File::open(const std::string& path, DiagnosticEngine& diag) {
  uint64_t size = 0;
  std::string why;
  int fd = open_regular_file(path, size, why);
  if (fd < 0) {
    diag.error(SourceLoc{std::make_shared<const std::string>(path), 0, 0}, "GGUF: cannot read the file: " + why);
    return std::nullopt;
  }
  auto storage = std::make_unique<FileStorage>(fd, size);
  if (!storage->grow(why) && size > 0) {
    diag.error(SourceLoc{std::make_shared<const std::string>(path), 0, 0}, "GGUF: cannot read the file: " + why);
    return std::nullopt;
  }
  return parse(std::move(storage), path, diag);
}

}  // namespace g4c::gguf
