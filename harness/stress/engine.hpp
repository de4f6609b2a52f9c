// SPDX-License-Identifier: Apache-2.0
/// @file
/// The stride engine: N actor threads that run in lock-step over strides and synchronise only at
/// stride boundaries, with a seeded per-stride schedule, a time budget and a watchdog.
///
/// It knows nothing of states, outcomes or histories: the outcome runner (outcome.hpp) and the
/// history recorder (history.hpp) give it two hooks, one run by each actor over a stride and
/// one run at every stride boundary by the last actor to arrive, while the others wait.
///
/// Bad input is reported, never hung on: an actor that throws stops the run with its index,
/// name and stride; an actor that has not returned `grace` after `max_time` is reported as hung
/// with its stride, and its thread is detached (the hooks live in shared state it keeps alive).
#pragma once

#include "harness/core/sync.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace cpb::stress {

/// A cheap tick counter that agrees across CPUs: the TSC on x86 (constant and synchronised on
/// every CPU with `constant_tsc`/`nonstop_tsc`), the virtual counter on AArch64, else
/// steady_clock nanoseconds. Used to line actors up on a common timebase.
inline std::uint64_t ticks() {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#elif defined(__aarch64__)
  std::uint64_t v = 0;
  asm volatile("mrs %0, cntvct_el0" : "=r"(v));
  return v;
#else
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch() /
                                    std::chrono::nanoseconds(1));
#endif
}

/// A barrier for a fixed set of spinning threads: spins with `pause`, then yields (the machine
/// is usually oversubscribed). The last thread to arrive runs a completion step while the others
/// wait, then releases them. Waiters give up (return false) when `abort` becomes true.
class SpinBarrier {
 public:
  /// `spins`: how many pause-spins a waiter makes before it starts yielding. Spin long when
  /// every thread has a CPU of its own (waking from a yield is slow and skews the next start);
  /// briefly when threads outnumber CPUs (the spinner holds the CPU the last thread needs).
  explicit SpinBarrier(std::size_t n, std::uint32_t spins = 2048) : n_(n), spins_(spins) {}

  template <class F>
  bool arrive_and_wait(F&& completion, const std::atomic<bool>& abort) {
    // Acquire pairs with the release increment below: we see the generation we belong to.
    const std::uint64_t gen = generation_.load(std::memory_order_acquire);
    // acq_rel: the last arriver acquires every earlier arriver's writes (their stride's work),
    // and each arrival releases its own.
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) {
      completion();
      // Relaxed: published by the release increment of generation_ just after it.
      arrived_.store(0, std::memory_order_relaxed);
      // Release pairs with the waiters' acquire loads: the completion's writes are seen.
      generation_.fetch_add(1, std::memory_order_release);
      return true;
    }
    // Spin a while (a stride is short; waking from a yield is slow and skews the next start),
    // then yield on every check so the threads still working get the CPU.
    std::uint32_t spins = 0;
    // Acquire pairs with the release increment by the last arriver.
    while (generation_.load(std::memory_order_acquire) == gen) {
      // Relaxed: abort is a hint to stop waiting; nothing is read through it.
      if (abort.load(std::memory_order_relaxed)) return false;
      if (spins < spins_) {
        ++spins;
        sync::Real::pause();
      } else {
        sync::Real::yield();
      }
    }
    return true;
  }

 private:
  const std::size_t n_;
  const std::uint32_t spins_;
  alignas(64) std::atomic<std::size_t> arrived_{0};
  alignas(64) std::atomic<std::uint64_t> generation_{0};
};

/// How the engine runs.
struct EngineOptions {
  std::vector<std::string> actor_names;   ///< one per actor thread; its size is the actor count
  std::uint64_t seed = 1;                 ///< drives the per-stride schedule (stride_delays)
  std::chrono::milliseconds min_time{0};  ///< run at least this long, then stop once satisfied
  std::chrono::milliseconds max_time{std::chrono::milliseconds(200)};  ///< stop here regardless
  std::uint64_t max_strides = 0;  ///< stop after this many strides; 0: no limit
  std::chrono::milliseconds grace{std::chrono::milliseconds(2000)};  ///< hang = max_time + grace
  bool pin = true;     ///< pin actor i to allowed CPU i (round robin)
  bool jitter = true;  ///< seeded start delays per stride (see stride_delays)
};

/// The work, type-erased. Both hooks may throw; the engine reports it.
struct EngineHooks {
  /// Runs actor `actor` over stride `stride`, on the actor's own thread.
  std::function<void(std::size_t actor, std::uint64_t stride)> run_actor;
  /// Runs once per finished stride on the last thread to arrive, while every actor waits:
  /// collect the stride's results and reset for the next. Returns true when the run's goal is
  /// met (the engine stops once min_time has passed and this returned true).
  std::function<bool(std::uint64_t stride)> end_stride;
  /// Optional: runs on the last thread to arrive just before the actors are released into
  /// stride `stride` (also before the first): set up per-stride schedule data.
  std::function<void(std::uint64_t stride)> begin_stride;
};

/// What happened. `problem` is kNone for a run that ended by its budget or stride count.
struct EngineReport {
  enum class Problem { kNone, kThrew, kHung };
  static constexpr std::size_t kBoundary = std::numeric_limits<std::size_t>::max();

  Problem problem = Problem::kNone;
  std::size_t actor = kBoundary;  ///< the actor that threw or hung; kBoundary: end_stride did
  std::string actor_name;         ///< its name, or "end-of-stride (arbiter)"
  std::uint64_t stride = 0;       ///< the stride it was in
  std::string message;            ///< the exception's what(), or a hang description
  std::uint64_t strides = 0;      ///< strides completed (collected by end_stride)
  double elapsed_ms = 0;
  std::vector<int> cpus;  ///< the CPU each actor was pinned to (-1: not pinned)

  [[nodiscard]] bool ok() const { return problem == Problem::kNone; }
  /// "actor 1 (reader) threw in stride 17: boom" and the like; empty when ok().
  [[nodiscard]] std::string describe() const;
};

/// The start delay, in spin-pause units, of each of `actors` actors in stride `stride`: a pure
/// function of (seed, stride), so the same seed replays the same schedule. Most strides start
/// every actor at once (collisions need that); some hold one actor back a little, so actors
/// also meet at other relative offsets.
std::vector<std::uint32_t> stride_delays(std::uint64_t seed, std::uint64_t stride,
                                         std::size_t actors);

/// Runs the actors until the budget or the stride count is reached, or something goes wrong.
/// Blocks the calling thread, which acts as the watchdog. Never hangs longer than
/// max_time + grace (+ a short wait for the healthy actors to leave).
EngineReport run_strides(const EngineOptions& options, std::shared_ptr<EngineHooks> hooks);

}  // namespace cpb::stress
