// SPDX-License-Identifier: Apache-2.0
#include "harness/check/engine.hpp"

#include "harness/check/c11.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <exception>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <utility>

namespace cpb::check::detail {

namespace {

thread_local Engine* tl_engine = nullptr;

/// Whether some thread holds the heap region at the fixed address (a flag: orders nothing).
std::atomic<bool> g_region_taken{false};

/// The checker heap's memory: one region per OS thread, reserved at a fixed address when it is
/// free, and handed out from its start again in every execution. The same schedule then gets
/// the same addresses, in every execution, every explore() and every process, so traces and
/// replays stay deterministic even where a test prints or hashes pointer bits.
std::span<std::byte> heap_region() {
  constexpr std::size_t kSize = std::size_t{256} << 20;
  struct Region {
    Region() {
      constexpr std::uintptr_t kHint = 0x5a0000000000;  // above ASan's shadow, below the stack
      const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
      void* p = MAP_FAILED;
#if defined(MAP_FIXED_NOREPLACE)
      if (!g_region_taken.exchange(true, std::memory_order_relaxed)) {  // one thread gets it
        p = mmap(reinterpret_cast<void*>(kHint), kSize, PROT_READ | PROT_WRITE,
                 flags | MAP_FIXED_NOREPLACE, -1, 0);
      }
#endif
      if (p == MAP_FAILED) p = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, flags, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      bytes = {static_cast<std::byte*>(p), kSize};
    }
    ~Region() { munmap(bytes.data(), bytes.size()); }
    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;
    std::span<std::byte> bytes;
  };
  thread_local Region region;
  return region.bytes;
}

/// Engines alive in this process; a checked operation on a thread without one is foreign then.
std::atomic<int> g_engines{0};
/// The first foreign operation not yet reported: what, and where. The file pointer is
/// published last (release), the engine reads it first (acquire).
std::atomic<const char*> g_foreign_what{nullptr};
std::atomic<unsigned> g_foreign_line{0};
std::atomic<const char*> g_foreign_file{nullptr};

/// Distinguishes executions, so objects reset their checker state on first use in each one.
std::atomic<std::uint64_t> g_epoch{0};

bool is_acquire(std::memory_order mo) {
  return mo == std::memory_order_acquire || mo == std::memory_order_acq_rel ||
         mo == std::memory_order_seq_cst || mo == std::memory_order_consume;
}
bool is_release(std::memory_order mo) {
  return mo == std::memory_order_release || mo == std::memory_order_acq_rel ||
         mo == std::memory_order_seq_cst;
}

std::size_t default_stack_size() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return std::size_t{1} << 20;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  return std::size_t{1} << 20;
#else
  return std::size_t{256} << 10;
#endif
#else
  return std::size_t{256} << 10;
#endif
}

std::string_view kind_prefix(ObjKind k) {
  switch (k) {
    case ObjKind::kAtomic:
      return "atomic";
    case ObjKind::kCell:
      return "cell";
    case ObjKind::kMutex:
      return "mutex";
    case ObjKind::kSharedMutex:
      return "shared_mutex";
    case ObjKind::kCondVar:
      return "condvar";
    case ObjKind::kThread:
      return "thread";
    case ObjKind::kNone:
      break;
  }
  return "object";
}

/// Operations after which a thread resumed into an abandoned execution may go on without
/// unwinding: they are typically called from destructors (lock guards), where a throw would
/// terminate the process. The thread unwinds at its next scheduling point instead.
bool is_yield(OpKind k) { return k == OpKind::kYield || k == OpKind::kPause; }

bool quiet_on_abort(OpKind k) {
  return k == OpKind::kUnlock || k == OpKind::kUnlockShared || k == OpKind::kNotify ||
         k == OpKind::kCvNotify || k == OpKind::kCellRead || k == OpKind::kCellWrite;
}

/// How strong the load part of an order is: relaxed 0, acquire 1, seq_cst 2.
int load_strength(std::memory_order mo) {
  if (mo == std::memory_order_seq_cst) return 2;
  return mo == std::memory_order_relaxed || mo == std::memory_order_release ? 0 : 1;
}

/// A CAS failure order no stronger than the load part of the success order `success`.
std::memory_order weaker_load(std::memory_order failure, std::memory_order success) {
  const std::memory_order cap = success == std::memory_order_acq_rel   ? std::memory_order_acquire
                                : success == std::memory_order_release ? std::memory_order_relaxed
                                                                       : success;
  return load_strength(failure) > load_strength(cap) ? cap : failure;
}

}  // namespace

}  // namespace cpb::check::detail

namespace cpb::check {

std::string_view to_string(OpKind k) {
  switch (k) {
    case OpKind::kNone:
      return "none";
    case OpKind::kStart:
      return "start";
    case OpKind::kLoad:
      return "load";
    case OpKind::kStore:
      return "store";
    case OpKind::kExchange:
      return "exchange";
    case OpKind::kRmw:
      return "rmw";
    case OpKind::kCas:
      return "cas";
    case OpKind::kFence:
      return "fence";
    case OpKind::kWait:
      return "wait";
    case OpKind::kWaitBlocked:
      return "wait-block";
    case OpKind::kNotify:
      return "notify";
    case OpKind::kLock:
      return "lock";
    case OpKind::kTryLock:
      return "try_lock";
    case OpKind::kUnlock:
      return "unlock";
    case OpKind::kLockShared:
      return "lock_shared";
    case OpKind::kTryLockShared:
      return "try_lock_shared";
    case OpKind::kUnlockShared:
      return "unlock_shared";
    case OpKind::kCvWait:
      return "cv-wait";
    case OpKind::kCvReacquire:
      return "cv-reacquire";
    case OpKind::kCvNotify:
      return "cv-notify";
    case OpKind::kSpawn:
      return "spawn";
    case OpKind::kJoin:
      return "join";
    case OpKind::kYield:
      return "yield";
    case OpKind::kPause:
      return "pause";
    case OpKind::kCellRead:
      return "read";
    case OpKind::kCellWrite:
      return "write";
    case OpKind::kFinish:
      return "finish";
    case OpKind::kFlush:
      return "flush";
    case OpKind::kAlloc:
      return "alloc";
    case OpKind::kFree:
      return "free";
  }
  return "?";
}

bool Weakening::matches(const std::source_location& loc) const {
  if (loc.line() != line || loc.column() != column) return false;
  const std::string_view f = loc.file_name();
  return f.ends_with(file) && (f.size() == file.size() || f[f.size() - file.size() - 1] == '/');
}

}  // namespace cpb::check

