// SPDX-License-Identifier: Apache-2.0
/// @file
/// Global-queue pool: one bounded FIFO queue behind one mutex, and a condition variable on which
/// idle workers sleep. The classic design (Java's `ThreadPoolExecutor`, `boost::asio`'s
/// scheduler): simple, fair (FIFO), and it bounds memory. What happens when the queue is full is
/// a policy, `Rejection`: block the submitter until there is room (the default), run the task in
/// the submitting thread, return false, or throw `PoolFull`. Tasks have a `Priority`: a worker
/// takes the oldest task of the highest level that has one (FIFO within a level; a steady
/// stream of high-priority tasks starves the lower levels, by design). The bound counts every
/// level.
///
/// A worker that submits into its own full pool never blocks (that could deadlock the pool when
/// every worker did it): under `kBlock` it runs the task itself, as under `kCallerRuns`.
/// Shutdown: `shutdown(Shutdown::kDrain)` (what the destructor does) runs every queued task and
/// the tasks they submit; `shutdown(Shutdown::kCancel)` lets running tasks finish and destroys
/// the queued ones (and those the running ones submit) without running them. Either way, a
/// submission from outside the pool after it began throws `PoolClosed`. A task must not throw (an
/// escaping exception calls `std::terminate`, as in a `std::thread`), and must not call `wait_idle`
/// on its own pool (it would wait for itself).
///
/// Progress: blocking (every operation takes the one mutex; idle workers sleep in the kernel).
/// Memory ordering: everything shared is guarded by the mutex; its lock/unlock orders a task's
/// submission before its execution, and the execution before the `wait_idle` that sees the
/// pending count reach zero.
/// When to use: a modest number of coarse tasks (≳ 10 µs each), a need for FIFO order or for
/// back-pressure (the bound). When not to use: many fine-grained tasks on many cores, where the
/// one lock becomes the bottleneck; prefer work stealing there.
/// Reference: Goetz et al., "Java Concurrency in Practice" (2006), ch. 8 (saturation policies);
/// `java.util.concurrent.ThreadPoolExecutor`.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/thread_pool/shutdown.hpp"
#include "patterns/thread_pool/task.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::thread_pool {

/// What `submit` does when a bounded pool's queue is full.
enum class Rejection {
  kBlock,       ///< wait until a worker takes a task (back-pressure on the submitter)
  kCallerRuns,  ///< run the task in the submitting thread before `submit` returns
  kReject,      ///< drop the task: `submit` returns false
  kThrow,       ///< drop the task: `submit` throws `PoolFull`
};

/// Thrown by `submit` on a full queue under `Rejection::kThrow`. The task was not queued.
class PoolFull : public std::runtime_error {
 public:
  PoolFull() : std::runtime_error("thread pool queue is full") {}
};

/// The levels of `GlobalQueuePool::submit`, highest first.
enum class Priority : std::uint8_t { kHigh, kNormal, kLow };
inline constexpr std::size_t kPriorityLevels = 3;

template <class S = sync::Real>
class GlobalQueuePool {
 public:
  static constexpr std::string_view kName = "global_queue_pool";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr std::size_t kDefaultCapacity = 65536;

