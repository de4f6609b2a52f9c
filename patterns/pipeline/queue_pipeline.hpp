// SPDX-License-Identifier: Apache-2.0
/// @file
/// Queue pipeline: each stage has its own threads (its concurrency) and a bounded queue in
/// front of it; the caller of `run` is the source. The classic staged design (SEDA; seed 002's
/// `ProcessingPipeline`): simple, every stage's concurrency is explicit, and a slow stage fills
/// its queue and so holds back the stages before it (back-pressure).
///
/// - Sequence numbers: the source numbers items 0, 1, 2 ... An in-order stage has one thread
///   that keeps a reorder buffer: it takes items from its queue in whatever order the unordered
///   stages before it finished them, and runs them strictly by sequence number.
/// - Tokens: at most `tokens()` = stages × capacity items are in flight (taken from the source
///   and not yet through the last stage). That bounds every reorder buffer (an item `seq` can
///   only arrive while every item from `next` to `seq` is in flight, so `seq - next < tokens`),
///   and it is the number of tokens the oneTBB baseline gets.
/// - End of stream: after the source runs dry, the caller closes the first queue; each stage's
///   threads drain their queue, and the last of them to finish closes the next stage's queue.
///   When the last stage's last thread finishes, `run` returns. The threads stay for the next
///   `run`; `close()` (or the destructor) stops every queue and joins every thread.
/// - Errors: a stage that throws a `std::exception` marks the item failed; later stages pass it
///   on without running it (in-order stages still count its sequence number), and `run` reports
///   (seq, stage, what()) in its `RunReport`. Anything else a stage throws calls
///   `std::terminate`, as in a `std::thread`.
///
/// Progress: blocking (queues and the token gate use a mutex and condition variables; a
/// consumer polls briefly before it sleeps).
/// Memory ordering: every hand-off goes through a queue's mutex, which orders an item's
/// processing in one stage before the next stage's; the end of a round goes through the same
/// mutexes, and the done flag through `done_m_`. Only the poll hint in `BoundedQueue` and the
/// live-thread count are relaxed.
/// When to use: stages of different cost where you want to give each its own threads (a slow
/// stage gets more), I/O stages that block, a need for back-pressure and for explicit per-stage
/// resource limits. When not to use: many cheap stages on few cores, where hand-offs between
/// threads cost more than the work; prefer a token design (oneTBB's `parallel_pipeline`) there,
/// which carries one item through several stages on one thread.
/// Reference: Welsh, Culler & Brewer, "SEDA: An Architecture for Well-Conditioned, Scalable
/// Internet Services" (SOSP 2001); McCool, Robison & Reinders, "Structured Parallel
/// Programming" (2012), ch. 9 (pipelines, serial in-order stages).
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/pipeline/bounded_queue.hpp"
#include "patterns/pipeline/stage.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::pipeline {

template <class T, class S = sync::Real>
class QueuePipeline {
 public:
  using item_type = T;
  static constexpr std::string_view kName = "queue_pipeline";
  static constexpr Progress kProgress = Progress::kBlocking;

  /// Builds the pipeline and starts its stage threads.
  /// @throws std::invalid_argument on no stage, a capacity of 0, a stage without a function or
  /// with concurrency 0, or an in-order stage with concurrency other than 1.
  QueuePipeline(std::vector<Stage<T>> stages, std::size_t capacity)
      : tokens_((validate(stages, capacity), tokens_for(stages.size(), capacity))) {
    stages_.reserve(stages.size());
    for (Stage<T>& s : stages) {
      stages_.push_back(std::make_unique<StageState>(std::move(s), capacity));
    }
    std::size_t n = 0;
    for (const auto& s : stages_) n += s->spec.concurrency;
    threads_.reserve(n);
    for (std::size_t i = 0; i < stages_.size(); ++i) {
      for (std::size_t k = 0; k < stages_[i]->spec.concurrency; ++k) {
        // Relaxed: a count for `live_threads`; the joins in close() order the decrements.
        live_.fetch_add(1, std::memory_order_relaxed);
        threads_.emplace_back([this, i] { work(i); });
      }
    }
  }

  /// Stops every stage and joins its threads.
  ~QueuePipeline() { close(); }

  QueuePipeline(const QueuePipeline&) = delete;
  QueuePipeline& operator=(const QueuePipeline&) = delete;

  /// Runs one stream: calls `source()` (returning `std::optional<T>`; empty = end of stream)
  /// in the calling thread until it runs dry, pushing each item into the first stage, then
  /// waits until the end of stream has passed every stage. One `run` at a time (concurrent
  /// calls wait for each other). If `source` throws, the items already taken still finish, and
  /// the exception is rethrown.
  /// @throws std::logic_error after `close()`.
  template <class Source>
  RunReport run(Source&& source) {
    std::lock_guard run_lock(run_m_);
    if (closed_) throw std::logic_error("QueuePipeline::run after close");
    std::uint64_t seq = 0;
    std::exception_ptr failure;
    try {
      for (;;) {
        std::optional<T> v = source();
        if (!v) break;
        acquire_token();
        stages_.front()->in.push(Envelope{seq++, std::move(*v), Kind::kItem});
      }
    } catch (...) {
      failure = std::current_exception();
    }
    stages_.front()->in.close();
    RunReport report;
    {
      std::unique_lock lk(done_m_);
      Shared& sh = shared_.get();
      done_cv_.wait(lk, [&] { return sh.done; });
      sh.done = false;
      report.completed = sh.completed;
      report.errors = std::move(sh.errors);
      sh.completed = 0;
      sh.errors.clear();
    }
    // Every stage thread has seen this round's end (the last stage's last thread set `done`
    // only after all of them had): the queues can start the next one.
    for (const auto& s : stages_) s->in.reopen();
    if (failure) std::rethrow_exception(failure);
    report.items = seq;
    sort_errors(report.errors);
    return report;
  }

