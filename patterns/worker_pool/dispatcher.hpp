// SPDX-License-Identifier: Apache-2.0
/// @file
/// The dispatcher of the own worker pools: the task queues, the dispatch policy and the
/// bookkeeping (pending count, outstanding tasks per worker, completion records), behind one
/// mutex. Worker threads (`ThreadWorkers`) and the parent-side feeders of worker processes
/// (`ProcessWorkers`) drive it the same way: `next(w)` blocks until there is a task for worker
/// `w`, `finish(w, done)` records its completion.
///
/// Round-robin and least-loaded give every worker its own FIFO queue and choose the queue at
/// `submit`: round-robin in turn, least-loaded the worker with the fewest outstanding (queued
/// plus running) tasks, ties broken in turn from after the last choice. Priority keeps one FIFO
/// per priority shared by all workers, and `next` hands out the oldest high-priority task before
/// any low one; a high task queued before a low one is therefore dispatched first (`Done::seq`
/// is smaller). Every policy promises exactly-once execution; only priority promises an order
/// across priorities, and only round-robin and least-loaded pin a task to a worker at submit.
///
/// Progress: blocking (one mutex; idle workers sleep on their condition variable).
/// Memory ordering: everything shared is in one `cell` guarded by the mutex; its lock/unlock
/// orders a submission before the dispatch of that task, and a completion before the
/// `wait_below`/`wait_idle` that sees the pending count drop.
/// When to use: a dispatcher in front of a handful of workers with tasks of ≳ 10 µs. When not
/// to use: fine-grained tasks on many cores (the one lock serializes them; see thread_pool's
/// work stealing).
/// Reference: Harchol-Balter, "Performance Modeling and Design of Computer Systems" (2013),
/// ch. 24 (task assignment: round-robin, join-the-shortest-queue, central queue).
#pragma once

#include "harness/bench/meter.hpp"
#include "harness/core/sync.hpp"
#include "patterns/worker_pool/task.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace cpb::patterns::worker_pool {

/// A task as handed to a worker: the task, when it was submitted, and its dispatch number.
struct Slot {
  Task task;
  std::uint64_t submit_ns = 0;
  std::uint64_t seq = 0;
};

template <class Policy, class S = sync::Real>
class Dispatcher {
 public:
  static constexpr Dispatch kDispatch = Policy::kDispatch;
  /// One shared queue set that every worker takes from (priority), or a queue per worker.
  static constexpr bool kShared = kDispatch == Dispatch::kPriority;

  /// @throws std::invalid_argument if `workers` is 0.
  explicit Dispatcher(std::size_t workers)
      : workers_(workers != 0 ? workers
                              : throw std::invalid_argument("a worker pool needs >= 1 worker")),
        wake_(std::make_unique<typename S::condition_variable[]>(kShared ? 1 : workers)) {
    State& st = state_.get();
    st.queues.resize(kShared ? 2 : workers_);
    st.load.assign(workers_, 0);
    st.sleeping.assign(workers_, 0);
    st.logs.resize(workers_);
  }

  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  [[nodiscard]] std::size_t workers() const { return workers_; }

  /// Queues `t` (any thread). After `stop`, the task is still run: workers drain their queues.
  void submit(const Task& t) {
    const std::uint64_t now = bench::now_ns();
    std::unique_lock lk(m_);
    State& st = state_.get();
    std::size_t q = 0;
    if constexpr (kShared) {
      q = t.priority == Priority::kHigh ? 0 : 1;
    } else {
      q = pick(st);
      ++st.load[q];
    }
    st.queues[q].push_back(Slot{t, now, 0});
    ++st.pending;
    bool wake = false;
    if constexpr (kShared) {
      wake = st.sleepers > 0;
    } else {
      wake = st.sleeping[q] != 0;
    }
    lk.unlock();
    if (wake) wake_[kShared ? 0 : q].notify_one();
  }

