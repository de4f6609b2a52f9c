// SPDX-License-Identifier: Apache-2.0
/// @file
/// Shared vocabulary of the model checker: limits, vector clocks, operations, failures, the
/// configuration, and the per-object state that the Checked types carry.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <functional>
#include <memory>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

namespace cpb::check {

/// Most logical threads in one execution, the main thread included.
inline constexpr unsigned kMaxThreads = 128;
/// Choice index `kFlushBase + t`: flush the oldest store of thread t's store buffer (TSO tier).
inline constexpr unsigned kFlushBase = kMaxThreads;
/// Choice indices: threads, then flushes.
inline constexpr unsigned kChoices = 2 * kMaxThreads;

/// A set of choice indices (threads 0..kMaxThreads-1, flushes kFlushBase + t).
class ChoiceSet {
 public:
  constexpr ChoiceSet() = default;
  static constexpr ChoiceSet of(unsigned i) {
    ChoiceSet s;
    s.set(i);
    return s;
  }
  /// Every flush choice.
  static constexpr ChoiceSet flushes() {
    ChoiceSet s;
    for (unsigned w = kFlushBase / 64; w < kWords; ++w) s.w_[w] = ~std::uint64_t{0};
    return s;
  }

  [[nodiscard]] constexpr bool test(unsigned i) const { return (w_[i / 64] >> (i % 64) & 1U) != 0; }
  constexpr void set(unsigned i) { w_[i / 64] |= std::uint64_t{1} << (i % 64); }
  constexpr void reset(unsigned i) { w_[i / 64] &= ~(std::uint64_t{1} << (i % 64)); }
  [[nodiscard]] constexpr bool empty() const {
    return std::all_of(w_.begin(), w_.end(), [](std::uint64_t w) { return w == 0; });
  }
  [[nodiscard]] constexpr bool any() const { return !empty(); }
  [[nodiscard]] constexpr unsigned count() const {
    unsigned n = 0;  // sets are sparse: clearing bits beats a popcount call (no -mpopcnt)
    for (std::uint64_t w : w_) {
      for (; w != 0; w &= w - 1) ++n;
    }
    return n;
  }
  /// More than one index (cheaper than count() > 1: no population count).
  [[nodiscard]] constexpr bool several() const {
    bool one = false;
    for (const std::uint64_t w : w_) {
      if (w == 0) continue;
      if (one || (w & (w - 1)) != 0) return true;
      one = true;
    }
    return false;
  }
  /// The lowest index in the set, or -1.
  [[nodiscard]] constexpr int first() const {
    for (unsigned w = 0; w < kWords; ++w) {
      if (w_[w] != 0)
        return static_cast<int>(w * 64 + static_cast<unsigned>(std::countr_zero(w_[w])));
    }
    return -1;
  }
  /// The n-th lowest index in the set (n < count()).
  [[nodiscard]] constexpr unsigned nth(unsigned n) const {
    for (unsigned w = 0; w < kWords; ++w) {
      for (std::uint64_t m = w_[w]; m != 0; m &= m - 1, --n) {
        if (n == 0) return w * 64 + static_cast<unsigned>(std::countr_zero(m));
      }
    }
    return kChoices;
  }
  /// The set holding only its lowest index (empty when empty).
  [[nodiscard]] constexpr ChoiceSet lowest() const {
    const int f = first();
    return f < 0 ? ChoiceSet{} : of(static_cast<unsigned>(f));
  }

  constexpr ChoiceSet& operator&=(const ChoiceSet& o) {
    for (unsigned w = 0; w < kWords; ++w) w_[w] &= o.w_[w];
    return *this;
  }
  constexpr ChoiceSet& operator|=(const ChoiceSet& o) {
    for (unsigned w = 0; w < kWords; ++w) w_[w] |= o.w_[w];
    return *this;
  }
  /// Set difference.
  constexpr ChoiceSet& operator-=(const ChoiceSet& o) {
    for (unsigned w = 0; w < kWords; ++w) w_[w] &= ~o.w_[w];
    return *this;
  }
  friend constexpr ChoiceSet operator&(ChoiceSet a, const ChoiceSet& b) { return a &= b; }
  friend constexpr ChoiceSet operator|(ChoiceSet a, const ChoiceSet& b) { return a |= b; }
  friend constexpr ChoiceSet operator-(ChoiceSet a, const ChoiceSet& b) { return a -= b; }
  friend constexpr bool operator==(const ChoiceSet&, const ChoiceSet&) = default;

