// SPDX-License-Identifier: Apache-2.0
// Tests of the model checker itself: the Checked policy, strategies, detectors and replay.
#include "harness/check/explore.hpp"
#include "patterns/mutex/tas_spinlock.hpp"
#include "patterns/mutex/ticket_lock.hpp"
#include "patterns/mutex/ttas_spinlock.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cpb::check {
namespace {

using S = Sync;

Config dfs(int bound = 2) {
  Config c;
  c.strategy = Strategy::kDfs;
  c.preemption_bound = bound;
  c.max_executions = 200'000;
  c.max_seconds = 60;
  return c;
}
Config random_walk(std::uint64_t n = 2'000) {
  Config c;
  c.strategy = Strategy::kRandom;
  c.max_executions = n;
  return c;
}
Config pct(unsigned d, std::uint64_t n = 2'000) {
  Config c;
  c.strategy = Strategy::kPct;
  c.pct_depth = d;
  c.max_executions = n;
  return c;
}

// ---- message passing --------------------------------------------------------------------

template <std::memory_order kStore, std::memory_order kLoad>
struct Mp {
  S::atomic<int> flag{0};
  S::cell<int> data{0};
};

template <std::memory_order kStore, std::memory_order kLoad>
TestCase mp_test(std::string name) {
  using St = Mp<kStore, kLoad>;
  return make_test<St>(std::move(name), {[](St& s) {
                                           s.data.store(42);
                                           s.flag.store(1, kStore);
                                         },
                                         [](St& s) {
                                           if (s.flag.load(kLoad) == 1) {
                                             CPB_CHECK_ASSERT(s.data.load() == 42);
                                           }
                                         }});
}

TEST(CheckMp, ReleaseAcquirePassesExhaustively) {
  const auto t = mp_test<std::memory_order_release, std::memory_order_acquire>("mp_ra");
  const Result r = explore(dfs(-1), t);
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.exhausted);
  EXPECT_GT(r.executions, 1U);
  const Result rr = explore(random_walk(), t);
  EXPECT_TRUE(rr.ok()) << rr.report();
  EXPECT_EQ(rr.executions, 2'000U);
}

TEST(CheckMp, RelaxedFlagIsADataRace) {
  const auto t = mp_test<std::memory_order_relaxed, std::memory_order_relaxed>("mp_rlx");
  for (const Config& c : {dfs(), random_walk(), pct(2)}) {
    const Result r = explore(c, t);
    ASSERT_FALSE(r.ok()) << to_string(c.strategy);
    EXPECT_EQ(r.failure->kind, FailureKind::kDataRace) << r.report();
    EXPECT_NE(r.failure->message.find("cell#0"), std::string::npos) << r.report();
    EXPECT_TRUE(r.failure->deterministic);
    EXPECT_FALSE(r.failure->trace.empty());
  }
}

TEST(CheckMp, ReleaseWithoutAcquireIsADataRace) {
  const auto t = mp_test<std::memory_order_release, std::memory_order_relaxed>("mp_rel_rlx");
  const Result r = explore(dfs(), t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->kind, FailureKind::kDataRace);
}

TEST(CheckMp, AcquireFenceAfterRelaxedLoadSynchronizes) {
  struct St {
    S::atomic<int> flag{0};
    S::cell<int> data{0};
  };
  const auto t = make_test<St>("mp_fence", {[](St& s) {
                                              s.data.store(1);
                                              S::fence(std::memory_order_release);
                                              s.flag.store(1, std::memory_order_relaxed);
                                            },
                                            [](St& s) {
                                              if (s.flag.load(std::memory_order_relaxed) == 1) {
                                                S::fence(std::memory_order_acquire);
                                                CPB_CHECK_ASSERT(s.data.load() == 1);
                                              }
                                            }});
  const Result r = explore(dfs(-1), t);
  EXPECT_TRUE(r.ok()) << r.report();
}

// ---- the mutex family under the checker ----------------------------------------------------

template <class L, int kThreads, int kIters>
struct Counter {
  L lock;
  S::cell<int> count{0};
};

template <class L, int kThreads, int kIters = 1>
TestCase counter_test(std::string name) {
  using St = Counter<L, kThreads, kIters>;
  std::vector<std::function<void(St&)>> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([](St& s) {
      for (int k = 0; k < kIters; ++k) {
        s.lock.lock();
        s.count.store(s.count.load() + 1);
        s.lock.unlock();
      }
    });
  }
  return make_test<St>(std::move(name), std::move(threads),
                       [](St& s) { CPB_CHECK_ASSERT(s.count.load() == kThreads * kIters); });
}

