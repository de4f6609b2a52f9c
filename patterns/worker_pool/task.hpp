// SPDX-License-Identifier: Apache-2.0
/// @file
/// What a worker pool is given and what it hands back. A task is data, not a closure: a CPU cost
/// in nanoseconds (run as `workloads::spin_ns`), an id and a priority, so the same task can be
/// written down a socket to a worker process as well as handed to a thread. A worker answers
/// each task with a `Done` record: the id, a checksum computed from the id and the cost (which
/// proves the worker read the task it was given), the dispatch sequence number and the worker
/// that ran it. The caller verifies from the records that every task ran exactly once.
#pragma once

#include <cstdint>
#include <string_view>

namespace cpb::patterns::worker_pool {

enum class Priority : std::uint8_t { kLow = 0, kHigh = 1 };

/// How a dispatcher chooses the worker for a task.
enum class Dispatch : std::uint8_t {
  kRoundRobin,   ///< task i goes to worker i mod n, into that worker's FIFO queue
  kLeastLoaded,  ///< to the worker with the fewest outstanding (queued + running) tasks
  kPriority,     ///< one shared queue per priority; a free worker takes the oldest high task
};

struct Task {
  std::int64_t cost_ns = 0;  ///< busy work, run as `workloads::spin_ns(cost_ns)`
  std::uint64_t id = 0;      ///< unique per pool lifetime (the caller's choice)
  Priority priority = Priority::kLow;
};

/// What a worker reports for one task.
struct Done {
  std::uint64_t id = 0;
  std::uint64_t checksum = 0;   ///< `task_checksum(id, cost_ns)`; 0 when the worker failed
  std::uint64_t seq = 0;        ///< dispatch order: the n-th task handed to any worker has n
  std::uint64_t submit_ns = 0;  ///< `bench::now_ns()` when `submit` queued it
  std::uint64_t end_ns = 0;     ///< when its completion was recorded
  std::uint32_t worker = 0;     ///< the worker (thread, process or strand) that ran it
  Priority priority = Priority::kLow;
};

/// The checksum a worker returns for a task: a mix of its id and its cost, never 0 (so 0 can
/// mark a failed task). Pure arithmetic, safe in a forked child.
constexpr std::uint64_t task_checksum(std::uint64_t id, std::int64_t cost_ns) {
  std::uint64_t z = id * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(cost_ns);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return (z ^ (z >> 31)) | 1U;
}

/// The dispatch policies as types, so an implementation is `ThreadWorkers<LeastLoaded>` and
/// each (policy x worker kind) combination is a registered implementation of its own.
struct RoundRobin {
  static constexpr Dispatch kDispatch = Dispatch::kRoundRobin;
  static constexpr std::string_view kThreads = "threads_round_robin";
  static constexpr std::string_view kProcesses = "processes_round_robin";
  static constexpr std::string_view kAsio = "asio_round_robin";
};
struct LeastLoaded {
  static constexpr Dispatch kDispatch = Dispatch::kLeastLoaded;
  static constexpr std::string_view kThreads = "threads_least_loaded";
  static constexpr std::string_view kProcesses = "processes_least_loaded";
  static constexpr std::string_view kAsio = "asio_least_loaded";
};
struct PriorityFirst {
  static constexpr Dispatch kDispatch = Dispatch::kPriority;
  static constexpr std::string_view kThreads = "threads_priority";
  static constexpr std::string_view kProcesses = "processes_priority";
};

}  // namespace cpb::patterns::worker_pool
