// SPDX-License-Identifier: Apache-2.0
// Soundness of the checker's reductions on condition-variable code (issue 10): the programs
// that DPOR once skipped while calling the search complete.
#include "harness/check/explore.hpp"
#include "harness/check/registered.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace cpb::check {
namespace {

using S = Sync;

Config dfs(int bound, bool dpor, bool sleep_sets) {
  Config c;
  c.strategy = Strategy::kDfs;
  c.preemption_bound = bound;
  c.dpor = dpor;
  c.sleep_sets = sleep_sets;
  c.max_executions = 0;
  c.max_seconds = 60;
  return c;
}

/// The program: thread 1 takes the mutex, claims `winner` if nobody has, and waits for
/// `go`; thread 2 claims `winner` if nobody has and sets `go`. The check fails when thread 2
/// locked first, which the search must reach.
struct Winner {
  S::mutex m;
  S::condition_variable cv;
  S::cell<int> winner{0};
  S::cell<bool> go{false};
};

template <bool kPredicate>
TestCase winner_test() {
  return make_test<Winner>(
      kPredicate ? "cv_winner_pred" : "cv_winner",
      {[](Winner& s) {
         std::unique_lock<S::mutex> lk(s.m);
         if (s.winner.load() == 0) s.winner.store(1);
         if constexpr (kPredicate) {
           s.cv.wait(lk, [&] { return s.go.load(); });
         } else {
           while (!s.go.load()) s.cv.wait(lk);
         }
       },
       [](Winner& s) {
         {
           std::unique_lock<S::mutex> lk(s.m);
           if (s.winner.load() == 0) s.winner.store(2);
           s.go.store(true);
         }
         s.cv.notify_all();
       }},
      [](Winner& s) { require(s.winner.load() == 1, "thread 2 locked first"); });
}

TEST(CheckSoundness, CondVarWaitReleasesItsMutex) {
  for (const TestCase& t : {winner_test<false>(), winner_test<true>()}) {
    for (const int bound : {-1, 0, 1, 2}) {
      for (const unsigned spurious : {0U, 2U}) {
        for (const bool dpor : {false, true}) {
          for (const bool sleep : {false, true}) {
            Config c = dfs(bound, dpor, sleep);
            c.max_spurious = spurious;
            const Result r = explore(c, t);
            ASSERT_FALSE(r.ok()) << t.name << " bound " << bound << " dpor " << dpor << " sleep "
                                 << sleep << " spurious " << spurious << ": " << r.summary();
            EXPECT_EQ(r.failure->kind, FailureKind::kAssertion) << r.report();
            EXPECT_FALSE(r.exhausted);
          }
        }
      }
    }
    for (const Strategy strategy : {Strategy::kRandom, Strategy::kPct}) {
      Config c;
      c.strategy = strategy;
      c.max_executions = 10'000;
      const Result r = explore(c, t);
      ASSERT_FALSE(r.ok()) << t.name << " " << to_string(strategy) << ": " << r.summary();
      EXPECT_EQ(r.failure->kind, FailureKind::kAssertion) << r.report();
    }
  }
}

}  // namespace
}  // namespace cpb::check

