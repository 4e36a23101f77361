// Reading a GGUF file (v2 or v3, little-endian): header, metadata and tensor infos into memory;
// tensor data read on demand (read_tensor), never mapped, so a file that changes under the reader
// gives an error, not a signal.
//
// Input is untrusted. Every length, count and offset is checked against the bytes that remain
// before it is used, sizes are computed without overflow, and every tensor's data must lie inside
// the file; the first problem is reported as `path: error: GGUF: <what>` and nothing is returned.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "g4c/gguf/ggml_types.h"
#include "g4c/gguf/value.h"
#include "g4c/support/diagnostics.h"

namespace g4c::gguf {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr uint64_t kDefaultAlignment = 32;
inline constexpr uint32_t kMaxDims = 4;
// Limits that keep a hostile file from making the reader allocate far more than its own size:
// values in all metadata arrays together, and how deeply arrays may nest.
inline constexpr uint64_t kMaxMetadataValues = uint64_t{1} << 22;
inline constexpr int kMaxArrayDepth = 8;
// Limits on lengths and counts, checked before anything is allocated for them. Keys and tensor
// names: the GGUF specification's own limits (ggml cannot load longer names). String values:
// 256 MiB holds the longest real one, a whole tokenizer.json (about 33 MB for Gemma's 262144
// tokens) stored as tokenizer.huggingface.json, eight times over. Tensors: a g4c model has at
// most 1024 layers of about 20 tensors. Metadata entries: real files carry a few dozen.
inline constexpr uint64_t kMaxKeyBytes = 65535;
inline constexpr uint64_t kMaxTensorNameBytes = 64;
inline constexpr uint64_t kMaxStringBytes = uint64_t{1} << 28;
inline constexpr uint64_t kMaxTensors = uint64_t{1} << 16;
inline constexpr uint64_t kMaxMetadataEntries = uint64_t{1} << 16;
// The most bytes the header (metadata and tensor infos) may take: a real one with its tokenizer
// takes tens of megabytes.
inline constexpr uint64_t kMaxHeaderBytes = uint64_t{1} << 29;

struct TensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // ne0 (the row length) first
  uint32_t ggml_type = 0;
  uint64_t offset = 0;  // relative to the data section
  uint64_t bytes = 0;
  // The data in memory, for files parsed from bytes (File::from_bytes); null for files read from
  // disk, whose tensors File::read_tensor reads. Not aligned beyond what the file promises.
  const uint8_t* data = nullptr;

  int64_t elements() const;
  int64_t ne(size_t i) const { return i < dims.size() ? dims[i] : 1; }
  std::span<const uint8_t> span() const { return {data, static_cast<size_t>(bytes)}; }
  std::string shape() const;  // "[3840, 8192]"
};

class File {
 public:
  // Reads and parses the header of the regular file `path`; tensor data stays on disk.
  static std::optional<File> open(const std::string& path, DiagnosticEngine& diag);
  // Parses bytes in memory; `name` names them in diagnostics.
  static std::optional<File> from_bytes(std::vector<uint8_t> bytes, std::string name, DiagnosticEngine& diag);

  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  uint32_t version() const { return version_; }
  const std::string& path() const { return path_; }

  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const Value* find(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;

  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // where the data section starts
  uint64_t size() const;                                 // bytes in the file
  std::span<const uint8_t> bytes() const;  // the bytes in memory: all for from_bytes, the header for open

  // A tensor's bytes, copied into (suitably aligned) memory of their own; a read that fails or
  // comes up short (the file shrank) is reported and gives nullopt.
  std::optional<std::vector<uint8_t>> read_tensor(const TensorInfo& t, DiagnosticEngine& diag) const;

  class Storage;  // the open file or the buffer the bytes come from

 private:
  File() = default;
  static std::optional<File> parse(std::unique_ptr<Storage> storage, std::string path, DiagnosticEngine& diag);
  friend class FileParser;

  std::unique_ptr<Storage> storage_;  // heap-held, so TensorInfo::data survives moves of File
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> metadata_index_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace g4c::gguf
