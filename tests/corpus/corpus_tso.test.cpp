// SPDX-License-Identifier: Apache-2.0
// Corpus entries that need the TSO tier (x86 store buffers): 10, 11, 16, 18, 24. Each buggy
// program is missed under SC (asserted: the reordering is what makes it fail) and caught under
// TSO; each fixed twin passes under TSO.
#include "tests/corpus/corpus.hpp"

#include "harness/check/explore.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

namespace cpb::check {
namespace {

using namespace corpus;  // NOLINT(google-build-using-namespace): the corpus vocabulary

constexpr Mode kTso{Tier::kTso};

// ---- 10. Peterson lock with release stores and acquire loads --------------------------------

template <std::memory_order kStore, std::memory_order kLoad>
struct Peterson {
  std::array<S::atomic<int>, 2> flag{};
  S::atomic<int> turn{0};
  S::cell<int> data{0};

  void lock(int me) {
    const int other = 1 - me;
    flag[me].store(1, kStore);  // the bug: a release store may wait in the store buffer ...
    turn.store(other, kStore);
    // ... while this load of the other flag overtakes it (store->load reordering).
    while (flag[other].load(kLoad) == 1 && turn.load(kLoad) == other) S::yield();
  }
  void unlock(int me) { flag[me].store(0, kStore); }
};

template <std::memory_order kStore, std::memory_order kLoad>
TestCase peterson(std::string name) {
  using St = Peterson<kStore, kLoad>;
  const auto worker = [](int me) {
    return [me](St& s) {
      s.lock(me);
      s.data.store(s.data.load() + 1);
      s.unlock(me);
    };
  };
  return make_test<St>(std::move(name), {worker(0), worker(1)},
                       [](St& s) { CPB_CHECK_ASSERT(s.data.load() == 2); });
}

TEST(Corpus10Peterson, ReleaseAcquireIsCaughtUnderTso) {
  const auto t = peterson<kRel, kAcq>("corpus10_peterson_bug");
  expect_missed(t);
  expect_caught(t, {FailureKind::kDataRace, FailureKind::kAssertion}, kTso);
}
TEST(Corpus10Peterson, SeqCstPasses) {
  expect_passes(peterson<kSc, kSc>("corpus10_peterson_fix"), kTso);
}

// ---- 11. store buffering (Dekker handshake) with acquire-release -----------------------------

template <std::memory_order kStore>
struct Sb {
  S::atomic<int> x{0};
  S::atomic<int> y{0};
  S::atomic<int> r1{-1};
  S::atomic<int> r2{-1};
};

template <std::memory_order kStore>
TestCase sb(std::string name) {
  using St = Sb<kStore>;
  return make_test<St>(std::move(name),
                       {[](St& s) {
                          s.x.store(1, kStore);
                          s.r1.store(s.y.load(kAcq), kRlx);
                        },
                        [](St& s) {
                          s.y.store(1, kStore);
                          s.r2.store(s.x.load(kAcq), kRlx);
                        }},
                       [](St& s) { CPB_CHECK_ASSERT(s.r1.load() + s.r2.load() > 0); });
}

TEST(Corpus11StoreBuffering, ReleaseStoresAreCaughtUnderTso) {
  const auto t = sb<kRel>("corpus11_sb_bug");
  expect_missed(t);
  expect_caught(t, {FailureKind::kAssertion}, kTso);
}
TEST(Corpus11StoreBuffering, SeqCstStoresPass) { expect_passes(sb<kSc>("corpus11_sb_fix"), kTso); }

// ---- 16. Chase-Lev take() without a seq_cst fence between the bottom store and the top load --

template <bool kFence>
struct ChaseLev {
  static constexpr long kEmpty = -1;
  static constexpr long kAbort = -2;
  S::atomic<long> top{0};
  S::atomic<long> bottom{0};
  std::array<S::atomic<long>, 4> buf{};
  std::array<S::atomic<int>, 3> taken{};  // how often each item was obtained

