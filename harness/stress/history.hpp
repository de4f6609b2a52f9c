// SPDX-License-Identifier: Apache-2.0
/// @file
/// Recorded histories: operations with invoke and response times, a recorder per thread, the
/// per-thread table a failure prints, and `record()`, which runs a workload on real threads in
/// rounds separated by quiescent points.
///
/// Times come from one global ticket counter (`Clock`), taken just before an operation is
/// invoked and just after it responds. Its seq_cst increment is a full fence on x86, so when
/// A's response ticket is below B's invoke ticket, A's effects were visible before B started:
/// real-time order in the history never claims more than really happened.
#pragma once

#include "harness/stress/engine.hpp"
#include "harness/stress/result.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace cpb::stress {

/// One completed operation. `kind`, `arg`, `arg2`, `ok` and `value` mean what the spec says
/// (specs.hpp): e.g. for a queue, kind kPush with arg = the value and ok = accepted; kind kPop
/// with ok = got one and value = what it got.
struct Op {
  std::uint32_t thread = 0;
  std::uint32_t kind = 0;
  std::int64_t arg = 0;
  std::int64_t arg2 = 0;
  bool ok = true;
  std::int64_t value = 0;
  std::uint64_t invoke = 0;    ///< ticket taken before the call
  std::uint64_t response = 0;  ///< ticket taken after it returned; > invoke
};

using History = std::vector<Op>;

/// What an operation returned: whether it succeeded, and the value it produced.
struct Ret {
  bool ok = true;
  std::int64_t value = 0;
  static Ret of(std::int64_t v) { return {true, v}; }
  static Ret yes() { return {true, 0}; }
  static Ret no() { return {false, 0}; }
  static Ret flag(bool b) { return {b, 0}; }
};

/// The global ticket counter that timestamps invokes and responses.
class Clock {
 public:
  /// seq_cst on purpose: a full fence, so the operation's effects are visible before its
  /// response ticket, and its invoke ticket is taken before any of its effects.
  std::uint64_t tick() { return now_.fetch_add(1); }

 private:
  alignas(64) std::atomic<std::uint64_t> now_{1};
};

/// Records one thread's operations.
class Recorder {
 public:
  Recorder(Clock& clock, std::uint32_t thread, std::vector<Op>& out)
      : clock_(&clock), thread_(thread), out_(&out) {}

  /// Invokes `f` (returning Ret) as operation `kind(arg, arg2)` and records it.
  template <class F>
  Ret call(std::uint32_t kind, std::int64_t arg, std::int64_t arg2, F&& f) {
    Op op;
    op.thread = thread_;
    op.kind = kind;
    op.arg = arg;
    op.arg2 = arg2;
    op.invoke = clock_->tick();
    const Ret r = std::forward<F>(f)();
    op.response = clock_->tick();
    op.ok = r.ok;
    op.value = r.value;
    out_->push_back(op);
    return r;
  }
  template <class F>
  Ret call(std::uint32_t kind, std::int64_t arg, F&& f) {
    return call(kind, arg, 0, std::forward<F>(f));
  }

  /// Records a lock hold for check_mutual_exclusion: takes `lock`, ticks once it is held,
  /// runs `critical_section`, ticks again, releases. The hold is Op{kind 0, invoke = the first
  /// tick, response = the second}.
  template <class L, class F>
  void hold(L& lock, F&& critical_section) {
    lock.lock();
    record_hold(lock, std::forward<F>(critical_section));
  }

  /// Records a successful try_lock the same way; returns whether the lock was taken.
  template <class L, class F>
  bool try_hold(L& lock, F&& critical_section) {
    if (!lock.try_lock()) return false;
    record_hold(lock, std::forward<F>(critical_section));
    return true;
  }

  [[nodiscard]] std::uint32_t thread() const { return thread_; }
  [[nodiscard]] Clock& clock() { return *clock_; }

 private:
  /// With `lock` held: ticks, runs the section, ticks, releases, and records the hold.
  template <class L, class F>
  void record_hold(L& lock, F&& critical_section) {
    Op op;
    op.thread = thread_;
    op.invoke = clock_->tick();
    std::forward<F>(critical_section)();
    op.response = clock_->tick();
    lock.unlock();
    out_->push_back(op);
  }

  Clock* clock_;
  std::uint32_t thread_;
  std::vector<Op>* out_;
};

/// How to print one operation: "push(3) -> ok".
using Describe = std::function<std::string(const Op&)>;

/// The history as a table: one column per thread, one row per operation in invoke order, each
/// cell `op(arg) -> result [invoke,response]`. `highlight` ops get a `*` prefix.
std::string format_history(std::span<const Op> ops, const Describe& describe,
                           std::span<const std::size_t> highlight = {});

/// How `record()` runs a workload.
struct RecordOptions {
  std::size_t threads = 4;
  std::size_t operations = 100'000;  ///< total over all threads, rounded up to whole rounds
  std::size_t ops_per_round = 8;     ///< per thread between two quiescent points
  std::uint64_t seed = 0;            ///< 0: resolve_seed()
  std::chrono::milliseconds time_cap{std::chrono::milliseconds(60'000)};  ///< stop early
  std::chrono::milliseconds grace{std::chrono::milliseconds(5'000)};      ///< watchdog slack
  bool pin = true;
};

/// A recorded run.
struct Recording {
  History history;
  std::uint64_t seed = 0;
  std::uint64_t rounds = 0;
  double elapsed_ms = 0;
  EngineReport engine;  ///< !engine.ok(): a thread threw or hung; the history is empty then
};

/// The body of a workload: performs ONE operation of thread `thread` through `rec`, choosing it
/// with `rng` (seeded per thread from the run's seed, so a seed replays each thread's sequence
/// of operations).
using Body = std::function<void(std::size_t thread, Rng& rng, Recorder& rec)>;

/// Runs `body` on `threads` real threads (pinned round robin), `ops_per_round` calls per
/// thread per round; every round ends at a barrier, a quiescent point where every operation of
/// the round has responded before any of the next is invoked. The checker cuts the history
/// there. Stops after `operations` operations, or at `time_cap`. If a thread hangs, its thread
/// is detached: whatever `body` captures must then outlive it (capture shared_ptrs).
Recording record(const RecordOptions& options, Body body);

}  // namespace cpb::stress
