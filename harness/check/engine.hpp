// SPDX-License-Identifier: Apache-2.0
/// @file
/// The execution engine: runs one execution of a test with logical threads as fibers on the
/// calling OS thread, asks a `Chooser` at every scheduling point which thread runs next, keeps
/// the happens-before vector clocks of the SC tier, and detects failures.
#pragma once

#include "harness/check/chooser.hpp"
#include "harness/check/context.hpp"
#include "harness/check/model.hpp"

#include <any>
#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <source_location>
#include <string>
#include <vector>

namespace cpb::check::detail {

/// Thrown into a logical thread to unwind it when its execution is abandoned. Not derived from
/// std::exception, so user `catch (const std::exception&)` blocks do not swallow it.
struct Aborted {};

/// One traced event.
struct Event {
  std::uint32_t seq = 0;
  std::uint8_t tid = 0;
  OpKind kind = OpKind::kNone;
  bool has_mo = false;
  std::memory_order mo = std::memory_order_seq_cst;
  ObjKind okind = ObjKind::kNone;
  std::uint32_t oid = 0;
  ValueKind vkind = ValueKind::kOther;
  std::uint8_t nvalues = 0;  ///< how many of value/value2 are meaningful
  std::uint64_t value = 0;
  std::uint64_t value2 = 0;
  const char* note = nullptr;  ///< e.g. "ok", "failed", "blocked", "spurious"
  /// C11 tier. A load, read-modify-write or compare-exchange: the store it read, by its number
  /// (a location's stores are numbered in the order they ran, 0: the initial value) and its
  /// thread (-1: the initial value). A store: its own number, `rf_tid` -2. -1: not recorded.
  std::int32_t rf_mo = -1;
  std::int16_t rf_tid = -1;
  std::source_location loc;
};

/// The result of one execution.
struct Outcome {
  FailureKind kind = FailureKind::kNone;
  std::string message;
  bool pruned = false;
  /// A reduction ended it early after it met a failure: the failures are real, but it did not
  /// run to its end (no leak check).
  bool truncated = false;
  std::uint64_t steps = 0;
  unsigned preemptions = 0;    ///< choices of another thread while the running one could go on
  std::uint32_t failures = 0;  ///< every failure kind met (bit 1 << kind)
};

class Engine {
 public:
  explicit Engine(const Config& cfg);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Runs one execution of `body` (logical thread 0). With `trace`, records every event.
  Outcome run(const std::function<void()>& body, Chooser& chooser, std::vector<Event>* trace);
  /// The choices (thread ids, flushes, 0/1) that the last run made where there was a choice.
  [[nodiscard]] const std::vector<std::uint16_t>& decisions() const { return decisions_; }
  [[nodiscard]] unsigned max_threads_seen() const { return max_threads_seen_; }

  /// The engine running on this OS thread, or null outside an execution.
  static Engine* current();
  /// A checked operation ran on an OS thread that no engine runs. While an exploration runs in
  /// this process, that is a thread the test created behind the checker's back (std::thread,
  /// a real thread pool): it is recorded and the exploration fails with kUninstrumented,
  /// naming the place. Outside explorations (plain unit tests of checked types) it is allowed.
  static void outside(const char* what, const std::source_location& loc);

  /// The order the operation written at `loc` runs with: `mo`, unless the memory-order audit
  /// weakens it (Config::weaken). Reports the site to Config::on_site.
  std::memory_order order_at(OpKind kind, std::memory_order mo, const std::source_location& loc) {
    return audited_ ? audit_order(kind, mo, loc) : mo;
  }

  // ---- operations of the Checked types (each is a scheduling point unless noted) ----
  std::uint64_t load(const AtomicState& a, std::memory_order mo, const std::source_location& loc);
  void store(const AtomicState& a, std::uint64_t v, std::memory_order mo,
             const std::source_location& loc);
  /// Read-modify-write: stores f(old), returns old.
  template <class F>
  std::uint64_t rmw(const AtomicState& a, OpKind kind, std::memory_order mo, F&& f,
                    const std::source_location& loc) {
    mo = order_at(kind, mo, loc);
    begin_atomic(a, {kind, true, &a, nullptr, Buffering::kNone, sc_mark(mo, 2)}, loc);
    const std::uint64_t old = a.bits_;
    const std::uint64_t nv = f(old);
    if (!aborting_) rmw_clocks(a, mo);
    a.bits_ = nv;
    if (!aborting_) rmw_stored(a, mo);
    if (trace_ != nullptr) record(kind, mo, true, a, old, nv, 2, nullptr, loc);
    return old;
  }
  bool cas(const AtomicState& a, std::uint64_t& expected, std::uint64_t desired, bool weak,
           std::memory_order success, std::memory_order failure, const std::source_location& loc);
  void fence(std::memory_order mo, const std::source_location& loc);
  void wait(const AtomicState& a, std::uint64_t old, std::memory_order mo,
            const std::source_location& loc);
  void notify(const AtomicState& a, bool all, const std::source_location& loc);