  /// Worker `w`: blocks until a task is ready for it and returns it in `out` (true), or returns
  /// false once `stop` was called and nothing is left for it.
  bool next(std::size_t w, Slot& out) {
    std::unique_lock lk(m_);
    State& st = state_.get();
    for (;;) {
      if (std::deque<Slot>* q = ready(st, w)) {
        out = q->front();
        q->pop_front();
        out.seq = st.seq++;
        if constexpr (kShared) ++st.load[w];
        return true;
      }
      if (st.stop) return false;
      st.sleeping[w] = 1;
      ++st.sleepers;
      wake_[kShared ? 0 : w].wait(lk);
      --st.sleepers;
      st.sleeping[w] = 0;
    }
  }

  /// Worker `w` finished the task it took last; `d` is its record.
  void finish(std::size_t w, const Done& d) {
    std::unique_lock lk(m_);
    State& st = state_.get();
    st.logs[w].push_back(d);
    --st.load[w];
    --st.pending;
    if (st.waiters > 0) idle_.notify_all();
  }

  /// Blocks until fewer than `n` tasks are pending (queued or running). `n` = 1: idle.
  void wait_below(std::size_t n) {
    std::unique_lock lk(m_);
    State& st = state_.get();
    ++st.waiters;
    idle_.wait(lk, [&] { return st.pending < n; });
    --st.waiters;
  }

  /// Moves the completion records gathered so far to the end of `out`.
  void collect(std::vector<Done>& out) {
    std::lock_guard lk(m_);
    State& st = state_.get();
    for (auto& log : st.logs) {
      out.insert(out.end(), log.begin(), log.end());
      log.clear();
    }
  }

  /// Outstanding tasks of worker `w` (queued for it plus running on it).
  [[nodiscard]] std::size_t load(std::size_t w) {
    std::lock_guard lk(m_);
    return state_.get().load[w];
  }

  /// Lets `next` return false once the queues are drained; wakes every sleeping worker.
  void stop() {
    {
      std::lock_guard lk(m_);
      state_.get().stop = true;
    }
    for (std::size_t i = 0; i < (kShared ? 1 : workers_); ++i) wake_[i].notify_all();
  }

 private:
  struct State {
    std::vector<std::deque<Slot>> queues;  // per worker, or {high, low} when shared
    std::vector<std::size_t> load;         // outstanding per worker
    std::vector<std::uint8_t> sleeping;    // worker w waits on its condition variable
    std::vector<std::vector<Done>> logs;   // completion records per worker
    std::size_t sleepers = 0;
    std::size_t cursor = 0;  // round-robin turn / least-loaded tie-break start
    std::uint64_t pending = 0;
    std::uint64_t seq = 0;
    std::size_t waiters = 0;  // threads in wait_below
    bool stop = false;
  };

  /// The queue `submit` puts a task in. Round-robin: in turn. Least-loaded: the fewest
  /// outstanding, scanning from after the last choice so ties go round in turn.
  std::size_t pick(State& st) const {
    const std::size_t start = st.cursor;
    std::size_t best = start % workers_;
    if constexpr (kDispatch == Dispatch::kLeastLoaded) {
      for (std::size_t i = 1; i < workers_; ++i) {
        const std::size_t w = (start + i) % workers_;
        if (st.load[w] < st.load[best]) best = w;
      }
    }
    st.cursor = (best + 1) % workers_;
    return best;
  }

  std::deque<Slot>* ready(State& st, std::size_t w) const {
    if constexpr (kShared) {
      if (!st.queues[0].empty()) return &st.queues[0];
      if (!st.queues[1].empty()) return &st.queues[1];
      return nullptr;
    } else {
      return st.queues[w].empty() ? nullptr : &st.queues[w];
    }
  }

  const std::size_t workers_;
  typename S::mutex m_;
  std::unique_ptr<typename S::condition_variable[]> wake_;  // per worker, or one when shared
  typename S::condition_variable idle_;                     // wait_below: a task finished
  typename S::template cell<State> state_;                  // guarded by m_
};

}  // namespace cpb::patterns::worker_pool
