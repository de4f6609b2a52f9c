// SPDX-License-Identifier: Apache-2.0
/// @file
/// Thread pinning: benchmark thread i runs on the i-th CPU this process may use (round robin when
/// threads outnumber CPUs). Google Benchmark never pins; we do by default and record where.
#pragma once

#include <vector>

namespace cpb::bench {

/// The CPUs this process may run on (its affinity mask), in order.
const std::vector<int>& allowed_cpus();

/// Pins the calling thread to allowed_cpus()[index % size]. Returns the CPU, or -1 when the
/// machine refuses (then the thread stays unpinned).
int pin_current_thread(int index);

/// The CPU the calling thread is on right now.
int current_cpu();

}  // namespace cpb::bench
