// Reading inputs and writing outputs so that no file-system trick crashes, hangs or destroys data
// (the guarantees are listed in docs/errors.md, "Files"):
// - An input must be a regular file, or `-` for standard input. Its type is checked before it is
//   opened and again on the open descriptor, so a directory, FIFO, socket or device is refused
//   without blocking and without opening it; what is read is capped.
// - An output is written to a temporary file beside its target and renamed over it only when the
//   whole output is written, so a failure leaves the target as it was. A character device or a FIFO
//   with a reader (/dev/null, /dev/stdout, a pipe) is written in place; a directory, block device,
//   socket, FIFO without a reader or dangling symbolic link is refused. A symbolic link keeps
//   pointing where it did: the file it names is replaced.
// - No call throws: file-system failures (loops of symbolic links, over-long names, permissions)
//   come back as a reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace g4c {

// The most bytes read from a text input (a declaration, plan or tuning file): real ones are under
// a megabyte.
inline constexpr uint64_t kMaxTextFileBytes = uint64_t{64} << 20;

// Opens `path` read-only if it is a regular file; returns the descriptor (close it) and its size,
// or -1 with `why`: "no such file", "it is a directory", "it is a FIFO (named pipe), not a regular
// file", "it is a character device, not a regular file", "permission denied", ...
int open_regular_file(const std::string& path, uint64_t& size, std::string& why);

// A whole text file's bytes, at most `max_bytes`; `-` reads standard input (capped alike).
std::optional<std::string> read_file(const std::string& path, std::string& why,
                                     uint64_t max_bytes = kMaxTextFileBytes);

// Reads exactly bytes.size() bytes at `offset`; a short read (a file that shrank while it was
// read) is a failure with `why` saying so.
bool read_exactly(int fd, uint64_t offset, std::span<uint8_t> bytes, std::string& why);

// Whether two paths name one existing file (the same device and inode, through any links).
bool same_file(const std::string& a, const std::string& b);

// The first of `inputs` that writing `output` would overwrite; `-` and paths that do not exist
// never match.
std::optional<std::string> output_overwrites_input(const std::string& output, const std::vector<std::string>& inputs);

// The error of a command whose output `option` (`-o`, `--dump-logits`) names one of its inputs:
// `-o "m.plan" is the input "m.plan"; g4c never writes over an input`; empty when it names none.
std::string output_input_conflict(std::string_view option, const std::string& output,
                                  const std::vector<std::string>& inputs);

// An output being written (see the top of this file). Destroyed without commit(), it leaves the
// target untouched and removes its temporary file.
class OutputFile {
 public:
  static std::optional<OutputFile> open(const std::string& path, std::string& why);
  OutputFile(OutputFile&& other) noexcept;
  OutputFile& operator=(OutputFile&&) = delete;
  OutputFile(const OutputFile&) = delete;
  ~OutputFile();

  // Appends bytes; after a failure every later write is skipped and commit() reports it.
  void write(const void* data, size_t size);
  void write(std::string_view text) { write(text.data(), text.size()); }
  // Finishes the output: closes it and renames the temporary file over the target.
  bool commit(std::string& why);

 private:
  OutputFile() = default;
  int fd_ = -1;
  std::string target_;  // the file the output replaces (a symbolic link's target)
  std::string temp_;    // empty when writing in place
  int error_ = 0;       // errno of the first failed write
};

// Writes `bytes` as the whole of `path` through an OutputFile.
bool write_output_file(const std::string& path, std::string_view bytes, std::string& why);

// The reason an errno gives, in the words of the messages above ("no such file", "permission
// denied", "too many levels of symbolic links", ...).
std::string errno_reason(int err);

}  // namespace g4c
