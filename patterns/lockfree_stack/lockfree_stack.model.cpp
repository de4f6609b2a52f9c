// SPDX-License-Identifier: Apache-2.0
// Model checks: every own stack (a template on the sync policy) passes its registered model
// checks, run on the same code rebound to cpb::check::Sync; and a seeded bug twin, a Treiber
// stack whose push publishes its node with a relaxed CAS, is caught as a data race on the
// node's value cell. The checker has no checker heap yet, so use-after-free and ABA are not
// detectable here: reclamation is covered by lockfree_stack.check.cpp under ASan and TSan.
#include "patterns/lockfree_stack/lockfree_stack.hpp"

#include "harness/check/explore.hpp"
#include "harness/check/registered.hpp"
#include "harness/testing.hpp"
#include "patterns/lockfree_stack/lockfree_stack.impls.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <tuple>
#include <type_traits>

namespace cpb::patterns::lockfree_stack {
namespace {

// -- the own implementations: those of Impls that are templates on the sync policy ----------

template <class L>
struct Own;
template <class... T>
struct Own<TypeList<T...>> {
  using type = decltype(std::tuple_cat(
      std::declval<std::conditional_t<sync::sync_templated<T>, std::tuple<T>, std::tuple<>>>()...));
};
template <class Tuple>
struct TupleToGTest;
template <class... T>
struct TupleToGTest<std::tuple<T...>> {
  using type = ::testing::Types<T...>;
};
using OwnImpls = TupleToGTest<Own<Impls>::type>::type;

CheckConfig one_second() {
  CheckConfig cfg;
  cfg.budget = std::chrono::milliseconds(1000);
  return cfg;
}

template <class St>
class StackModel : public ::testing::Test {};
TYPED_TEST_SUITE(StackModel, OwnImpls, testing::ImplName);

TYPED_TEST(StackModel, RegisteredModelChecksPass) {
  int ran = 0;
  for (const Check& c : Family<TypeParam>::checks()) {
    if (!c.model) continue;
    const stress::CheckResult r = c.model(one_second());
    ++ran;
    std::printf("%s: %s (%llu executions, %.0f ms)\n", c.name.c_str(), r.details.c_str(),
                static_cast<unsigned long long>(r.samples), r.elapsed_ms);
    EXPECT_TRUE(r.passed()) << r.failure << "\n" << r.details;
    EXPECT_GT(r.samples, 0U);
  }
  EXPECT_EQ(ran, 2);
}

// -- the seeded bug twin --------------------------------------------------------------------

/// TreiberStack with one bug: push's CAS on the head is relaxed instead of release, so a pop
/// that finds the node is not ordered after the writes of its value and next.
template <class S = sync::Real>
class RelaxedPushTreiber {
  using NodeT = detail::Node<S>;
  using Hazards = HazardPointers<NodeT, S>;

 public:
  static constexpr std::string_view kName = "relaxed_push_treiber";
  static constexpr Progress kProgress = Progress::kLockFree;

  RelaxedPushTreiber() = default;
  ~RelaxedPushTreiber() noexcept(kNothrowSync<S>) {
    for (NodeT* n = top_.load(std::memory_order_relaxed); n != nullptr;) {
      NodeT* next = n->next.load();
      delete n;
      n = next;
    }
  }
  RelaxedPushTreiber(const RelaxedPushTreiber&) = delete;
  RelaxedPushTreiber& operator=(const RelaxedPushTreiber&) = delete;

  void push(std::uint64_t v) {
    auto* n = new NodeT(v);
    NodeT* t = top_.load(std::memory_order_relaxed);
    do {
      n->next.store(t);
      // BUG: relaxed; the correct order is release (pairs with the pop's acquiring re-read).
    } while (
        !top_.compare_exchange_weak(t, n, std::memory_order_relaxed, std::memory_order_relaxed));
  }

  std::optional<std::uint64_t> try_pop() {
    typename Hazards::Guard g(hazards_);
    for (;;) {
      NodeT* t = g.protect(top_);
      if (t == nullptr) return std::nullopt;
      NodeT* next = t->next.load();
      if (top_.compare_exchange_strong(t, next, std::memory_order_seq_cst,
                                       std::memory_order_relaxed)) {
        const std::uint64_t v = t->value.load();
        g.retire(t);
        return v;
      }
    }
  }

 private:
  typename S::template atomic<NodeT*> top_{nullptr};
  Hazards hazards_;
};

TEST(StackModelTwin, RelaxedPushIsCaughtAsADataRace) {
  static_assert(Stack<RelaxedPushTreiber<>>);
  const auto run = check::model_mode([] {
    return detail::lifo_model<RelaxedPushTreiber<check::Sync>>("lockfree_stack/twin/lifo");
  });
  const stress::CheckResult r = run(one_second());
  std::printf("%s\n", r.failure.c_str());
  ASSERT_FALSE(r.passed()) << "the relaxed push was not caught: " << r.details;
  EXPECT_EQ(r.kind, "data-race") << r.details;
}

// The fixed twin (the real TreiberStack) passes the same test: the catch above is the bug's.
TEST(StackModelTwin, ReleasePushPasses) {
  const auto run = check::model_mode([] {
    return detail::lifo_model<TreiberStack<check::Sync>>("lockfree_stack/fixed_twin/lifo");
  });
  const stress::CheckResult r = run(one_second());
  EXPECT_TRUE(r.passed()) << r.failure << "\n" << r.details;
}

}  // namespace
}  // namespace cpb::patterns::lockfree_stack
