// SPDX-License-Identifier: Apache-2.0
#include "harness/bench/cost.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

namespace cpb::bench {
namespace {

std::atomic<AllocReader> g_reader{nullptr};

std::uint64_t ns(const timeval& t) {
  return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(t.tv_usec) * 1000ULL;
}

}  // namespace

void set_alloc_reader(AllocReader reader) { g_reader.store(reader); }

CostSnapshot CostSnapshot::now() {
  CostSnapshot s;
  s.wall_ns = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             std::chrono::steady_clock::now().time_since_epoch())
                                             .count());
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) == 0) {
    s.user_ns = ns(u.ru_utime);
    s.sys_ns = ns(u.ru_stime);
    s.voluntary_csw = static_cast<std::uint64_t>(u.ru_nvcsw);
    s.involuntary_csw = static_cast<std::uint64_t>(u.ru_nivcsw);
  }
  if (const AllocReader r = g_reader.load()) s.allocs = r();
  return s;
}

std::int64_t reset_peak_rss_kb() {
  if (FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
    std::fputs("5", f);  // 5: reset the peak RSS to the current RSS (Linux 4.0)
    std::fclose(f);
  }
  return proc_status(getpid(), "VmRSS");
}

std::int64_t proc_status(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  const std::size_t len = std::strlen(field);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > len && line.compare(0, len, field) == 0 && line[len] == ':') {
      return std::stoll(line.substr(len + 1));
    }
  }
  return -1;
}

nlohmann::json cost_fields(const CostSnapshot& begin, const CostSnapshot& end,
                           std::uint64_t items) {
  const double wall_s = static_cast<double>(end.wall_ns - begin.wall_ns) * 1e-9;
  const auto per_item = [&](std::uint64_t a, std::uint64_t b) {
    return items > 0 && b >= a ? static_cast<double>(b - a) / static_cast<double>(items) : 0.0;
  };
  const std::uint64_t cpu_ns = (end.user_ns - begin.user_ns) + (end.sys_ns - begin.sys_ns);
  nlohmann::json j = {
      {"cpu_user_ns_per_item", per_item(begin.user_ns, end.user_ns)},
      {"cpu_sys_ns_per_item", per_item(begin.sys_ns, end.sys_ns)},
      {"cpu_utilization", wall_s > 0 ? static_cast<double>(cpu_ns) * 1e-9 / wall_s : 0.0},
      {"voluntary_csw_per_item", per_item(begin.voluntary_csw, end.voluntary_csw)},
      {"involuntary_csw_per_item", per_item(begin.involuntary_csw, end.involuntary_csw)}};
  if (begin.allocs && end.allocs) {
    j["allocs_per_item"] = per_item(begin.allocs->allocs, end.allocs->allocs);
    j["alloc_bytes_per_item"] = per_item(begin.allocs->bytes, end.allocs->bytes);
  }
  return j;
}

}  // namespace cpb::bench
