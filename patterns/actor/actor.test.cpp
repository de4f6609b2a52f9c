// SPDX-License-Identifier: Apache-2.0
// Conformance of every runtime in the family's list (one typed suite): each Savina scenario's
// fixture verifies on a small instance; one sender's messages arrive in order; an actor handles
// one message at a time. Then the own runtime alone: request/response (future and reply-to
// handle), the throughput bound, and supervision: the message policy (the failing message is
// dropped, the mailbox kept), which children each strategy restarts and in which order, the
// restart intensity and escalation, and the root giving up.
#include "patterns/actor/actor.hpp"

#include "harness/testing.hpp"
#include "patterns/actor/actor.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace cpb::patterns::actor {
namespace {

using namespace std::chrono_literals;

template <class R>
class ActorConformance : public ::testing::Test {};
TYPED_TEST_SUITE(ActorConformance, testing::ToGTest<Tested>, testing::ImplName);

/// A small point of `scenario`: the quick values, with the given thread count.
Point quick_point(const Scenario& s, int threads) {
  Point p;
  p.threads = threads;
  for (const ParamAxis& a : s.params) {
    p.params.emplace_back(a.name, a.quick.empty() ? a.values.front() : a.quick.front());
  }
  return p;
}

TYPED_TEST(ActorConformance, EveryScenarioVerifies) {
  for (const Scenario& s : cpb::testing::registered<Family<TypeParam>>().scenarios) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE(s.name + " with " + std::to_string(threads) + " workers");
      auto f = s.make(quick_point(s, threads));
      EXPECT_EQ(f->verify(), "");
      EXPECT_EQ(f->verify(), "") << "a second run on the same actors";
    }
  }
}

TYPED_TEST(ActorConformance, OneSendersMessagesArriveInOrder) {
  constexpr std::uint64_t kN = 5000;
  std::vector<std::uint64_t> got;  // the actor only, until the latch
  std::latch done(1);
  TypeParam rt(2);
  auto a = rt.spawn([&](typename TypeParam::context&, const Msg& m) {
    got.push_back(m.a);
    if (got.size() == kN) done.count_down();
  });
  for (std::uint64_t i = 0; i < kN; ++i) rt.send(a, {kWork, i, 0});
  done.wait();
  ASSERT_EQ(got.size(), kN);
  for (std::uint64_t i = 0; i < kN; ++i) ASSERT_EQ(got[i], i) << "at position " << i;
}

TYPED_TEST(ActorConformance, OneMessageAtATimeFromManySenders) {
  constexpr int kSenders = 4;
  constexpr std::uint64_t kEach = 2000;
  std::atomic<int> inside{0};
  std::atomic<bool> overlap{false};
  std::vector<std::uint64_t> last(kSenders, 0);  // the actor only
  std::uint64_t count = 0;                       // the actor only
  bool order = true;                             // the actor only
  std::latch done(1);
  TypeParam rt(2);
  auto a = rt.spawn([&](typename TypeParam::context&, const Msg& m) {
    if (inside.fetch_add(1) != 0) overlap = true;
    if (m.b <= last[m.a]) order = false;
    last[m.a] = m.b;
    inside.fetch_sub(1);
    if (++count == kSenders * kEach) done.count_down();
  });
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&, s] {
      for (std::uint64_t i = 1; i <= kEach; ++i) {
        rt.send(a, {kWork, static_cast<std::uint64_t>(s), i});
      }
    });
  }
  for (auto& t : senders) t.join();
  done.wait();
  EXPECT_FALSE(overlap.load());
  EXPECT_TRUE(order);
  EXPECT_EQ(count, kSenders * kEach);
}

// ---- the own runtime ----

struct Add {
  int x;
  Reply<int> reply;
};

TEST(ActorRuntime, RequestGetsAFutureOfTheReply) {
  ActorSystem<> sys(2);
  auto doubler = sys.spawn<Add>([] { return [](Add& m) { m.reply(2 * m.x); }; });
  std::vector<std::future<int>> fs;
  for (int i = 0; i < 100; ++i) {
    fs.push_back(request<int>(doubler, [i](Reply<int> r) { return Add{i, std::move(r)}; }));
  }
  for (int i = 0; i < 100; ++i) EXPECT_EQ(fs[static_cast<std::size_t>(i)].get(), 2 * i);
}

struct Answer {
  int v;
};
struct Question {
  int v;
  Ref<Answer> reply_to;
};

TEST(ActorRuntime, ReplyToAHandleInTheMessage) {
  ActorSystem<> sys(2);
  std::promise<int> total;
  auto asker = sys.spawn<Answer>([&total] {
    return [&total, sum = 0, n = 0](Answer& a) mutable {
      sum += a.v;
      if (++n == 10) total.set_value(sum);
    };
  });
  auto squarer =
      sys.spawn<Question>([] { return [](Question& q) { q.reply_to.send({q.v * q.v}); }; });
  for (int i = 1; i <= 10; ++i) squarer.send({i, asker});
  EXPECT_EQ(total.get_future().get(), 385);
}

