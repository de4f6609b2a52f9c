// SPDX-License-Identifier: Apache-2.0
/// @file
/// What a benchmark case costs, beside how fast it is: CPU time (user and system), context
/// switches (voluntary: futex sleeps; involuntary: preemption), peak resident memory, threads,
/// and allocations through operator new. The kernel keeps most of it (getrusage,
/// /proc/self/status); allocations are counted by the replaced operator new that the cpbench
/// executable links (harness/cli/counting_new.cpp), and are absent where it is not linked
/// (unit tests) or is left out (sanitizer builds, whose runtimes own operator new).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <sys/types.h>

namespace cpb::bench {

/// Operations and bytes allocated through operator new, summed over all threads so far.
struct AllocCounts {
  std::uint64_t allocs = 0;
  std::uint64_t bytes = 0;
};
using AllocReader = AllocCounts (*)();
/// Installed once by the executable that replaces operator new.
void set_alloc_reader(AllocReader reader);

/// A snapshot of the process's counters, taken at the start and at the end of a trial.
struct CostSnapshot {
  std::uint64_t wall_ns = 0;  ///< steady clock
  std::uint64_t user_ns = 0;
  std::uint64_t sys_ns = 0;
  std::uint64_t voluntary_csw = 0;
  std::uint64_t involuntary_csw = 0;
  std::optional<AllocCounts> allocs;  ///< empty when no counting allocator is linked
  static CostSnapshot now();
};

/// Resets the process's peak RSS (/proc/self/clear_refs) and returns the RSS now, in KiB.
std::int64_t reset_peak_rss_kb();
/// A field of /proc/<pid>/status in KiB or as a count ("VmHWM", "Threads"); -1 if unreadable.
std::int64_t proc_status(pid_t pid, const char* field);

/// The flat cost fields of a result entry (reports/SCHEMA.md): what happened between `begin`
/// and `end`, per item of the trial (`items`), and CPU time over the wall time between them.
nlohmann::json cost_fields(const CostSnapshot& begin, const CostSnapshot& end, std::uint64_t items);

}  // namespace cpb::bench
