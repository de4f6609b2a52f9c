// SPDX-License-Identifier: Apache-2.0
// Model checks: the registered model checks of every queue templated on the sync policy pass;
// the memory-order audit finds each order of the own rings needed; a seeded-bug twin whose bug
// is not an order (written here, one line away from the real code) is caught with the expected
// kind of failure.
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

// Orders: the memory-order audit weakens each order of the real code in turn (a copy of a
// queue with one order changed would drift from the code it claims to test).

TEST(QueueModelAudit, EverySpscRingOrderIsNeeded) {
  const auto rows = testing::audit_rows<Family<SpscRing<Value>>>("lockfree_queue/spsc_ring.hpp");
  EXPECT_EQ(testing::expect_orders_needed(rows), 4);  // head_ and tail_: acquire, release
  // Publishing tail_ (or head_) relaxed leaves the slot's write and read unordered.
  int releases = 0;
  for (const auto& row : rows) {
    if (row.site.op != check::OpKind::kStore || row.site.order != std::memory_order_release)
      continue;
    ++releases;
    ASSERT_EQ(row.trials.size(), 1U);
    EXPECT_EQ(row.trials[0].kind, "data-race") << check::site_name(row.site);
    EXPECT_FALSE(row.trials[0].replay.empty());
  }
  EXPECT_EQ(releases, 2);
}

TEST(QueueModelAudit, EveryVyukovAcquireAndReleaseIsNeeded) {
  const auto rows =
      testing::audit_rows<Family<VyukovMpmc<Value>>>("lockfree_queue/vyukov_mpmc.hpp");
  int acq_rel = 0;
  for (const auto& row : rows) {
    if (row.site.order != std::memory_order_acquire && row.site.order != std::memory_order_release)
      continue;
    ++acq_rel;
    EXPECT_TRUE(row.needed()) << check::site_name(row.site) << ": " << row.verdict();
  }
  EXPECT_EQ(acq_rel, 4);  // each side's acquire of a cell's sequence and release of it
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