template <class L>
class CheckLock : public ::testing::Test {};
using Locks = ::testing::Types<patterns::mutex::TasSpinlock<S>, patterns::mutex::TtasSpinlock<S>,
                               patterns::mutex::TicketLock<S>, S::mutex>;
TYPED_TEST_SUITE(CheckLock, Locks);

TYPED_TEST(CheckLock, TwoThreadsDfs) {
  const Result r = explore(dfs(2), counter_test<TypeParam, 2, 2>("lock2"));
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.exhausted) << r.summary();
}

TYPED_TEST(CheckLock, ThreeThreadsDfsBound1) {
  const Result r = explore(dfs(1), counter_test<TypeParam, 3>("lock3"));
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.exhausted) << r.summary();
}

TYPED_TEST(CheckLock, ThreeThreadsRandomAndPct) {
  const auto t = counter_test<TypeParam, 3, 2>("lock3r");
  const Result r = explore(random_walk(3'000), t);
  EXPECT_TRUE(r.ok()) << r.report();
  const Result p = explore(pct(3, 3'000), t);
  EXPECT_TRUE(p.ok()) << p.report();
  EXPECT_GT(p.pct_per_run, 0.0);
}

/// "Test, then set": a load followed by a separate store; two threads can both see it free.
class BrokenLock {
 public:
  void lock() {
    for (;;) {
      if (!locked_.load(std::memory_order_acquire)) {
        locked_.store(true, std::memory_order_relaxed);
        return;
      }
      S::yield();
    }
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  S::atomic<bool> locked_{false};
};

TEST(CheckLockBroken, CaughtByEveryStrategyWithAReproducibleReplay) {
  const auto t = counter_test<BrokenLock, 2>("broken_lock");
  for (const Config& c : {dfs(1), random_walk(), pct(2)}) {
    const Result r = explore(c, t);
    ASSERT_FALSE(r.ok()) << to_string(c.strategy);
    EXPECT_EQ(r.failure->kind, FailureKind::kDataRace) << r.report();
    EXPECT_TRUE(r.failure->deterministic);
    // The replay string reproduces the same failure and the same trace, every time.
    Config rc;
    rc.replay = r.failure->replay;
    for (int i = 0; i < 3; ++i) {
      const Result rep = explore(rc, t);
      ASSERT_FALSE(rep.ok());
      EXPECT_TRUE(rep.replayed);
      EXPECT_EQ(rep.failure->kind, r.failure->kind);
      EXPECT_EQ(rep.failure->message, r.failure->message);
      EXPECT_EQ(rep.failure->trace, r.failure->trace);
    }
  }
}

TEST(CheckLockBroken, ReportHasSummaryReplayAndTrace) {
  const Result r = explore(dfs(1), counter_test<BrokenLock, 2>("broken_lock"));
  ASSERT_FALSE(r.ok());
  const std::string rep = r.report();
  EXPECT_EQ(rep.rfind("CPB CHECK FAIL data-race test=broken_lock strategy=dfs", 0), 0U) << rep;
  EXPECT_NE(rep.find("replay: cpb2:"), std::string::npos) << rep;
  EXPECT_NE(rep.find("load(acquire)"), std::string::npos) << rep;
  EXPECT_NE(rep.find("store(relaxed)"), std::string::npos) << rep;
  EXPECT_NE(rep.find("check.test.cpp:"), std::string::npos) << rep;
  nlohmann::json j = r;
  EXPECT_EQ(j["failure"]["kind"], "data-race");
  EXPECT_EQ(j["failure"]["replay"], r.failure->replay);
  EXPECT_FALSE(j["ok"].get<bool>());
}

// ---- replay errors ------------------------------------------------------------------------

TEST(CheckReplay, BadStringsGetClearErrors) {
  const auto t = counter_test<BrokenLock, 2>("broken_lock");
  const Result r = explore(dfs(1), t);
  ASSERT_FALSE(r.ok());
  const std::string good = r.failure->replay;
  const auto expect_error = [&](const std::string& s, const TestCase& test, const char* what) {
    Config c;
    c.replay = s;
    try {
      (void)explore(c, test);
      ADD_FAILURE() << "no error for " << s;
    } catch (const ReplayError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error("garbage", t, "no ':' separators");
  expect_error("cpb9:00000000::00000000", t, "unknown version");
  std::string altered = good;
  altered[altered.size() - 1] = altered.back() == '0' ? '1' : '0';
  expect_error(altered, t, "checksum mismatch");
  expect_error(good.substr(0, good.size() - 3), t, "checksum mismatch");
  expect_error(good, counter_test<BrokenLock, 2>("another_test"), "belongs to another test");
  // A well-formed string for this test whose schedule the test cannot follow.
  expect_error(encode_replay("broken_lock", {7, 7, 7}), t, "does not fit");
  expect_error(encode_replay("broken_lock", {}), t, "does not fit");
}

// ---- detectors ------------------------------------------------------------------------------

struct TwoMutexes {
  S::mutex a;
  S::mutex b;
};

TEST(CheckDeadlock, OppositeLockOrderNamesTheCycle) {
  const auto t = make_test<TwoMutexes>("abba", {[](TwoMutexes& s) {
                                                  std::scoped_lock la(s.a);
                                                  std::scoped_lock lb(s.b);
                                                },
                                                [](TwoMutexes& s) {
                                                  std::scoped_lock lb(s.b);
                                                  std::scoped_lock la(s.a);
                                                }});
  for (const Config& c : {dfs(1), random_walk(), pct(2)}) {
    const Result r = explore(c, t);
    ASSERT_FALSE(r.ok()) << to_string(c.strategy);
    EXPECT_EQ(r.failure->kind, FailureKind::kDeadlock) << r.report();
    EXPECT_NE(r.failure->message.find("wait-for cycle: t1 -> t2 -> t1"), std::string::npos)
        << r.report();
  }
}

TEST(CheckDeadlock, SameLockOrderPasses) {
  const auto t = make_test<TwoMutexes>("abab", {[](TwoMutexes& s) {
                                                  std::scoped_lock la(s.a);
                                                  std::scoped_lock lb(s.b);
                                                },
                                                [](TwoMutexes& s) {
                                                  std::scoped_lock la(s.a);
                                                  std::scoped_lock lb(s.b);
                                                }});
  const Result r = explore(dfs(-1), t);
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.exhausted);
}

struct Flags {
  S::atomic<int> a{0};
  S::atomic<int> b{0};
};

TEST(CheckLivelock, MutualSpinIsReportedAtTheStepLimit) {
  // Each thread waits for the other to go first: neither ever does.
  const auto t = make_test<Flags>("spin", {[](Flags& s) {
                                             while (s.b.load() == 0) S::yield();
                                             s.a.store(1);
                                           },
                                           [](Flags& s) {
                                             while (s.a.load() == 0) S::pause();
                                             s.b.store(1);
                                           }});
  Config c = random_walk(10);
  c.max_steps = 500;
  const Result r = explore(c, t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->kind, FailureKind::kLivelock) << r.report();
  const Result d = explore(dfs(0), t);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.failure->kind, FailureKind::kLivelock);
}

TEST(CheckException, EscapingALogicalThreadIsReported) {
  const auto t = make_test<Flags>("throws", {[](Flags& s) {
                                               if (s.a.load() == 0)
                                                 throw std::runtime_error("boom");
                                             },
                                             [](Flags& s) { s.a.store(1); }});
  const Result r = explore(dfs(), t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->kind, FailureKind::kException);
  EXPECT_NE(r.failure->message.find("boom"), std::string::npos);
}

TEST(CheckMisuse, UnlockingAMutexNotHeld) {
  const auto t = make_test<TwoMutexes>("misuse", {[](TwoMutexes& s) { s.a.unlock(); }});
  const Result r = explore(dfs(), t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->kind, FailureKind::kMisuse) << r.report();
}

TEST(CheckAssert, RequireOutsideAnExecutionThrows) {
  EXPECT_THROW(require(false, "outside"), std::logic_error);
  EXPECT_NO_THROW(require(true, "outside"));
}

TEST(CheckAssert, LostUpdateFoundOnlyByInterleaving) {
  // Atomic load + store (no race) but not atomic together: a lost update, depth 1.
  const auto t = make_test<Flags>(
      "lost_update",
      {[](Flags& s) { s.a.store(s.a.load() + 1); }, [](Flags& s) { s.a.store(s.a.load() + 1); }},
      [](Flags& s) { CPB_CHECK_ASSERT(s.a.load() == 2); });
  Config c0 = dfs(0);
  EXPECT_TRUE(explore(c0, t).ok()) << "bound 0 cannot preempt between load and store";
  const Result r = explore(dfs(1), t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->kind, FailureKind::kAssertion);
  EXPECT_NE(r.failure->message.find("s.a.load() == 2"), std::string::npos) << r.report();
}

// ---- condition variables, atomic wait ------------------------------------------------------

struct Handoff {
  S::mutex m;
  S::condition_variable cv;
  S::cell<bool> ready{false};
  S::cell<int> data{0};
};

TEST(CheckCondVar, PredicateLoopPassesWithSpuriousWakeups) {
  const auto t = make_test<Handoff>("cv_ok", {[](Handoff& s) {
                                                std::unique_lock lk(s.m);
                                                s.cv.wait(lk, [&] { return s.ready.load(); });
                                                CPB_CHECK_ASSERT(s.data.load() == 7);
                                              },
                                              [](Handoff& s) {
                                                {
                                                  std::scoped_lock lk(s.m);
                                                  s.data.store(7);
                                                  s.ready.store(true);
                                                }
                                                s.cv.notify_one();
                                              }});
  const Result r = explore(dfs(-1), t);
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.exhausted);
  const Result rr = explore(random_walk(), t);
  EXPECT_TRUE(rr.ok()) << rr.report();
}

struct WaitFlag {
  S::atomic<int> flag{0};
  S::cell<int> data{0};
};

TEST(CheckAtomicWait, NotifyWakesAndMissingNotifyDeadlocks) {
  const auto ok = make_test<WaitFlag>("wait_ok", {[](WaitFlag& s) {
                                                    s.flag.wait(0, std::memory_order_acquire);
                                                    CPB_CHECK_ASSERT(s.data.load() == 1);
                                                  },
                                                  [](WaitFlag& s) {
                                                    s.data.store(1);
                                                    s.flag.store(1, std::memory_order_release);
                                                    s.flag.notify_one();
                                                  }});
  const Result r = explore(dfs(-1), ok);
  EXPECT_TRUE(r.ok()) << r.report();
  const auto lost = make_test<WaitFlag>(
      "wait_lost", {[](WaitFlag& s) { s.flag.wait(0, std::memory_order_acquire); },
                    [](WaitFlag& s) { s.flag.store(1, std::memory_order_release); }});
  const Result l = explore(dfs(-1), lost);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.failure->kind, FailureKind::kDeadlock) << l.report();
}

// ---- strategies ----------------------------------------------------------------------------

TEST(CheckDfs, SleepSetsPruneButKeepTheSameVerdicts) {
  // Three threads on three different atomics: all interleavings are equivalent.
  struct St {
    S::atomic<int> a{0}, b{0}, c{0};
  };
  const auto t = make_test<St>("indep", {[](St& s) {
                                           s.a.store(1);
                                           s.a.store(2);
                                         },
                                         [](St& s) {
                                           s.b.store(1);
                                           s.b.store(2);
                                         },
                                         [](St& s) {
                                           s.c.store(1);
                                           s.c.store(2);
                                         }});
  Config with = dfs(-1);
  with.dpor = false;
  Config without = with;
  without.sleep_sets = false;
  const Result a = explore(with, t);
  const Result b = explore(without, t);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a.exhausted && b.exhausted);
  EXPECT_LT(a.executions, b.executions);
  EXPECT_GT(a.pruned + a.executions, 0U);
}

// ---- dynamic partial-order reduction --------------------------------------------------------

/// The final states that a search reaches: each execution's final check adds one.
using Outcomes = std::set<std::vector<int>>;

Result explore_outcomes(Config c, const std::function<TestCase(Outcomes*)>& make, Outcomes& out) {
  c.max_executions = 0;
  c.max_seconds = 0;
  out.clear();
  return explore(c, make(&out));
}

/// Without a bound, DPOR with sleep sets reaches every final state that the search without
/// reduction reaches, in fewer executions than sleep sets alone. Under a preemption bound, DPOR
/// (with BPOR's extra backtracking, without sleep sets) reaches every final state that the
/// bounded search without reduction reaches.
void expect_dpor_complete(const std::function<TestCase(Outcomes*)>& make) {
  for (const int bound : {-1, 1, 2}) {
    Config plain = dfs(bound);
    plain.iterative = false;
    plain.dpor = false;
    plain.sleep_sets = false;
    Config dpor = plain;
    dpor.dpor = true;
    dpor.sleep_sets = bound < 0;
    Outcomes all;
    Outcomes reduced;
    const Result a = explore_outcomes(plain, make, all);
    const Result d = explore_outcomes(dpor, make, reduced);
    ASSERT_TRUE(a.ok() && d.ok()) << a.report() << d.report();
    ASSERT_TRUE(a.exhausted && d.exhausted);
    EXPECT_EQ(reduced, all) << "bound " << bound << ": " << d.summary();
    EXPECT_LT(d.executions, a.executions) << "bound " << bound;
    EXPECT_GT(all.size(), 1U);
    if (bound < 0) {
      Config sleep = plain;
      sleep.sleep_sets = true;
      Outcomes slept;
      const Result z = explore_outcomes(sleep, make, slept);
      EXPECT_EQ(slept, all);
      EXPECT_LT(d.executions, z.executions);
    }
  }
}

/// A random straight-line program: per thread a few loads, stores and fetch_adds on three
/// atomics; each load's value is recorded.
struct Program {
  struct Op {
    int kind;  // 0 load, 1 store, 2 fetch_add
    int var;
    int value;
  };
  std::vector<std::vector<Op>> threads;

  static Program random(std::uint64_t seed, int nthreads, int nops) {
    std::uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
    const auto next = [&x](int n) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      return static_cast<int>(x % static_cast<std::uint64_t>(n));
    };
    Program p;
    for (int t = 0; t < nthreads; ++t) {
      auto& ops = p.threads.emplace_back();
      for (int k = 0; k < nops; ++k) ops.push_back({next(3), next(3), 1 + next(3)});
    }
    return p;
  }
  [[nodiscard]] std::string text() const {
    std::string out;
    for (std::size_t t = 0; t < threads.size(); ++t) {
      out += "t" + std::to_string(t + 1) + ":";
      for (const Op& o : threads[t]) {
        out += std::string(" ") + "LSF"[o.kind] + "xyz"[o.var] + std::to_string(o.value);
      }
      out += "\n";
    }
    return out;
  }
  TestCase test(Outcomes* out) const {
    struct St {
      std::array<S::atomic<int>, 3> v{};
      std::vector<int> seen = std::vector<int>(32);
    };
    std::vector<std::function<void(St&)>> fns;
    int slot = 0;
    for (const auto& ops : threads) {
      fns.emplace_back([ops, slot](St& s) {
        int at = slot;
        for (const Op& o : ops) {
          auto& a = s.v[static_cast<std::size_t>(o.var)];
          if (o.kind == 0) s.seen[static_cast<std::size_t>(at++)] = a.load();
          if (o.kind == 1) a.store(o.value);
          if (o.kind == 2) s.seen[static_cast<std::size_t>(at++)] = a.fetch_add(o.value);
        }
      });
      slot += static_cast<int>(ops.size());
    }
    return make_test<St>("dpor_program", std::move(fns), [out](St& s) {
      std::vector<int> o = s.seen;
      for (auto& a : s.v) o.push_back(a.load());
      out->insert(o);
    });
  }
};

/// On `seeds` random programs of `nthreads` threads with `nops` operations each, the search
/// `reduced` reaches exactly the final states that the search `complete` reaches.
void expect_same_final_states(const Config& complete, const Config& reduced, std::uint64_t seeds,
                              int nthreads, int nops) {
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const Program p = Program::random(seed, nthreads, nops);
    Outcomes all;
    Outcomes some;
    const auto make = [&p](Outcomes* o) { return p.test(o); };
    const Result a = explore_outcomes(complete, make, all);
    const Result r = explore_outcomes(reduced, make, some);
    ASSERT_TRUE(a.exhausted && r.exhausted);
    ASSERT_EQ(some, all) << "seed " << seed << ", " << r.executions << " vs " << a.executions
                         << " executions, program:\n"
                         << p.text();
  }
}

