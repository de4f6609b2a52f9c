// SPDX-License-Identifier: Apache-2.0
/// @file
/// `ForkJoinPool`: an own work-stealing fork-join runtime (spawn / sync), help-first and
/// continuation-free like TBB. N worker threads each own a Chase-Lev deque of job pointers.
///
/// - `spawn(job)` pushes a job that lives on the caller's stack onto the calling worker's deque
///   (no allocation); `sync(job)` takes it back if no thief has (the fast path: the deque's
///   push and take, no other atomic read-modify-write) and runs it inline; if it was stolen,
///   the worker helps, stealing and running other jobs, until the thief sets the job's `done`
///   flag. `invoke(a, b)` is spawn(a), b(), sync(a).
/// - An exception thrown by a stolen job is stored in the job and rethrown by `sync`; one thrown
///   by a job run inline propagates from `sync` directly. `invoke` always joins `a` before it
///   rethrows, so no job outlives the frame it lives in.
/// - `run(root)` from an outside thread puts the root in an inbox (under the park mutex), wakes
///   a worker, and sleeps on a condition variable until a worker has run the root. Called from
///   one of the pool's own workers, it runs the root inline.
/// - Idle workers steal from random victims with `sync::Backoff` (pause, then yield) for
///   `kSearchRounds` rounds, then park on a condition variable. A spawn wakes one parked worker
///   when `sleepers_` reads non-zero; the waker claims the sleeper (decrements `sleepers_` and
///   leaves a token under the mutex), so a stream of spawns wakes each sleeper once, and the
///   wake-ups cascade as the woken workers spawn.
/// - The destructor stops and joins the workers. No `run` may be in progress then.
///
/// Progress: blocking (the outside caller of `run` sleeps; idle workers park). The spawn and
/// sync fast paths are wait-free except when the deque grows.
/// Memory ordering: the deque's (Lê et al.; see patterns/thread_pool/chase_lev_deque.hpp)
/// publishes a job to its thief. A stolen job's `done` flag is stored with release after the
/// job ran (and its exception, if any, was stored) and loaded with acquire by `sync`: the job's
/// effects happen before `sync` returns. The read of `sleepers_` in `spawn` is relaxed: a hint.
/// A spawn that misses a worker going to sleep costs parallelism, never progress, because the
/// spawner runs its own job in `sync` if nobody took it; the next spawn wakes the sleeper.
/// A parking worker publishes itself in `sleepers_` and then looks at the deques and the inbox,
/// all under the park mutex, which also orders the inbox, tokens and stop flag.
/// When to use: recursive divide and conquer with fine tasks (fib, sorting, tree search), where
/// a task's spawn and join must cost tens of nanoseconds. When not to use: independent
/// fire-and-forget tasks (a thread pool), or blocking tasks (a blocked worker holds its jobs).
/// References: Blumofe & Leiserson, JACM 1999 (work stealing); Frigo, Leiserson & Randall,
/// PLDI 1998 (Cilk-5's THE protocol: the owner's fast path); oneTBB's `task_group`; Chase & Lev,
/// SPAA 2005; Lê et al., PPoPP 2013.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/thread_pool/chase_lev_deque.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <vector>

namespace cpb::patterns::fork_join {

namespace detail {

/// Runs `f`, returning what it threw. With the real policy it catches everything; under a
/// checked policy only `std::exception`s, so that the model checker's unwinding of an
/// abandoned execution (not a std::exception) passes through.
template <class S, class F>
std::exception_ptr capture(F& f) {
  if constexpr (std::is_same_v<S, sync::Real>) {
    try {
      f();
    } catch (...) {
      return std::current_exception();
    }
  } else {
    try {
      f();
    } catch (const std::exception&) {
      return std::current_exception();
    }
  }
  return nullptr;
}

/// A job a worker may steal: a type-erased call, the exception it threw, and whether it ran.
template <class S>
class JobBase {
 public:
  JobBase(const JobBase&) = delete;
  JobBase& operator=(const JobBase&) = delete;

  /// Runs the job inline (by its spawner); exceptions propagate.
  void call() { call_(this); }

  /// Runs the job on behalf of a thief (or an out-of-pool spawn): stores its exception, then
  /// marks it done. The job may be destroyed by its spawner as soon as `done` is set.
  void execute() {
    std::exception_ptr e = capture<S>(*this);
    if (e) error_.store(std::move(e));
    // Release: pairs with the acquire load in finished(); the job's effects and error_ are
    // visible to the spawner once it reads true.
    done_.store(true, std::memory_order_release);
  }

  [[nodiscard]] bool finished() const {
    // Acquire: pairs with the release store in execute().
    return done_.load(std::memory_order_acquire);
  }

  /// After finished(): rethrows what the job threw, if anything.
  void rethrow() {
    if (std::exception_ptr e = error_.load()) std::rethrow_exception(e);
  }

