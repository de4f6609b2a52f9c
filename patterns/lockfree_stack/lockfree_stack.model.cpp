// SPDX-License-Identifier: Apache-2.0
// Model checks: every own stack (a template on the sync policy) passes its registered model
// checks, run on the same code rebound to cpb::check::Sync; and seeded bug twins of the Treiber
// stack are caught: a push that publishes its node with a relaxed CAS (a data race on the
// node's value cell), and a pop that reads the head without a hazard pointer (a free racing
// with that read, or a use after free: nodes come from S::create and go back through
// S::destroy, so they live in the checker heap).
#include "patterns/lockfree_stack/lockfree_stack.hpp"

#include "harness/check/explore.hpp"
#include "harness/check/registered.hpp"
#include "harness/testing.hpp"
#include "patterns/lockfree_stack/lockfree_stack.impls.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

namespace cpb::patterns::lockfree_stack {
namespace {

using OwnImpls = testing::SyncTemplated<Impls>;  // the own stacks

template <class St>
class StackModel : public ::testing::Test {};
TYPED_TEST_SUITE(StackModel, OwnImpls, testing::ImplName);

TYPED_TEST(StackModel, RegisteredModelChecksPass) {
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            2);
}

// -- the seeded bug twins --------------------------------------------------------------------

enum class Bug {
  kRelaxedPush,     ///< push's CAS on the head is relaxed instead of release
  kUnprotectedPop,  ///< pop reads the head without publishing it in a hazard slot
};

/// TreiberStack with one seeded bug, `B`; everything else as in TreiberCore, reclaiming at
/// every retire.
template <Bug B, class S = sync::Real>
class BuggyTreiber {
  using NodeT = detail::Node<S>;
  using Hazards = sync::HazardDomain<S>;

 public:
  static constexpr std::string_view kName = "buggy_treiber";
  static constexpr Progress kProgress = Progress::kLockFree;

  BuggyTreiber() = default;
  ~BuggyTreiber() noexcept(sync::kNothrowSync<S>) {
    for (NodeT* n = top_.load(std::memory_order_relaxed); n != nullptr;) {
      NodeT* next = n->next.load();
      S::destroy(n);
      n = next;
    }
  }
  BuggyTreiber(const BuggyTreiber&) = delete;
  BuggyTreiber& operator=(const BuggyTreiber&) = delete;

  void push(std::uint64_t v) {
    auto* n = S::template create<NodeT>(v);
    NodeT* t = top_.load(std::memory_order_relaxed);
    // kRelaxedPush's bug: relaxed; the correct order is release (pairs with the pop's
    // acquiring re-read), so a pop that finds the node is not ordered after its writes.
    constexpr auto order =
        B == Bug::kRelaxedPush ? std::memory_order_relaxed : std::memory_order_release;
    do {
      n->next.store(t);
    } while (!top_.compare_exchange_weak(t, n, order, std::memory_order_relaxed));
  }

  std::optional<std::uint64_t> try_pop() {
    typename Hazards::Guard g(hazards_);
    for (;;) {
      // kUnprotectedPop's bug: another pop may unlink and free `t` before this one reads it.
      NodeT* t = B == Bug::kUnprotectedPop ? top_.load() : g.protect(0, top_);
      if (t == nullptr) return std::nullopt;
      NodeT* next = t->next.load();
      if (top_.compare_exchange_strong(t, next, std::memory_order_seq_cst,
                                       std::memory_order_relaxed)) {
        const std::uint64_t v = t->value.load();
        g.clear(0);
        g.retire(t);
        return v;
      }
    }
  }

 private:
  typename S::template atomic<NodeT*> top_{nullptr};
  Hazards hazards_{1};
};

TEST(StackModelTwin, RelaxedPushIsCaughtAsADataRace) {
  static_assert(Stack<BuggyTreiber<Bug::kRelaxedPush>>);
  const auto run = check::model_mode([] {
    return detail::lifo_model<BuggyTreiber<Bug::kRelaxedPush, check::Sync>>(
        "lockfree_stack/twin/lifo");
  });
  const stress::CheckResult r = run(testing::model_config());
  std::printf("%s\n", r.failure.c_str());
  ASSERT_FALSE(r.passed()) << "the relaxed push was not caught: " << r.details;
  EXPECT_EQ(r.kind, "data-race") << r.details;
}

// Two pops race for the same head; the one without a hazard reads a node the other frees.
TEST(StackModelTwin, UnprotectedPopIsCaughtByTheCheckerHeap) {
  const auto run = check::model_mode([] {
    return detail::pairs_model<BuggyTreiber<Bug::kUnprotectedPop, check::Sync>>(
        "lockfree_stack/twin/pairs");
  });
  const stress::CheckResult r = run(testing::model_config());
  std::printf("%s\n", r.failure.c_str());
  ASSERT_FALSE(r.passed()) << "the unprotected pop was not caught: " << r.details;
  // The checker heap reports whichever comes first: the free racing with the unprotected read
  // (a free counts as a write), or a read of the freed node.
  const bool free_race =
      r.kind == "data-race" && (r.failure + r.details).find(" frees ") != std::string::npos;
  EXPECT_TRUE(r.kind == "use-after-free" || free_race) << r.details;
}

// The fixed twin (the real TreiberStack) passes the same tests: the catches above are the bugs'.
TEST(StackModelTwin, TreiberStackPasses) {
  for (const auto& t :
       {detail::lifo_model<TreiberStack<check::Sync>>("lockfree_stack/fixed/lifo"),
        detail::pairs_model<TreiberStack<check::Sync>>("lockfree_stack/fixed/pairs")}) {
    const stress::CheckResult r = check::model_mode([t] { return t; })(testing::model_config());
    EXPECT_TRUE(r.passed()) << r.failure << "\n" << r.details;
  }
}

}  // namespace
}  // namespace cpb::patterns::lockfree_stack