TEST(CheckDpor, RandomProgramsReachEveryFinalState) {
  Config sleep = dfs(-1);  // sleep sets alone are complete without a bound
  sleep.dpor = false;
  expect_same_final_states(sleep, dfs(-1), 200, 3, 3);
}

TEST(CheckTso, SleepSetsReachEveryFinalState) {
  // Under TSO the reduction is sleep sets alone; a locked instruction (fetch_add) drains the
  // thread's store buffer, which writes other locations than the one it names.
  Config plain = dfs(-1);
  plain.tier = Tier::kTso;
  plain.sleep_sets = false;
  Config sleep = plain;
  sleep.sleep_sets = true;
  expect_same_final_states(plain, sleep, 40, 2, 4);
}

TEST(CheckDpor, IndependentThreadsNeedOneExecution) {
  struct St {
    S::atomic<int> a{0}, b{0}, c{0};
  };
  std::vector<std::function<void(St&)>> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([i](St& s) {
      S::atomic<int>& x = i == 0 ? s.a : (i == 1 ? s.b : s.c);
      x.store(1);
      x.store(2);
    });
  }
  const auto t = make_test<St>("indep_dpor", std::move(threads));
  const Result r = explore(dfs(-1), t);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(r.executions, 1U);
}

TEST(CheckDpor, ReachesEveryFinalStateOfRacingRegisters) {
  struct St {
    S::atomic<int> x{0}, y{0};
    std::array<int, 4> r{};
  };
  expect_dpor_complete([](Outcomes* out) {
    return make_test<St>("dpor_registers",
                         {[](St& s) {
                            s.x.store(1);
                            s.r[0] = s.y.load();
                          },
                          [](St& s) {
                            s.y.store(1);
                            s.r[1] = s.x.load();
                            s.x.store(2);
                          },
                          [](St& s) {
                            s.r[2] = s.x.load();
                            s.y.store(2);
                            s.r[3] = s.y.load();
                          }},
                         [out](St& s) {
                           out->insert({s.r[0], s.r[1], s.r[2], s.r[3], s.x.load(), s.y.load()});
                         });
  });
}