  void operator()() { call_(this); }

 protected:
  explicit JobBase(void (*fn)(JobBase*)) : call_(fn) {}
  ~JobBase() = default;

 private:
  void (*const call_)(JobBase*);
  typename S::template atomic<bool> done_{false};
  typename S::template cell<std::exception_ptr> error_;
};

}  // namespace detail

/// A job for `ForkJoinPool<S>::spawn`: refers to the callable `f`, which must outlive it.
template <class S, class F>
class Job final : public detail::JobBase<S> {
 public:
  explicit Job(F& f) : detail::JobBase<S>(&call), f_(&f) {}

 private:
  static void call(detail::JobBase<S>* self) { (*static_cast<Job*>(self)->f_)(); }
  F* f_;
};

template <class S = sync::Real>
class ForkJoinPool {
 public:
  static constexpr std::string_view kName = "fork_join_pool";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kCutoff = false;

  /// Starts `workers` (>= 1) worker threads; throws std::invalid_argument on 0.
  explicit ForkJoinPool(std::size_t workers)
      : n_(workers != 0 ? workers : throw std::invalid_argument("workers must be >= 1")),
        workers_(std::make_unique<Worker[]>(n_)) {
    threads_.reserve(n_);
    for (std::size_t i = 0; i < n_; ++i) threads_.emplace_back([this, i] { work(i); });
  }