namespace cpb::check {
namespace {

/// A bounded buffer on one mutex and two condition variables; `kItems` items pass from a
/// producer to a consumer. Each execution records the order in which the threads hold the
/// mutex (a lock, or a wait that returns).
template <int kItems, int kCapacity>
struct Buffer {
  S::mutex m;
  S::condition_variable not_full, not_empty;
  S::cell<int> count{0};
  std::string* order = nullptr;
};

template <int kItems, int kCapacity>
TestCase buffer_test(std::set<std::string>* orders) {
  using St = Buffer<kItems, kCapacity>;
  return TestCase{"cv_buffer", [orders] {
                    std::string order;
                    {
                      St s;
                      s.order = &order;
                      S::thread producer([&s] {
                        for (int i = 0; i < kItems; ++i) {
                          std::unique_lock<S::mutex> lk(s.m);
                          *s.order += 'p';
                          while (s.count.load() == kCapacity) {
                            s.not_full.wait(lk);
                            *s.order += 'p';
                          }
                          s.count.store(s.count.load() + 1);
                          s.not_empty.notify_one();
                        }
                      });
                      S::thread consumer([&s] {
                        for (int i = 0; i < kItems; ++i) {
                          std::unique_lock<S::mutex> lk(s.m);
                          *s.order += 'c';
                          while (s.count.load() == 0) {
                            s.not_empty.wait(lk);
                            *s.order += 'c';
                          }
                          s.count.store(s.count.load() - 1);
                          s.not_full.notify_one();
                        }
                      });
                      producer.join();
                      consumer.join();
                    }
                    orders->insert(order);
                  }};
}

/// Every reduction sees every order in which the threads hold the mutex that the search
/// without reduction sees (8 with 2 items, 32 with 3). DPOR once ran 2 executions, saw 1
/// order and called the search exhausted.
template <int kItems>
void expect_every_order(unsigned spurious) {
  std::set<std::string> all;
  Config plain = dfs(-1, false, false);
  plain.max_spurious = spurious;
  const Result a = explore(plain, buffer_test<kItems, 1>(&all));
  ASSERT_TRUE(a.ok() && a.exhausted) << a.report();
  if (spurious == 0) {
    EXPECT_EQ(all.size(), kItems == 2 ? 8U : 32U);
  }
  for (const bool dpor : {false, true}) {
    for (const bool sleep : {false, true}) {
      if (!dpor && !sleep) continue;
      Config c = dfs(-1, dpor, sleep);
      c.max_spurious = spurious;
      std::set<std::string> seen;
      const Result r = explore(c, buffer_test<kItems, 1>(&seen));
      ASSERT_TRUE(r.ok() && r.exhausted) << r.report();
      EXPECT_EQ(seen, all) << "dpor " << dpor << " sleep " << sleep << " spurious " << spurious;
      EXPECT_LT(r.executions, a.executions);
      // With both reductions, one execution per order when nothing is spurious.
      if (dpor && sleep && spurious == 0) {
        EXPECT_EQ(r.executions, all.size());
      }
    }
  }
}

TEST(CheckSoundness, BufferOnTwoCondVarsEveryMutexOrder) {
  expect_every_order<2>(0);
  expect_every_order<2>(2);
  expect_every_order<3>(0);
}

}  // namespace
}  // namespace cpb::check

namespace cpb::check {
namespace {

struct Counter {
  S::atomic<int> a{0};
};

TEST(CheckObserver, SeesEveryExecutionWithItsPreemptionsWhenNotStopping) {
  // A lost update: load and store are separate; the failure needs one preemption.
  const auto t = make_test<Counter>("lost_update_all",
                                    {[](Counter& s) { s.a.store(s.a.load() + 1); },
                                     [](Counter& s) { s.a.store(s.a.load() + 1); }},
                                    [](Counter& s) { require(s.a.load() == 2, "lost update"); });
  Config c = dfs(-1, false, false);
  c.stop_on_failure = false;
  std::vector<ExecutionInfo> seen;
  c.on_execution = [&seen](const ExecutionInfo& e) { seen.push_back(e); };
  const Result r = explore(c, t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->kind, FailureKind::kAssertion);
  EXPECT_FALSE(r.exhausted);
  ASSERT_EQ(seen.size(), r.executions);
  unsigned fewest_failing = 99;
  unsigned passing = 0;
  for (const ExecutionInfo& e : seen) {
    EXPECT_EQ(e.bound, -1);
    if (e.kind == FailureKind::kNone) {
      ++passing;
    } else {
      EXPECT_EQ(e.kind, FailureKind::kAssertion);
      fewest_failing = std::min(fewest_failing, e.preemptions);
    }
  }
  EXPECT_GT(passing, 0U);
  EXPECT_EQ(fewest_failing, 1U);
  // Iterative bounding reports the bound each execution ran under.
  c.preemption_bound = 1;
  seen.clear();
  (void)explore(c, t);
  EXPECT_EQ(seen.front().bound, 0);
  EXPECT_EQ(seen.back().bound, 1);
}

}  // namespace
}  // namespace cpb::check