TEST(CheckDpor, ReachesEveryFinalStateOfLocksAndCas) {
  struct St {
    S::mutex m;
    S::atomic<int> next{0}, cas{0};
    std::array<int, 2> order{}, seen{};
    int tried = 0;
  };
  std::vector<std::function<void(St&)>> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([i](St& s) {
      {
        std::lock_guard g(s.m);
        const int at = s.next.load();
        s.next.store(at + 1);
        s.order[static_cast<std::size_t>(at)] = i + 1;
      }
      int v = 0;
      s.seen[static_cast<std::size_t>(i)] = s.cas.compare_exchange_strong(v, i + 1) ? -1 : v;
    });
  }
  threads.emplace_back([](St& s) {
    if (!s.m.try_lock()) return;
    s.tried = 1 + s.next.load();
    s.m.unlock();
  });
  expect_dpor_complete([threads](Outcomes* out) {
    return make_test<St>("dpor_locks_cas", threads, [out](St& s) {
      out->insert({s.order[0], s.order[1], s.seen[0], s.seen[1], s.tried, s.cas.load()});
    });
  });
}

TEST(CheckDpor, ReachesEveryFinalStateOfACondVarHandOff) {
  struct St {
    S::mutex m;
    S::condition_variable cv;
    S::atomic<int> ready{0};
    std::array<int, 2> seen{};
  };
  expect_dpor_complete([](Outcomes* out) {
    return make_test<St>("dpor_condvar",
                         {[](St& s) {
                            std::lock_guard g(s.m);
                            s.ready.store(1);
                            s.cv.notify_all();
                          },
                          [](St& s) {
                            std::unique_lock g(s.m);
                            s.cv.wait(g, [&] { return s.ready.load() != 0; });
                            s.seen[0] = s.ready.load() + 1;
                            s.ready.store(2);
                          },
                          [](St& s) {
                            std::lock_guard g(s.m);
                            s.seen[1] = s.ready.load();
                          }},
                         [out](St& s) {
                           out->insert({s.seen[0], s.seen[1], s.ready.load()});
                         });
  });
}

