// SPDX-License-Identifier: Apache-2.0
/// @file
/// The calibration probe run with every suite (performance-anchors §8.3): what this machine's
/// primitives cost right now, stored beside the results so that ratios can be read against them.
#pragma once

#include <nlohmann/json.hpp>

namespace cpb::bench {

/// Measures, each as the median of several rounds:
///   atomic_rtt_ns         core-to-core round trip of one cache line (two pinned threads)
///   fetch_add_ns          uncontended `lock xadd`
///   syscall_ns            a raw system call (getppid)
///   futex_handoff_ns      one-way wake-up of a thread blocked in the kernel, across CPUs
///   timer_ns              one steady_clock::now(), the cost inside every latency sample
///   spin_rate_per_ns      iterations of the cpu.spin workload per ns
/// `quick` uses fewer rounds. Threads are joined before it returns.
nlohmann::json calibrate(bool quick);

}  // namespace cpb::bench
