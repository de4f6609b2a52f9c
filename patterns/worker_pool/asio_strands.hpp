// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `boost::asio::thread_pool` of `n` threads with one `strand` per logical worker.
/// A strand runs its handlers one at a time and in order, so `n` strands on `n` threads behave
/// as `n` workers with a FIFO queue each, scheduled by asio. `submit` chooses the strand as the
/// policy says (round-robin in turn; least-loaded by an outstanding count per strand, kept in
/// relaxed atomics, ties in turn) and posts a handler that spins for the task's cost and
/// records its completion. Asio has no priorities, so there is no priority baseline.
///
/// Asio has no "wait until fewer than n are pending", so the adapter counts outstanding tasks
/// behind a mutex (`submit` adds before posting, the handler finishes after it ran).
/// Each strand's completion log is written only by that strand's handlers (which asio orders
/// one after the other) and read by `collect` after `wait_idle`, which the counter's mutex
/// orders after every handler's finish.
///
/// Progress: blocking.
/// Reference: Boost.Asio documentation, "Strands: Use Threads Without Explicit Locking".
#pragma once

#include "harness/bench/meter.hpp"
#include "harness/core/progress.hpp"
#include "patterns/worker_pool/task.hpp"
#include "workloads/workload.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace cpb::patterns::worker_pool {

template <class Policy>
class AsioStrands {
  static_assert(Policy::kDispatch != Dispatch::kPriority, "asio strands have no priorities");

 public:
  static constexpr std::string_view kName = Policy::kAsio;
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr Dispatch kDispatch = Policy::kDispatch;
  static constexpr bool kBaseline = true;

  /// @throws std::invalid_argument if `workers` is 0.
  explicit AsioStrands(std::size_t workers)
      : n_(workers != 0 ? workers : throw std::invalid_argument("a worker pool needs >= 1 worker")),
        load_(std::make_unique<std::atomic<std::uint64_t>[]>(n_)),
        logs_(n_),
        pool_(n_) {
    strands_.reserve(n_);
    for (std::size_t i = 0; i < n_; ++i) strands_.push_back(boost::asio::make_strand(pool_));
  }

  /// Waits until no handler is outstanding, then joins the threads.
  ~AsioStrands() { pool_.join(); }

  AsioStrands(const AsioStrands&) = delete;
  AsioStrands& operator=(const AsioStrands&) = delete;

  void submit(const Task& t) {
    const std::uint64_t now = bench::now_ns();
    const std::size_t w = pick();
    // Relaxed: a load estimate only; the task's hand-over is ordered by asio's post.
    load_[w].fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lk(m_);
      ++pending_;
    }
    boost::asio::post(strands_[w], [this, t, w, now] {
      // Relaxed: a dispatch number only; no data is published through it.
      const std::uint64_t seq = seq_.fetch_add(1, std::memory_order_relaxed);
      workloads::spin_ns(t.cost_ns);
      logs_[w].push_back(Done{t.id, task_checksum(t.id, t.cost_ns), seq, now, bench::now_ns(),
                              static_cast<std::uint32_t>(w), t.priority});
      // Relaxed: pairs with nothing; see the fetch_add in submit.
      load_[w].fetch_sub(1, std::memory_order_relaxed);
      std::lock_guard lk(m_);
      --pending_;
      if (waiters_ > 0) idle_.notify_all();
    });
  }

  void wait_below(std::size_t n) {
    std::unique_lock lk(m_);
    ++waiters_;
    idle_.wait(lk, [&] { return pending_ < n; });
    --waiters_;
  }
  void wait_idle() { wait_below(1); }

  /// @pre no task is pending (after `wait_idle`, with no `submit` since).
  void collect(std::vector<Done>& out) {
    std::lock_guard lk(m_);  // orders the handlers' log writes (before their finish) before us
    for (auto& log : logs_) {
      out.insert(out.end(), log.begin(), log.end());
      log.clear();
    }
  }

 private:
  std::size_t pick() {
    // Relaxed: the cursor is a hint for spreading ties; any value is a valid start.
    const std::size_t start = cursor_.load(std::memory_order_relaxed) % n_;
    std::size_t best = start;
    if constexpr (kDispatch == Dispatch::kLeastLoaded) {
      for (std::size_t i = 1; i < n_; ++i) {
        const std::size_t w = (start + i) % n_;
        // Relaxed: an estimate (see submit).
        if (load_[w].load(std::memory_order_relaxed) < load_[best].load(std::memory_order_relaxed))
          best = w;
      }
    }
    cursor_.store(best + 1, std::memory_order_relaxed);  // Relaxed: see the load above
    return best;
  }

  using Strand = boost::asio::strand<boost::asio::thread_pool::executor_type>;

  const std::size_t n_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> load_;
  std::atomic<std::size_t> cursor_{0};
  std::atomic<std::uint64_t> seq_{0};
  std::vector<std::vector<Done>> logs_;  // per strand; see the file comment
  std::mutex m_;
  std::condition_variable idle_;
  std::uint64_t pending_ = 0;  // guarded by m_
  std::size_t waiters_ = 0;    // guarded by m_
  boost::asio::thread_pool pool_;
  std::vector<Strand> strands_;  // last: each refers to pool_
};

}  // namespace cpb::patterns::worker_pool