TEST(CheckDfs, IterativeBoundStopsWhenNothingIsCut) {
  const auto t = mp_test<std::memory_order_release, std::memory_order_acquire>("mp_bound");
  const Result r = explore(dfs(10), t);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.exhausted);
  EXPECT_LT(r.bound, 10);
  EXPECT_EQ(r.per_bound.size(), static_cast<std::size_t>(r.bound) + 1);
}

TEST(CheckPct, ReportsTheProbabilityBound) {
  const auto t = mp_test<std::memory_order_release, std::memory_order_acquire>("mp_pct");
  const Result r = explore(pct(2, 500), t);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r.pct_per_run, 0.0);
  EXPECT_LE(r.pct_per_run, 1.0);
  EXPECT_GT(r.pct_confidence, r.pct_per_run);
  EXPECT_NE(r.summary().find("per-run-bound="), std::string::npos);
}

TEST(CheckBudget, TimeBudgetEndsTheSearch) {
  const auto t = counter_test<S::mutex, 3, 3>("budget");
  Config c = random_walk(200);
  c.max_seconds = 0.2;
  const Result r = explore(c, t);
  EXPECT_TRUE(r.ok());
  EXPECT_GT(r.executions, 0U);
  EXPECT_LT(r.seconds, 5.0);
}