  /// Starts `workers` threads (0 means 1). The queue holds at most `capacity` tasks (0 means 1).
  explicit GlobalQueuePool(std::size_t workers, std::size_t capacity = kDefaultCapacity,
                           Rejection when_full = Rejection::kBlock)
      : capacity_(std::max<std::size_t>(capacity, 1)), when_full_(when_full) {
    const std::size_t n = std::max<std::size_t>(workers, 1);
    threads_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this, i] { work(i); });
  }

  /// `shutdown(Shutdown::kDrain)`, unless the pool was shut down already.
  ~GlobalQueuePool() { shutdown(Shutdown::kDrain); }

  /// Stops the pool (see the file comment for what happens to queued tasks), then joins the
  /// workers. Returns how many tasks were cancelled (0 when draining, or when already stopped).
  std::size_t shutdown(Shutdown how) {
    if (threads_.empty()) return 0;
    {
      std::lock_guard lk(m_);
      State& st = state_.get();
      st.stop = true;
      st.cancel = how == Shutdown::kCancel;
    }
    not_empty_.notify_all();
    not_full_.notify_all();  // blocked submitters from outside now throw PoolClosed
    for (auto& t : threads_) t.join();
    threads_.clear();
    std::lock_guard lk(m_);
    return state_.get().cancelled;
  }

  GlobalQueuePool(const GlobalQueuePool&) = delete;
  GlobalQueuePool& operator=(const GlobalQueuePool&) = delete;

  /// Queues `f` to run once on a worker, at `priority`. Returns true when the task was queued
  /// or (caller-runs) already ran; false when it was rejected under `Rejection::kReject`.
  /// @throws PoolFull when the queue is full under `Rejection::kThrow`.
  /// @throws PoolClosed when called from outside the pool after `shutdown` began.
  template <class F>
  bool submit(F&& f, Priority priority = Priority::kNormal) {
    detail::Task task(std::forward<F>(f));
    const bool own_worker = detail::current_worker<S>().pool == this;
    std::unique_lock lk(m_);
    State& st = state_.get();
    if (st.stop && !own_worker) throw PoolClosed();
    if (st.queued >= capacity_) {
      switch (own_worker && when_full_ == Rejection::kBlock ? Rejection::kCallerRuns : when_full_) {
        case Rejection::kBlock:
          ++st.blocked;
          not_full_.wait(lk, [&] { return st.queued < capacity_ || st.stop; });
          --st.blocked;
          if (st.stop) throw PoolClosed();
          break;
        case Rejection::kCallerRuns:
          lk.unlock();
          task();
          return true;
        case Rejection::kReject:
          return false;
        case Rejection::kThrow:
          throw PoolFull();
      }
    }
    st.queues[static_cast<std::size_t>(priority)].push_back(std::move(task));
    ++st.queued;
    ++st.pending;
    const bool wake = st.sleeping > 0;
    lk.unlock();
    if (wake) not_empty_.notify_one();
    return true;
  }

  /// Blocks until every task submitted so far has finished. Not from one of this pool's tasks.
  void wait_idle() {
    std::unique_lock lk(m_);
    State& st = state_.get();
    ++st.idle_waiters;
    idle_.wait(lk, [&] { return st.pending == 0; });
    --st.idle_waiters;
  }

  [[nodiscard]] std::size_t capacity() const { return capacity_; }

 private:
  struct State {
    std::array<detail::TaskRing, kPriorityLevels> queues;  // one FIFO per Priority
    std::size_t queued = 0;                                // tasks in queues
    std::size_t pending = 0;                               // queued + running
    std::size_t cancelled = 0;                             // destroyed unrun by Shutdown::kCancel
    std::size_t sleeping = 0;                              // workers waiting on not_empty_
    std::size_t blocked = 0;                               // submitters waiting on not_full_
    std::size_t idle_waiters = 0;                          // threads in wait_idle
    bool stop = false;
    bool cancel = false;
  };

  // Not noexcept: under the model checker an abandoned execution unwinds the worker.
  void work(std::size_t index) {
    detail::current_worker<S>() = {this, index};
    std::unique_lock lk(m_);
    State& st = state_.get();
    for (;;) {
      while (st.queued == 0) {
        if (st.stop) return;
        ++st.sleeping;
        not_empty_.wait(lk);
        --st.sleeping;
      }
      auto level = st.queues.begin();
      while (level->empty()) ++level;
      detail::Task task = level->pop_front();
      --st.queued;
      const bool unblock = st.blocked > 0;
      const bool cancel = st.cancel;
      if (cancel) ++st.cancelled;
      lk.unlock();
      if (unblock) not_full_.notify_one();
      if (!cancel) task();
      task.reset();  // what the task captured is released before wait_idle can return
      lk.lock();
      if (--st.pending == 0 && st.idle_waiters > 0) idle_.notify_all();
    }
  }

  const std::size_t capacity_;
  const Rejection when_full_;
  typename S::mutex m_;
  typename S::condition_variable not_empty_;  // workers: a task was queued, or stop
  typename S::condition_variable not_full_;   // blocked submitters: a slot was freed
  typename S::condition_variable idle_;       // wait_idle: pending reached zero
  typename S::template cell<State> state_;    // guarded by m_
  std::vector<typename S::thread> threads_;   // last: started after everything above exists
};

}  // namespace cpb::patterns::thread_pool
