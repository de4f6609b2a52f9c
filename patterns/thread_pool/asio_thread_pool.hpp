// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `boost::asio::thread_pool` with `boost::asio::post`, the family's reference.
///
/// Asio's pool is one scheduler queue behind a mutex (`scheduler::op_queue_`), with idle threads
/// waiting on a condition variable and thread-private queues for handlers posted from inside a
/// handler on a single-threaded pool. It has no "wait until idle" that keeps the pool usable
/// (`join` and `wait` end it), so the adapter counts pending tasks itself: `submit` adds one
/// before posting, the posted handler finishes one after the task ran, and `wait_idle` waits for
/// zero (`PendingCounter`). The pool thus survives any number of `wait_idle` cycles. The
/// destructor calls `join()`, which waits until no work is outstanding: pending tasks run.
///
/// Progress: blocking.
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/thread_pool/pending_counter.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

namespace cpb::patterns::thread_pool {

class AsioThreadPool {
 public:
  static constexpr std::string_view kName = "asio_thread_pool";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  /// Starts `workers` threads (0 means 1).
  explicit AsioThreadPool(std::size_t workers) : pool_(std::max<std::size_t>(workers, 1)) {}

  /// Waits until no work is outstanding (pending tasks run), then joins the threads.
  ~AsioThreadPool() { pool_.join(); }

  AsioThreadPool(const AsioThreadPool&) = delete;
  AsioThreadPool& operator=(const AsioThreadPool&) = delete;

  template <class F>
  void submit(F&& f) {
    pending_.add();
    boost::asio::post(pool_, [this, fn = std::decay_t<F>(std::forward<F>(f))]() mutable {
      // Called on a moved-out temporary: what the task captured is released before wait_idle
      // can return, as in the own pools.
      std::decay_t<F>(std::move(fn))();
      pending_.finish();
    });
  }

  /// Blocks until every task submitted so far has finished. Not from one of this pool's tasks.
  void wait_idle() { pending_.wait(); }

 private:
  detail::PendingCounter<> pending_;
  boost::asio::thread_pool pool_;  // last: its threads stop before the counter goes
};

}  // namespace cpb::patterns::thread_pool
