// SPDX-License-Identifier: Apache-2.0
// Model checks: every own stack (a template on the sync policy) passes its registered model
// checks, run on the same code rebound to cpb::check::Sync; the memory-order audit of the real
// Treiber stack and its hazard domain finds the orders that the hand-copied order twins used to
// seed needed under C11; and a seeded bug twin whose bug is not an order is caught: a pop that
// reads the head without a hazard pointer (a free racing with that read, or a use after free:
// nodes come from S::create and go back through S::destroy, so they live in the checker heap).
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
#include <string_view>

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
    do {
      n->next.store(t);
      // Release pairs with the pop's acquiring re-read: the node's writes are visible to it.
    } while (
        !top_.compare_exchange_weak(t, n, std::memory_order_release, std::memory_order_relaxed));
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

// Orders are audited on the real code. Under C11: the push's release CAS (relaxed: the pop
// reads the node's value unordered, a data race); and the hazard domain's record list, which
// the c11 tier found wrong when it was published by a release CAS and read by an acquire load
// (a scan may read the older head, miss a new record's hazard and free the node it protects;
// a third thread takes a record from the list): its seq_cst CAS and seq_cst scan are each
// needed, as is every seq_cst access of the hazard handshake.
TEST(StackModelAudit, TreiberPushAndHazardListOrdersAreNeeded) {
  const auto rows =
      testing::audit_rows<Family<TreiberStack<>>>("", std::chrono::milliseconds(1000));
  int push = 0;
  int seq_cst = 0;
  for (const auto& row : rows) {
    const std::string_view file = row.site.file;
    if (file.ends_with("lockfree_stack/treiber_stack.hpp") && row.site.op == check::OpKind::kCas &&
        row.site.order == std::memory_order_release) {
      ++push;
      EXPECT_TRUE(row.needed()) << check::site_name(row.site);
      EXPECT_EQ(row.trials.at(0).kind, "data-race") << check::site_name(row.site);
    }
    if (file.ends_with("core/hazard_pointers.hpp") && row.site.order == std::memory_order_seq_cst) {
      ++seq_cst;
      EXPECT_TRUE(row.needed()) << check::site_name(row.site) << ": " << row.verdict();
    }
  }
  EXPECT_EQ(push, 1);
  EXPECT_EQ(seq_cst, 5);  // hazard store and re-read, list CAS and scan, scan's slot loads
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