  void lock(const MutexState& m, ObjKind kind, const std::source_location& loc);
  bool try_lock(const MutexState& m, ObjKind kind, const std::source_location& loc);
  void unlock(const MutexState& m, ObjKind kind, const std::source_location& loc);
  void lock_shared(const MutexState& m, const std::source_location& loc);
  bool try_lock_shared(const MutexState& m, const std::source_location& loc);
  void unlock_shared(const MutexState& m, const std::source_location& loc);

  /// Returns false on a timeout/spurious return when `may_time_out`.
  bool cv_wait(const CondVarState& cv, const MutexState& m, bool may_time_out,
               const std::source_location& loc);
  void cv_notify(const CondVarState& cv, bool all, const std::source_location& loc);

  int spawn(std::function<void()> fn, const std::source_location& loc);
  void join(int tid, const std::source_location& loc);
  void yield(OpKind kind, const std::source_location& loc);

  /// Race-checked plain accesses; not scheduling points unless Config::preempt_cells.
  void cell_read(const CellState& c, const std::source_location& loc);
  void cell_write(const CellState& c, const std::source_location& loc);
  /// A cell constructed during the execution: its construction is a write by this thread.
  void cell_init(const CellState& c);

  /// The current logical thread's instance of `T` for `key` (Sync::thread_local_value).
  template <class T>
  T& thread_local_value(const void* key) {
    auto& slots = me().locals;
    for (auto& [k, v] : slots) {
      if (k == key) return *std::any_cast<T>(&v);
    }
    slots.emplace_back(key, std::any(T{}));
    return *std::any_cast<T>(&slots.back().second);
  }

  // ---- the checker heap (Sync::create / Sync::destroy) ----
  /// A block of `size` bytes for an object of type `type`; a scheduling point.
  void* allocate(std::size_t size, std::size_t align, const char* type);
  /// Before the destructor runs: a scheduling point; reports a double free or a pointer the heap
  /// did not allocate (false: do not destroy), and races of the free with unordered accesses
  /// to cells inside the block (a free is a write).
  bool begin_free(const void* p, const char* type);
  /// After the destructor: the block is freed (quarantined, or reusable with reuse_freed).
  void end_free(const void* p, const std::source_location& loc);

  /// Reports an assertion failure and unwinds the calling thread (returns only where the
  /// thread may not throw: in a destructor run under `NoThrow`).
  void assertion_failed(std::string_view msg, const std::source_location& loc);
  /// Reports misuse (e.g. a joinable thread destroyed) without unwinding.
  void misuse(std::string msg);

  /// While one is alive, a failure does not unwind the thread (it runs a destructor, where a
  /// throw would terminate); the thread stops switching and finishes its code instead.
  class NoThrow {
   public:
    NoThrow() : e_(current()) {
      if (e_ != nullptr && e_->cur_ >= 0) ++e_->me().nothrow;
    }
    ~NoThrow() {
      if (e_ != nullptr && e_->cur_ >= 0) --e_->me().nothrow;
    }
    NoThrow(const NoThrow&) = delete;
    NoThrow& operator=(const NoThrow&) = delete;

   private:
    Engine* e_;
  };

  [[nodiscard]] int current_thread() const { return cur_; }
  [[nodiscard]] bool aborting() const { return aborting_; }

