// Writing a GGUF v3 file: metadata in insertion order, tensor infos, and the data section with
// every tensor aligned to `general.alignment` (32 when the key is not set).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "g4c/gguf/value.h"
#include "g4c/support/diagnostics.h"

namespace g4c::gguf {

class Writer {
 public:
  // Adds a metadata entry, or replaces the value of an existing key where it stands.
  void set(std::string key, Value value);
  const Value* find(std::string_view key) const;
  // Removes a metadata entry; false when there was none.
  bool erase(std::string_view key);

  // Adds a tensor whose data the writer owns.
  void add_tensor(std::string name, std::vector<int64_t> dims, uint32_t ggml_type, std::vector<uint8_t> data);
  // Adds a tensor without copying its data: `data` must outlive write() and to_bytes().
  void add_tensor(std::string name, std::vector<int64_t> dims, uint32_t ggml_type, std::span<const uint8_t> data);

  // The alignment general.alignment asks for (32 when unset; 0 when it is not a u32).
  uint64_t alignment() const;

  // Reports the first entry a reader would reject: a malformed value, an alignment that is not a
  // power of two, a duplicate tensor name, more than 4 dimensions, an unknown ggml type, or data
  // whose size does not match the tensor's type and shape. `path` names the output in messages.
  bool check(const std::string& path, DiagnosticEngine& diag) const;

  // check(), then writes `path` through a temporary file renamed into place.
  bool write(const std::string& path, DiagnosticEngine& diag) const;

  // The file's bytes, written as given without check() (tests build malformed files this way;
  // an unusable alignment falls back to 32).
  std::vector<uint8_t> to_bytes() const;

 private:
  struct PendingTensor {
    std::string name;
    std::vector<int64_t> dims;
    uint32_t ggml_type = 0;
    std::vector<uint8_t> owned;
    std::span<const uint8_t> borrowed;  // the caller's bytes, when `owned` is not used
    bool is_borrowed = false;

    std::span<const uint8_t> data() const { return is_borrowed ? borrowed : std::span<const uint8_t>(owned); }
  };

  uint64_t usable_alignment() const;
  // Header, metadata and tensor infos, padded to where the data section starts.
  std::vector<uint8_t> head() const;

  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace g4c::gguf