  /// Calls `f(i)` for each index, lowest first.
  template <class F>
  constexpr void for_each(F&& f) const {
    for (unsigned w = 0; w < kWords; ++w) {
      for (std::uint64_t m = w_[w]; m != 0; m &= m - 1) {
        f(w * 64 + static_cast<unsigned>(std::countr_zero(m)));
      }
    }
  }

 private:
  static constexpr unsigned kWords = kChoices / 64;
  std::array<std::uint64_t, kWords> w_{};
};

/// What went wrong in a failing execution.
enum class FailureKind : std::uint8_t {
  kNone,
  kDataRace,        ///< conflicting `cell` accesses not ordered by happens-before
  kDeadlock,        ///< every unfinished thread is blocked
  kLivelock,        ///< the execution ran past the step limit
  kAssertion,       ///< `require` / `CPB_CHECK_ASSERT` failed
  kException,       ///< an exception escaped a logical thread
  kMisuse,          ///< API misuse: unlocking a mutex one does not hold, too many threads ...
  kNondeterminism,  ///< the same schedule did not reproduce the same execution
  kUseAfterFree,    ///< an access to a block of the checker heap after it was freed
  kDoubleFree,      ///< freeing a block twice, or a pointer the checker heap did not allocate
  kLeak,            ///< a block of the checker heap still allocated when the execution ended
  kUninstrumented,  ///< a checked operation from a thread the checker does not run
};
[[nodiscard]] std::string_view to_string(FailureKind k);
[[nodiscard]] std::string_view to_string(std::memory_order mo);

/// The search strategy.
enum class Strategy : std::uint8_t { kRandom, kPct, kDfs };
[[nodiscard]] std::string_view to_string(Strategy s);

/// The memory model. `kSc`: interleavings of sequentially consistent accesses. `kTso`: x86-TSO,
/// every thread has a FIFO store buffer; non-seq_cst stores wait there until a flush, which is a
/// schedulable action, so a later load of another location may overtake them (store->load
/// reordering). `kC11`: the C++ memory model (RC11 without load buffering): every location keeps
/// its modification order, bounded to `Config::c11_history` stores, and a load may read any of
/// them it is allowed to see (a choice of the search); see README "The C11 tier".
enum class Tier : std::uint8_t { kSc, kTso, kC11 };
[[nodiscard]] std::string_view to_string(Tier t);

/// One execution that ran to its end (a failure ends it too; executions the reduction abandons
/// as redundant are not reported), as `Config::on_execution` sees it.
struct ExecutionInfo {
  std::uint64_t index = 0;                ///< position in the search
  FailureKind kind = FailureKind::kNone;  ///< kNone: it passed; else its first failure
  /// Every failure kind it met (bit `1 << kind`): without stop_on_failure an execution runs
  /// on past data races and memory errors, so it may meet several.
  std::uint32_t failures = 0;
  unsigned preemptions = 0;  ///< times another thread was chosen while the running one could go on
  int bound = -1;  ///< DFS: the preemption bound being explored (-1: unbounded or not DFS)
  /// A sleep set ended it early, after it met a failure: its failures are real, but it did not
  /// run to its end, so it was not checked for leaks.
  bool truncated = false;
};

/// Operations, as scheduled and traced.
enum class OpKind : std::uint8_t {
  kNone,
  kStart,
  kLoad,
  kStore,
  kExchange,
  kRmw,
  kCas,
  kFence,
  kWait,
  kWaitBlocked,
  kNotify,
  kLock,
  kTryLock,
  kUnlock,
  kLockShared,
  kTryLockShared,
  kUnlockShared,
  kCvWait,
  kCvReacquire,
  kCvNotify,
  kSpawn,
  kJoin,
  kYield,
  kPause,
  kCellRead,
  kCellWrite,
  kFinish,
  kFlush,  ///< TSO: a store leaves a store buffer for memory
  kAlloc,
  kFree,
};
[[nodiscard]] std::string_view to_string(OpKind k);

/// An atomic operation or fence of the code under test, named by where it is written, with the
/// order written there: what the memory-order audit (audit.hpp) weakens, one at a time.
struct OrderSite {
  std::string file;  ///< as the compiler named it (std::source_location)
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  OpKind op = OpKind::kNone;  ///< kLoad, kStore, kExchange, kRmw, kCas, kFence or kWait
  std::memory_order order = std::memory_order_seq_cst;  ///< a CAS: its success order