TEST(ActorRuntime, AFailedRequestBreaksItsPromise) {
  ActorSystem<> sys(1);
  auto a = sys.spawn<Add>([] {
    return [](Add& m) {
      if (m.x < 0) throw std::runtime_error("negative");
      m.reply(m.x);
    };
  });
  auto bad = request<int>(a, [](Reply<int> r) { return Add{-1, std::move(r)}; });
  auto good = request<int>(a, [](Reply<int> r) { return Add{7, std::move(r)}; });
  EXPECT_THROW(bad.get(), std::future_error);
  EXPECT_EQ(good.get(), 7) << "the mailbox survives the failure";
}

TEST(ActorRuntime, ABatchHandlesAtMostThroughputMessages) {
  constexpr std::uint64_t kK = 4;
  constexpr std::uint64_t kN = 40;
  ActorSystem<> sys(1, kK);
  std::latch gate(1);
  auto a = sys.spawn<int>([&gate] {
    return [&gate](int& m) {
      if (m == 0) gate.wait();  // holds the first batch until every message is queued
    };
  });
  for (int i = 0; i < static_cast<int>(kN); ++i) a.send(i);
  gate.count_down();
  sys.wait_idle();
  const Stats s = sys.stats();
  EXPECT_EQ(s.handled, kN);
  EXPECT_EQ(s.batches, kN / kK);
}

TEST(ActorRuntime, AFullBatchYieldsTheWorkerToWaitingActors) {
  ActorSystem<> sys(1, 2);
  std::latch gate(1);
  std::atomic<int> a_handled{0};
  int a_when_b_ran = -1;  // written by b, read after wait_idle
  auto a = sys.spawn<int>([&] {
    return [&](int& m) {
      if (m == 0) gate.wait();
      a_handled.fetch_add(1);
    };
  });
  auto b = sys.spawn<int>([&] { return [&](int&) { a_when_b_ran = a_handled.load(); }; });
  for (int i = 0; i < 10; ++i) a.send(i);  // a's first batch holds the only worker at the gate
  b.send(0);                               // b waits in the pool's inbox
  gate.count_down();
  sys.wait_idle();
  EXPECT_EQ(a_handled.load(), 10);
  EXPECT_EQ(a_when_b_ran, 2) << "b runs after a's first batch of 2, not after all of a's";
}

// ---- supervision ----

/// Children that record what they handle (outside the actor, so it survives restarts) and
/// count their instances; a message < 0 makes one throw.
struct Tree {
  explicit Tree(std::size_t workers = 2) : sys(workers) {}
  Ref<int> child(Supervisor<>& sup, const std::string& name) {
    const std::size_t k = handled.size();
    handled.emplace_back();
    instances.push_back(std::make_unique<std::atomic<int>>(0));
    return sup.spawn<int>(name, [this, k] {
      instances[k]->fetch_add(1);
      return [this, k](int& m) {
        if (m < 0) throw std::runtime_error("injected");
        handled[k].push_back(m);
      };
    });
  }
  std::vector<std::string> log_names() const {
    std::vector<std::string> out;
    for (const auto& r : sys.restart_log()) out.push_back(r.child);
    return out;
  }
  int instances_of(std::size_t k) const { return instances[k]->load(); }

  std::vector<std::vector<int>> handled;  // slot k: child k only (read after wait_idle)
  std::vector<std::unique_ptr<std::atomic<int>>> instances;
  ActorSystem<> sys;  // last: destroyed first
};

using Names = std::vector<std::string>;

TEST(ActorSupervision, TheFailingMessageIsDroppedAndTheMailboxKept) {
  Tree t;
  auto& sup = t.sys.supervisor(Strategy::kOneForOne, {10, 1h});
  auto c = t.child(sup, "c");
  for (int m : {1, -1, 2, 3, -2, 4}) c.send(m);
  t.sys.wait_idle();
  EXPECT_EQ(t.handled[0], (std::vector<int>{1, 2, 3, 4}));
  const Stats s = t.sys.stats();
  EXPECT_EQ(s.failures, 2u);
  EXPECT_EQ(s.dropped_failed, 2u);
  EXPECT_EQ(s.handled, 4u);
  EXPECT_EQ(s.restarts, 2u);
  EXPECT_EQ(t.instances_of(0), 3);
}

