// SPDX-License-Identifier: Apache-2.0
#include "harness/bench/calibration.hpp"

#include "harness/bench/meter.hpp"
#include "harness/bench/pinning.hpp"
#include "harness/core/sync.hpp"
#include "workloads/workload.hpp"

#include <algorithm>
#include <atomic>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace cpb::bench {
namespace {

template <class F>
double median_of(int rounds, F&& f) {
  std::vector<double> v;
  for (int i = 0; i < rounds; ++i) v.push_back(f());
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class F>
double ns_per_call(std::uint64_t n, F&& f) {
  const auto t0 = now_ns();
  for (std::uint64_t i = 0; i < n; ++i) f();
  return static_cast<double>(now_ns() - t0) / static_cast<double>(n);
}

/// Round trip of a cache line between two pinned threads; one round = n round trips.
double atomic_rtt(std::uint64_t n) {
  alignas(128) std::atomic<std::uint64_t> flag{0};
  std::thread peer([&] {
    pin_current_thread(1);
    for (std::uint64_t i = 1; i <= n; ++i) {
      // Acquire pairs with the main thread's release of the odd value; the release below pairs
      // with its acquire of the even one.
      sync::Backoff<> backoff;
      while (flag.load(std::memory_order_acquire) != 2 * i - 1) backoff();
      flag.store(2 * i, std::memory_order_release);
    }
  });
  pin_current_thread(0);
  const auto t0 = now_ns();
  for (std::uint64_t i = 1; i <= n; ++i) {
    flag.store(2 * i - 1, std::memory_order_release);  // pairs with the peer's acquire
    sync::Backoff<> backoff;
    while (flag.load(std::memory_order_acquire) != 2 * i) backoff();  // the peer's release
  }
  const auto ns = static_cast<double>(now_ns() - t0);
  peer.join();
  return ns / static_cast<double>(n);
}

long futex(std::atomic<std::uint32_t>* addr, int op, std::uint32_t val) {
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), op, val, nullptr, nullptr, 0);
}

/// One-way wake-up latency: the peer blocks in futex_wait, the main thread stores and wakes, the
/// peer answers the same way. Half the round trip.
double futex_handoff(int n) {
  alignas(128) std::atomic<std::uint32_t> turn{0};
  std::thread peer([&] {
    pin_current_thread(1);
    for (std::uint32_t i = 1; i <= static_cast<std::uint32_t>(n); ++i) {
      // Acquire pairs with the main thread's release store of 2i-1.
      while (turn.load(std::memory_order_acquire) != 2 * i - 1)
        futex(&turn, FUTEX_WAIT_PRIVATE, 2 * i - 2);
      turn.store(2 * i, std::memory_order_release);  // pairs with the main thread's acquire
      futex(&turn, FUTEX_WAKE_PRIVATE, 1);
    }
  });
  pin_current_thread(0);
  const auto t0 = now_ns();
  for (std::uint32_t i = 1; i <= static_cast<std::uint32_t>(n); ++i) {
    turn.store(2 * i - 1, std::memory_order_release);  // pairs with the peer's acquire
    futex(&turn, FUTEX_WAKE_PRIVATE, 1);
    // Acquire pairs with the peer's release store of 2i.
    while (turn.load(std::memory_order_acquire) != 2 * i)
      futex(&turn, FUTEX_WAIT_PRIVATE, 2 * i - 1);
  }
  const auto ns = static_cast<double>(now_ns() - t0);
  peer.join();
  return ns / (2.0 * n);
}

}  // namespace

nlohmann::json calibrate(bool quick) {
  const int rounds = quick ? 3 : 5;
  const std::uint64_t scale = quick ? 1 : 4;
  std::atomic<std::uint64_t> counter{0};
  nlohmann::json j;
  // The two-thread probes need two CPUs; on one they would measure the scheduler instead.
  const bool two_cpus = allowed_cpus().size() >= 2;
  j["atomic_rtt_ns"] =
      two_cpus ? nlohmann::json(median_of(rounds, [&] { return atomic_rtt(20'000 * scale); }))
               : nlohmann::json(nullptr);
  j["fetch_add_ns"] = median_of(rounds, [&] {
    return ns_per_call(1'000'000 * scale,
                       [&] { counter.fetch_add(1, std::memory_order_relaxed); });  // no edge
  });
  j["syscall_ns"] =
      median_of(rounds, [&] { return ns_per_call(20'000 * scale, [] { syscall(SYS_getppid); }); });
  j["futex_handoff_ns"] =
      two_cpus ? nlohmann::json(median_of(
                     rounds, [&] { return futex_handoff(1'000 * static_cast<int>(scale)); }))
               : nlohmann::json(nullptr);
  j["timer_ns"] = median_of(rounds, [&] {
    return ns_per_call(200'000 * scale, [] { benchmark::DoNotOptimize(now_ns()); });
  });
  j["spin_rate_per_ns"] = workloads::spin_rate();
  j["cpus"] = allowed_cpus();
  j["pinned"] = pin_current_thread(0) >= 0;
  // Leave the calling thread free to run anywhere again.
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : allowed_cpus()) CPU_SET(c, &set);
  sched_setaffinity(0, sizeof(set), &set);
  return j;
}

}  // namespace cpb::bench