  friend auto operator<=>(const OrderSite&, const OrderSite&) = default;
};

/// Config::weaken: the operation written at `file:line:column` runs with `order` instead of its
/// own (a fence weakened to relaxed is no fence). `file` matches the site's file name or a
/// trailing part of it after a '/'.
struct Weakening {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::memory_order order = std::memory_order_relaxed;

  [[nodiscard]] bool matches(const std::source_location& loc) const;
};

/// How an exploration runs. Budgets: whichever of `max_executions` and `max_seconds` runs out
/// first ends the search (0 = no limit on that one; DFS also ends when the tree is exhausted).
struct Config {
  Strategy strategy = Strategy::kRandom;
  Tier tier = Tier::kSc;
  /// C11 tier: stores kept per location, newest last; a load may read only these (the oldest
  /// kept stands in for every older one).
  unsigned c11_history = 4;
  std::uint64_t seed = 0x9e3779b97f4a7c15ULL;
  std::uint64_t max_executions = 10'000;
  double max_seconds = 10.0;
  /// PCT bug depth d: d - 1 priority change points per execution. 0 (the default): the depth
  /// rotates, 1, 2, ..., pct_max_depth, one execution each, so that a budget covers shallow
  /// bugs often and deep ones too, without knowing the depth of the bug beforehand.
  unsigned pct_depth = 0;
  unsigned pct_max_depth = 5;
  /// DFS: the largest preemption bound; the search runs bound 0, 1, ... up to it
  /// (`iterative`), or only this bound. Negative: unbounded.
  int preemption_bound = 2;
  bool iterative = true;
  /// DFS: sleep-set partial-order reduction.
  bool sleep_sets = true;
  /// DFS: dynamic partial-order reduction (in TSO, flushes are events of a process per buffer):
  /// another thread is tried at a point only where reversing a race of two later operations asks
  /// for it. Without a bound it is complete with sleep sets; under a bound, sleep sets may prune a
  /// schedule within the bound (turn them off for a bound-exact search).
  bool dpor = true;
  /// Steps (scheduling points) in one execution before it is reported as a livelock.
  std::uint64_t max_steps = 20'000;
  /// A thread that yields or pauses gives way to every other runnable thread (CHESS fairness),
  /// so spin loops that wait for another thread terminate. Off: a spinning thread may be
  /// scheduled alone forever, which checks lock-freedom: code in which one thread cannot
  /// finish without another thread's steps runs into the step limit (a livelock report).
  bool fair = true;
  /// Spin-loop parking: a thread that yields or pauses after an iteration that only loaded
  /// atomics, and saw the same values as in its previous iteration, is parked until another
  /// thread writes one of them, so other threads run instead of more spinning. When only
  /// parked spinners could run, they spin on (a loop bounded by its own counter ends); 64 such
  /// rounds in a row with no thread doing more than load and spin are reported as a livelock,
  /// with the locations spun on, long before `max_steps`. Parking needs `fair` (unfair runs
  /// check that a thread running alone finishes).
  bool park_spins = true;
  /// Spurious condition-variable wake-ups and compare_exchange_weak failures may be chosen,
  /// at most this many per execution (0 = never).
  unsigned max_spurious = 2;
  /// Random strategy: probability that a spurious wake-up / weak CAS failure is chosen.
  double spurious_probability = 0.125;
  /// Make `cell` accesses scheduling points too (more interleavings; races are found without).
  bool preempt_cells = false;
  /// Checker heap: `create` reuses the oldest freed block of the same size at once, as a free
  /// list may, which provokes ABA. Off: freed blocks stay quarantined, so every later
  /// access to one is reported as a use after free.
  bool reuse_freed = false;
  /// Checker heap: a block still allocated when an execution ends is a failure.
  bool detect_leaks = true;
  /// Stop at the first failing execution and report it (with its replay string and trace). Off:
  /// the search runs on to the end of its budget or tree; `Result::failure` still holds the
  /// first failure (never replayed), and `on_execution` sees every execution. Each execution
  /// then also runs on past data races, uses after free and double frees (it records them),
  /// so that it ends as it would have without them, as the partial-order reduction assumes;
  /// other failures still end it.
  bool stop_on_failure = true;
  /// Called after each execution of the search (not of a replay), in order: a differential
  /// test pairs it with the state the test recorded.
  std::function<void(const ExecutionInfo&)> on_execution;
  /// The memory-order audit: operations that run with a weaker order than written.
  std::vector<Weakening> weaken;
  /// The memory-order audit: called with every atomic operation and fence as it runs (its
  /// written order, before `weaken`). Slows every operation: for collecting sites only.
  std::function<void(const std::source_location&, OpKind, std::memory_order)> on_site;
  /// Replay this string (from a failure report) instead of searching.
  std::string replay;
  /// Check that a failure's schedule reproduces the same trace before reporting it.
  bool check_determinism = true;
  /// Watchdog: an execution that reaches no scheduling point for this long has a logical
  /// thread blocked outside the checker (a system call, a real mutex, I/O, sleep). The process
  /// cannot get that fiber back, so it prints the place and exits with status 1. 0: off.
  double stall_seconds = 10;
  /// Stack size of each logical thread.
  std::size_t stack_size = 0;  // 0: 256 KiB, 1 MiB under sanitizers
};

namespace detail {

/// A vector clock over `kCapacity` processes: 16 entries inline (as many as most tests have
/// threads), the rest allocated when an entry beyond them is first set, and kept for reuse.
template <unsigned kCapacity>
class BasicClock {
 public:
  static constexpr unsigned kInline = 16;