namespace cpb::check::detail {

Engine::Engine(const Config& cfg) : cfg_(cfg), audited_(!cfg.weaken.empty() || cfg.on_site) {
  if (cfg_.stack_size == 0) cfg_.stack_size = default_stack_size();
  g_engines.fetch_add(1, std::memory_order_relaxed);  // a count: orders nothing
}

Engine::~Engine() { g_engines.fetch_sub(1, std::memory_order_relaxed); }

void Engine::outside(const char* what, const std::source_location& loc) {
  if (g_engines.load(std::memory_order_relaxed) == 0) return;  // not exploring: allowed
  const char* expected = nullptr;
  if (g_foreign_what.compare_exchange_strong(expected, what, std::memory_order_relaxed)) {
    g_foreign_line.store(loc.line(), std::memory_order_relaxed);
    // Release: publishes `what` and the line to the engine's acquire load of the file.
    g_foreign_file.store(loc.file_name(), std::memory_order_release);
  }
}

void Engine::report_foreign(bool unwind) {
  // Acquire pairs with the release store in outside().
  const char* file = g_foreign_file.exchange(nullptr, std::memory_order_acquire);
  if (file == nullptr) return;
  const char* what = g_foreign_what.load(std::memory_order_relaxed);
  const unsigned line = g_foreign_line.load(std::memory_order_relaxed);
  g_foreign_what.store(nullptr, std::memory_order_relaxed);
  if (aborting_) return;
  fail(FailureKind::kUninstrumented,
       fmt::format("uninstrumented thread: {} at {}:{} ran on an OS thread the checker does not "
                   "control (a std::thread or real thread pool inside the test?); its "
                   "interleavings are not explored: create threads with cpb::check::Sync::thread",
                   what, file, line),
       unwind && may_throw());
}

Engine* Engine::current() { return tl_engine; }

Outcome Engine::run(const std::function<void()>& body, Chooser& chooser,
                    std::vector<Event>* trace) {
  epoch_ = g_epoch.fetch_add(1, std::memory_order_relaxed) + 1;  // a counter: orders nothing
  next_id_.fill(0);
  chooser_ = &chooser;
  report_steps_ = chooser.wants_steps();
  trace_ = trace;
  if (trace_ != nullptr) trace_->clear();
  decisions_.clear();
  cells_.clear();
  futile_wakeups_ = 0;
  steps_ = 0;
  preemptions_ = 0;
  wait_seq_ = 0;
  spurious_left_ = cfg_.max_spurious;
  aborting_ = false;
  pruned_ = false;
  failure_ = FailureKind::kNone;
  failures_ = 0;
  message_.clear();
  for (unsigned i = 0; i < nthreads_; ++i) {
    threads_[i].state = TState::kFree;
    buffers_[i].clear();
  }
  buffered_ = {};
  nthreads_ = 1;
  giving_way_.for_each([&](unsigned i) { yield_wait_[i] = {}; });
  giving_way_ = {};
  if (c11()) C11::reset(*this);

  Thread& t0 = threads_[0];
  t0.state = TState::kLive;
  t0.started = true;
  t0.reset();
  t0.vc.clear();
  t0.vc.set(0, 1);
  t0.fn = [&body] { body(); };
  pending_[0] = {OpKind::kStart, false, nullptr, nullptr};
  if (!stacks_[0]) stacks_[0] = std::make_unique<Stack>(cfg_.stack_size);
  make_context(t0.ctx, *stacks_[0], &Engine::fiber_entry, this);

  previous_ = tl_engine;
  tl_engine = this;
  init_host_context(host_);
  cur_ = 0;
  switch_context(host_, t0.ctx);
  // Stuck (a deadlock, or every thread spinning or blocked): the operations the threads wait
  // to make never ran, but their order with what blocks them is a choice to reverse (the
  // lock that a thread spinning in a critical section holds).
  if (report_steps_ && (failure_ == FailureKind::kDeadlock || failure_ == FailureKind::kLivelock)) {
    for (unsigned i = 0; i < nthreads_; ++i) {
      if (threads_[i].state == TState::kLive) chooser_->on_blocked(i, pending_[i]);
    }
    // TSO: so are the flushes of the stores still in a buffer.
    for (unsigned i = 0; i < nthreads_; ++i) {
      for (const Buffered& b : buffers_[i]) {
        chooser_->on_blocked(kFlushBase + i, {OpKind::kFlush, true, b.a, nullptr});
      }
    }
  }
  // Back on the host: every thread finished, or the execution was abandoned and the threads
  // that are still suspended must be unwound, newest first (they may use objects that older
  // threads own on their stacks).
  while (aborting_) {
    int victim = -1;
    for (int i = static_cast<int>(nthreads_) - 1; i >= 0; --i) {
      Thread& t = threads_[static_cast<unsigned>(i)];
      if (t.state != TState::kLive) continue;
      if (!t.started) {
        t.fn = nullptr;
        t.state = TState::kFinished;
        continue;
      }
      victim = i;
      break;
    }
    if (victim < 0) break;
    cur_ = victim;
    switch_context(host_, threads_[static_cast<unsigned>(victim)].ctx);
  }
  if (failure_ == FailureKind::kNone && g_foreign_file.load(std::memory_order_relaxed) != nullptr) {
    report_foreign(false);
  }
  // An execution that ran to its end (past recorded races, without stop_on_failure) is
  // checked for leaks.
  if (!aborting_ && !pruned_ && cfg_.detect_leaks) {
    for (const Block& b : blocks_) {
      if (b.freed) continue;
      failures_ |= 1U << static_cast<unsigned>(FailureKind::kLeak);
      if (failure_ == FailureKind::kNone) {
        failure_ = FailureKind::kLeak;
        message_ = fmt::format("leak: a {}-byte block ({}) allocated by t{} was never freed",
                               b.size, b.type, b.alloc_tid);
      }
      break;
    }
  }
  release_heap();
  tl_engine = previous_;
  cur_ = -1;
  if (nthreads_ > max_threads_seen_) max_threads_seen_ = nthreads_;
  chooser.end_execution(steps_);
  const bool failed = failure_ != FailureKind::kNone;
  if (failed) failures_ |= 1U << static_cast<unsigned>(failure_);
  return Outcome{failure_, message_,     pruned_ && !failed, pruned_ && failed,
                 steps_,   preemptions_, failures_};
}

void Engine::fiber_entry(void* arg) {
  auto* e = static_cast<Engine*>(arg);
  const int tid = e->cur_;
  Thread& t = e->threads_[static_cast<unsigned>(tid)];
  on_fiber_entry(t.ctx);
  t.started = true;
  try {
    if (!e->aborting_) t.fn();
  } catch (const Aborted&) {
  } catch (const std::exception& ex) {
    e->fail(FailureKind::kException, fmt::format("t{}: uncaught exception: {}", tid, ex.what()),
            false);
  } catch (...) {
    e->fail(FailureKind::kException, fmt::format("t{}: uncaught exception of unknown type", tid),
            false);
  }
  try {
    t.fn = nullptr;
    // TSO: other threads may run while this thread's last stores still wait in its buffer;
    // exiting (a system call) drains it.
    if (e->tso() && !e->aborting_ && !e->buffers_[static_cast<unsigned>(tid)].empty()) {
      e->point({OpKind::kFinish, false, nullptr, nullptr});
    }
  } catch (const Aborted&) {
  } catch (...) {
    e->fail(FailureKind::kException, fmt::format("t{}: exception while destroying", tid), false);
  }
  e->finish_thread(tid);
}

void Engine::finish_thread(int tid) {
  Thread& t = threads_[static_cast<unsigned>(tid)];
  t.state = TState::kFinished;
  if (trace_ != nullptr && !aborting_) record_obj(OpKind::kFinish, ObjKind::kNone, 0, nullptr, {});
  int next = -1;
  if (!aborting_) {
    bool all_done = true;
    for (unsigned i = 0; i < nthreads_; ++i)
      all_done = all_done && threads_[i].state != TState::kLive;
    if (!all_done) {
      next = decide(-1);
      if (next == -2) {
        stuck(false);
      } else if (next < 0) {
        pruned_ = true;
        aborting_ = true;
      }
    }
  }
  if (next >= 0) {
    cur_ = next;
    switch_context(t.ctx, threads_[static_cast<unsigned>(next)].ctx, true);
  } else {
    switch_context(t.ctx, host_, true);
  }
  std::terminate();  // a finished fiber is never resumed
}

bool Engine::enabled(int tid) const {
  const Thread& t = threads_[static_cast<unsigned>(tid)];
  if (t.state != TState::kLive || t.parked) return false;
  const Op& op = pending_[static_cast<unsigned>(tid)];
  switch (op.kind) {
    case OpKind::kLock: {
      const auto* m = static_cast<const MutexState*>(op.obj);
      return m->owner_ < 0 && m->readers_.empty();
    }
    case OpKind::kLockShared:
      return static_cast<const MutexState*>(op.obj)->owner_ < 0;
    case OpKind::kCvReacquire: {
      const auto* m = static_cast<const MutexState*>(op.obj);
      return t.woken && m->owner_ < 0 && m->readers_.empty();
    }
    case OpKind::kWaitBlocked:
      return t.woken;
    case OpKind::kJoin:
      return static_cast<const Thread*>(op.obj)->state == TState::kFinished;
    default:
      return true;
  }
}

namespace {

/// TSO: what an operation of this kind does with the buffers (stores and fences say it
/// themselves: it depends on their order).
Buffering buffering(OpKind kind) {
  switch (kind) {
    case OpKind::kLoad:
    case OpKind::kStore:
    case OpKind::kWait:
    case OpKind::kFence:
    case OpKind::kCellRead:
    case OpKind::kCellWrite:
    case OpKind::kStart:
      return Buffering::kNone;
    case OpKind::kYield:
    case OpKind::kPause:
      // A spin loop lets time pass: every buffer drains (real store buffers empty within
      // nanoseconds). Without this, a thread spinning on a buffered store would livelock.
      return Buffering::kDrainAll;
    default:  // locked instructions and system calls: RMWs, locks, notify, spawn, join, exit
      return Buffering::kDrainOwn;
  }
}

}  // namespace

int Engine::decide(int cur) {
  ChoiceSet en;
  for (unsigned i = 0; i < nthreads_; ++i) {
    if (enabled(static_cast<int>(i))) en.set(i);
  }
  if (en.empty() && futile_wakeups_ < kMaxFutileWakeups) {
    // Only spinners are left: let them spin on (a loop bounded by its own counter ends and
    // does something else). Many rounds in a row in which no thread does anything but load
    // and spin are a livelock.
    bool any = false;
    for (unsigned i = 0; i < nthreads_; ++i) {
      Thread& t = threads_[i];
      if (t.state != TState::kLive || !t.parked) continue;
      t.parked = false;
      any = true;
      if (enabled(static_cast<int>(i))) en.set(i);
    }
    if (any) ++futile_wakeups_;
  }
  // Nothing can run: timed waits time out, one at a time, until a thread can.
  while (en.empty() && time_out_a_waiter()) {
    for (unsigned i = 0; i < nthreads_; ++i) {
      if (enabled(static_cast<int>(i))) en.set(i);
    }
  }
  if (en.empty()) return -2;  // flushes wake no one: a blocked thread stays blocked
  ChoiceSet allowed = en;
  (giving_way_ & en).for_each([&](unsigned t) {
    if ((yield_wait_[t] & en).any()) allowed.reset(t);
  });
  if (allowed.empty()) allowed = en;
  // Running another thread is a preemption when the current one could go on: it may, and it
  // is not about to yield.
  const bool preemptible = cur >= 0 && allowed.test(static_cast<unsigned>(cur)) &&
                           !is_yield(pending_[static_cast<unsigned>(cur)].kind);
  // TSO: flushing a buffered store is a choice beside running a thread, until a thread runs.
  // A step that drains buffers (a locked instruction, a fence, a yield) waits for their
  // flushes, each a choice of its own: another thread may run between two of them.
  const auto must_drain = [this](unsigned t) {
    switch (pending_[t].buffering) {
      case Buffering::kDrainOwn:
        return !buffers_[t].empty();
      case Buffering::kDrainAll:
        return buffered_.any();
      default:
        return false;
    }
  };
  int r = -1;
  bool decided = false;
  for (;;) {
    ChoiceSet threads = allowed;
    allowed.for_each([&](unsigned t) {
      if (must_drain(t)) threads.reset(t);
    });
    const ChoiceSet choices = threads | buffered_;
    // The current thread goes on, or flushes what it waits for.
    ChoiceSet go_on;
    if (cur >= 0 && threads.test(static_cast<unsigned>(cur))) {
      go_on.set(static_cast<unsigned>(cur));
    } else if (cur >= 0 && allowed.test(static_cast<unsigned>(cur))) {
      go_on = pending_[static_cast<unsigned>(cur)].buffering == Buffering::kDrainAll
                  ? buffered_
                  : ChoiceSet::of(kFlushBase + static_cast<unsigned>(cur));
    }
    int pick = choices.first();
    decided = choices.several();
    if (decided) {
      Decision d{choices, cur, preemptible, pending_.data(), nthreads_, go_on, {}, {}};
      if (c11()) C11::classify(*this, d);
      pick = chooser_->pick_thread(d);
      if (pick < 0) return -1;
      decisions_.push_back(static_cast<std::uint16_t>(pick));
    }
    if (static_cast<unsigned>(pick) < kFlushBase) {
      r = pick;
      if (decided && preemptible && r != cur) ++preemptions_;
      break;
    }
    flush(static_cast<unsigned>(pick) - kFlushBase, decided);
  }
  if (report_steps_) {
    Step s;
    s.tid = static_cast<unsigned>(r);
    s.decided = decided;
    const Op& op = pending_[s.tid];
    if (op.kind == OpKind::kJoin)
      s.joined = static_cast<int>(static_cast<const Thread*>(op.obj) - threads_.data());
    s.pending = pending_.data();
    chooser_->on_step(s);
  }
  // The chosen thread takes a step: threads that gave way to it need not wait for it now.
  const ChoiceSet giving_way = giving_way_;
  giving_way.for_each([&](unsigned i) {
    if (!yield_wait_[i].test(static_cast<unsigned>(r))) return;
    yield_wait_[i].reset(static_cast<unsigned>(r));
    // Thread i runs again only after this step: it happens before i's next one.
    if (report_steps_) chooser_->on_wake(static_cast<unsigned>(r), i);
    if (yield_wait_[i].empty()) giving_way_.reset(i);
  });
  // Fairness (CHESS): a thread that yields gives way to every other thread that can run now,
  // until each of them has taken a step. Spin loops then cannot starve the thread they wait
  // for, and do not grow the search tree without bound. It starts when the yield runs (not
  // when it is announced), so it is ordered with the other threads' steps as the yield is.
  const auto me = static_cast<unsigned>(r);
  if (cfg_.fair && is_yield(pending_[me].kind)) {
    yield_wait_[me] = en;
    yield_wait_[me].reset(me);
    if (yield_wait_[me].any()) giving_way_.set(me);
  }
  return r;
}

bool Engine::choose_bool(BoolKind kind) {
  const bool budgeted = kind != BoolKind::kTimeout;
  if (aborting_ || (budgeted && spurious_left_ == 0)) return false;
  const bool b = chooser_->pick_bool(kind);
  decisions_.push_back(b ? 1 : 0);
  if (b && budgeted) --spurious_left_;
  return b;
}

unsigned Engine::choose_waiter(unsigned n) {
  if (n < 2 || aborting_) return 0;
  const unsigned w = chooser_->pick_waiter(n);
  decisions_.push_back(static_cast<std::uint16_t>(w));
  return w;
}

int Engine::choose_read(unsigned n, const std::uint32_t* ids) {
  if (aborting_) return 0;
  const int k = chooser_->pick_read(static_cast<unsigned>(cur_), n, ids);
  if (k >= 0 && n >= 2) decisions_.push_back(static_cast<std::uint16_t>(k));
  return k;
}

void Engine::prune() {
  pruned_ = true;
  aborting_ = true;
  if (may_throw()) unwind_now();
}

bool Engine::time_out_a_waiter() {
  // Time passes while nothing can run: one of the timed waits times out (which one first is
  // a choice; their durations are the program's business).
  std::array<unsigned, kMaxThreads> timed{};
  unsigned n = 0;
  for (unsigned i = 0; i < nthreads_; ++i) {
    const Thread& t = threads_[i];
    if (t.state == TState::kLive && t.timed && !t.woken && t.waiting_on != nullptr) timed[n++] = i;
  }
  if (n == 0) return false;
  Thread& t = threads_[timed[choose_waiter(n)]];
  t.woken = true;
  t.timed_out = true;
  t.waiting_on = nullptr;
  return true;
}

void Engine::point(const Op& op, const std::source_location& loc) {
  // For the watchdog (explore.cpp): where each logical thread last entered the checker.
  // One writer; the watchdog only compares values, so relaxed suffices.
  progress_.store(progress_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  last_file_.store(loc.file_name(), std::memory_order_relaxed);
  last_line_.store(loc.line(), std::memory_order_relaxed);
  last_tid_.store(cur_, std::memory_order_relaxed);
  if (g_foreign_file.load(std::memory_order_relaxed) != nullptr) report_foreign(true);
  if (aborting_) {
    if (!quiet_on_abort(op.kind) && may_throw()) throw Aborted{};
    return;
  }
  const int me_id = cur_;
  Op& pending = pending_[static_cast<unsigned>(me_id)];
  pending = op;
  if (tso() && op.buffering == Buffering::kNone) pending.buffering = buffering(op.kind);
  if (op.kind != OpKind::kLoad && op.kind != OpKind::kYield && op.kind != OpKind::kPause) {
    me().acted = true;
    futile_wakeups_ = 0;
  }
  if (++steps_ > cfg_.max_steps) {
    fail(FailureKind::kLivelock,
         fmt::format("no progress: the execution exceeded {} steps (a livelock, or a spin loop "
                     "that waits for something that never happens); t{} was about to {} {}",
                     cfg_.max_steps, me_id, to_string(op.kind), name(op)),
         !quiet_on_abort(op.kind));
    return;
  }
  const int next = decide(me_id);
  if (next == -2) {
    stuck(!quiet_on_abort(op.kind));
    return;
  }
  if (next == -1) {
    pruned_ = true;
    aborting_ = true;
    if (!quiet_on_abort(op.kind) && may_throw()) unwind_now();
    return;
  }
  if (next != me_id) {
    Context& self = me().ctx;
    cur_ = next;
    switch_context(self, threads_[static_cast<unsigned>(next)].ctx);
    // Resumed: either chosen, or unwound by the host because the execution was abandoned.
    cur_ = me_id;
    if (aborting_ && !quiet_on_abort(op.kind) && may_throw()) {
      throw Aborted{};
    }
  }
}

void Engine::fail(FailureKind kind, std::string msg, bool unwind) {
  if (failure_ == FailureKind::kNone && !pruned_) {
    failure_ = kind;
    message_ = std::move(msg);
  }
  aborting_ = true;
  if (unwind && may_throw()) unwind_now();
}

bool Engine::note(FailureKind kind, std::string msg, bool unwind) {
  if (cfg_.stop_on_failure) {
    fail(kind, std::move(msg), unwind);
    return false;
  }
  failures_ |= 1U << static_cast<unsigned>(kind);
  if (failure_ == FailureKind::kNone) {
    failure_ = kind;
    message_ = std::move(msg);
  }
  return true;
}

void Engine::unwind_now() {
  // Back to the host first: it unwinds the suspended threads newest first, this one in its
  // turn, since newer threads may use objects that older ones own (the test's state).
  const int me_id = cur_;
  switch_context(me().ctx, host_);
  cur_ = me_id;
  throw Aborted{};
}

void Engine::assertion_failed(std::string_view msg, const std::source_location& loc) {
  fail(FailureKind::kAssertion,
       fmt::format("t{}: assertion failed: {} at {}:{}", cur_, msg, loc.file_name(), loc.line()),
       false);
  if (may_throw()) unwind_now();
}

void Engine::misuse(std::string msg) { fail(FailureKind::kMisuse, std::move(msg), false); }

void Engine::touch(const ObjectHeader& o, ObjKind kind) const {
  if (o.epoch_ == epoch_) return;
  o.epoch_ = epoch_;
  o.kind_ = kind;
  o.id_ = next_id_[static_cast<unsigned>(kind)]++;
  switch (kind) {
    case ObjKind::kAtomic:
      static_cast<const AtomicState&>(o).clock_.clear();
      break;
    case ObjKind::kCell: {
      const auto& c = static_cast<const CellState&>(o);
      c.write_clock_ = 0;
      c.write_tid_ = 0;
      c.reads_.clear();
      cells_.push_back(&c);
      break;
    }
    case ObjKind::kMutex:
    case ObjKind::kSharedMutex: {
      const auto& m = static_cast<const MutexState&>(o);
      m.owner_ = -1;
      m.readers_ = {};
      m.clock_.clear();
      m.read_clock_.clear();
      break;
    }
    default:
      break;
  }
}

std::string Engine::name(const Op& op) const {
  if (op.obj == nullptr) return {};
  if (op.kind == OpKind::kJoin) {
    const auto* t = static_cast<const Thread*>(op.obj);
    return fmt::format("t{}", t - threads_.data());
  }
  const auto* h = static_cast<const ObjectHeader*>(op.obj);
  return fmt::format("{}#{}", kind_prefix(h->kind_), h->id_);
}

std::string Engine::deadlock_message() const {
  std::string out = "deadlock: every unfinished thread is blocked";
  // waits_for[t]: the thread t waits on, when that is one thread.
  std::array<int, kMaxThreads> waits_for{};
  waits_for.fill(-1);
  for (unsigned i = 0; i < nthreads_; ++i) {
    const Thread& t = threads_[i];
    if (t.state != TState::kLive) continue;
    const Op& op = pending_[i];
    std::string what;
    switch (op.kind) {
      case OpKind::kLock:
      case OpKind::kLockShared:
      case OpKind::kCvReacquire: {
        const auto* m = static_cast<const MutexState*>(op.obj);
        if (op.kind == OpKind::kCvReacquire && !t.woken) {
          what = fmt::format("waits on {} for a notify that never comes",
                             name({OpKind::kCvWait, false, op.obj2, nullptr}));
          break;
        }
        if (m->owner_ >= 0) {
          waits_for[i] = m->owner_;
          what = fmt::format("waits to lock {} held by t{}", name(op), m->owner_);
        } else {
          const int r = m->readers_.first();
          waits_for[i] = r;
          what = fmt::format("waits to lock {} held shared by t{}", name(op), r);
        }
        break;
      }
      case OpKind::kJoin:
        waits_for[i] = static_cast<int>(static_cast<const Thread*>(op.obj) - threads_.data());
        what = fmt::format("waits to join t{}", waits_for[i]);
        break;
      case OpKind::kWaitBlocked:
        what = fmt::format("waits on {} (atomic wait) for a notify that never comes", name(op));
        break;
      default:
        what = fmt::format("is blocked in {}", to_string(op.kind));
        break;
    }
    out += fmt::format("; t{} {}", i, what);
  }
  // Name a wait-for cycle if there is one.
  for (unsigned s = 0; s < nthreads_; ++s) {
    ChoiceSet seen;
    int t = static_cast<int>(s);
    while (t >= 0 && !seen.test(static_cast<unsigned>(t))) {
      seen.set(static_cast<unsigned>(t));
      t = waits_for[static_cast<unsigned>(t)];
    }
    if (t < 0) continue;
    std::string cycle = fmt::format("t{}", t);
    int u = waits_for[static_cast<unsigned>(t)];
    while (u != t) {
      cycle += fmt::format(" -> t{}", u);
      u = waits_for[static_cast<unsigned>(u)];
    }
    cycle += fmt::format(" -> t{}", t);
    out += "; wait-for cycle: " + cycle;
    break;
  }
  return out;
}

// ---- atomics ----------------------------------------------------------------------------

void Engine::begin_atomic(const AtomicState& a, const Op& op, const std::source_location& loc) {
  touch(a, ObjKind::kAtomic);
  point(op, loc);
  if (freed_blocks_ != 0 && !aborting_) use_after_free(&a, fmt::format("atomic#{}", a.id_));
}

void Engine::rmw_clocks(const AtomicState& a, std::memory_order mo) {
  if (c11()) {
    C11::rmw_read(*this, a, mo);
    return;
  }
  Thread& t = me();
  if (is_acquire(mo)) {
    t.vc.join(a.clock_);
  } else {
    t.acq_pending.join(a.clock_);
  }
  // An RMW continues the release sequence of the value it replaces: the clock accumulates.
  if (is_release(mo)) {
    a.clock_.join(t.vc);
    tick(cur_);
  } else {
    a.clock_.join(t.rel_fence);
  }
}

void Engine::rmw_stored(const AtomicState& a, std::memory_order mo) {
  if (c11()) C11::rmw_write(*this, a, mo);
  unpark(&a);
}

std::memory_order Engine::audit_order(OpKind kind, std::memory_order mo,
                                      const std::source_location& loc) const {
  if (cfg_.on_site) cfg_.on_site(loc, kind, mo);
  for (const Weakening& w : cfg_.weaken) {
    if (w.matches(loc)) return w.order;
  }
  return mo;
}

std::uint64_t Engine::load(const AtomicState& a, std::memory_order mo,
                           const std::source_location& loc) {
  mo = order_at(OpKind::kLoad, mo, loc);
  begin_atomic(a, {OpKind::kLoad, false, &a, nullptr, Buffering::kNone, sc_mark(mo, 1)}, loc);
  if (aborting_) return a.bits_;
  Thread& t = me();
  if (c11()) {
    const std::uint64_t v = C11::load(*this, a, mo);
    if (trace_ != nullptr) record(OpKind::kLoad, mo, true, a, v, 0, 1, nullptr, loc);
    if (cfg_.park_spins && t.reads.size() < 8) t.reads.emplace_back(&a, v);
    return v;
  }
  if (tso()) {
    const auto& buf = buffers_[static_cast<unsigned>(cur_)];
    for (auto it = buf.rbegin(); it != buf.rend(); ++it) {
      if (it->a != &a) continue;
      // Store forwarding: a thread reads its own buffered store; no synchronization.
      if (trace_ != nullptr) record(OpKind::kLoad, mo, true, a, it->v, 0, 1, "from buffer", loc);
      t.acted = true;  // its own pending store: not a spin on another thread's write
      return it->v;
    }
  }
  if (is_acquire(mo)) {
    t.vc.join(a.clock_);
  } else {
    t.acq_pending.join(a.clock_);
  }
  if (trace_ != nullptr) record(OpKind::kLoad, mo, true, a, a.bits_, 0, 1, nullptr, loc);
  if (cfg_.park_spins && t.reads.size() < 8) t.reads.emplace_back(&a, a.bits_);
  return a.bits_;
}

void Engine::store(const AtomicState& a, std::uint64_t v, std::memory_order mo,
                   const std::source_location& loc) {
  mo = order_at(OpKind::kStore, mo, loc);
  // x86 compiles every store but a seq_cst one to a plain MOV: it waits in the buffer. A
  // seq_cst store is an XCHG (or MOV; MFENCE): the buffer drains first.
  const Buffering b = !tso()                            ? Buffering::kNone
                      : mo == std::memory_order_seq_cst ? Buffering::kDrainOwn
                                                        : Buffering::kStore;
  begin_atomic(a, {OpKind::kStore, true, &a, nullptr, b, sc_mark(mo, 2)}, loc);
  if (c11() && !aborting_) {
    C11::store(*this, a, v, mo);  // sets bits_ to the newest store in mo
    unpark(&a);
    if (trace_ != nullptr) record(OpKind::kStore, mo, true, a, v, 0, 1, nullptr, loc);
    return;
  }
  if (!aborting_) {
    Thread& t = me();
    // A relaxed store synchronizes only through a release fence.
    const VectorClock clock = is_release(mo) ? t.vc : t.rel_fence;
    if (is_release(mo)) tick(cur_);
    if (b == Buffering::kStore) {
      auto& buf = buffers_[static_cast<unsigned>(cur_)];
      buf.push_back({&a, v, clock, loc});
      if (buf.size() == 1) {
        buffered_.set(kFlushBase + static_cast<unsigned>(cur_));
        pending_[kFlushBase + static_cast<unsigned>(cur_)] = {OpKind::kFlush, true, &a, nullptr};
      }
      if (trace_ != nullptr) record(OpKind::kStore, mo, true, a, v, 0, 1, "buffered", loc);
      return;
    }
    a.clock_ = clock;
    unpark(&a);
  }
  a.bits_ = v;
  if (trace_ != nullptr && !aborting_) record(OpKind::kStore, mo, true, a, v, 0, 1, nullptr, loc);
}

bool Engine::cas(const AtomicState& a, std::uint64_t& expected, std::uint64_t desired, bool weak,
                 std::memory_order success, std::memory_order failure,
                 const std::source_location& loc) {
  if (audited_) {
    const std::memory_order written = success;
    success = audit_order(OpKind::kCas, success, loc);
    // A weakened success order weakens the failure order with it, to the load part of the new
    // success order at most (a release CAS fails relaxed).
    if (success != written) failure = weaker_load(failure, success);
  }
  begin_atomic(a,
               {OpKind::kCas, true, &a, nullptr, Buffering::kNone,
                std::max(sc_mark(success, 2), sc_mark(failure, 2))},
               loc);
  const std::uint64_t old = a.bits_;
  bool ok = old == expected;
  if (ok && weak && !aborting_ && choose_bool(BoolKind::kWeakCasFailure)) ok = false;
  if (aborting_) {
    if (ok) a.bits_ = desired;
  } else if (ok) {
    rmw_clocks(a, success);
    a.bits_ = desired;
    rmw_stored(a, success);
  } else if (c11()) {
    C11::read_latest(*this, a, failure);
  } else {
    Thread& t = me();
    if (is_acquire(failure)) {
      t.vc.join(a.clock_);
    } else {
      t.acq_pending.join(a.clock_);
    }
  }
  if (trace_ != nullptr && !aborting_) {
    record(OpKind::kCas, ok ? success : failure, true, a, old, desired, 2,
           ok ? "ok" : (old == expected ? "spurious failure" : "failed"), loc);
  }
  if (!ok) expected = old;
  return ok;
}

void Engine::fence(std::memory_order mo, const std::source_location& loc) {
  mo = order_at(OpKind::kFence, mo, loc);  // relaxed (the audit's "no fence"): no effect below
  // A seq_cst fence is an MFENCE: the buffer drains first; the others compile to nothing.
  point({OpKind::kFence, false, nullptr, nullptr,
         tso() && mo == std::memory_order_seq_cst ? Buffering::kDrainOwn : Buffering::kNone,
         sc_mark(mo, 2)},
        loc);
  if (aborting_) return;
  Thread& t = me();
  if (is_acquire(mo)) t.vc.join(t.acq_pending);
  if (c11()) C11::fence(*this, mo);  // after the acquire half: a seq_cst fence is acq_rel too
  if (is_release(mo)) {
    t.rel_fence = t.vc;
    tick(cur_);
  }
  if (trace_ != nullptr) {
    record_obj(OpKind::kFence, ObjKind::kNone, 0, nullptr, loc);
    trace_->back().has_mo = true;
    trace_->back().mo = mo;
  }
}

void Engine::wait(const AtomicState& a, std::uint64_t old, std::memory_order mo,
                  const std::source_location& loc) {
  mo = order_at(OpKind::kWait, mo, loc);
  for (;;) {
    begin_atomic(a, {OpKind::kWait, false, &a, nullptr}, loc);
    if (aborting_) return;
    Thread& t = me();
    if (c11()) {
      C11::read_latest(*this, a, mo);
    } else if (is_acquire(mo)) {
      t.vc.join(a.clock_);
    } else {
      t.acq_pending.join(a.clock_);
    }
    const std::uint64_t seen = visible(a);
    const bool changed = seen != old;
    if (trace_ != nullptr) {
      record(OpKind::kWait, mo, true, a, seen, 0, 1, changed ? "returns" : "blocks", loc);
    }
    if (changed) return;
    t.waiting_on = &a;
    t.woken = false;
    t.wait_seq = ++wait_seq_;
    point({OpKind::kWaitBlocked, false, &a, nullptr}, loc);
    if (aborting_) return;
  }
}

void Engine::wake(const void* obj, bool all) {
  std::array<unsigned, kMaxThreads> waiters{};
  unsigned n = 0;
  for (unsigned i = 0; i < nthreads_; ++i) {
    const Thread& t = threads_[i];
    if (t.state == TState::kLive && t.waiting_on == obj && !t.woken) waiters[n++] = i;
  }
  if (n == 0) return;
  // notify_one wakes any one of the waiters: the choice is the search's (in the order they
  // began to wait, so the choice means the same in every execution with those waiters).
  std::sort(waiters.begin(), waiters.begin() + n,
            [this](unsigned a, unsigned b) { return threads_[a].wait_seq < threads_[b].wait_seq; });
  const unsigned from = all ? 0 : choose_waiter(n);
  const unsigned to = all ? n : from + 1;
  for (unsigned k = from; k < to; ++k) {
    Thread& t = threads_[waiters[k]];
    t.woken = true;
    t.waiting_on = nullptr;
    if (report_steps_) chooser_->on_wake(static_cast<unsigned>(cur_), waiters[k]);
  }
}

void Engine::notify(const AtomicState& a, bool all, const std::source_location& loc) {
  begin_atomic(a, {OpKind::kNotify, true, &a, nullptr}, loc);
  if (aborting_) return;
  wake(&a, all);
  if (trace_ != nullptr) record(OpKind::kNotify, {}, false, a, 0, 0, 0, all ? "all" : "one", loc);
}

// ---- spin-loop parking -------------------------------------------------------------------

void Engine::unpark(const AtomicState* a) {
  for (unsigned i = 0; i < nthreads_; ++i) {
    Thread& t = threads_[i];
    if (!t.parked) continue;
    for (const auto& r : t.prev_reads) {
      if (r.first != a) continue;
      t.parked = false;
      break;
    }
  }
}

void Engine::stuck(bool unwind) {
  std::string spinning;
  for (unsigned i = 0; i < nthreads_; ++i) {
    const Thread& t = threads_[i];
    if (t.state != TState::kLive || !t.parked) continue;  // parked: spun futilely too long
    spinning += fmt::format("; t{} re-reads", i);
    for (const auto& [a, v] : t.prev_reads) spinning += fmt::format(" atomic#{} (= {})", a->id_, v);
  }
  if (spinning.empty()) {
    fail(FailureKind::kDeadlock, deadlock_message(), unwind);
    return;
  }
  fail(FailureKind::kLivelock,
       fmt::format("livelock: every unfinished thread spins or is blocked, and in {} rounds of "
                   "spinning no thread changed what the spinning ones wait for{}",
                   kMaxFutileWakeups, spinning),
       unwind);
}

// ---- TSO store buffers ------------------------------------------------------------------

std::uint64_t Engine::visible(const AtomicState& a) const {
  const auto& buf = buffers_[static_cast<unsigned>(cur_)];
  for (auto it = buf.rbegin(); it != buf.rend(); ++it) {
    if (it->a == &a) return it->v;
  }
  return a.bits_;
}

void Engine::flush_one(unsigned tid) {
  auto& buf = buffers_[tid];
  Buffered& b = buf.front();
  b.a->bits_ = b.v;
  b.a->clock_ = b.clock;
  unpark(b.a);
  if (trace_ != nullptr) {
    const int saved = cur_;
    cur_ = static_cast<int>(tid);
    record(OpKind::kFlush, {}, false, *b.a, b.v, 0, 1, nullptr, b.loc);
    cur_ = saved;
  }
  buf.pop_front();
  if (buf.empty()) {
    buffered_.reset(kFlushBase + tid);
  } else {
    pending_[kFlushBase + tid] = {OpKind::kFlush, true, buf.front().a, nullptr};
  }
}

void Engine::flush(unsigned tid, bool decided) {
  if (report_steps_) chooser_->on_flush(tid, pending_[kFlushBase + tid], decided);
  flush_one(tid);
}

// ---- mutexes ----------------------------------------------------------------------------

void Engine::lock(const MutexState& m, ObjKind kind, const std::source_location& loc) {
  touch(m, kind);
  if (!aborting_ && m.owner_ == cur_) {
    fail(FailureKind::kDeadlock,
         fmt::format("deadlock: t{} locks {}#{} that it already holds", cur_, kind_prefix(kind),
                     m.id_),
         true);
  }
  if (!aborting_ && m.readers_.test(static_cast<unsigned>(cur_))) {
    fail(FailureKind::kDeadlock,
         fmt::format("deadlock: t{} locks {}#{} exclusively while it holds it shared (a "
                     "read-to-write upgrade waits for itself)",
                     cur_, kind_prefix(kind), m.id_),
         true);
  }
  point({OpKind::kLock, true, &m, nullptr}, loc);
  if (aborting_) return;
  m.owner_ = cur_;
  me().vc.join(m.clock_);
  me().vc.join(m.read_clock_);
  if (trace_ != nullptr) record_obj(OpKind::kLock, kind, m.id_, nullptr, loc);
}

bool Engine::try_lock(const MutexState& m, ObjKind kind, const std::source_location& loc) {
  touch(m, kind);
  point({OpKind::kTryLock, true, &m, nullptr}, loc);
  if (aborting_) return false;
  const bool ok = m.owner_ < 0 && m.readers_.empty();
  if (ok) {
    m.owner_ = cur_;
    me().vc.join(m.clock_);
    me().vc.join(m.read_clock_);
  }
  if (trace_ != nullptr) record_obj(OpKind::kTryLock, kind, m.id_, ok ? "ok" : "failed", loc);
  return ok;
}

void Engine::unlock(const MutexState& m, ObjKind kind, const std::source_location& loc) {
  touch(m, kind);
  point({OpKind::kUnlock, true, &m, nullptr}, loc);
  if (aborting_) {
    if (m.owner_ == cur_) m.owner_ = -1;
    return;
  }
  if (m.owner_ != cur_) {
    misuse(m.owner_ < 0 ? fmt::format("t{} unlocks {}#{}, which is not locked", cur_,
                                      kind_prefix(kind), m.id_)
                        : fmt::format("t{} unlocks {}#{}, which t{} holds", cur_, kind_prefix(kind),
                                      m.id_, m.owner_));
    return;
  }
  m.clock_ = me().vc;
  tick(cur_);
  m.owner_ = -1;
  if (trace_ != nullptr) record_obj(OpKind::kUnlock, kind, m.id_, nullptr, loc);
}

void Engine::lock_shared(const MutexState& m, const std::source_location& loc) {
  touch(m, ObjKind::kSharedMutex);
  if (!aborting_ && (m.owner_ == cur_ || m.readers_.test(static_cast<unsigned>(cur_)))) {
    fail(FailureKind::kDeadlock,
         fmt::format("deadlock: t{} locks shared_mutex#{} that it already holds", cur_, m.id_),
         true);
  }
  point({OpKind::kLockShared, true, &m, nullptr}, loc);
  if (aborting_) return;
  m.readers_.set(static_cast<unsigned>(cur_));
  me().vc.join(m.clock_);
  if (trace_ != nullptr)
    record_obj(OpKind::kLockShared, ObjKind::kSharedMutex, m.id_, nullptr, loc);
}

bool Engine::try_lock_shared(const MutexState& m, const std::source_location& loc) {
  touch(m, ObjKind::kSharedMutex);
  point({OpKind::kTryLockShared, true, &m, nullptr}, loc);
  if (aborting_) return false;
  const bool ok = m.owner_ < 0 && !m.readers_.test(static_cast<unsigned>(cur_));
  if (ok) {
    m.readers_.set(static_cast<unsigned>(cur_));
    me().vc.join(m.clock_);
  }
  if (trace_ != nullptr) {
    record_obj(OpKind::kTryLockShared, ObjKind::kSharedMutex, m.id_, ok ? "ok" : "failed", loc);
  }
  return ok;
}

void Engine::unlock_shared(const MutexState& m, const std::source_location& loc) {
  touch(m, ObjKind::kSharedMutex);
  point({OpKind::kUnlockShared, true, &m, nullptr}, loc);
  const auto me_id = static_cast<unsigned>(cur_);
  if (aborting_) {
    m.readers_.reset(me_id);
    return;
  }
  if (!m.readers_.test(me_id)) {
    misuse(fmt::format("t{} unlock_shared()s shared_mutex#{}, which it does not hold shared", cur_,
                       m.id_));
    return;
  }
  m.read_clock_.join(me().vc);
  tick(cur_);
  m.readers_.reset(me_id);
  if (trace_ != nullptr) {
    record_obj(OpKind::kUnlockShared, ObjKind::kSharedMutex, m.id_, nullptr, loc);
  }
}

// ---- condition variables ----------------------------------------------------------------

bool Engine::cv_wait(const CondVarState& cv, const MutexState& m, bool may_time_out,
                     const std::source_location& loc) {
  touch(cv, ObjKind::kCondVar);
  touch(m, ObjKind::kMutex);
  if (!aborting_ && m.owner_ != cur_) {
    misuse(fmt::format("t{} waits on condvar#{} without holding its mutex", cur_, cv.id_));
    if (may_throw()) unwind_now();
    return true;
  }
  point({OpKind::kCvWait, true, &cv, &m}, loc);
  if (aborting_) return true;
  // A spurious wake-up is modelled as a wait that returns at once: the mutex is still released
  // and re-acquired, so other threads may run in between. A timed wait may time out at once
  // (time passes: it yields before it re-acquires), or time out later, when nothing else can
  // run (decide()).
  Thread& t = me();
  t.timed = may_time_out;
  t.timed_out = may_time_out && choose_bool(BoolKind::kTimeout);
  const bool spurious =
      !may_time_out && cfg_.max_spurious > 0 && choose_bool(BoolKind::kSpuriousWakeup);
  const bool returns = spurious || t.timed_out;
  m.clock_ = t.vc;
  tick(cur_);
  m.owner_ = -1;
  t.woken = returns;
  t.waiting_on = returns ? nullptr : &cv;
  t.wait_seq = ++wait_seq_;
  if (trace_ != nullptr) {
    record_obj(OpKind::kCvWait, ObjKind::kCondVar, cv.id_,
               t.timed_out ? "times out" : (spurious ? "spurious wake-up" : "blocks"), loc);
  }
  if (t.timed_out) {
    yield(OpKind::kYield, loc);
    if (aborting_) return true;
  }
  point({OpKind::kCvReacquire, true, &m, &cv}, loc);
  if (aborting_) return true;
  t.waiting_on = nullptr;
  t.timed = false;
  m.owner_ = cur_;
  t.vc.join(m.clock_);
  t.vc.join(m.read_clock_);
  if (trace_ != nullptr) {
    record_obj(OpKind::kCvReacquire, ObjKind::kMutex, m.id_, t.timed_out ? "timed out" : nullptr,
               loc);
  }
  return !t.timed_out;
}

void Engine::cv_notify(const CondVarState& cv, bool all, const std::source_location& loc) {
  touch(cv, ObjKind::kCondVar);
  point({OpKind::kCvNotify, true, &cv, nullptr}, loc);
  if (aborting_) return;
  wake(&cv, all);
  if (trace_ != nullptr)
    record_obj(OpKind::kCvNotify, ObjKind::kCondVar, cv.id_, all ? "all" : "one", loc);
}

// ---- threads ----------------------------------------------------------------------------

int Engine::spawn(std::function<void()> fn, const std::source_location& loc) {
  if (!aborting_ && nthreads_ == kMaxThreads) {
    fail(FailureKind::kMisuse,
         fmt::format("t{} creates a thread beyond the limit of {} threads per execution", cur_,
                     kMaxThreads),
         true);
  }
  point({OpKind::kSpawn, false, nullptr, nullptr}, loc);
  if (aborting_) return -1;
  const unsigned c = nthreads_++;
  Thread& ch = threads_[c];
  Thread& parent = me();
  ch.state = TState::kLive;
  ch.started = false;
  ch.reset();
  ch.vc = parent.vc;
  ch.vc.set(c, 1);
  if (c11()) C11::spawned(*this, c, static_cast<unsigned>(cur_));
  ch.fn = std::move(fn);
  pending_[c] = {OpKind::kStart, false, nullptr, nullptr};
  yield_wait_[c] = {};
  giving_way_.reset(c);
  tick(cur_);
  if (!stacks_[c]) stacks_[c] = std::make_unique<Stack>(cfg_.stack_size);
  make_context(ch.ctx, *stacks_[c], &Engine::fiber_entry, this);
  chooser_->on_spawn(static_cast<int>(c));
  if (trace_ != nullptr) record_obj(OpKind::kSpawn, ObjKind::kThread, c, nullptr, loc);
  return static_cast<int>(c);
}

void Engine::join(int tid, const std::source_location& loc) {
  if (tid < 0 || tid >= static_cast<int>(nthreads_)) return;
  Thread& target = threads_[static_cast<unsigned>(tid)];
  point({OpKind::kJoin, false, &target, nullptr}, loc);
  if (aborting_) return;
  me().vc.join(target.vc);
  if (c11()) C11::joined(*this, static_cast<unsigned>(cur_), static_cast<unsigned>(tid));
  if (trace_ != nullptr)
    record_obj(OpKind::kJoin, ObjKind::kThread, static_cast<std::uint32_t>(tid), nullptr, loc);
}

void Engine::yield(OpKind kind, const std::source_location& loc) {
  if (!aborting_ && cfg_.park_spins && cfg_.fair) {  // unfair: a spinner may run alone
    Thread& t = me();
    // The same loads, the same values, nothing else, and the values still current: another
    // iteration would do the same.
    t.parked = !t.acted && !t.reads.empty() && t.reads == t.prev_reads;
    for (const auto& [a, v] : t.reads) t.parked = t.parked && visible(*a) == v;
    t.prev_reads.swap(t.reads);
    t.reads.clear();
    t.acted = false;
  }
  // Under fairness the yield changes who may run next: it is dependent with every step.
  point({kind, cfg_.fair, nullptr, nullptr}, loc);
  if (trace_ != nullptr && !aborting_) record_obj(kind, ObjKind::kNone, 0, nullptr, loc);
}

// ---- cells ------------------------------------------------------------------------------

bool Engine::race(const CellState& c, bool is_write, int other, bool other_write) {
  return note(
      FailureKind::kDataRace,
      fmt::format("data race on cell#{}: {} by t{} and {} by t{} are not ordered by "
                  "happens-before",
                  c.id_, other_write ? "write" : "read", other, is_write ? "write" : "read", cur_),
      false);
}

void Engine::cell_read(const CellState& c, const std::source_location& loc) {
  if (cfg_.preempt_cells) point({OpKind::kCellRead, false, &c, nullptr}, loc);
  if (aborting_) return;
  touch(c, ObjKind::kCell);
  if (freed_blocks_ != 0 && use_after_free(&c, fmt::format("a read of cell#{}", c.id_))) return;
  if (report_steps_) chooser_->on_cell(static_cast<unsigned>(cur_), &c, false);
  const Thread& t = me();
  const int w = c.write_tid_;
  if (w != cur_ && c.write_clock_ > t.vc[static_cast<unsigned>(w)]) {
    if (trace_ != nullptr) record_obj(OpKind::kCellRead, ObjKind::kCell, c.id_, "RACE", loc);
    if (!race(c, false, w, true)) return;
  }
  c.reads_.set(static_cast<unsigned>(cur_), t.vc[static_cast<unsigned>(cur_)]);
  if (trace_ != nullptr) record_obj(OpKind::kCellRead, ObjKind::kCell, c.id_, nullptr, loc);
}

void Engine::cell_write(const CellState& c, const std::source_location& loc) {
  if (cfg_.preempt_cells) point({OpKind::kCellWrite, true, &c, nullptr}, loc);
  if (aborting_) return;
  touch(c, ObjKind::kCell);
  if (freed_blocks_ != 0 && use_after_free(&c, fmt::format("a write of cell#{}", c.id_))) return;
  if (report_steps_) chooser_->on_cell(static_cast<unsigned>(cur_), &c, true);
  const Thread& t = me();
  const auto [other, other_write] = write_conflict(c);
  if (other >= 0) {
    if (trace_ != nullptr) record_obj(OpKind::kCellWrite, ObjKind::kCell, c.id_, "RACE", loc);
    if (!race(c, true, other, other_write)) return;
  }
  c.write_tid_ = static_cast<std::uint8_t>(cur_);
  c.write_clock_ = t.vc[static_cast<unsigned>(cur_)];
  c.reads_.clear();
  if (trace_ != nullptr) record_obj(OpKind::kCellWrite, ObjKind::kCell, c.id_, nullptr, loc);
}

std::pair<int, bool> Engine::write_conflict(const CellState& c) const {
  const Thread& t = threads_[static_cast<unsigned>(cur_)];
  const int w = c.write_tid_;
  if (w != cur_ && c.write_clock_ > t.vc[static_cast<unsigned>(w)]) return {w, true};
  for (unsigned r = 0; r < nthreads_; ++r) {
    if (static_cast<int>(r) != cur_ && c.reads_[r] > t.vc[r]) {
      return {static_cast<int>(r), false};
    }
  }
  return {-1, false};
}

void Engine::cell_init(const CellState& c) {
  if (aborting_ || cur_ < 0) return;
  c.epoch_ = 0;  // a new object, even where an old one lived
  touch(c, ObjKind::kCell);
  c.write_tid_ = static_cast<std::uint8_t>(cur_);
  c.write_clock_ = me().vc[static_cast<unsigned>(cur_)];
}

// ---- the checker heap -------------------------------------------------------------------

void* Engine::allocate(std::size_t size, std::size_t align, const char* type) {
  void* p = nullptr;
  if (cfg_.reuse_freed) {
    // The oldest freed block first: a LIFO structure then gets back an address it gave up
    // earlier while a newer one is still referenced, the ABA shape.
    for (auto it = blocks_.begin(); it != blocks_.end(); ++it) {
      if (!it->freed || it->size != size || it->align != align) continue;
      it->freed = false;
      it->type = type;
      it->alloc_tid = static_cast<std::uint8_t>(cur_);
      --freed_blocks_;
      p = it->p;
      break;
    }
  }
  if (p == nullptr) {
    p = carve(size, align);
    blocks_.push_back({p, size, align, type, false, static_cast<std::uint8_t>(cur_), 0});
  }
  // A fresh block holds nothing anyone touched; with reuse, which block a thread gets depends
  // on the order of the frees and allocations of all threads.
  if (report_steps_ && cfg_.reuse_freed && !aborting_ && cur_ >= 0)
    chooser_->on_heap(static_cast<unsigned>(cur_), p, size, true);
  if (trace_ != nullptr && !aborting_) {
    record_obj(OpKind::kAlloc, ObjKind::kNone, 0, type, {}, reinterpret_cast<std::uintptr_t>(p), 1);
    trace_->back().vkind = ValueKind::kPointer;
  }
  return p;
}

Engine::Block* Engine::find_block(const void* p) {
  for (auto it = blocks_.rbegin(); it != blocks_.rend(); ++it) {
    if (it->p == p) return &*it;
  }
  return nullptr;
}

const Engine::Block* Engine::freed_block(const void* p) const {
  const auto* c = static_cast<const char*>(p);
  for (const Block& b : blocks_) {
    const auto* lo = static_cast<const char*>(b.p);
    if (b.freed && c >= lo && c < lo + b.size) return &b;
  }
  return nullptr;
}

bool Engine::use_after_free(const void* p, std::string_view what) {
  const Block* b = freed_block(p);
  if (b == nullptr) return false;
  // Quarantined memory stays mapped: an execution that runs on makes the access.
  return !note(FailureKind::kUseAfterFree,
               fmt::format("use after free: t{} makes {} inside a {}-byte block ({}) that t{} "
                           "freed",
                           cur_, what, b->size, b->type, b->free_tid),
               may_throw());
}

bool Engine::begin_free(const void* p, const char* type) {
  Block* b = find_block(p);
  if (aborting_) return b != nullptr && !b->freed;
  if (b == nullptr) {
    fail(FailureKind::kDoubleFree,
         fmt::format("invalid free: t{} frees a {} that the checker heap did not allocate "
                     "(create it with Sync::create)",
                     cur_, type),
         false);
    return false;
  }
  if (b->freed) {
    note(FailureKind::kDoubleFree,
         fmt::format("double free: t{} frees a {}-byte block ({}) that t{} already freed", cur_,
                     b->size, type, b->free_tid),
         false);
    return false;  // not freed again
  }
  // A free is a write to the whole block: it races with unordered accesses to its cells.
  const auto* lo = static_cast<const char*>(b->p);
  for (const CellState* c : cells_) {
    const auto* a = reinterpret_cast<const char*>(c);
    if (a < lo || a >= lo + b->size) continue;
    const auto [other, other_write] = write_conflict(*c);
    if (other < 0) continue;
    if (!note(FailureKind::kDataRace,
              fmt::format("data race: t{} frees a {}-byte block ({}) while the {} of its cell#{} "
                          "by t{} is not ordered before the free by happens-before (a free is a "
                          "write)",
                          cur_, b->size, type, other_write ? "write" : "read", c->id_, other),
              false)) {
      return false;
    }
    break;  // one report per free
  }
  return true;
}

void Engine::end_free(const void* p, const std::source_location& loc) {
  Block* b = find_block(p);
  if (b == nullptr || b->freed) return;
  b->freed = true;
  b->free_tid = static_cast<std::uint8_t>(cur_ < 0 ? 0 : cur_);
  ++freed_blocks_;
  if (report_steps_ && !aborting_ && cur_ >= 0)
    chooser_->on_heap(static_cast<unsigned>(cur_), p, b->size, cfg_.reuse_freed);
  if (trace_ != nullptr && !aborting_) {
    record_obj(OpKind::kFree, ObjKind::kNone, 0, b->type, loc, reinterpret_cast<std::uintptr_t>(p),
               1);
    trace_->back().vkind = ValueKind::kPointer;
  }
}

void* Engine::carve(std::size_t size, std::size_t align) {
  const std::span<std::byte> region = heap_region();
  const auto base = reinterpret_cast<std::uintptr_t>(region.data());
  const std::uintptr_t at = (base + heap_used_ + align - 1) & ~(std::uintptr_t{align} - 1);
  if (at + size > base + region.size()) {
    throw std::length_error("cpb::check: the checker heap is exhausted (256 MiB per execution)");
  }
  heap_used_ = at + size - base;
  return reinterpret_cast<void*>(at);
}

void Engine::release_heap() {
  blocks_.clear();
  freed_blocks_ = 0;
  heap_used_ = 0;
}

// ---- tracing ----------------------------------------------------------------------------

void Engine::record(OpKind kind, std::memory_order mo, bool has_mo, const AtomicState& a,
                    std::uint64_t v1, std::uint64_t v2, std::uint8_t nvalues, const char* note,
                    const std::source_location& loc) {
  Event e;
  e.seq = static_cast<std::uint32_t>(trace_->size());
  e.tid = static_cast<std::uint8_t>(cur_);
  e.kind = kind;
  e.has_mo = has_mo;
  e.mo = mo;
  e.okind = ObjKind::kAtomic;
  e.oid = a.id_;
  e.vkind = a.vkind_;
  e.nvalues = nvalues;
  e.value = v1;
  e.value2 = v2;
  e.note = note;
  e.loc = loc;
  if (c11()) C11::annotate(*this, e);
  trace_->push_back(e);
}

void Engine::record_obj(OpKind kind, ObjKind okind, std::uint32_t oid, const char* note,
                        const std::source_location& loc, std::uint64_t value,
                        std::uint8_t nvalues) {
  Event e;
  e.seq = static_cast<std::uint32_t>(trace_->size());
  e.tid = static_cast<std::uint8_t>(cur_ < 0 ? 0 : cur_);
  e.kind = kind;
  e.okind = okind;
  e.oid = oid;
  e.vkind = ValueKind::kUnsigned;
  e.nvalues = nvalues;
  e.value = value;
  e.note = note;
  e.loc = loc;
  trace_->push_back(e);
}

}  // namespace cpb::check::detail