  void push(long v) {
    const long b = bottom.load(kRlx);
    buf[static_cast<std::size_t>(b) % buf.size()].store(v, kRlx);
    S::fence(kRel);  // pairs with the acquire load of bottom in steal()
    bottom.store(b + 1, kRlx);
  }
  long take() {
    const long b = bottom.load(kRlx) - 1;
    bottom.store(b, kRlx);
    if (kFence) S::fence(kSc);  // the fix: the bottom store must precede the top load
    long t = top.load(kRlx);
    if (t > b) {
      bottom.store(b + 1, kRlx);
      return kEmpty;
    }
    long x = buf[static_cast<std::size_t>(b) % buf.size()].load(kRlx);
    if (t == b) {  // the last item: race the thieves for it
      if (!top.compare_exchange_strong(t, t + 1, kSc, kRlx)) x = kEmpty;
      bottom.store(b + 1, kRlx);
    }
    return x;
  }
  long steal() {
    long t = top.load(kAcq);
    S::fence(kSc);
    const long b = bottom.load(kAcq);  // pairs with the release fence in push()
    if (t >= b) return kEmpty;
    const long x = buf[static_cast<std::size_t>(t) % buf.size()].load(kRlx);
    if (!top.compare_exchange_strong(t, t + 1, kSc, kRlx)) return kAbort;
    return x;
  }
  void got(long x) {
    if (x >= 0) taken[static_cast<std::size_t>(x)].fetch_add(1);
  }
};

/// The owner pushes 2 items and takes `takes` times; one thief steals `steals` times.
template <bool kFence>
TestCase chase_lev(std::string name, int takes = 1, int steals = 2) {
  using St = ChaseLev<kFence>;
  return make_test<St>(std::move(name),
                       {[takes](St& s) {
                          s.push(1);
                          s.push(2);
                          for (int i = 0; i < takes; ++i) s.got(s.take());
                        },
                        [steals](St& s) {
                          for (int i = 0; i < steals; ++i) s.got(s.steal());
                        }},
                       [](St& s) {
                         for (auto& n : s.taken) CPB_CHECK_ASSERT(n.load() <= 1);
                       });
}

TEST(Corpus16ChaseLevTakeWithoutFence, DuplicateIsCaughtUnderTso) {
  const auto t = chase_lev<false>("corpus16_chase_lev_bug");
  expect_missed(t);
  expect_caught(t, {FailureKind::kAssertion}, kTso);
}
TEST(Corpus16ChaseLevTakeWithoutFence, SeqCstFencePasses) {
  expect_passes(chase_lev<true>("corpus16_chase_lev_fix"), kTso);
}

// Issue 10's yardstick for the TSO DPOR: the exhaustive search (no bound) of the fixed deque,
// the owner pushing 2 and taking 2 while one thief steals, under SC and under TSO. Prints the
// execution counts (the checker README reports them).
TEST(Corpus16ChaseLevTakeWithoutFence, ExhaustiveSearchUnderBothTiers) {
  const TestCase t = chase_lev<true>("corpus16_chase_lev_exhaustive", 2, 1);
  for (const Tier tier : {Tier::kSc, Tier::kTso}) {
    for (const bool dpor : {true, false}) {
      Config c = dfs({tier});
      c.preemption_bound = -1;
      c.dpor = dpor;
      c.max_executions = 0;
      c.max_seconds = 120;
      const Result r = explore(c, t);
      EXPECT_TRUE(r.ok() && r.exhausted) << r.report();
      std::printf("chase-lev exhaustive, %s, %s: %llu executions, %.2f s\n",
                  std::string(to_string(tier)).c_str(), dpor ? "dpor + sleep sets" : "sleep sets",
                  static_cast<unsigned long long>(r.executions), r.seconds);
    }
  }
}

// ---- 18. eventcount: a relaxed signal after publishing loses the wake-up --------------------

template <bool kFixed>
struct EventCount {
  S::atomic<int> data{0};
  S::atomic<int> waiters{0};
  S::atomic<int> epoch{0};

  void publish() {
    data.store(1, kRel);  // pairs with the acquire load in consume()
    // The fix: a locked RMW drains the store buffer before the waiter count is read.
    const int w = kFixed ? waiters.fetch_add(0, kSc) : waiters.load(kRlx);
    if (w > 0) {
      epoch.fetch_add(1, kSc);
      epoch.notify_all();
    }
  }
  void consume() {
    const int key = epoch.load(kSc);
    waiters.fetch_add(1, kSc);
    if (data.load(kAcq) == 0) epoch.wait(key, kSc);  // sleeps unless the epoch moved on
    waiters.fetch_sub(1, kSc);
  }
};

template <bool kFixed>
TestCase eventcount(std::string name) {
  using St = EventCount<kFixed>;
  return make_test<St>(std::move(name), {[](St& s) { s.publish(); }, [](St& s) { s.consume(); }});
}

TEST(Corpus18EventCountRelaxedSignal, LostWakeupIsCaughtAsDeadlockUnderTso) {
  const auto t = eventcount<false>("corpus18_eventcount_bug");
  expect_missed(t);
  expect_caught(t, {FailureKind::kDeadlock}, kTso);
}
TEST(Corpus18EventCountRelaxedSignal, LockedSignalPasses) {
  expect_passes(eventcount<true>("corpus18_eventcount_fix"), kTso);
}

// ---- 24. hazard pointer published without a seq_cst fence before re-validation ---------------

struct Node {
  S::cell<int> value{7};
};

template <bool kFence>
struct Hazard {
  S::atomic<Node*> head{nullptr};
  S::atomic<Node*> hazard{nullptr};
  Node* retired = nullptr;  // set by the reclaimer, freed at the end unless it freed it

