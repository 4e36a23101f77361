#include "g4c/runtime/npy.h"

#include <cstring>
#include <sstream>

#include "g4c/support/checked_math.h"
#include "g4c/support/file_io.h"
#include "g4c/support/text.h"

namespace g4c {

namespace {

std::string header_text(std::span<const int64_t> shape) {
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 1);  // "(3,)" for one dim, "(3, 4)" otherwise
  std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  size_t total = 10 + h.size() + 1;  // magic, version, length, text, newline
  h.append((64 - total % 64) % 64, ' ');
  return h + "\n";
}

}  // namespace

bool write_npy(const std::string& path, std::span<const int64_t> shape, std::span<const float> data,
               DiagnosticEngine& diag) {
  std::string header = header_text(shape);
  std::string why;
  auto out = OutputFile::open(path, why);
  if (out) {
    out->write("\x93NUMPY\x01\x00", 8);
    uint16_t len = static_cast<uint16_t>(header.size());
    out->write(&len, 2);
    out->write(header);
    out->write(data.data(), data.size_bytes());
    if (out->commit(why)) return true;
  }
  diag.error({}, "cannot write " + quote(path) + ": " + why);
  return false;
}

bool read_npy(const std::string& path, std::vector<int64_t>& shape, std::vector<float>& data, DiagnosticEngine& diag) {
  auto fail = [&](const std::string& why) {
    diag.error(SourceLoc{std::make_shared<const std::string>(path), 0, 0}, "not a float32 .npy file: " + why);
    return false;
  };
  std::string why;
  std::optional<std::string> all = read_file(path, why, uint64_t{1} << 32);
  if (!all) return fail("cannot read it: " + why);
  const std::string& bytes = *all;
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) return fail("bad magic");
  uint16_t len;
  std::memcpy(&len, bytes.data() + 8, 2);
  if (bytes.size() < 10u + len) return fail("truncated header");
  std::string header = bytes.substr(10, len);
  if (header.find("'<f4'") == std::string::npos || header.find("False") == std::string::npos)
    return fail("expected little-endian float32 in C order");
  size_t open = header.find('('), close = header.find(')');
  if (open == std::string::npos || close == std::string::npos) return fail("no shape");
  shape.clear();
  std::stringstream dims(header.substr(open + 1, close - open - 1));
  std::string item;
  int64_t count = 1;
  while (std::getline(dims, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    auto d = parse_int(item.substr(item.find_first_not_of(' ')));
    if (!d || *d < 0) return fail("bad shape");
    shape.push_back(*d);
    auto product = checked_mul(count, *d);
    if (!product || *product > (int64_t{1} << 40)) return fail("the shape holds too many elements");
    count = *product;
  }
  size_t payload = bytes.size() - 10 - len;
  if (payload != static_cast<size_t>(count) * 4) return fail("data size does not match the shape");
  data.resize(static_cast<size_t>(count));
  std::memcpy(data.data(), bytes.data() + 10 + len, payload);
  return true;
}

}  // namespace g4c
