// SPDX-License-Identifier: Apache-2.0
/// @file
/// Work-stealing pool: every worker has its own Chase-Lev deque (lock-free, `ChaseLevDeque`),
/// where the tasks that its running task submits go. The owner takes the newest (LIFO: what it
/// just pushed is still in its cache); an idle worker steals the oldest of another's (the biggest
/// piece of work in fork-join code). Tasks submitted from outside the pool go round robin into
/// per-worker inboxes (a `TaskRing` behind a mutex, FIFO), which thieves also search. Idle
/// workers search a little (`sync::Backoff`: pause, then yield), then park on a condition
/// variable, so an idle pool costs no CPU.
///
/// Waking without losing tasks or waking everyone (as in Tokio's scheduler): `queued_` counts the
/// queued tasks (incremented before the push, decremented after the pop, so it never reads
/// lower than the real count). `spinning_` counts workers searching; `sleepers_` those parked. A
/// submitter wakes one sleeper only if nobody is searching; a searcher that finds a task and was
/// the last searcher wakes the next sleeper if tasks remain; a woken worker starts as a searcher.
/// A worker parks only while `queued_` is zero, checked under the park mutex.
/// Shutdown: `shutdown(Shutdown::kDrain)` (what the destructor does) runs every pending task and
/// the tasks they submit; `shutdown(Shutdown::kCancel)` lets running tasks finish and destroys
/// every task not yet started, those they submit included, without running it. Workers exit
/// once no task is pending. A task must not throw (an escaping exception calls `std::terminate`)
/// and must not call `wait_idle` on its own pool.
///
/// Progress: blocking (inbox mutexes; idle workers sleep). The local deques are lock-free.
/// Memory ordering: a local task's hand-over is ordered by the deque (see chase_lev_deque.hpp),
/// an external one's by its inbox mutex. The wake-up protocol is the store-load (Dekker)
/// pattern, all seq_cst: a submitter increments `queued_` then reads `spinning_` and
/// `sleepers_`; a parking worker decrements `spinning_`, increments `sleepers_`, then reads
/// `queued_` (under the park mutex), so one of them sees the other. The relaxed operations
/// (round-robin cursor, inbox size hints) carry no ordering; each says why. `wait_idle` is a
/// `PendingCounter` (see there).
/// When to use: many small tasks, and tasks that spawn tasks (fork-join, recursive
/// decomposition): most operations touch only the worker's own deque. When not to use: when
/// tasks must start in submission order (a worker runs its newest task first).
/// Reference: Blumofe & Leiserson, "Scheduling Multithreaded Computations by Work Stealing",
/// JACM 1999; Chase & Lev, SPAA 2005; Lê et al., PPoPP 2013; Tokio's scheduler
/// (tokio-rs/tokio, `runtime/scheduler/multi_thread/idle.rs`: "searching" workers).
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/thread_pool/chase_lev_deque.hpp"
#include "patterns/thread_pool/pending_counter.hpp"
#include "patterns/thread_pool/shutdown.hpp"
#include "patterns/thread_pool/task.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::thread_pool {

template <class S = sync::Real>
class WorkStealingPool {
 public:
  static constexpr std::string_view kName = "work_stealing_pool";
  static constexpr Progress kProgress = Progress::kBlocking;

  /// Starts `workers` threads (0 means 1).
  explicit WorkStealingPool(std::size_t workers)
      : n_(std::max<std::size_t>(workers, 1)), slots_(std::make_unique<Slot[]>(n_)) {
    threads_.reserve(n_);
    for (std::size_t i = 0; i < n_; ++i) threads_.emplace_back([this, i] { work(i); });
  }

  /// `shutdown(Shutdown::kDrain)`, unless the pool was shut down already.
  ~WorkStealingPool() { shutdown(Shutdown::kDrain); }

  /// Stops the pool: later submissions from outside it throw `PoolClosed`. `kDrain` runs every
  /// pending task and what they submit; `kCancel` destroys each task not yet started (and each
  /// that the running ones submit) without running it. Then joins the workers. Returns how many
  /// tasks were cancelled (0 when draining, or when the pool was shut down already).
  std::size_t shutdown(Shutdown how) {
    if (threads_.empty()) return 0;
    {
      std::lock_guard lk(park_m_);
      if (how == Shutdown::kCancel) cancel_.store(true);
      stop_.store(true);
    }
    park_cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    // Relaxed: the joins above ordered every worker's increment before this read.
    return cancelled_.load(std::memory_order_relaxed);
  }

  WorkStealingPool(const WorkStealingPool&) = delete;
  WorkStealingPool& operator=(const WorkStealingPool&) = delete;

  /// Queues `f` to run once on a worker: on the caller's own deque when the caller is one of
  /// this pool's workers, else in the next worker's inbox, round robin.
  /// @throws PoolClosed when called from outside the pool after `shutdown`.
  template <class F>
  void submit(F&& f) {
    detail::Task task(std::forward<F>(f));
    const detail::WorkerContext& me = detail::current_worker<S>();
    pending_.add();  // before reading stop_: a worker that exits has seen pending_ at zero
    if (me.pool != this && stop_.load()) {
      pending_.finish();
      throw PoolClosed();
    }
    queued_.fetch_add(1);  // before the push: queued_ never reads lower than the real count
    if (me.pool == this) {
      slots_[me.index].local.push(S::template create<detail::Task>(std::move(task)));
    } else {
      // Relaxed: the cursor only spreads tasks over the inboxes; the inbox mutex orders the task.
      Slot& slot = slots_[next_.fetch_add(1, std::memory_order_relaxed) % n_];
      std::lock_guard lk(slot.m);
      auto& inbox = slot.inbox.get();
      inbox.push_back(std::move(task));
      // Relaxed: a hint for thieves (see pop_inbox); the mutex orders the inbox itself.
      slot.inbox_size.store(inbox.size(), std::memory_order_relaxed);
    }
    if (spinning_.load() == 0 && sleepers_.load() > 0) wake_one();
  }