  BasicClock() = default;
  BasicClock(const BasicClock& o) : in_(o.in_) {
    if (o.wide_) copy_wide(o);
  }
  BasicClock& operator=(const BasicClock& o) {
    if (this == &o) return *this;
    in_ = o.in_;
    if (o.wide_) {
      copy_wide(o);
    } else {
      wide_ = false;
    }
    return *this;
  }
  BasicClock(BasicClock&&) noexcept = default;
  BasicClock& operator=(BasicClock&&) noexcept = default;
  ~BasicClock() = default;

  [[nodiscard]] std::uint32_t operator[](unsigned i) const {
    if (i < kInline) return in_[i];
    return wide_ ? more_[i - kInline] : 0;
  }
  void set(unsigned i, std::uint32_t v) {
    if (i < kInline) {
      in_[i] = v;
      return;
    }
    widen();
    more_[i - kInline] = v;
  }
  /// Adds one to entry `i` and returns the new value.
  std::uint32_t tick(unsigned i) {
    if (i < kInline) return ++in_[i];
    widen();
    return ++more_[i - kInline];
  }
  void join(const BasicClock& o) {
    for (unsigned i = 0; i < kInline; ++i) in_[i] = std::max(in_[i], o.in_[i]);
    if (!o.wide_) return;
    widen();
    for (unsigned i = 0; i < kMore; ++i) more_[i] = std::max(more_[i], o.more_[i]);
  }
  void clear() {
    in_.fill(0);
    wide_ = false;
  }

 private:
  static constexpr unsigned kMore = kCapacity - kInline;
  /// Makes the entries beyond the inline ones usable (zero, on first use).
  void widen() {
    if (wide_) return;
    if (!more_) more_ = std::make_unique<std::uint32_t[]>(kMore);
    std::fill_n(more_.get(), kMore, 0U);
    wide_ = true;
  }
  void copy_wide(const BasicClock& o) {
    if (!more_) more_ = std::make_unique<std::uint32_t[]>(kMore);
    std::copy_n(o.more_.get(), kMore, more_.get());
    wide_ = true;
  }