TEST(ActorSupervision, OneForOneRestartsTheFailedChildOnly) {
  Tree t;
  auto& sup = t.sys.supervisor(Strategy::kOneForOne, {10, 1h});
  auto a = t.child(sup, "a");
  auto b = t.child(sup, "b");
  auto c = t.child(sup, "c");
  b.send(-1);
  t.sys.wait_idle();
  EXPECT_EQ(t.log_names(), (Names{"b"}));
  EXPECT_EQ(t.instances_of(0), 1);
  EXPECT_EQ(t.instances_of(1), 2);
  EXPECT_EQ(t.instances_of(2), 1);
  a.send(1);
  c.send(1);
  t.sys.wait_idle();
  EXPECT_EQ(t.sys.stats().handled, 2u);
}

TEST(ActorSupervision, OneForAllRestartsEveryChildInStartOrder) {
  Tree t;
  auto& sup = t.sys.supervisor(Strategy::kOneForAll, {10, 1h});
  t.child(sup, "a");
  t.child(sup, "b");
  auto c = t.child(sup, "c");
  c.send(-1);
  t.sys.wait_idle();
  EXPECT_EQ(t.log_names(), (Names{"a", "b", "c"}));
  for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(t.instances_of(k), 2) << k;
  EXPECT_EQ(t.sys.stats().restarts, 3u);
}

TEST(ActorSupervision, RestForOneRestartsTheFailedChildAndThoseStartedAfterIt) {
  Tree t;
  auto& sup = t.sys.supervisor(Strategy::kRestForOne, {10, 1h});
  t.child(sup, "a");
  auto b = t.child(sup, "b");
  t.child(sup, "c");
  b.send(-1);
  t.sys.wait_idle();
  EXPECT_EQ(t.log_names(), (Names{"b", "c"}));
  EXPECT_EQ(t.instances_of(0), 1);
  EXPECT_EQ(t.instances_of(1), 2);
  EXPECT_EQ(t.instances_of(2), 2);
}

TEST(ActorSupervision, BeyondItsIntensityASupervisorEscalatesToItsParent) {
  Tree t;
  auto& root = t.sys.supervisor(Strategy::kOneForOne, {10, 1h});
  auto x = t.child(root, "x");
  auto& mid = root.supervisor("mid", Strategy::kOneForOne, {1, 1h});
  auto a = t.child(mid, "a");
  auto b = t.child(mid, "b");
  a.send(-1);  // mid restarts a (its one restart within the hour)
  t.sys.wait_idle();
  EXPECT_EQ(t.log_names(), (Names{"a"}));
  a.send(-1);  // a second one: mid fails; root restarts mid, so a and b
  t.sys.wait_idle();
  EXPECT_EQ(t.log_names(), (Names{"a", "a", "b"}));
  EXPECT_EQ(t.sys.stats().escalations, 1u);
  EXPECT_FALSE(t.sys.failed());
  EXPECT_EQ(t.instances_of(0), 1) << "x is not under mid";
  EXPECT_EQ(t.instances_of(1), 3);
  EXPECT_EQ(t.instances_of(2), 2);
  a.send(-1);  // restarting mid cleared its history: one restart allowed again
  t.sys.wait_idle();
  EXPECT_EQ(t.log_names(), (Names{"a", "a", "b", "a"}));
  a.send(1);
  b.send(2);
  x.send(3);
  t.sys.wait_idle();
  EXPECT_EQ(t.sys.stats().handled, 3u);
}

TEST(ActorSupervision, TheRootGivingUpStopsItsTreeAndCountsWhatItDrops) {
  Tree t;
  auto& root = t.sys.supervisor(Strategy::kOneForOne, {0, 1h});
  auto a = t.child(root, "a");
  auto b = t.child(root, "b");
  a.send(-1);
  t.sys.wait_idle();
  EXPECT_TRUE(t.sys.failed());
  EXPECT_TRUE(t.log_names().empty());
  a.send(1);
  b.send(2);
  b.send(3);
  t.sys.wait_idle();
  const Stats s = t.sys.stats();
  EXPECT_EQ(s.handled, 0u);
  EXPECT_EQ(s.dropped_failed, 1u);
  EXPECT_EQ(s.dropped_stopped, 3u);
}

TEST(ActorSupervision, RestartsWithinThePeriodOnlyCount) {
  Tree t;
  auto& sup = t.sys.supervisor(Strategy::kOneForOne, {1, 1ns});
  auto a = t.child(sup, "a");
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(1ms);  // each restart's window has passed by the next failure
    a.send(-1);
    t.sys.wait_idle();
  }
  EXPECT_FALSE(t.sys.failed());
  EXPECT_EQ(t.sys.stats().restarts, 5u);
}

#if !defined(__SANITIZE_THREAD__)  // CAF is not tested under TSan (actor.impls.hpp)
TEST(ActorRuntime, CafGetsTheWorkerCountItIsGiven) {
  CafActors two(2);
  EXPECT_EQ(two.workers(), 2u);
  CafActors three(3);
  EXPECT_EQ(three.workers(), 3u);
}
#endif

}  // namespace
}  // namespace cpb::patterns::actor