  Hazard() { head.store(S::create<Node>(), kRel); }
  ~Hazard() {
    S::destroy(head.load(kAcq));
    S::destroy(retired);
  }

  void read() {
    Node* p = head.load(kAcq);  // pairs with the release exchange in reclaim()
    for (;;) {
      hazard.store(p, kRel);
      if (kFence) S::fence(kSc);  // the fix: publish the hazard before re-reading head
      Node* again = head.load(kAcq);
      if (again == p) break;
      p = again;
    }
    CPB_CHECK_ASSERT(p->value.load() == 7);
    hazard.store(nullptr, kRel);
  }
  void reclaim() {
    Node* old = head.exchange(S::create<Node>(), kSc);
    if (hazard.load(kSc) == old) {
      retired = old;  // protected: leave it for later
    } else {
      S::destroy(old);
    }
  }
};

template <bool kFence>
TestCase hazard(std::string name) {
  using St = Hazard<kFence>;
  return make_test<St>(std::move(name), {[](St& s) { s.read(); }, [](St& s) { s.reclaim(); }});
}

TEST(Corpus24HazardPublishWithoutFence, UseAfterFreeIsCaughtUnderTso) {
  const auto t = hazard<false>("corpus24_hazard_bug");
  expect_missed(t);
  // The reclaimer frees the node the reader is using: a use after free, or the free racing
  // with the reader's earlier read of it (a free is a write), whichever the schedule shows.
  expect_caught(t, {FailureKind::kUseAfterFree, FailureKind::kDataRace}, kTso);
}
TEST(Corpus24HazardPublishWithoutFence, SeqCstFencePasses) {
  expect_passes(hazard<true>("corpus24_hazard_fix"), kTso);
}

// ---- the TSO entries under the C11 tier ------------------------------------------------------

// C11 allows every store->load reordering that TSO shows in these programs (their stores and
// loads are release/acquire or relaxed), so each TSO entry is caught under the C11 tier too,
// and each fixed twin that is correct under the C++ memory model passes it. Entry 11's twin is
// not: seq_cst stores with acquire loads fix store buffering on x86 (the XCHG drains the
// buffer), but RC11 still allows both loads to read 0 (only seq_cst loads join S).
constexpr Mode kC11{Tier::kC11};

TEST(CorpusTsoEntriesUnderC11, BuggyEntriesAreCaught) {
  expect_caught(peterson<kRel, kAcq>("corpus10_peterson_bug"),
                {FailureKind::kDataRace, FailureKind::kAssertion}, kC11);
  expect_caught(sb<kRel>("corpus11_sb_bug"), {FailureKind::kAssertion}, kC11);
  expect_caught(chase_lev<false>("corpus16_chase_lev_bug"), {FailureKind::kAssertion}, kC11);
  expect_caught(eventcount<false>("corpus18_eventcount_bug"), {FailureKind::kDeadlock}, kC11);
  expect_caught(hazard<false>("corpus24_hazard_bug"),
                {FailureKind::kUseAfterFree, FailureKind::kDataRace}, kC11);
  expect_caught(sb<kSc>("corpus11_sb_fix"), {FailureKind::kAssertion}, kC11);  // see above
}
TEST(CorpusTsoEntriesUnderC11, FixedTwinsPass) {
  expect_passes(peterson<kSc, kSc>("corpus10_peterson_fix"), kC11);
  expect_passes(chase_lev<true>("corpus16_chase_lev_fix"), kC11);
  expect_passes(eventcount<true>("corpus18_eventcount_fix"), kC11);
  expect_passes(hazard<true>("corpus24_hazard_fix"), kC11);
}

// The exhaustive search of the fixed deque (as above) under the C11 tier, whose reduction is
// sleep sets alone. Prints the execution count (the checker README reports it).
TEST(CorpusTsoEntriesUnderC11, ChaseLevExhaustiveSearch) {
  const TestCase t = chase_lev<true>("corpus16_chase_lev_exhaustive", 2, 1);
  Config c = dfs(kC11);
  c.preemption_bound = -1;
  c.max_executions = 0;
  c.max_seconds = 120;
  const Result r = explore(c, t);
  EXPECT_TRUE(r.ok() && r.exhausted) << r.report();
  std::printf("chase-lev exhaustive, c11, sleep sets: %llu executions, %.2f s\n",
              static_cast<unsigned long long>(r.executions), r.seconds);
}

}  // namespace
}  // namespace cpb::check
