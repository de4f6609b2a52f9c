// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `moodycamel::ReaderWriterQueue` (Debian `libreaderwriterqueue-dev` 1.0.6), a
/// single-producer single-consumer queue made of a linked list of ring buffers, the usual SPSC
/// reference (atomic_queue's benchmarks, performance-anchors §1.1).
///
/// Used through `try_enqueue`, which never allocates: bounded by what the constructor
/// allocated, "at least `capacity`" elements (its rings are powers of two with a spare slot):
/// `kBound` is `kAtLeast`, `capacity()` the capacity asked for.
///
/// Progress: wait-free (its claim for the try operations).
/// Ordering: FIFO, linearizable with one producer and one consumer.
/// When to use: exactly one producer and one consumer, where the queue may also have to grow
/// (its `enqueue` allocates a new ring).
/// Reference: C. Desrochers, github.com/cameron314/readerwriterqueue.
/// Left out of the TSan build: it synchronises through standalone fences, which TSan does not
/// model, so TSan reports races that are not there.
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/lockfree_queue/bound.hpp"

#include <cstddef>
#include <readerwriterqueue/readerwriterqueue.h>
#include <string_view>

namespace cpb::patterns::lockfree_queue {

template <class T>
class MoodycamelRwq {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "moodycamel_rwq";
  static constexpr Progress kProgress = Progress::kWaitFree;
  static constexpr bool kBaseline = true;
  static constexpr bool kMultiProducer = false;
  static constexpr bool kMultiConsumer = false;
  static constexpr Bound kBound = Bound::kAtLeast;
  static constexpr bool kLinearizable = true;

  explicit MoodycamelRwq(std::size_t capacity) : capacity_(capacity), q_(capacity) {}

  [[nodiscard]] std::size_t capacity() const { return capacity_; }  // at least this many
  bool try_push(const T& v) { return q_.try_enqueue(v); }
  bool try_pop(T& out) { return q_.try_dequeue(out); }

 private:
  std::size_t capacity_;
  moodycamel::ReaderWriterQueue<T> q_;
};

}  // namespace cpb::patterns::lockfree_queue