namespace cpb::check {
namespace {

/// A replay string with a hand-made payload, signed as explore.cpp signs it (FNV-1a).
std::string signed_replay(std::string_view version, std::string_view test,
                          std::string_view payload) {
  const auto fnv = [](std::string_view x) {
    std::uint32_t h = 2166136261U;
    for (const char c : x) {
      h ^= static_cast<unsigned char>(c);
      h *= 16777619U;
    }
    return h;
  };
  char hash[9];
  std::snprintf(hash, sizeof hash, "%08x", fnv(test));
  const std::string head = std::string(version) + ":" + hash + ":" + std::string(payload);
  std::snprintf(hash, sizeof hash, "%08x", fnv(head));
  return head + ":" + hash;
}

TEST(CheckReplayFormat, EveryChoiceIndexRoundTrips) {
  std::vector<std::uint16_t> all;
  for (unsigned i = 0; i < kChoices; ++i) all.push_back(static_cast<std::uint16_t>(i));
  const std::string s = encode_replay("t", all);
  EXPECT_EQ(s.rfind("cpb2:", 0), 0U) << s;
  EXPECT_EQ(decode_replay("t", s), all);
  // Threads below 16 and yes/no choices take one character each.
  EXPECT_EQ(encode_replay("t", {0, 1, 15}), signed_replay("cpb2", "t", "01f"));
  EXPECT_EQ(encode_replay("t", {16, kFlushBase + 3}), signed_replay("cpb2", "t", "h0o3"));
  // A schedule cut inside a decision, or naming a choice beyond every thread and flush, is
  // refused with the reason.
  EXPECT_THROW(decode_replay("t", signed_replay("cpb2", "t", "1g")), ReplayError);
  EXPECT_THROW(decode_replay("t", signed_replay("cpb2", "t", "vvv0")), ReplayError);
}

TEST(CheckReplayFormat, FirstFormatStillReplaysWithItsFlushDigits) {
  // cpb1 wrote one base-32 digit per decision, and the flush of thread t as 16 + t.
  const auto d = decode_replay("t", signed_replay("cpb1", "t", "10i"));
  EXPECT_EQ(d, (std::vector<std::uint16_t>{1, 0, kFlushBase + 2}));
}

}  // namespace
}  // namespace cpb::check

namespace cpb::check {
namespace {

/// 101 logical threads (the main one and 100 it creates): each stores to its own slot and
/// bumps a shared counter; the main thread checks both after joining them all.
struct Many {
  std::array<S::atomic<int>, 100> slots{};
  S::atomic<int> count{0};
  S::mutex m;
  S::cell<int> sum{0};
};

TestCase many_threads_test(bool shared) {
  return TestCase{shared ? "threads101" : "threads101_independent", [shared] {
                    Many s;
                    std::vector<S::thread> ts;
                    ts.reserve(100);
                    for (int i = 0; i < 100; ++i) {
                      ts.emplace_back([&s, i, shared] {
                        s.slots[static_cast<std::size_t>(i)].store(i + 1);
                        if (!shared) return;
                        s.count.fetch_add(1);
                        std::lock_guard<S::mutex> g(s.m);
                        s.sum.store(s.sum.load() + i + 1);
                      });
                    }
                    for (S::thread& t : ts) t.join();
                    for (int i = 0; i < 100; ++i) {
                      require(s.slots[static_cast<std::size_t>(i)].load() == i + 1, "slot");
                    }
                    if (shared) {
                      require(s.count.load() == 100, "count");
                      require(s.sum.load() == 5050, "sum");
                    }
                  }};
}

TEST(CheckThreads, A101ThreadProgramRunsUnderEveryStrategy) {
  const TestCase t = many_threads_test(true);
  for (const Strategy strategy : {Strategy::kRandom, Strategy::kPct, Strategy::kDfs}) {
    for (const Tier tier : {Tier::kSc, Tier::kTso}) {
      Config c;
      c.strategy = strategy;
      c.tier = tier;
      c.max_executions = 10;
      c.max_seconds = 120;
      const Result r = explore(c, t);
      EXPECT_TRUE(r.ok()) << r.report();
      EXPECT_EQ(r.executions, 10U) << r.summary();
      EXPECT_EQ(r.max_threads, 101U);
    }
  }
  // Without anything shared, DPOR needs one execution for all 101 threads.
  Config c;
  c.strategy = Strategy::kDfs;
  c.preemption_bound = -1;
  const Result r = explore(c, many_threads_test(false));
  EXPECT_TRUE(r.ok() && r.exhausted) << r.report();
  EXPECT_EQ(r.executions, 1U);
}

TEST(CheckThreads, ThreadBeyondTheLimitIsMisuse) {
  const TestCase t{"too_many", [] {
                     std::vector<S::thread> ts;
                     for (unsigned i = 0; i < kMaxThreads; ++i) ts.emplace_back([] {});
                     for (S::thread& th : ts) th.join();
                   }};
  Config c;
  c.max_executions = 1;
  const Result r = explore(c, t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->kind, FailureKind::kMisuse) << r.report();
  EXPECT_NE(r.failure->message.find("limit of 128 threads"), std::string::npos) << r.report();
}

}  // namespace
}  // namespace cpb::check