  /// Stops every queue and joins every stage thread. Idempotent; not during a `run`.
  void close() {
    std::lock_guard run_lock(run_m_);
    if (closed_) return;
    closed_ = true;
    for (const auto& s : stages_) s->in.stop();
    for (auto& t : threads_) t.join();
  }

  /// Items in flight at most: stages × capacity.
  [[nodiscard]] std::size_t tokens() const { return tokens_; }

  /// Stage threads that have not exited yet (0 after `close`).
  [[nodiscard]] std::size_t live_threads() const {
    // Relaxed: a count; after close() the joins order every decrement before this read.
    return live_.load(std::memory_order_relaxed);
  }

 private:
  enum class Kind : std::uint8_t { kItem, kFailed };

  struct Envelope {
    std::uint64_t seq = 0;
    T value{};
    Kind kind = Kind::kItem;
  };

  struct StageState {
    StageState(Stage<T> s, std::size_t capacity)
        : spec(std::move(s)), in(capacity, spec.concurrency) {}
    const Stage<T> spec;
    detail::BoundedQueue<Envelope, S> in;
  };

  /// What the last stage and the driver share, guarded by done_m_.
  struct Shared {
    std::size_t in_flight = 0;  // tokens taken
    bool source_waits = false;  // the driver waits for a token
    bool done = false;          // the end of stream passed the last stage
    std::uint64_t completed = 0;
    std::vector<StageError> errors;
  };

  void acquire_token() {
    std::unique_lock lk(done_m_);
    Shared& sh = shared_.get();
    while (sh.in_flight == tokens_) {
      sh.source_waits = true;
      token_cv_.wait(lk);
    }
    ++sh.in_flight;
  }

  /// The item left the last stage (`completed`: it passed every stage).
  void release_token(bool completed) {
    std::unique_lock lk(done_m_);
    Shared& sh = shared_.get();
    --sh.in_flight;
    if (completed) ++sh.completed;
    const bool wake = sh.source_waits;
    sh.source_waits = false;
    lk.unlock();
    if (wake) token_cv_.notify_one();
  }

  void report_error(std::uint64_t seq, std::size_t stage, const char* what) {
    std::lock_guard lk(done_m_);
    shared_.get().errors.push_back(StageError{seq, stage, what});
  }

  /// Runs stage `i` on one item and hands it on.
  void handle(std::size_t i, Envelope& e) {
    StageState& st = *stages_[i];
    if (e.kind == Kind::kItem) {
      try {
        e.value = st.spec.fn(std::move(e.value));
      } catch (const std::exception& ex) {
        e.kind = Kind::kFailed;
        e.value = T{};
        report_error(e.seq, i, ex.what());
      }
    }
    if (i + 1 == stages_.size()) {
      release_token(e.kind == Kind::kItem);
    } else {
      stages_[i + 1]->in.push(std::move(e));
    }
  }

  /// The end of stream passed stage `i`: every one of its threads has finished its items.
  void end_of_stream(std::size_t i) {
    if (i + 1 < stages_.size()) {
      stages_[i + 1]->in.close();
      return;
    }
    {
      std::lock_guard lk(done_m_);
      shared_.get().done = true;
    }
    done_cv_.notify_all();
  }

  // Not noexcept: under the model checker an abandoned execution unwinds the thread.
  void work(std::size_t i) {
    StageState& st = *stages_[i];
    const bool in_order = st.spec.order == Order::kInOrder;
    // An in-order stage's reorder buffer, private to its one thread: slot seq % tokens.
    std::vector<std::optional<Envelope>> pending(in_order ? tokens_ : 0);
    std::uint64_t next = 0;  // the sequence number an in-order stage runs next
    std::uint64_t round = 0;
    Envelope e;
    for (;;) {
      const detail::Pop got = st.in.pop(e, round);
      if (got == detail::Pop::kStop) break;
      if (got == detail::Pop::kItem) {
        if (!in_order) {
          handle(i, e);
          continue;
        }
        pending[e.seq % tokens_].emplace(std::move(e));
        for (auto* slot = &pending[next % tokens_]; slot->has_value();
             slot = &pending[next % tokens_]) {
          Envelope ready = std::move(**slot);
          slot->reset();
          ++next;
          handle(i, ready);
        }
        continue;
      }
      next = 0;  // a new stream numbers its items from 0 again
      if (got == detail::Pop::kLast) end_of_stream(i);
    }
    // Relaxed: a count; close() joins this thread before anyone relies on it.
    live_.fetch_sub(1, std::memory_order_relaxed);
  }

  const std::size_t tokens_;
  std::vector<std::unique_ptr<StageState>> stages_;
  typename S::mutex done_m_;
  typename S::condition_variable token_cv_;   // the driver: a token was released
  typename S::condition_variable done_cv_;    // the driver: the end of stream passed every stage
  typename S::template cell<Shared> shared_;  // guarded by done_m_
  typename S::template atomic<std::size_t> live_{0};
  typename S::mutex run_m_;                  // one run (or close) at a time
  bool closed_ = false;                      // guarded by run_m_
  std::vector<typename S::thread> threads_;  // last: started after everything above exists
};

}  // namespace cpb::patterns::pipeline
