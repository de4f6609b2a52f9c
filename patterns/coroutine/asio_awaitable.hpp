// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: Boost.Asio's C++20 awaitables. An `io_context` run by `workers` threads (kept busy
/// by a work guard); each scenario is `co_spawn`ed on it and the driver thread waits for the
/// completion handler:
/// - await_chain: an `awaitable<uint64_t>` awaits one that awaits one ... `depth` deep;
/// - timers: `n` coroutines, each with a `steady_timer` and `co_await async_wait`;
/// - ping_pong: two coroutines on one strand hand a baton through two events, each a flag and
///   a `steady_timer` that never expires: signalling cancels the timer, whose completion
///   resumes the waiter through the executor (Asio 1.74 has no channel; this is the idiom).
///
/// Progress: blocking (the io_context's scheduler mutex and condition variable).
/// Memory ordering: Asio's; the driver's done flag and counter are release/acquire.
/// When to use: async I/O with Asio already in the program; coroutines next to sockets and
/// timers on one executor. When not to use: CPU-bound fan-out (the io_context's single queue).
/// Reference: Boost.Asio 1.74 documentation, "C++20 Coroutines Support" (`co_spawn`,
/// `use_awaitable`, `awaitable`).
#pragma once

#include "harness/core/progress.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

namespace cpb::patterns::coroutine {

class AsioAwaitable {
 public:
  static constexpr std::string_view kName = "asio_awaitable";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static constexpr bool kMultiWorker = true;

  explicit AsioAwaitable(std::size_t workers) : guard_(ctx_.get_executor()) {
    if (workers == 0) workers = 1;
    for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { ctx_.run(); });
  }
  ~AsioAwaitable() {
    guard_.reset();
    for (auto& t : threads_) t.join();
  }
  AsioAwaitable(const AsioAwaitable&) = delete;
  AsioAwaitable& operator=(const AsioAwaitable&) = delete;

  std::uint64_t await_chain(std::uint64_t depth, std::uint64_t v) {
    return run(ctx_.get_executor(), chain(depth, v));
  }

  std::uint64_t timers(std::uint64_t n, std::int64_t delay_us) {
    // Relaxed: no sleeper of the previous call is left (the driver saw them all done).
    timers_done_.store(0, std::memory_order_relaxed);
    for (std::uint64_t i = 0; i < n; ++i) {
      boost::asio::co_spawn(ctx_, sleeper(std::chrono::microseconds(delay_us), &timers_done_, n),
                            boost::asio::detached);
    }
    // Acquire: pairs with the sleepers' acq_rel increments.
    for (std::uint64_t d = timers_done_.load(std::memory_order_acquire); d < n;
         d = timers_done_.load(std::memory_order_acquire)) {
      timers_done_.wait(d, std::memory_order_acquire);  // acquire: as above
    }
    return timers_done_.load(std::memory_order_acquire);  // acquire: as above
  }

  std::uint64_t ping_pong(std::uint64_t rounds) {
    auto strand = boost::asio::make_strand(ctx_);
    Event a(strand);
    Event b(strand);
    std::uint64_t count = 0;  // touched on the strand only
    boost::asio::co_spawn(strand, ponger(&a, &b, rounds, &count), boost::asio::detached);
    return run(strand, pinger(&a, &b, rounds, &count));
  }

 private:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

  /// A flag and a timer that never expires: `set` cancels it, which completes the wait.
  struct Event {
    explicit Event(const Strand& s) : timer(s, boost::asio::steady_timer::time_point::max()) {}
    bool flag = false;
    boost::asio::steady_timer timer;
    void set() {
      flag = true;
      timer.cancel();
    }
    boost::asio::awaitable<void> wait() {
      while (!flag) {
        boost::system::error_code ec;
        co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      }
      flag = false;
    }
  };

  /// co_spawns `a` on `ex` and blocks the driver until it finishes; returns its value.
  template <class Ex>
  std::uint64_t run(const Ex& ex, boost::asio::awaitable<std::uint64_t> a) {
    struct Done {
      std::atomic<bool> flag{false};
      std::uint64_t value = 0;
      std::exception_ptr error;
    };
    auto done = std::make_shared<Done>();
    boost::asio::co_spawn(ex, std::move(a), [done](std::exception_ptr e, std::uint64_t v) {
      done->value = v;
      done->error = e;
      // Release: pairs with the driver's acquire: value and error are visible.
      done->flag.store(true, std::memory_order_release);
      done->flag.notify_one();
    });
    // Acquire: pairs with the completion handler's release.
    while (!done->flag.load(std::memory_order_acquire)) {
      done->flag.wait(false, std::memory_order_acquire);  // acquire: as above
    }
    if (done->error) std::rethrow_exception(done->error);
    return done->value;
  }

  static boost::asio::awaitable<std::uint64_t> chain(std::uint64_t depth, std::uint64_t v) {
    if (depth == 0) co_return v;
    co_return co_await chain(depth - 1, v) + 1;
  }
  static boost::asio::awaitable<void> sleeper(std::chrono::microseconds d,
                                              std::atomic<std::uint64_t>* done, std::uint64_t n) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
    co_await t.async_wait(boost::asio::use_awaitable);
    // acq_rel: as in task_scheduler.hpp: release to the driver's acquire.
    if (done->fetch_add(1, std::memory_order_acq_rel) + 1 == n) done->notify_all();
  }
  static boost::asio::awaitable<void> ponger(Event* a, Event* b, std::uint64_t rounds,
                                             std::uint64_t* count) {
    for (std::uint64_t r = 0; r < rounds; ++r) {
      co_await b->wait();
      ++*count;
      a->set();
    }
  }
  static boost::asio::awaitable<std::uint64_t> pinger(Event* a, Event* b, std::uint64_t rounds,
                                                      std::uint64_t* count) {
    for (std::uint64_t r = 0; r < rounds; ++r) {
      b->set();
      co_await a->wait();
      ++*count;
    }
    co_return *count;
  }

  boost::asio::io_context ctx_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
  alignas(64) std::atomic<std::uint64_t> timers_done_{0};
};

}  // namespace cpb::patterns::coroutine