 private:
  enum class TState : std::uint8_t { kFree, kLive, kFinished };
  struct Thread {
    /// Back to the state of a thread that has not run yet (stacks and buffers are kept).
    void reset() {
      woken = false;
      timed = false;
      timed_out = false;
      waiting_on = nullptr;
      acq_pending.clear();
      rel_fence.clear();
      reads.clear();
      prev_reads.clear();
      acted = false;
      parked = false;
      nothrow = 0;
      locals.clear();
    }
    Context ctx;
    TState state = TState::kFree;
    bool started = false;
    bool woken = false;
    bool timed = false;      ///< in a timed condition-variable wait
    bool timed_out = false;  ///< its timed wait timed out
    const void* waiting_on = nullptr;
    std::uint64_t wait_seq = 0;
    VectorClock vc;           ///< happens-before clock
    VectorClock acq_pending;  ///< clocks read by relaxed loads, joined by an acquire fence
    VectorClock rel_fence;    ///< clock at the last release fence, carried by relaxed stores
    std::function<void()> fn;
    /// Spin-loop parking: atomics loaded (and values seen) since the last yield or pause, the
    /// same for the iteration before, and whether anything but a load happened since.
    std::vector<std::pair<const AtomicState*, std::uint64_t>> reads;
    std::vector<std::pair<const AtomicState*, std::uint64_t>> prev_reads;
    bool acted = false;
    bool parked = false;
    int nothrow = 0;  ///< NoThrow guards alive on this thread
    /// Sync::thread_local_value storage; a deque keeps references stable.
    std::deque<std::pair<const void*, std::any>> locals;
  };
  /// Unparks the threads spinning on `a`: it was written.
  void unpark(const AtomicState* a);
  /// Reports that no thread can run: a livelock when some are parked in spin loops, else a
  /// deadlock.
  void stuck(bool unwind);

  std::memory_order audit_order(OpKind kind, std::memory_order mo,
                                const std::source_location& loc) const;

  static void fiber_entry(void* arg);
  [[noreturn]] void finish_thread(int tid);
  [[nodiscard]] bool may_throw() const {
    return (cur_ < 0 || threads_[static_cast<unsigned>(cur_)].nothrow == 0) &&
           std::uncaught_exceptions() == 0;
  }
  void point(const Op& op, const std::source_location& loc = {});
  int decide(int cur);
  bool enabled(int tid) const;
  bool choose_bool(BoolKind kind);
  /// Which of `n` waiters (a notify_one, a timeout): a choice when n >= 2, else 0.
  unsigned choose_waiter(unsigned n);
  /// C11: which of `n` stores (numbered `ids`, newest first) the current load reads; -1: the
  /// chooser abandoned the execution as redundant (prune()).
  int choose_read(unsigned n, const std::uint32_t* ids);
  /// Abandons the execution as redundant, from within a step.
  void prune();
  /// Times out one of the timed condition-variable waits that nobody woke; false if none.
  bool time_out_a_waiter();
  void begin_atomic(const AtomicState& a, const Op& op, const std::source_location& loc);
  // ---- TSO tier ----
  [[nodiscard]] bool tso() const { return cfg_.tier == Tier::kTso; }
  /// The value this thread sees: its newest buffered store to `a`, else memory.
  [[nodiscard]] std::uint64_t visible(const AtomicState& a) const;
  /// Writes the oldest store of thread `tid`'s buffer to memory.
  void flush_one(unsigned tid);
  /// flush_one, reported to the chooser (`decided`: the chooser picked the flush, or the step
  /// that drains the buffer).
  void flush(unsigned tid, bool decided);
  void rmw_clocks(const AtomicState& a, std::memory_order mo);
  /// After a read-modify-write wrote `a.bits_`: unparks its spinners (C11: adds the store to
  /// the modification order).
  void rmw_stored(const AtomicState& a, std::memory_order mo);
  // ---- C11 tier (c11.cpp) ----
  [[nodiscard]] bool c11() const { return cfg_.tier == Tier::kC11; }
  /// Op::sc of an operation with order `mo` (`w`: 1 reads, 2 writes or fences).
  [[nodiscard]] std::uint8_t sc_mark(std::memory_order mo, std::uint8_t w) const {
    return c11() && mo == std::memory_order_seq_cst ? w : 0;
  }
  struct C11State;
  friend struct C11;
  std::unique_ptr<C11State> c11_;
  std::array<std::uint32_t, kMaxThreads> c11_stores_{};  ///< Decision::stores
  void tick(int tid) { threads_[static_cast<unsigned>(tid)].vc.tick(static_cast<unsigned>(tid)); }
  Thread& me() { return threads_[static_cast<unsigned>(cur_)]; }
  void touch(const ObjectHeader& o, ObjKind kind) const;
  void wake(const void* obj, bool all);
  /// Leaves the abandoned execution: switches to the host, which resumes this thread (to throw
  /// Aborted) when its turn in the newest-first unwinding comes.
  [[noreturn]] void unwind_now();
  /// Records a failure; `unwind`: unwind this thread now (when it may throw).
  void fail(FailureKind kind, std::string msg, bool unwind);
  /// Records a failure that the execution can run on past (a data race, a memory error):
  /// without Config::stop_on_failure it does, and this returns true; else as fail().
  bool note(FailureKind kind, std::string msg, bool unwind);
  /// Reports a data race; true when the execution runs on (see note()).
  bool race(const CellState& c, bool is_write, int other, bool other_write);
  std::string deadlock_message() const;
  std::string name(const Op& op) const;
  void record(OpKind kind, std::memory_order mo, bool has_mo, const AtomicState& a,
              std::uint64_t v1, std::uint64_t v2, std::uint8_t nvalues, const char* note,
              const std::source_location& loc);
  void record_obj(OpKind kind, ObjKind okind, std::uint32_t oid, const char* note,
                  const std::source_location& loc, std::uint64_t value = 0,
                  std::uint8_t nvalues = 0);