namespace cpb::check {
namespace {

/// Runs the failing execution of `r` again from its replay string, under the configuration
/// that found it: same failure, same trace.
void expect_replays(const Result& r, const TestCase& t, Config c) {
  ASSERT_FALSE(r.ok());
  c.replay = r.failure->replay;
  const Result rep = explore(c, t);
  ASSERT_FALSE(rep.ok());
  EXPECT_TRUE(rep.replayed);
  EXPECT_EQ(rep.failure->message, r.failure->message);
  EXPECT_EQ(rep.failure->trace, r.failure->trace);
}

/// Two threads wait on one condition variable, in a known order; a third hands out one ticket
/// with notify_one, then a second once the first is taken. Assuming FIFO wake-ups, the first
/// waiter takes the first ticket. Nothing else can break that: no spurious wake-ups, and the
/// waiter that is not notified stays blocked.
struct Tickets {
  S::mutex m;
  S::condition_variable cv, ready;
  S::cell<int> waiting{0};
  S::cell<int> tickets{0};
  S::cell<int> first_waiter{0};
  S::cell<int> first_taker{0};
};

void take_ticket(Tickets& s, int id) {
  std::unique_lock<S::mutex> lk(s.m);
  if (s.waiting.load() == 0) s.first_waiter.store(id);
  s.waiting.store(s.waiting.load() + 1);
  s.ready.notify_one();
  while (s.tickets.load() == 0) s.cv.wait(lk);
  s.tickets.store(s.tickets.load() - 1);
  if (s.first_taker.load() == 0) s.first_taker.store(id);
  s.ready.notify_one();
}

TestCase tickets_test() {
  return make_test<Tickets>(
      "cv_notify_one_tickets",
      {[](Tickets& s) { take_ticket(s, 1); }, [](Tickets& s) { take_ticket(s, 2); },
       [](Tickets& s) {
         std::unique_lock<S::mutex> lk(s.m);
         while (s.waiting.load() < 2) s.ready.wait(lk);
         for (int round = 0; round < 2; ++round) {
           while (s.tickets.load() != 0) s.ready.wait(lk);
           s.tickets.store(1);
           s.cv.notify_one();
         }
       }},
      [](Tickets& s) {
        require(s.first_taker.load() == s.first_waiter.load(), "notify_one woke the later waiter");
      });
}

TEST(CheckWaiterChoice, ConditionVariableNotifyOneWakesAnyWaiter) {
  const TestCase t = tickets_test();
  for (const int bound : {-1, 0}) {
    for (const bool dpor : {false, true}) {
      for (const bool sleep : {false, true}) {
        Config c = dfs(bound, dpor, sleep);
        c.max_spurious = 0;
        const Result r = explore(c, t);
        ASSERT_FALSE(r.ok()) << "bound " << bound << " dpor " << dpor << " sleep " << sleep;
        EXPECT_NE(r.failure->message.find("notify_one woke the later waiter"), std::string::npos)
            << r.report();
        EXPECT_FALSE(r.exhausted);
        expect_replays(r, t, c);
      }
    }
  }
  for (const Strategy strategy : {Strategy::kRandom, Strategy::kPct}) {
    Config c;
    c.strategy = strategy;
    c.max_spurious = 0;
    c.max_executions = 10'000;
    const Result r = explore(c, t);
    ASSERT_FALSE(r.ok()) << to_string(strategy);
    expect_replays(r, t, c);
  }
}

/// The same with C++20 atomic waits. Without preemptions, thread 1 announces itself and
/// blocks before thread 2 can, and the notifier sees both announced only once both block.
struct AtomicTickets {
  S::atomic<int> announced{0};
  S::atomic<int> flag{0};
  S::atomic<int> first{0};
};

TEST(CheckWaiterChoice, AtomicNotifyOneWakesAnyWaiter) {
  const auto t = make_test<AtomicTickets>(
      "atomic_notify_one",
      {[](AtomicTickets& s) {
         s.announced.store(1);
         s.flag.wait(0);
         int none = 0;
         s.first.compare_exchange_strong(none, 1);
       },
       [](AtomicTickets& s) {
         while (s.announced.load() != 1) S::yield();
         s.announced.store(2);
         s.flag.wait(0);
         int none = 0;
         s.first.compare_exchange_strong(none, 2);
       },
       [](AtomicTickets& s) {
         while (s.announced.load() != 2) S::yield();
         s.flag.store(1);
         s.flag.notify_one();
         while (s.first.load() == 0) S::yield();
         s.flag.notify_all();
       }},
      [](AtomicTickets& s) { require(s.first.load() == 1, "notify_one woke the later waiter"); });
  for (const bool dpor : {false, true}) {
    Config c = dfs(0, dpor, true);
    c.max_spurious = 0;
    const Result r = explore(c, t);
    ASSERT_FALSE(r.ok()) << "dpor " << dpor;
    EXPECT_NE(r.failure->message.find("notify_one woke the later waiter"), std::string::npos)
        << r.report();
    expect_replays(r, t, c);
  }
}

/// A consumer with a deadline that trusts the wait's status instead of its predicate: an
/// item that arrives as the wait times out is left behind. The timeout races the notify.
struct Deadline {
  S::mutex m;
  S::condition_variable cv;
  S::cell<int> items{0};
  S::cell<int> left_behind{0};
};

template <bool kUsePredicate>
TestCase deadline_test() {
  return make_test<Deadline>(
      kUsePredicate ? "deadline_pred" : "deadline_status",
      {[](Deadline& s) {
         std::unique_lock<S::mutex> lk(s.m);
         bool got = false;
         if constexpr (kUsePredicate) {
           got =
               s.cv.wait_for(lk, std::chrono::milliseconds(5), [&] { return s.items.load() > 0; });
         } else {
           got = s.items.load() > 0 ||
                 s.cv.wait_for(lk, std::chrono::milliseconds(5)) == std::cv_status::no_timeout;
         }
         if (got) {
           s.items.store(s.items.load() - 1);
         } else {
           s.left_behind.store(s.items.load());
         }
       },
       [](Deadline& s) {
         {
           std::lock_guard<S::mutex> g(s.m);
           s.items.store(s.items.load() + 1);
         }
         s.cv.notify_one();
       }},
      [](Deadline& s) { require(s.left_behind.load() == 0, "timed out with an item ready"); });
}

TEST(CheckTimeouts, TimeoutRacingANotifyIsFoundWithoutSpuriousWakeups) {
  for (const int bound : {-1, 0, 1}) {
    for (const bool dpor : {false, true}) {
      Config c = dfs(bound, dpor, true);
      c.max_spurious = 0;
      const Result bug = explore(c, deadline_test<false>());
      ASSERT_FALSE(bug.ok()) << "bound " << bound << " dpor " << dpor;
      EXPECT_NE(bug.failure->message.find("timed out with an item ready"), std::string::npos)
          << bug.report();
      expect_replays(bug, deadline_test<false>(), c);
      const Result fixed = explore(c, deadline_test<true>());
      EXPECT_TRUE(fixed.ok() && fixed.exhausted) << fixed.report();
    }
  }
}

/// A timed wait that nobody notifies times out: it is not a deadlock.
struct Lonely {
  S::mutex m;
  S::condition_variable cv;
  S::cell<int> timeouts{0};
};

TEST(CheckTimeouts, TimedWaitThatNobodyNotifiesTimesOut) {
  const auto t = make_test<Lonely>(
      "lonely_timed_wait",
      {[](Lonely& s) {
         std::unique_lock<S::mutex> lk(s.m);
         if (s.cv.wait_for(lk, std::chrono::seconds(1)) == std::cv_status::timeout) {
           s.timeouts.store(s.timeouts.load() + 1);
         }
         if (!s.cv.wait_for(lk, std::chrono::seconds(1), [] { return false; })) {
           s.timeouts.store(s.timeouts.load() + 1);
         }
       },
       [](Lonely& s) {
         std::unique_lock<S::mutex> lk(s.m);
         if (s.cv.wait_for(lk, std::chrono::seconds(1)) == std::cv_status::timeout) {
           s.timeouts.store(s.timeouts.load() + 1);
         }
       }},
      [](Lonely& s) { require(s.timeouts.load() == 3, "a timed wait returned without a notify"); });
  for (const unsigned spurious : {0U, 2U}) {
    for (const bool dpor : {false, true}) {
      Config c = dfs(-1, dpor, true);
      c.max_spurious = spurious;
      const Result r = explore(c, t);
      EXPECT_TRUE(r.ok() && r.exhausted) << r.report();
    }
    for (const Strategy strategy : {Strategy::kRandom, Strategy::kPct}) {
      Config c;
      c.strategy = strategy;
      c.max_spurious = spurious;
      c.max_executions = 2'000;
      const Result r = explore(c, t);
      EXPECT_TRUE(r.ok()) << r.report();
    }
  }
}

}  // namespace
}  // namespace cpb::check