  /// Stops and joins the workers. @pre no `run` is in progress.
  ~ForkJoinPool() {
    {
      std::lock_guard lk(m_);
      stop_.store(true);
    }
    park_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  ForkJoinPool(const ForkJoinPool&) = delete;
  ForkJoinPool& operator=(const ForkJoinPool&) = delete;

  [[nodiscard]] std::size_t workers() const { return n_; }

  /// Runs `root()` on a worker and returns when it has finished, rethrowing its exception.
  /// From one of this pool's workers, runs it inline.
  template <class F>
  void run(F&& root) {
    if (context().pool == this) {
      root();
      return;
    }
    Job<S, std::remove_reference_t<F>> job(root);
    {
      std::lock_guard lk(m_);
      inbox_.get().push_back(&job);
      // Relaxed: a hint for searching workers; parkers read inbox_ under m_.
      inbox_size_.store(inbox_.get().size(), std::memory_order_relaxed);
      claim_sleeper();
    }
    park_cv_.notify_one();
    {
      std::unique_lock lk(m_);
      root_cv_.wait(lk, [&] { return job.finished(); });
    }
    job.rethrow();
  }

  /// Runs `a()` and `b()`, `a` possibly on another worker; returns when both have finished.
  /// Rethrows `a`'s exception, else `b`'s. Outside this pool's workers, runs them in turn.
  template <class A, class B>
  void invoke(A&& a, B&& b) {
    Context& c = context();
    if (c.pool != this) {
      a();
      b();
      return;
    }
    Job<S, std::remove_reference_t<A>> ja(a);
    push(*c.self, ja);
    const std::exception_ptr eb = detail::capture<S>(b);
    join(*c.self, ja);
    if (eb) std::rethrow_exception(eb);
  }

  /// Makes `job` available to thieves (on the calling worker's deque); from outside the pool's
  /// workers, runs it at once. Every spawned job must be synced before it is destroyed.
  void spawn(detail::JobBase<S>& job) {
    Context& c = context();
    if (c.pool != this) {
      job.execute();
      return;
    }
    push(*c.self, job);
  }

  /// Returns when `job` has finished (running it here if no thief took it), rethrowing its
  /// exception. Syncing in the reverse order of spawning is the fast path; any order works.
  void sync(detail::JobBase<S>& job) {
    Context& c = context();
    if (c.pool != this) {
      job.rethrow();  // spawn ran it
      return;
    }
    join(*c.self, job);
  }

 private:
  using JobPtr = detail::JobBase<S>*;

  struct alignas(64) Worker {
    thread_pool::ChaseLevDeque<JobPtr, S> deque;
    std::uint64_t rng = 0;  // the owner thread only
  };

  /// Which pool the calling thread works for, through the policy so that each logical thread
  /// of the model checker has its own.
  struct Context {
    const ForkJoinPool* pool = nullptr;
    Worker* self = nullptr;
  };
  static Context& context() { return S::template thread_local_value<Context>(); }

  /// Idle rounds before parking; the model checker gets to the parking path after 2.
  static constexpr int kSearchRounds = std::is_same_v<S, sync::Real> ? 64 : 2;

  void push(Worker& w, detail::JobBase<S>& job) {
    w.deque.push(&job);
    // Relaxed: a hint (see the header): a missed sleeper costs parallelism, not progress.
    if (sleepers_.load(std::memory_order_relaxed) > 0) wake_one();
  }

  /// Waits for `job`, pushed by worker `w`: takes it back and runs it inline if it is still in
  /// the deque, else helps until its thief has finished it.
  void join(Worker& w, detail::JobBase<S>& job) {
    while (std::optional<JobPtr> top = w.deque.take()) {
      if (*top == &job) {
        job.call();
        return;
      }
      (*top)->execute();  // spawned after `job` and not synced yet: its sync finds it done
    }
    sync::Backoff<S> backoff;
    while (!job.finished()) {
      if (JobPtr j = steal_any(w)) {
        j->execute();
        backoff.reset();
      } else {
        backoff();
      }
    }
    job.rethrow();
  }

  JobPtr steal_from(Worker& victim) {
    const std::optional<JobPtr> j = victim.deque.steal();
    return j ? *j : nullptr;
  }

  /// One round over the other workers' deques from a random start.
  JobPtr steal_any(Worker& self) {
    std::uint64_t& r = self.rng;
    r ^= r << 13;
    r ^= r >> 7;
    r ^= r << 17;
    const std::size_t start = static_cast<std::size_t>(r % n_);
    for (std::size_t i = 0; i < n_; ++i) {
      Worker& victim = workers_[(start + i) % n_];
      if (&victim == &self) continue;
      if (JobPtr j = steal_from(victim)) return j;
    }
    return nullptr;
  }

  JobPtr take_root() {
    // Relaxed: a hint; inbox_ itself is read under m_.
    if (inbox_size_.load(std::memory_order_relaxed) == 0) return nullptr;
    std::lock_guard lk(m_);
    auto& inbox = inbox_.get();
    if (inbox.empty()) return nullptr;
    JobPtr j = inbox.front();
    inbox.pop_front();
    // Relaxed: a hint, as above.
    inbox_size_.store(inbox.size(), std::memory_order_relaxed);
    return j;
  }

  // Not noexcept: under the model checker an abandoned execution unwinds the worker.
  void work(std::size_t self) {
    Worker& me = workers_[self];
    me.rng = 0x9E3779B97F4A7C15ULL * (self + 1);
    context() = {this, &me};
    sync::Backoff<S> backoff;
    int idle = 0;
    for (;;) {
      if (JobPtr j = steal_any(me)) {
        j->execute();
      } else if (JobPtr root = take_root()) {
        root->execute();
        // The outside caller waits on root_cv_; lock so its check-then-wait cannot miss this.
        { std::lock_guard lk(m_); }
        root_cv_.notify_all();
      } else if (++idle < kSearchRounds) {
        backoff();
        continue;
      } else if (!park()) {
        return;
      }
      idle = 0;
      backoff.reset();
    }
  }

  /// Sleeps until woken; false when the pool stops.
  bool park() {
    std::unique_lock lk(m_);
    sleepers_.fetch_add(1);
    if (stop_.load() || !inbox_.get().empty() || work_visible()) {
      sleepers_.fetch_sub(1);
      return !stop_.load();
    }
    park_cv_.wait(lk,
                  [this] { return tokens_.get() > 0 || stop_.load() || !inbox_.get().empty(); });
    // A waker that claimed us left a token; otherwise we take ourselves off the count.
    if (tokens_.get() > 0) {
      --tokens_.get();
    } else {
      sleepers_.fetch_sub(1);
    }
    return !stop_.load();
  }

  bool work_visible() {
    for (std::size_t i = 0; i < n_; ++i) {
      if (!workers_[i].deque.empty()) return true;
    }
    return false;
  }

  /// Under m_: turns one counted sleeper into a token for park() to consume.
  void claim_sleeper() {
    if (sleepers_.load() == 0) return;
    sleepers_.fetch_sub(1);
    ++tokens_.get();
  }

  void wake_one() {
    {
      std::lock_guard lk(m_);
      if (sleepers_.load() == 0) return;
      claim_sleeper();
    }
    park_cv_.notify_one();
  }

  const std::size_t n_;
  std::unique_ptr<Worker[]> workers_;
  alignas(64) typename S::template atomic<std::int32_t> sleepers_{0};  // parked, not yet claimed
  alignas(64) typename S::template atomic<std::size_t> inbox_size_{0};
  typename S::template atomic<bool> stop_{false};
  typename S::mutex m_;                                  // guards inbox_, tokens_, parking
  typename S::template cell<std::deque<JobPtr>> inbox_;  // roots from run(), guarded by m_
  typename S::template cell<std::int32_t> tokens_{0};    // claimed wake-ups, guarded by m_
  typename S::condition_variable park_cv_;
  typename S::condition_variable root_cv_;
  std::vector<typename S::thread> threads_;  // last: started after everything above exists
};

}  // namespace cpb::patterns::fork_join
