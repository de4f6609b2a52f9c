// SPDX-License-Identifier: Apache-2.0
// Model checks: the registered model checks of every queue templated on the sync policy pass,
// and seeded-bug twins of the own implementations (written here, one line away from the real
// code) are caught with the expected kind of failure.
//
// The Michael-Scott queue's nodes come from S::create and go back through S::destroy, so a node
// its hazard pointers free too early is a use-after-free in the checker heap.
#include "patterns/lockfree_queue/lockfree_queue.hpp"

#include "harness/testing.hpp"
#include "patterns/lockfree_queue/lockfree_queue.impls.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <memory>

namespace cpb::patterns::lockfree_queue {
namespace {

template <class Q>
class QueueModel : public ::testing::Test {};
TYPED_TEST_SUITE(QueueModel, testing::ToGTest<ModelImpls>, testing::ImplName);

TYPED_TEST(QueueModel, RegisteredModelChecksPass) {
  EXPECT_GT(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            0)
      << "no model check is registered for " << TypeParam::kName;
}

// -- seeded bugs ----------------------------------------------------------------------------------

/// Runs `test` as the registered checks do (random, PCT and DFS in turn, 1 s in all) and
/// expects a failure of kind `kind`.
void expect_caught(const check::TestCase& test, std::string_view kind) {
  CheckConfig cfg;
  cfg.budget = std::chrono::milliseconds(1000);
  const stress::CheckResult r = check::model_mode([test] { return test; })(cfg);
  ASSERT_FALSE(r.passed()) << test.name << " was not caught: " << r.details;
  EXPECT_EQ(r.verdict, stress::Verdict::kFail) << r.failure;
  EXPECT_EQ(r.kind, kind) << r.details;
}

/// SpscRing with one bug: the producer publishes `tail` with a relaxed store, so the slot write
/// is not ordered before the consumer's read of it (a data race on the slot). Otherwise a copy
/// of spsc_ring.hpp.
template <class T, class S>
class RelaxedTailRing {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "relaxed_tail_ring";
  static constexpr Progress kProgress = Progress::kWaitFree;
  static constexpr bool kMultiProducer = false;
  static constexpr bool kMultiConsumer = false;
  static constexpr Bound kBound = Bound::kAtLeast;
  static constexpr bool kLinearizable = true;

  /// Holds at least `capacity` elements, rounded up to a power of two (at least 1).
  explicit RelaxedTailRing(std::size_t capacity)
      : capacity_(std::bit_ceil(std::max<std::size_t>(capacity, 1))),
        batch_(std::min<std::size_t>(kBatch, capacity_)),
        limit_(capacity_ + batch_ - 1),
        mask_(2 * capacity_ - 1),
        slots_(std::make_unique<typename S::template cell<T>[]>(2 * capacity_)) {}

  /// The capacity guaranteed; the ring may hold up to `batch - 1` more.
  [[nodiscard]] std::size_t capacity() const { return capacity_; }

  /// Producer only.
  bool try_push(const T& v) {
    // Relaxed: only this thread writes tail_.
    const std::size_t t = tail_.load(std::memory_order_relaxed);
    if (t - head_cache_ == limit_) {
      // Acquire pairs with the consumer's release store of head_: its reads of the slots we
      // are about to overwrite happened before.
      head_cache_ = head_.load(std::memory_order_acquire);
      if (t - head_cache_ == limit_) return false;
    }
    slots_[t & mask_].store(v);
    tail_.store(t + 1, std::memory_order_relaxed);  // BUG: must be release
    return true;
  }

  /// Consumer only.
  bool try_pop(T& out) {
    const std::size_t h = head_local_;
    if (h == tail_cache_) {
      // Acquire pairs with the producer's release store of tail_: the slot's value is visible.
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (h == tail_cache_) {
        if (published_ != h) publish(h);  // going idle: hand every freed slot back
        return false;
      }
    }
    out = slots_[h & mask_].load();
    head_local_ = h + 1;
    if (h + 1 - published_ >= batch_) publish(h + 1);
    return true;
  }

 private:
  static constexpr std::size_t kBatch = 64;

  void publish(std::size_t h) {
    // Release pairs with the producer's acquire load of head_: every slot below h has been
    // read before it may be overwritten.
    head_.store(h, std::memory_order_release);
    published_ = h;
  }