TEST(CheckOutside, TypesWorkSequentiallyOutsideAnExecution) {
  S::atomic<int> a{1};
  EXPECT_EQ(a.fetch_add(2), 1);
  int e = 3;
  EXPECT_TRUE(a.compare_exchange_strong(e, 5));
  EXPECT_EQ(a.load(), 5);
  S::mutex m;
  EXPECT_TRUE(m.try_lock());
  EXPECT_FALSE(m.try_lock());
  m.unlock();
  EXPECT_THROW(S::thread([] {}), std::logic_error);
}

}  // namespace
}  // namespace cpb::check

namespace cpb::check {
namespace {

// ---- threads and blocking the checker does not control ----------------------------------------

TEST(CheckForeign, AStdThreadInsideATestIsReportedWithThePlace) {
  struct St {
    S::atomic<int> x{0};
  };
  const auto t = make_test<St>("foreign_thread", {[](St& s) {
                                 std::thread real([&s] { s.x.store(1); });  // not Sync::thread
                                 real.join();
                                 s.x.load();
                               }});
  const Result r = explore(random_walk(200), t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->kind, FailureKind::kUninstrumented) << r.report();
  EXPECT_NE(r.failure->message.find("check.test.cpp:"), std::string::npos) << r.failure->message;
  EXPECT_NE(r.failure->message.find("an atomic store"), std::string::npos) << r.failure->message;
}

TEST(CheckForeignDeathTest, BlockingInTheKernelIsReportedNotHung) {
  struct St {
    S::atomic<int> x{0};
  };
  const auto t = make_test<St>("blocks_in_kernel", {[](St& s) {
                                 s.x.store(1);
                                 std::this_thread::sleep_for(std::chrono::hours(1));  // a syscall
                               }});
  Config c = random_walk(200);
  c.stall_seconds = 0.3;
  EXPECT_EXIT(explore(c, t), ::testing::ExitedWithCode(1),
              "CPB CHECK FAIL blocked test=blocks_in_kernel: .* thread t1 is blocked outside the "
              "checker after its operation at .*check.test.cpp:");
}

// ---- the checker heap -----------------------------------------------------------------------

struct Obj {
  S::cell<int> v{0};
};

TEST(CheckHeap, LeakIsReported) {
  struct St {};
  const auto t = make_test<St>("leak", {[](St&) { S::create<Obj>(); }});
  const Result r = explore(random_walk(200), t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->kind, FailureKind::kLeak) << r.report();
}

TEST(CheckHeap, DoubleFreeIsReported) {
  struct St {
    Obj* o = S::create<Obj>();
  };
  const std::string first_free = "check.test.cpp:" + std::to_string(__LINE__ + 1);
  const auto t = make_test<St>("double_free", {[](St& s) { S::destroy(s.o); }},
                               [](St& s) { S::destroy(s.o); });
  const Result r = explore(random_walk(200), t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->kind, FailureKind::kDoubleFree) << r.report();
  // The first free is in the trace, with the line that made it.
  EXPECT_TRUE(std::any_of(r.failure->trace.begin(), r.failure->trace.end(), [&](const auto& l) {
    return l.find(" free ") != std::string::npos && l.find(first_free) != std::string::npos;
  })) << r.report();
}

TEST(CheckHeap, BalancedUseIsClean) {
  struct St {
    Obj* o = S::create<Obj>();
    ~St() { S::destroy(o); }
  };
  const auto t = make_test<St>("balanced", {[](St& s) { s.o->v.store(1); }},
                               [](St& s) { CPB_CHECK_ASSERT(s.o->v.load() == 1); });
  const Result r = explore(dfs(-1), t);
  EXPECT_TRUE(r.ok()) << r.report();
}

}  // namespace
}  // namespace cpb::check

