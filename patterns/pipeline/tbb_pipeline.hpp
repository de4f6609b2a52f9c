// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: oneTBB's `tbb::parallel_pipeline`, given the same stages as the own pipeline.
///
/// How it maps onto the family's pipeline:
/// - The source is a `serial_in_order` input filter; an in-order stage is a `serial_in_order`
///   filter; an unordered stage of concurrency 1 is `serial_out_of_order`, of concurrency above 1
///   `parallel` (TBB cannot cap one filter's concurrency: a parallel filter may use every thread
///   of the arena, which never hands TBB less concurrency than the own pipeline has).
/// - Tokens: `parallel_pipeline(tokens, ...)` with tokens = stages × capacity, the capacity of
///   all the own pipeline's queues together, so both let the same number of items into flight.
/// - Threads: a `task_arena` of as many slots as the stages' concurrency adds up to; the caller
///   of `run` takes one of them (TBB's default of one slot reserved for it) and works in the
///   pipeline as well. A `global_control` raises TBB's process-wide worker limit so that a
///   2-core machine still gets that many threads.
/// - Errors: each filter catches a `std::exception` from its stage and marks the item failed;
///   later filters pass a failed item on without running it; `run` reports (seq, stage,
///   what()) as the own pipeline does. (Left to itself, TBB would cancel the whole pipeline at
///   the first exception and rethrow it.)
///
/// Progress: blocking (TBB's workers spin briefly, then sleep).
/// Not run under ThreadSanitizer: libtbb is not instrumented, so TSan cannot see how TBB hands
/// an item from one filter to the next and reports the hand-over as a race (see
/// pipeline.register.cpp).
/// Reference: oneTBB, `parallel_pipeline` (https://oneapi-src.github.io/oneTBB/).
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/pipeline/stage.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::pipeline {

template <class T>
class TbbPipeline {
 public:
  using item_type = T;
  static constexpr std::string_view kName = "tbb_parallel_pipeline";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  /// @throws std::invalid_argument on the same descriptions as `QueuePipeline`.
  TbbPipeline(std::vector<Stage<T>> stages, std::size_t capacity)
      : stages_((validate(stages, capacity), std::move(stages))),
        tokens_(tokens_for(stages_.size(), capacity)),
        threads_(stage_threads(stages_)),
        limit_(tbb::global_control::max_allowed_parallelism,
               std::max(threads_ + 1, tbb::global_control::active_value(
                                          tbb::global_control::max_allowed_parallelism))),
        arena_(static_cast<int>(threads_)) {
    tail_ = last_filter(stages_.size() - 1);
    for (std::size_t i = stages_.size() - 1; i-- > 0;) tail_ = middle_filter(i) & tail_;
  }

  TbbPipeline(const TbbPipeline&) = delete;
  TbbPipeline& operator=(const TbbPipeline&) = delete;

  /// Runs one stream from `source()` (`std::optional<T>`; empty = end of stream). One at a time.
  /// If `source` throws, the items already taken still finish, and the exception is rethrown.
  template <class Source>
  RunReport run(Source&& source) {
    std::lock_guard run_lock(run_m_);
    std::uint64_t seq = 0;  // the input filter is serial: one thread at a time
    std::exception_ptr failure;
    completed_.store(0);
    errors_.clear();
    const auto input = tbb::make_filter<void, Envelope>(
        tbb::filter_mode::serial_in_order, [&](tbb::flow_control& fc) -> Envelope {
          std::optional<T> v;
          try {
            v = source();
          } catch (...) {
            // End the stream, not the pipeline: the items already taken still finish (TBB
            // would cancel them if the exception escaped), as in the own pipeline.
            failure = std::current_exception();
          }
          if (!v) {
            fc.stop();
            return {};
          }
          return Envelope{seq++, std::move(*v), false};
        });
    arena_.execute([&] { tbb::parallel_pipeline(tokens_, input & tail_); });
    if (failure) std::rethrow_exception(failure);
    RunReport report;
    report.items = seq;
    report.completed = completed_.load();
    report.errors = std::move(errors_);
    errors_.clear();
    sort_errors(report.errors);
    return report;
  }

  /// Items in flight at most (TBB's live tokens): stages × capacity.
  [[nodiscard]] std::size_t tokens() const { return tokens_; }

 private:
  struct Envelope {
    std::uint64_t seq = 0;
    T value{};
    bool failed = false;
  };

  static tbb::filter_mode mode_of(const Stage<T>& s) {
    if (s.order == Order::kInOrder) return tbb::filter_mode::serial_in_order;
    return s.concurrency == 1 ? tbb::filter_mode::serial_out_of_order : tbb::filter_mode::parallel;
  }

  void apply(std::size_t i, Envelope& e) {
    if (e.failed) return;
    try {
      e.value = stages_[i].fn(std::move(e.value));
    } catch (const std::exception& ex) {
      e.failed = true;
      e.value = T{};
      std::lock_guard lk(errors_m_);
      errors_.push_back(StageError{e.seq, i, ex.what()});
    }
  }

  tbb::filter<Envelope, Envelope> middle_filter(std::size_t i) {
    return tbb::make_filter<Envelope, Envelope>(mode_of(stages_[i]), [this, i](Envelope e) {
      apply(i, e);
      return e;
    });
  }

  tbb::filter<Envelope, void> last_filter(std::size_t i) {
    return tbb::make_filter<Envelope, void>(mode_of(stages_[i]), [this, i](Envelope e) {
      apply(i, e);
      // Relaxed: a count; parallel_pipeline's return orders it before run() reads it.
      if (!e.failed) completed_.fetch_add(1, std::memory_order_relaxed);
    });
  }

  const std::vector<Stage<T>> stages_;
  const std::size_t tokens_;
  const std::size_t threads_;
  tbb::global_control limit_;
  tbb::task_arena arena_;
  tbb::filter<Envelope, void> tail_;
  std::mutex run_m_;
  std::mutex errors_m_;
  std::vector<StageError> errors_;  // guarded by errors_m_ while a run is in progress
  std::atomic<std::uint64_t> completed_{0};
};

}  // namespace cpb::patterns::pipeline