  // The producer's line: the index it writes and its cached copy of the consumer's.
  alignas(64) typename S::template atomic<std::size_t> tail_{0};
  std::size_t head_cache_ = 0;  // producer-private
  // The index the consumer publishes, alone on its line: the producer polls it when full.
  alignas(64) typename S::template atomic<std::size_t> head_{0};
  // The consumer's private line.
  alignas(64) std::size_t head_local_ = 0;  // the next slot to read
  std::size_t published_ = 0;               // the last value stored to head_
  std::size_t tail_cache_ = 0;
  // Read-only after construction, shared by both.
  alignas(64) const std::size_t capacity_;
  const std::size_t batch_;
  const std::size_t limit_;
  const std::size_t mask_;
  std::unique_ptr<typename S::template cell<T>[]> slots_;
};

TEST(QueueModelBugs, SpscRingPublishingTailRelaxedIsADataRace) {
  static_assert(Queue<RelaxedTailRing<std::uint64_t, check::Sync>>);
  expect_caught(detail::spsc_model<RelaxedTailRing<std::uint64_t, check::Sync>>(
                    "lockfree_queue/seeded/relaxed_tail_ring"),
                "data-race");
}

/// VyukovMpmc with one bug: a consumer claims its position with a load and a store instead of a
/// CAS, so two consumers that read the same `dequeue_pos` both take the same cell (a duplicate;
/// the other value is then drained late). The model test with two consumers catches it as an
/// assertion failure (each value must come out exactly once).
template <class T, class S>
class NonAtomicClaimVyukov {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "non_atomic_claim_vyukov";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kMultiProducer = true;
  static constexpr bool kMultiConsumer = true;
  static constexpr Bound kBound = Bound::kExact;
  static constexpr bool kLinearizable = true;

  explicit NonAtomicClaimVyukov(std::size_t capacity)
      : capacity_(std::bit_ceil(std::max<std::size_t>(capacity, 2))),
        mask_(capacity_ - 1),
        cells_(std::make_unique<Cell[]>(capacity_)) {
    for (std::size_t i = 0; i < capacity_; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }
  [[nodiscard]] std::size_t capacity() const { return capacity_; }

  bool try_push(const T& v) {
    sync::Backoff<S> backoff;
    std::size_t pos = enqueue_pos_.load(std::memory_order_relaxed);
    Cell* cell = nullptr;
    for (;;) {
      cell = &cells_[pos & mask_];
      const std::size_t seq = cell->seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq - pos);
      if (diff == 0) {
        if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        if (dequeue_pos_.load() + capacity_ == pos) return false;
        backoff();
        pos = enqueue_pos_.load(std::memory_order_relaxed);
      } else {
        pos = enqueue_pos_.load(std::memory_order_relaxed);
      }
    }
    cell->data.store(v);
    cell->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  bool try_pop(T& out) {
    sync::Backoff<S> backoff;
    std::size_t pos = dequeue_pos_.load(std::memory_order_relaxed);
    Cell* cell = nullptr;
    for (;;) {
      cell = &cells_[pos & mask_];
      const std::size_t seq = cell->seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq - (pos + 1));
      if (diff == 0) {
        dequeue_pos_.store(pos + 1, std::memory_order_relaxed);  // BUG: must be a CAS from pos
        break;
      } else if (diff < 0) {
        if (enqueue_pos_.load() == pos) return false;
        backoff();
        pos = dequeue_pos_.load(std::memory_order_relaxed);
      } else {
        pos = dequeue_pos_.load(std::memory_order_relaxed);
      }
    }
    out = cell->data.load();
    cell->seq.store(pos + capacity_, std::memory_order_release);
    return true;
  }

 private:
  struct Cell {
    typename S::template atomic<std::size_t> seq{0};
    typename S::template cell<T> data;
  };
  alignas(64) typename S::template atomic<std::size_t> enqueue_pos_{0};
  alignas(64) typename S::template atomic<std::size_t> dequeue_pos_{0};
  const std::size_t capacity_;
  const std::size_t mask_;
  std::unique_ptr<Cell[]> cells_;
};

TEST(QueueModelBugs, VyukovClaimingWithoutCasDuplicatesAValue) {
  using Q = NonAtomicClaimVyukov<std::uint64_t, check::Sync>;
  static_assert(Queue<Q>);
  expect_caught(detail::two_consumers_model<Q>("lockfree_queue/seeded/non_atomic_claim_vyukov"),
                "assertion");
}

}  // namespace
}  // namespace cpb::patterns::lockfree_queue