namespace cpb::check {
namespace {

TEST(CheckParking, SpinOnAValueNoOneWritesIsALivelockAtOnce) {
  struct St {
    S::atomic<int> flag{0};
  };
  const auto t = make_test<St>("spin_forever", {[](St& s) {
                                 while (s.flag.load(std::memory_order_acquire) == 0) S::pause();
                               }});
  const Result r = explore(dfs(-1), t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->kind, FailureKind::kLivelock) << r.report();
  EXPECT_NE(r.failure->message.find("t1 re-reads atomic#0 (= 0)"), std::string::npos)
      << r.failure->message;
  EXPECT_LT(r.max_steps, 1000U);  // reported long before the step limit of 20,000
}

TEST(CheckParking, ASpinnerIsWokenByTheWrite) {
  struct St {
    S::atomic<int> flag{0};
  };
  const auto t =
      make_test<St>("spin_then_set", {[](St& s) {
                                        while (s.flag.load(std::memory_order_acquire) == 0)
                                          S::pause();
                                      },
                                      [](St& s) {
                                        for (int i = 0; i < 3; ++i) S::yield();
                                        s.flag.store(1, std::memory_order_release);
                                      }});
  const Result r = explore(dfs(-1), t);
  EXPECT_TRUE(r.ok()) << r.report();
  EXPECT_TRUE(r.exhausted);
}

}  // namespace
}  // namespace cpb::check