  /// Blocks until every task submitted so far has finished. Not from one of this pool's tasks.
  void wait_idle() { pending_.wait(); }

 private:
  struct alignas(64) Slot {
    ChaseLevDeque<detail::Task*, S> local;  // tasks this worker's tasks submitted
    typename S::mutex m;
    typename S::template cell<detail::TaskRing> inbox;       // guarded by m
    typename S::template atomic<std::size_t> inbox_size{0};  // inbox.size(), to peek without m
  };

  static constexpr int kSearchRounds = 16;

  // Not noexcept: under the model checker an abandoned execution unwinds the worker.
  void work(std::size_t self) {
    detail::current_worker<S>() = {this, self};
    std::uint64_t rng = 0x9E3779B97F4A7C15ULL * (self + 1);
    detail::Task task;
    for (;;) {
      if (find_task(self, rng, task) || search(self, rng, task)) {
        execute(task);
        continue;
      }
      if (stop_.load() && pending_.idle()) return;
      park();
      // A woken worker searches first, so that finding work wakes the next sleeper.
      if (search(self, rng, task)) execute(task);
    }
  }

  void execute(detail::Task& task) {  // not noexcept: see work()
    if (cancel_.load()) {
      // Relaxed: a count, read by shutdown() after joining this thread.
      cancelled_.fetch_add(1, std::memory_order_relaxed);
    } else {
      task();
    }
    task.reset();  // what the task captured is released before wait_idle can return
    if (pending_.finish() && stop_.load()) wake_all();  // shutdown() waits for this
  }

  /// Takes the newest task of our own deque, else the oldest of our inbox, else steals the
  /// oldest of another worker's deque or inbox.
  bool find_task(std::size_t self, std::uint64_t& rng, detail::Task& out) {
    if (take(slots_[self].local.take(), out) || pop_inbox(slots_[self], out)) return true;
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    const std::size_t start = static_cast<std::size_t>(rng % n_);
    for (std::size_t i = 0; i < n_; ++i) {
      const std::size_t victim = (start + i) % n_;
      if (victim == self) continue;
      if (take(slots_[victim].local.steal(), out) || pop_inbox(slots_[victim], out)) return true;
    }
    return false;
  }

  /// Moves a task taken from a deque into `out` and frees its node.
  bool take(std::optional<detail::Task*> node, detail::Task& out) {
    if (!node) return false;
    out = std::move(**node);
    S::template destroy<detail::Task>(*node);
    queued_.fetch_sub(1);
    return true;
  }

  bool pop_inbox(Slot& slot, detail::Task& out) {
    // Relaxed: only a hint. A stale zero skips an inbox that just got a task; no task is lost,
    // because a worker does not park while queued_ > 0 and will look again.
    if (slot.inbox_size.load(std::memory_order_relaxed) == 0) return false;
    {
      std::lock_guard lk(slot.m);
      auto& inbox = slot.inbox.get();
      if (inbox.empty()) return false;
      out = inbox.pop_front();
      // Relaxed: a hint, as above.
      slot.inbox_size.store(inbox.size(), std::memory_order_relaxed);
    }
    queued_.fetch_sub(1);
    return true;
  }

  /// Looks for work for a while with back-off, announced in `spinning_` so that submitters need
  /// not wake anyone meanwhile.
  bool search(std::size_t self, std::uint64_t& rng, detail::Task& out) {
    spinning_.fetch_add(1);
    sync::Backoff<S> backoff;
    bool found = false;
    for (int round = 0; round < kSearchRounds && !found; ++round) {
      found = find_task(self, rng, out);
      if (!found) backoff();
    }
    // The last searcher to find work hands the search on, so a burst wakes workers one by one.
    if (spinning_.fetch_sub(1) == 1 && found && queued_.load() > 0) wake_one();
    return found;
  }

  void park() {
    std::unique_lock lk(park_m_);
    sleepers_.fetch_add(1);
    park_cv_.wait(lk, [this] { return queued_.load() > 0 || (stop_.load() && pending_.idle()); });
    sleepers_.fetch_sub(1);
  }

  void wake_one() {
    if (sleepers_.load() == 0) return;
    std::lock_guard lk(park_m_);
    park_cv_.notify_one();
  }

  void wake_all() {
    std::lock_guard lk(park_m_);
    park_cv_.notify_all();
  }

  const std::size_t n_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) typename S::template atomic<std::size_t> next_{0};  // round-robin cursor
  alignas(64) typename S::template atomic<std::int64_t> queued_{0};
  typename S::template atomic<std::int32_t> spinning_{0};
  typename S::template atomic<std::int32_t> sleepers_{0};
  typename S::template atomic<bool> stop_{false};
  typename S::template atomic<bool> cancel_{false};
  typename S::template atomic<std::size_t> cancelled_{0};
  typename S::mutex park_m_;
  typename S::condition_variable park_cv_;
  detail::PendingCounter<S> pending_;
  std::vector<typename S::thread> threads_;  // last: started after everything above exists
};

}  // namespace cpb::patterns::thread_pool
