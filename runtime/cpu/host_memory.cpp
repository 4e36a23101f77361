#include "g4c/runtime/host_memory.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <limits>

#include "g4c/support/checked_math.h"
#include "g4c/support/text.h"

namespace g4c {

namespace {

constexpr int64_t kUnknown = std::numeric_limits<int64_t>::max();

// Bytes of address space the process maps now (the first field of /proc/self/statm, in pages).
int64_t mapped_bytes(int64_t page) {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  long long pages = 0;
  if (f) {
    if (std::fscanf(f, "%lld", &pages) != 1) pages = 0;
    std::fclose(f);
  }
  return pages * page;
}

}  // namespace

HostMemory host_memory() {
  HostMemory m{kUnknown, kUnknown};
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) m.physical = int64_t{pages} * page;
  struct rlimit limit {};
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    const int64_t cap = limit.rlim_cur > static_cast<rlim_t>(kUnknown) ? kUnknown : static_cast<int64_t>(limit.rlim_cur);
    m.address_space_left = std::max<int64_t>(0, cap - mapped_bytes(page > 0 ? page : 4096));
  }
  return m;
}

bool check_host_memory(const std::string& purpose, std::initializer_list<MemoryNeed> parts, const HostMemory& memory,
                       DiagnosticEngine& diag) {
  std::optional<int64_t> need = 0;
  std::string breakdown;
  for (const MemoryNeed& p : parts) {
    if (p.bytes == 0) continue;
    need = need ? checked_add(*need, p.bytes) : std::nullopt;
    breakdown += (breakdown.empty() ? "" : ", ") + p.what + " " + byte_count_text(p.bytes);
  }
  const bool by_address_space = memory.address_space_left < memory.physical;
  const int64_t have = by_address_space ? memory.address_space_left : memory.physical;
  if (need && *need <= have) return true;
  const std::string where = by_address_space ? "the process's address-space limit (ulimit -v) leaves " : "this machine has ";
  diag.error({}, purpose + ": " + byte_count_text(need) + " of memory needed (" + breakdown + "); " + where +
                     byte_count_text(have));
  return false;
}

}  // namespace g4c