  /// A store waiting in a TSO store buffer, with the release clock it will carry.
  struct Buffered {
    const AtomicState* a = nullptr;
    std::uint64_t v = 0;
    VectorClock clock;
    std::source_location loc;
  };

  /// A block of the checker heap; its memory lives until the execution ends.
  struct Block {
    void* p = nullptr;
    std::size_t size = 0;
    std::size_t align = 0;
    const char* type = "";
    bool freed = false;
    std::uint8_t alloc_tid = 0;
    std::uint8_t free_tid = 0;
  };
  /// The freed block holding `p`, or null. Cheap when nothing is freed.
  const Block* freed_block(const void* p) const;
  Block* find_block(const void* p);
  /// Reports an access to freed memory; true when there was one.
  bool use_after_free(const void* p, std::string_view what);
  void* carve(std::size_t size, std::size_t align);
  /// Fails the execution with kUninstrumented if a foreign thread made a checked operation.
  void report_foreign(bool unwind);
  void release_heap();
  /// Who a write to `c` by the current thread races with: (thread, was it a write), or -1.
  std::pair<int, bool> write_conflict(const CellState& c) const;

  Config cfg_;
  bool audited_ = false;  ///< Config::weaken or Config::on_site is set
  std::array<Thread, kMaxThreads> threads_{};
  /// Next operation of each thread; entries kFlushBase + t: the flush of t's oldest store.
  std::array<Op, 2 * kMaxThreads> pending_{};
  std::array<std::deque<Buffered>, kMaxThreads> buffers_{};
  /// Choices kFlushBase + t of the threads t with a non-empty buffer (their pending_ entries
  /// name the oldest store).
  ChoiceSet buffered_;
  std::vector<Block> blocks_;
  /// Bytes of the heap region handed out in this execution (the region: heap_region()).
  std::size_t heap_used_ = 0;
  unsigned freed_blocks_ = 0;
  mutable std::vector<const CellState*> cells_;  ///< cells touched in this execution
  /// Per thread: the threads it yielded to that have not taken a step since.
  std::array<ChoiceSet, kMaxThreads> yield_wait_{};
  ChoiceSet giving_way_;  ///< the threads whose yield_wait_ is not empty
  std::array<std::unique_ptr<Stack>, kMaxThreads> stacks_{};
  Context host_;
  Chooser* chooser_ = nullptr;
  bool report_steps_ = false;  ///< the chooser wants every step (DPOR)
  std::vector<Event>* trace_ = nullptr;
  std::vector<std::uint16_t> decisions_;
  std::uint64_t epoch_ = 0;
  mutable std::array<std::uint32_t, 8> next_id_{};
  unsigned nthreads_ = 0;
  unsigned max_threads_seen_ = 0;
  int cur_ = -1;
  std::uint64_t steps_ = 0;
  unsigned preemptions_ = 0;
  std::uint64_t wait_seq_ = 0;
  unsigned spurious_left_ = 0;
  bool aborting_ = false;
  bool pruned_ = false;
  /// Spin parking: rounds in a row in which only parked spinners could run (reset when any
  /// thread does more than load and spin).
  static constexpr unsigned kMaxFutileWakeups = 64;
  unsigned futile_wakeups_ = 0;

 public:
  // Read by the watchdog thread of explore() while this engine runs on another OS thread.
  std::atomic<std::uint64_t> progress_{0};  ///< scheduling points so far
  std::atomic<const char*> last_file_{nullptr};
  std::atomic<unsigned> last_line_{0};
  std::atomic<int> last_tid_{0};

 private:
  FailureKind failure_ = FailureKind::kNone;
  std::uint32_t failures_ = 0;
  std::string message_;
  Engine* previous_ = nullptr;
};

}  // namespace cpb::check::detail
