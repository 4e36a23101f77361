#include "g4c/support/file_io.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "g4c/support/text.h"

namespace g4c {

std::string errno_reason(int err) {
  switch (err) {
    case ENOENT: return "no such file";
    case EACCES:
    case EPERM: return "permission denied";
    case ELOOP: return "too many levels of symbolic links";
    case ENAMETOOLONG: return "file name too long";
    case ENOTDIR: return "a component of the path is not a directory";
    case EISDIR: return "it is a directory";
    case ENOSPC: return "no space left on the device";
    case EROFS: return "read-only file system";
    default: break;
  }
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

namespace {

// Why a file of this type is not read or written as a file.
std::string not_regular_reason(mode_t mode) {
  if (S_ISDIR(mode)) return "it is a directory";
  if (S_ISFIFO(mode)) return "it is a FIFO (named pipe), not a regular file";
  if (S_ISCHR(mode)) return "it is a character device, not a regular file";
  if (S_ISBLK(mode)) return "it is a block device, not a regular file";
  if (S_ISSOCK(mode)) return "it is a socket, not a regular file";
  return "it is not a regular file";
}

std::optional<std::string> read_descriptor(int fd, const std::string& what, std::string& why, uint64_t max_bytes) {
  std::string out;
  char buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = errno_reason(errno);
      return std::nullopt;
    }
    if (n == 0) return out;
    if (out.size() + static_cast<uint64_t>(n) > max_bytes) {
      why = what + " is longer than " + byte_count_text(static_cast<int64_t>(max_bytes)) + ", the most g4c reads from a text file";
      return std::nullopt;
    }
    out.append(buffer, static_cast<size_t>(n));
  }
}

mode_t process_umask() {
  mode_t mask = ::umask(022);
  ::umask(mask);
  return mask;
}

bool write_all(int fd, const char* data, size_t size, int& error) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : EIO;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

int open_regular_file(const std::string& path, uint64_t& size, std::string& why) {
  if (path.empty()) {
    why = "the file name is empty";
    return -1;
  }
  struct stat before {};
  if (::stat(path.c_str(), &before) != 0) {
    why = errno_reason(errno);
    return -1;
  }
  if (!S_ISREG(before.st_mode)) {
    why = not_regular_reason(before.st_mode);
    return -1;
  }
  // Non-blocking, and checked again on the descriptor: the path may have been swapped for a FIFO
  // or device between the two calls.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    why = errno_reason(errno);
    return -1;
  }
  struct stat after {};
  if (::fstat(fd, &after) != 0 || !S_ISREG(after.st_mode) || after.st_ino != before.st_ino ||
      after.st_dev != before.st_dev) {
    why = S_ISREG(after.st_mode) ? "the file changed while it was opened" : not_regular_reason(after.st_mode);
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  size = static_cast<uint64_t>(after.st_size);
  return fd;
}

std::optional<std::string> read_file(const std::string& path, std::string& why, uint64_t max_bytes) {
  if (path == "-") return read_descriptor(STDIN_FILENO, "standard input", why, max_bytes);
  uint64_t size = 0;
  int fd = open_regular_file(path, size, why);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> text;
  if (size > max_bytes)
    why = "it is " + byte_count_text(static_cast<int64_t>(size)) + ", more than " +
          byte_count_text(static_cast<int64_t>(max_bytes)) + ", the most g4c reads from a text file";
  else
    text = read_descriptor(fd, "it", why, max_bytes);
  ::close(fd);
  return text;
}

bool read_exactly(int fd, uint64_t offset, std::span<uint8_t> bytes, std::string& why) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = errno_reason(errno);
      return false;
    }
    if (n == 0) {
      why = "the file ends at byte " + std::to_string(offset + done) + ", before byte " +
            std::to_string(offset + bytes.size()) + " (it shrank while it was read)";
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat x {}, y {};
  if (a.empty() || b.empty() || ::stat(a.c_str(), &x) != 0 || ::stat(b.c_str(), &y) != 0) return false;
  return x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

std::optional<std::string> output_overwrites_input(const std::string& output, const std::vector<std::string>& inputs) {
  if (output == "-") return std::nullopt;
  for (const std::string& input : inputs)
    if (input != "-" && same_file(output, input)) return input;
  return std::nullopt;
}

std::string output_input_conflict(std::string_view option, const std::string& output,
                                  const std::vector<std::string>& inputs) {
  auto input = output_overwrites_input(output, inputs);
  if (!input) return {};
  std::string same = *input == output ? "" : " (the same file)";
  return std::string(option) + " " + quote(output) + " is the input " + quote(*input) + same +
         "; g4c never writes over an input";
}

// ---- outputs ----

std::optional<OutputFile> OutputFile::open(const std::string& path, std::string& why) {
  if (path.empty()) {
    why = "the file name is empty";
    return std::nullopt;
  }
  OutputFile out;
  out.target_ = path;
  mode_t mode = 0666 & ~process_umask();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
      // Written in place, never replaced. A FIFO nobody reads would block forever: refused.
      out.fd_ = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
      if (out.fd_ < 0) {
        why = errno == ENXIO ? "it is a FIFO (named pipe) that nobody reads" : errno_reason(errno);
        return std::nullopt;
      }
      ::fcntl(out.fd_, F_SETFL, ::fcntl(out.fd_, F_GETFL) & ~O_NONBLOCK);
      return out;
    }
    if (!S_ISREG(st.st_mode)) {
      why = not_regular_reason(st.st_mode);
      return std::nullopt;
    }
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved)) {
      why = errno_reason(errno);
      return std::nullopt;
    }
    out.target_ = resolved;
    mode = st.st_mode & 07777;
  } else if (errno != ENOENT) {
    why = errno_reason(errno);
    return std::nullopt;
  } else {
    struct stat link {};
    if (::lstat(path.c_str(), &link) == 0) {  // the path exists, but what it names does not
      why = "it is a symbolic link to a file that does not exist";
      return std::nullopt;
    }
  }
  const std::string dir = directory_of(out.target_);
  std::string temp = dir + "/.g4c-tmp-XXXXXX";
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  out.fd_ = ::mkostemp(name.data(), O_CLOEXEC);
  if (out.fd_ < 0) {
    why = errno == ENOENT ? "no such directory " + quote(dir) : "cannot create a file in " + quote(dir) + ": " + errno_reason(errno);
    return std::nullopt;
  }
  out.temp_ = name.data();
  ::fchmod(out.fd_, mode);
  return out;
}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : fd_(other.fd_), target_(std::move(other.target_)), temp_(std::move(other.temp_)), error_(other.error_) {
  other.fd_ = -1;
  other.temp_.clear();
}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

void OutputFile::write(const void* data, size_t size) {
  if (error_ == 0 && fd_ >= 0) write_all(fd_, static_cast<const char*>(data), size, error_);
}

bool OutputFile::commit(std::string& why) {
  if (fd_ < 0) {
    why = "the output is already closed";
    return false;
  }
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0 && error_ == 0) error_ = errno;
  if (error_ == 0 && !temp_.empty() && ::rename(temp_.c_str(), target_.c_str()) != 0) error_ = errno;
  if (error_ != 0) {
    why = errno_reason(error_);
    return false;  // the destructor removes the temporary file
  }
  temp_.clear();
  return true;
}

bool write_output_file(const std::string& path, std::string_view bytes, std::string& why) {
  auto out = OutputFile::open(path, why);
  if (!out) return false;
  out->write(bytes);
  return out->commit(why);
}

}  // namespace g4c