  std::array<std::uint32_t, kInline> in_{};
  bool wide_ = false;  ///< entries beyond the inline ones may be non-zero
  std::unique_ptr<std::uint32_t[]> more_;
};
/// A vector clock over the logical threads of an execution.
using VectorClock = BasicClock<kMaxThreads>;

/// What kind of object an operation touches (for traces and reports).
enum class ObjKind : std::uint8_t {
  kNone,
  kAtomic,
  kCell,
  kMutex,
  kSharedMutex,
  kCondVar,
  kThread
};

using check::OpKind;

/// How to print an atomic's value.
enum class ValueKind : std::uint8_t { kUnsigned, kSigned, kBool, kPointer, kOther };

/// Header of every Checked object: lazily (re)initialised on first use in each execution, so
/// objects that outlive one execution (statics, fixtures) start every execution clean.
struct ObjectHeader {
  mutable std::uint64_t epoch_ = 0;
  mutable std::uint32_t id_ = 0;
  mutable ObjKind kind_ = ObjKind::kNone;
};

struct AtomicState : ObjectHeader {
  mutable std::uint64_t bits_ = 0;
  mutable VectorClock clock_;  ///< release clock carried by the current value
  ValueKind vkind_ = ValueKind::kOther;
};

struct CellState : ObjectHeader {
  mutable std::uint32_t write_clock_ = 0;  ///< epoch of the last write (0: none)
  mutable std::uint8_t write_tid_ = 0;
  mutable VectorClock reads_;  ///< per-thread epoch of the last read since the last write
};

struct MutexState : ObjectHeader {
  mutable int owner_ = -1;          ///< exclusive owner, -1 when none
  mutable ChoiceSet readers_;       ///< shared owners
  mutable VectorClock clock_;       ///< released by exclusive unlocks
  mutable VectorClock read_clock_;  ///< released by shared unlocks
};

struct CondVarState : ObjectHeader {};

/// One scheduled operation: what a thread will do when it is next chosen.
/// TSO: what an operation does with the store buffers when it runs (SC: always kNone).
enum class Buffering : std::uint8_t {
  kNone,
  kStore,     ///< a store that waits in the thread's buffer: it writes memory when it flushes
  kDrainOwn,  ///< a locked instruction, fence or system call: the thread's buffer drains first
  kDrainAll,  ///< a spin loop's yield or pause: time passes, and every buffer drains first
};

struct Op {
  OpKind kind = OpKind::kNone;
  bool write = false;  ///< conflicts with any other access to `obj`
  const void* obj = nullptr;
  const void* obj2 = nullptr;  ///< the mutex of a condition-variable wait
  Buffering buffering = Buffering::kNone;
  /// C11 tier: a seq_cst operation, ordered in the total order S with every other one
  /// (1: it reads, 2: it writes or is a fence). 0 elsewhere.
  std::uint8_t sc = 0;
};

/// A yield or pause under yield fairness (`write` set): the yielding thread gives way to
/// every thread that can run, until each has taken a step, so its order with any other
/// thread's step matters.
inline bool fair_yield(const Op& op) {
  return op.write && (op.kind == OpKind::kYield || op.kind == OpKind::kPause);
}

/// True when the two operations may not commute (same object, at least one writes; a fair
/// yield with anything).
inline bool dependent(const Op& a, const Op& b) {
  if (fair_yield(a) || fair_yield(b)) return true;
  if (a.sc != 0 && b.sc != 0 && (a.sc == 2 || b.sc == 2)) return true;
  const bool same = (a.obj != nullptr && (a.obj == b.obj || a.obj == b.obj2)) ||
                    (a.obj2 != nullptr && (a.obj2 == b.obj || a.obj2 == b.obj2));
  return same && (a.write || b.write);
}

}  // namespace detail
}  // namespace cpb::check