namespace cpb::check {
namespace {

/// A bug of depth 4 that needs 3 preemptions: the value reaches 5 only when the threads
/// alternate a1 < b1 < a2 < b2 < a3. Thread b is created first so that its first step can
/// only be taken after a1 by a priority change, not for free while a is not yet created.
struct Alternate {
  S::atomic<int> v{0};
};

void step(Alternate& s, int from) {
  int expected = from;
  s.v.compare_exchange_strong(expected, from + 1);
}

TestCase alternate_test() {
  return make_test<Alternate>("alternate_depth4",
                              {[](Alternate& s) {
                                 step(s, 1);
                                 step(s, 3);
                               },
                               [](Alternate& s) {
                                 step(s, 0);
                                 step(s, 2);
                                 step(s, 4);
                               }},
                              [](Alternate& s) { require(s.v.load() != 5, "alternated 5 times"); });
}

TEST(CheckBound, ThreePreemptionBugIsFoundAtBoundThreeNotTwo) {
  const TestCase t = alternate_test();
  for (const bool dpor : {false, true}) {
    for (const bool sleep : {false, true}) {
      Config c = dfs(2, dpor, sleep);
      const Result two = explore(c, t);
      EXPECT_TRUE(two.ok() && two.exhausted) << two.report();
      c.preemption_bound = 3;
      const Result three = explore(c, t);
      ASSERT_FALSE(three.ok()) << "dpor " << dpor << " sleep " << sleep;
      EXPECT_EQ(three.bound, 3);
      // A search of bound 3 alone (not iterative) finds it too.
      c.iterative = false;
      const Result only = explore(c, t);
      ASSERT_FALSE(only.ok()) << "dpor " << dpor << " sleep " << sleep;
    }
  }
}

TEST(CheckPctDepth, RotationFindsADepthFourBugThatDepthThreeCannot) {
  const TestCase t = alternate_test();
  Config c;
  c.strategy = Strategy::kPct;
  c.max_executions = 5'000;
  c.pct_depth = 3;
  const Result three = explore(c, t);
  EXPECT_TRUE(three.ok()) << three.report();
  EXPECT_EQ(three.executions, 5'000U);
  // cpbench check's PCT (200,000 executions or 2 s) rotates the depth 1..5 by default.
  const Config check = config_for(CheckConfig{}, "pct");
  EXPECT_EQ(check.pct_depth, 0U);
  const Result rotating = explore(check, t);
  ASSERT_FALSE(rotating.ok());
  EXPECT_NE(rotating.failure->message.find("alternated 5 times"), std::string::npos);
  std::printf("PCT depth rotation: depth-4 bug found at execution %llu\n",
              static_cast<unsigned long long>(rotating.failure->execution));
  EXPECT_EQ(rotating.pct_depth, 5U);
}

}  // namespace
}  // namespace cpb::check
