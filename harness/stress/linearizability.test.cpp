// SPDX-License-Identifier: Apache-2.0
// Unit tests of the linearizability checker and the mutual-exclusion check on hand-made
// histories with known answers, for every specification.
#include "harness/stress/linearizability.hpp"

#include "harness/stress/mutual_exclusion.hpp"
#include "harness/stress/specs.hpp"

#include <gtest/gtest.h>

#include <string>

namespace cpb::stress {
namespace {

/// Op builder: thread, kind, [invoke, response], then the arguments and the result.
struct H {
  History ops;
  H& add(std::uint32_t thread, std::uint32_t kind, std::uint64_t inv, std::uint64_t resp,
         std::int64_t arg = 0, bool ok = true, std::int64_t value = 0, std::int64_t arg2 = 0) {
    Op op;
    op.thread = thread;
    op.kind = kind;
    op.invoke = inv;
    op.response = resp;
    op.arg = arg;
    op.arg2 = arg2;
    op.ok = ok;
    op.value = value;
    ops.push_back(op);
    return *this;
  }
};

template <class S>
bool linearizable(const S& spec, const History& h) {
  const CheckResult r = check_linearizable(spec, h);
  EXPECT_NE(r.verdict, Verdict::kError) << r.failure;
  if (r.verdict == Verdict::kFail) {
    EXPECT_FALSE(r.details.empty());
  }
  return r.passed();
}

using Q = QueueSpec;

TEST(Linearizability, QueueOverlappingPushesMayPopInEitherOrder) {
  H h;
  h.add(0, Q::kPush, 1, 4, 1).add(1, Q::kPush, 2, 3, 2);
  h.add(0, Q::kPop, 5, 6, 0, true, 2).add(1, Q::kPop, 7, 8, 0, true, 1);
  EXPECT_TRUE(linearizable(QueueSpec{}, h.ops));
}

TEST(Linearizability, QueueOrderedPushesMustPopInOrder) {
  H h;
  h.add(0, Q::kPush, 1, 2, 1).add(1, Q::kPush, 3, 4, 2).add(0, Q::kPop, 5, 6, 0, true, 2);
  EXPECT_FALSE(linearizable(QueueSpec{}, h.ops));
}

TEST(Linearizability, QueueEmptyPop) {
  H ok;  // the pop overlaps the push: it may come first
  ok.add(0, Q::kPush, 1, 4, 1).add(1, Q::kPop, 2, 3, 0, false);
  EXPECT_TRUE(linearizable(QueueSpec{}, ok.ops));
  H bad;  // the push completed before the pop began
  bad.add(0, Q::kPush, 1, 2, 1).add(1, Q::kPop, 3, 4, 0, false);
  EXPECT_FALSE(linearizable(QueueSpec{}, bad.ops));
  H phantom;  // a value nobody pushed
  phantom.add(0, Q::kPop, 1, 2, 0, true, 9);
  EXPECT_FALSE(linearizable(QueueSpec{}, phantom.ops));
}

TEST(Linearizability, QueueDuplicatePopIsCaught) {
  H h;
  h.add(0, Q::kPush, 1, 2, 7).add(0, Q::kPop, 3, 6, 0, true, 7).add(1, Q::kPop, 4, 5, 0, true, 7);
  EXPECT_FALSE(linearizable(QueueSpec{}, h.ops));
}

TEST(Linearizability, BoundedQueueRefusesOnlyWhenFull) {
  const QueueSpec spec{1};
  H full;
  full.add(0, Q::kPush, 1, 2, 1).add(1, Q::kPush, 3, 4, 2, false);
  EXPECT_TRUE(linearizable(spec, full.ops));
  H not_full;  // refused although the queue had just been emptied
  not_full.add(0, Q::kPush, 1, 2, 1).add(0, Q::kPop, 3, 4, 0, true, 1);
  not_full.add(1, Q::kPush, 5, 6, 2, false);
  EXPECT_FALSE(linearizable(spec, not_full.ops));
  H overfull;  // two accepted pushes with capacity 1
  overfull.add(0, Q::kPush, 1, 2, 1).add(1, Q::kPush, 3, 4, 2);
  EXPECT_FALSE(linearizable(spec, overfull.ops));
  H unbounded;  // a refusal is never right for an unbounded queue
  unbounded.add(0, Q::kPush, 1, 2, 1, false);
  EXPECT_FALSE(linearizable(QueueSpec{}, unbounded.ops));
}

// Two windows: the first ends in one of two states ([1, 2] or [2, 1]); the checker must carry
// both across the quiescent cut, not pick one.
TEST(Linearizability, EveryEndStateOfAWindowIsCarriedAcrossTheCut) {
  for (const auto& [first, second, expect] :
       {std::tuple{1, 2, true}, std::tuple{2, 1, true}, std::tuple{1, 1, false}}) {
    H h;
    h.add(0, Q::kPush, 1, 4, 1).add(1, Q::kPush, 2, 3, 2);
    h.add(0, Q::kPop, 10, 11, 0, true, first).add(1, Q::kPop, 12, 13, 0, true, second);
    const CheckResult r = check_linearizable(QueueSpec{}, h.ops);
    EXPECT_EQ(r.passed(), expect) << first << ", " << second << ": " << r.failure;
    EXPECT_EQ(r.stat("windows"), 3);  // {push, push}, {pop}, {pop}
    if (expect) {
      EXPECT_EQ(r.stat("most_end_states"), 2);
    }
  }
}

TEST(Linearizability, Stack) {
  using K = StackSpec;
  H ok;
  ok.add(0, K::kPush, 1, 2, 1).add(0, K::kPush, 3, 4, 2);
  ok.add(1, K::kPop, 5, 6, 0, true, 2).add(1, K::kPop, 7, 8, 0, true, 1);
  ok.add(1, K::kPop, 9, 10, 0, false);
  EXPECT_TRUE(linearizable(StackSpec{}, ok.ops));
  H fifo;  // FIFO order from a stack
  fifo.add(0, K::kPush, 1, 2, 1).add(0, K::kPush, 3, 4, 2).add(1, K::kPop, 5, 6, 0, true, 1);
  EXPECT_FALSE(linearizable(StackSpec{}, fifo.ops));
  H concurrent;  // a pop overlapping the second push may take either
  concurrent.add(0, K::kPush, 1, 2, 1).add(0, K::kPush, 3, 6, 2).add(1, K::kPop, 4, 5, 0, true, 1);
  concurrent.add(1, K::kPop, 7, 8, 0, true, 2);
  EXPECT_TRUE(linearizable(StackSpec{}, concurrent.ops));
}

TEST(Linearizability, Counter) {
  using C = CounterSpec;
  H ok;
  ok.add(0, C::kFetchAdd, 1, 4, 1, true, 1).add(1, C::kFetchAdd, 2, 3, 1, true, 0);
  ok.add(0, C::kLoad, 5, 6, 0, true, 2);
  EXPECT_TRUE(linearizable(CounterSpec{}, ok.ops));
  H lost;  // a lost update: both saw 0
  lost.add(0, C::kFetchAdd, 1, 4, 1, true, 0).add(1, C::kFetchAdd, 2, 3, 1, true, 0);
  EXPECT_FALSE(linearizable(CounterSpec{}, lost.ops));
  H stale;  // a load after both increments completed reads 1
  stale.add(0, C::kFetchAdd, 1, 2, 1, true, 0).add(1, C::kFetchAdd, 3, 4, 1, true, 1);
  stale.add(0, C::kLoad, 5, 6, 0, true, 1);
  EXPECT_FALSE(linearizable(CounterSpec{}, stale.ops));
}

TEST(Linearizability, Register) {
  using R = RegisterSpec;
  H ok;
  ok.add(0, R::kWrite, 1, 2, 1).add(1, R::kRead, 3, 4, 0, true, 1);
  ok.add(1, R::kCas, 5, 6, 1, true, 0, 5).add(0, R::kCas, 7, 8, 1, false, 5, 9);
  ok.add(0, R::kRead, 9, 12, 0, true, 5).add(1, R::kWrite, 10, 11, 6);
  EXPECT_TRUE(linearizable(RegisterSpec{}, ok.ops));
  H stale;
  stale.add(0, R::kWrite, 1, 2, 1).add(1, R::kRead, 3, 4, 0, true, 0);
  EXPECT_FALSE(linearizable(RegisterSpec{}, stale.ops));
  H concurrent;  // a read overlapping the write may see the old value
  concurrent.add(0, R::kWrite, 1, 4, 1).add(1, R::kRead, 2, 3, 0, true, 0);
  EXPECT_TRUE(linearizable(RegisterSpec{}, concurrent.ops));
  H bad_cas;  // a CAS failing although the value matched
  bad_cas.add(0, R::kCas, 1, 2, 0, false, 0, 1);
  EXPECT_FALSE(linearizable(RegisterSpec{}, bad_cas.ops));
  H double_cas;  // two CASes from 0 both succeeding
  double_cas.add(0, R::kCas, 1, 4, 0, true, 0, 1).add(1, R::kCas, 2, 3, 0, true, 0, 2);
  EXPECT_FALSE(linearizable(RegisterSpec{}, double_cas.ops));
}

TEST(Linearizability, SetIsCheckedPerKey) {
  using S = SetSpec;
  H ok;
  ok.add(0, S::kInsert, 1, 2, 1, true).add(1, S::kInsert, 3, 4, 1, false);
  ok.add(0, S::kContains, 5, 6, 1, true).add(1, S::kErase, 7, 8, 1, true);
  ok.add(0, S::kContains, 9, 10, 1, false).add(1, S::kInsert, 2, 9, 2, true);
  const CheckResult r = check_linearizable(SetSpec{}, ok.ops);
  EXPECT_TRUE(r.passed()) << r.failure;
  EXPECT_EQ(r.stat("partitions"), 2);
  H twice;
  twice.add(0, S::kInsert, 1, 2, 1, true).add(1, S::kInsert, 3, 4, 1, true);
  EXPECT_FALSE(linearizable(SetSpec{}, twice.ops));
  H ghost;  // contains finds a key nobody inserted
  ghost.add(0, S::kInsert, 1, 2, 1, true).add(1, S::kContains, 3, 4, 2, true);
  EXPECT_FALSE(linearizable(SetSpec{}, ghost.ops));
}

TEST(Linearizability, Map) {
  using M = MapSpec;
  H ok;
  ok.add(0, M::kPut, 1, 2, 1, true, 0, 10).add(1, M::kGet, 3, 4, 1, true, 10);
  ok.add(0, M::kPut, 5, 6, 1, false, 0, 20).add(1, M::kGet, 7, 8, 1, true, 20);
  ok.add(0, M::kErase, 9, 10, 1, true).add(1, M::kGet, 11, 12, 1, false);
  EXPECT_TRUE(linearizable(MapSpec{}, ok.ops));
  H stale;
  stale.add(0, M::kPut, 1, 2, 1, true, 0, 10).add(0, M::kPut, 3, 4, 1, false, 0, 20);
  stale.add(1, M::kGet, 5, 6, 1, true, 10);
  EXPECT_FALSE(linearizable(MapSpec{}, stale.ops));
}

TEST(Linearizability, FailureShowsTheWindowAsAPerThreadTable) {
  H h;
  h.add(0, Q::kPush, 1, 2, 1).add(1, Q::kPush, 3, 6, 2).add(0, Q::kPop, 4, 5, 0, true, 2);
  const CheckResult r = check_linearizable(QueueSpec{}, h.ops, {.name = "table"});
  ASSERT_EQ(r.verdict, Verdict::kFail);
  EXPECT_NE(r.failure.find("not linearizable"), std::string::npos) << r.failure;
  EXPECT_NE(r.details.find("| thread 0"), std::string::npos) << r.details;
  EXPECT_NE(r.details.find("| thread 1"), std::string::npos) << r.details;
  EXPECT_NE(r.details.find("push(2) -> ok [3,6]"), std::string::npos) << r.details;
  EXPECT_NE(r.details.find("*pop() -> 2 [4,5]"), std::string::npos) << r.details;
  EXPECT_NE(r.details.find("Deepest partial linearization (1 of 2"), std::string::npos)
      << r.details;
}

TEST(Linearizability, QuiescentWindows) {
  H h;
  h.add(0, 0, 1, 2).add(1, 0, 3, 6).add(0, 0, 4, 5).add(0, 0, 7, 8).add(1, 0, 9, 12);
  h.add(0, 0, 10, 11);
  const auto w = detail::quiescent_windows(h.ops);
  ASSERT_EQ(w.size(), 4U);
  EXPECT_EQ(w[0], (std::pair<std::size_t, std::size_t>{0, 1}));
  EXPECT_EQ(w[1], (std::pair<std::size_t, std::size_t>{1, 3}));
  EXPECT_EQ(w[2], (std::pair<std::size_t, std::size_t>{3, 4}));
  EXPECT_EQ(w[3], (std::pair<std::size_t, std::size_t>{4, 6}));
}

TEST(Linearizability, GivingUpIsAnErrorNotAPass) {
  H h;  // eight fully concurrent pushes
  for (std::uint32_t t = 0; t < 8; ++t) h.add(t, Q::kPush, 1 + t, 100 + t, t);
  LinOptions o;
  o.max_nodes = 10;
  EXPECT_EQ(check_linearizable(QueueSpec{}, h.ops, o).verdict, Verdict::kError);
  o.max_nodes = 1'000'000;
  o.max_states = 100;  // 8! orders
  EXPECT_EQ(check_linearizable(QueueSpec{}, h.ops, o).verdict, Verdict::kError);
}

TEST(MutualExclusion, DisjointHoldsPass) {
  H h;
  h.add(0, 0, 1, 2).add(1, 0, 3, 4).add(0, 0, 5, 8).add(1, 0, 9, 10);
  const CheckResult r = check_mutual_exclusion(h.ops, "disjoint");
  EXPECT_TRUE(r.passed()) << r.failure;
  EXPECT_EQ(r.stat("holds"), 4);
}

TEST(MutualExclusion, OverlappingHoldsFail) {
  H h;
  h.add(0, 0, 1, 2).add(1, 0, 3, 10).add(0, 0, 5, 6).add(1, 0, 11, 12);
  const CheckResult r = check_mutual_exclusion(h.ops, "overlap", 99);
  EXPECT_EQ(r.verdict, Verdict::kFail);
  EXPECT_EQ(r.stat("overlaps"), 1);
  EXPECT_NE(r.failure.find("thread 1 held the lock over tickets [3,10] while thread 0 acquired "
                           "it at 5"),
            std::string::npos)
      << r.failure;
  EXPECT_NE(r.failure.find("0x63"), std::string::npos) << r.failure;
  EXPECT_NE(r.details.find("*holds [5,6]"), std::string::npos) << r.details;
}

}  // namespace
}  // namespace cpb::stress
