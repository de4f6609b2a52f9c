// SPDX-License-Identifier: Apache-2.0
/// @file
/// What every pipeline here is built from and reports: a `Stage` (a `T(T)` function, its
/// concurrency and its `Order`), a `StageError` (the item and the stage that threw), and the
/// `RunReport` of one stream. Shared by the own pipeline and the oneTBB adapter, so that both
/// take the same description and give the same answers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace cpb::patterns::pipeline {

/// How a stage sees the items of a stream.
enum class Order {
  kInOrder,    ///< one item at a time, in the order the source produced them (concurrency 1)
  kUnordered,  ///< up to `concurrency` items at once, in whatever order they arrive
};

/// One stage: `fn` maps an item to the item the next stage gets. A stage that throws a
/// `std::exception` for an item drops that item (the later stages never see it) and the error is
/// reported with the item's sequence number and the stage's index; the stream goes on.
template <class T>
struct Stage {
  std::function<T(T)> fn;
  std::size_t concurrency = 1;
  Order order = Order::kUnordered;
};

/// Stage `stage` (0-based) threw `message` for the item the source produced `seq`-th (0-based).
struct StageError {
  std::uint64_t seq = 0;
  std::size_t stage = 0;
  std::string message;

  friend bool operator==(const StageError&, const StageError&) = default;
};

/// What one stream did: `items` the source produced, `completed` that passed every stage, and
/// the errors of the others (`items == completed + errors.size()`), sorted by `seq`.
struct RunReport {
  std::uint64_t items = 0;
  std::uint64_t completed = 0;
  std::vector<StageError> errors;
};

/// Throws std::invalid_argument unless `stages` describes a pipeline that can run: at least one
/// stage, each with a function and a concurrency of at least 1 (exactly 1 when in order), and a
/// queue capacity of at least 1.
template <class T>
void validate(const std::vector<Stage<T>>& stages, std::size_t capacity) {
  if (stages.empty()) throw std::invalid_argument("a pipeline needs at least one stage");
  if (capacity == 0) throw std::invalid_argument("a pipeline's queue capacity must be at least 1");
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const Stage<T>& s = stages[i];
    const std::string at = "pipeline stage " + std::to_string(i) + ": ";
    if (!s.fn) throw std::invalid_argument(at + "no function");
    if (s.concurrency == 0) throw std::invalid_argument(at + "concurrency must be at least 1");
    if (s.order == Order::kInOrder && s.concurrency != 1) {
      throw std::invalid_argument(at + "an in-order stage runs one item at a time (concurrency 1)");
    }
  }
}

/// The items a pipeline of `stages` stages with queues of `capacity` lets into flight at once:
/// the capacity of all its queues together (one queue in front of each stage).
inline std::size_t tokens_for(std::size_t stages, std::size_t capacity) {
  return stages * capacity;
}

/// The threads that run stages: the sum of the stages' concurrency.
template <class T>
std::size_t stage_threads(const std::vector<Stage<T>>& stages) {
  std::size_t n = 0;
  for (const Stage<T>& s : stages) n += s.concurrency;
  return n;
}

/// Sorts a run's errors by sequence number.
inline void sort_errors(std::vector<StageError>& errors) {
  std::sort(errors.begin(), errors.end(),
            [](const StageError& a, const StageError& b) { return a.seq < b.seq; });
}

}  // namespace cpb::patterns::pipeline
