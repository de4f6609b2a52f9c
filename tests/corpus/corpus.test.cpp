// SPDX-License-Identifier: Apache-2.0
// The seeded-bug corpus of reference/model-checker-anchors.md section 8: each entry is a small
// buggy program and its fixed twin. The buggy one must be caught with the expected kind of
// failure (by bounded DFS and by random search), the fixed one must pass both.
//
// This file: the SC-tier entries 5, 6, 12, 13, 19, 20, 22, 23, and the C11-tier entries 7, 8,
// 9, 14 (caught under Tier::kC11; the misses under SC and TSO are asserted too).
// corpus_tso.test.cpp: 10, 11, 16, 18, 24 (store buffers). corpus_heap.test.cpp: 1, 2, 3, 4,
// 15, 21 (the checker heap and the livelock detector).
#include "tests/corpus/corpus.hpp"

#include "harness/check/explore.hpp"
#include "patterns/mutex/tas_spinlock.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>

namespace cpb::check {
namespace {

using namespace corpus;  // NOLINT(google-build-using-namespace): the corpus vocabulary

// ---- 5. DCLP singleton, outer load relaxed ---------------------------------------------------

struct Widget {
  S::cell<int> field{42};
};

template <std::memory_order kOuter>
struct Dclp {
  S::atomic<Widget*> instance{nullptr};
  S::mutex m;
  std::unique_ptr<Widget> owner;  // written only by the creator, under the mutex

  Widget* get() {
    Widget* p = instance.load(kOuter);  // fixed: acquire, pairs with the release store below
    if (p == nullptr) {
      std::scoped_lock lk(m);
      p = instance.load(kRlx);  // under the mutex: ordered by it
      if (p == nullptr) {
        owner = std::make_unique<Widget>();
        p = owner.get();
        instance.store(p, kRel);  // pairs with the acquire outer load of the fixed twin
      }
    }
    return p;
  }
};

template <std::memory_order kOuter>
TestCase dclp(std::string name) {
  using St = Dclp<kOuter>;
  const auto reader = [](St& s) { CPB_CHECK_ASSERT(s.get()->field.load() == 42); };
  return make_test<St>(std::move(name), {reader, reader});
}

TEST(Corpus05Dclp, RelaxedOuterLoadIsCaught) {
  expect_caught(dclp<kRlx>("corpus05_dclp_bug"), {FailureKind::kDataRace});
}
TEST(Corpus05Dclp, AcquireOuterLoadPasses) { expect_passes(dclp<kAcq>("corpus05_dclp_fix")); }

// ---- 6. message passing, plain payload + relaxed flag ---------------------------------------

template <std::memory_order kStore, std::memory_order kLoad>
struct Mp {
  S::atomic<int> flag{0};
  S::cell<int> payload{0};
};

template <std::memory_order kStore, std::memory_order kLoad>
TestCase mp(std::string name) {
  using St = Mp<kStore, kLoad>;
  return make_test<St>(std::move(name), {[](St& s) {
                                           s.payload.store(1);
                                           s.flag.store(1, kStore);
                                         },
                                         [](St& s) {
                                           if (s.flag.load(kLoad) == 1) {
                                             CPB_CHECK_ASSERT(s.payload.load() == 1);
                                           }
                                         }});
}

TEST(Corpus06MessagePassing, RelaxedFlagIsCaught) {
  expect_caught(mp<kRlx, kRlx>("corpus06_mp_bug"), {FailureKind::kDataRace});
}
TEST(Corpus06MessagePassing, ReleaseAcquirePasses) {
  expect_passes(mp<kRel, kAcq>("corpus06_mp_fix"));
}

// ---- 7. message passing, relaxed-atomic payload (C11 only) ----------------------------------

struct MpAtomic {
  S::atomic<int> flag{0};
  S::atomic<int> payload{0};
};

/// kFlagStore / kFlagLoad: the orders of the flag's store and load (the bug: both relaxed).
template <std::memory_order kFlagStore, std::memory_order kFlagLoad>
TestCase mp_atomics(std::string name) {
  return make_test<MpAtomic>(std::move(name),
                             {[](MpAtomic& s) {
                                s.payload.store(1, kRlx);
                                s.flag.store(1, kFlagStore);  // fixed: pairs with the load
                              },
                              [](MpAtomic& s) {
                                if (s.flag.load(kFlagLoad) == 1) {  // fixed: acquire
                                  CPB_CHECK_ASSERT(s.payload.load(kRlx) == 1);
                                }
                              }});
}

TEST(Corpus07MpRelaxedAtomics, CaughtUnderC11MissedUnderScAndTso) {
  // On ARM/POWER the consumer may see flag == 1 and payload == 0; SC and TSO cannot show it.
  const auto t = mp_atomics<kRlx, kRlx>("corpus07_mp_rlx_atomics");
  expect_missed(t);
  expect_missed(t, Mode{Tier::kTso});
  expect_caught(t, {FailureKind::kAssertion}, Mode{Tier::kC11});
}
TEST(Corpus07MpRelaxedAtomics, ReleaseAcquirePassesUnderC11) {
  expect_passes(mp_atomics<kRel, kAcq>("corpus07_mp_fix"), Mode{Tier::kC11});
}

// ---- 8 and 9. seqlock with a missing fence (C11 only) -----------------------------------------

/// Data in relaxed atomics; kReaderFence: the acquire fence before the reader re-checks seq (8);
/// kWriterFence: the release fence after the writer makes seq odd (9). Under SC and TSO both
/// variants are correct, so the entries are expected to be missed until the C11 tier exists.
template <bool kReaderFence, bool kWriterFence>
struct SeqLock {
  S::atomic<unsigned> seq{0};
  S::atomic<int> a{0};
  S::atomic<int> b{0};

  void write(int v) {
    const unsigned s = seq.load(kRlx);
    seq.store(s + 1, kRlx);
    if (kWriterFence) S::fence(kRel);  // orders the odd seq before the data stores
    a.store(v, kRlx);
    b.store(v, kRlx);
    seq.store(s + 2, kRel);  // pairs with the reader's first acquire load of seq
  }
  void read() {
    for (;;) {
      const unsigned s1 = seq.load(kAcq);  // pairs with the writer's final release store
      if ((s1 & 1U) != 0) {
        S::yield();
        continue;
      }
      const int x = a.load(kRlx);
      const int y = b.load(kRlx);
      if (kReaderFence) S::fence(kAcq);  // orders the data loads before the re-check
      if (seq.load(kRlx) == s1) {
        CPB_CHECK_ASSERT(x == y);
        return;
      }
    }
  }
};

template <bool kReaderFence, bool kWriterFence>
TestCase seqlock(std::string name) {
  using St = SeqLock<kReaderFence, kWriterFence>;
  return make_test<St>(std::move(name), {[](St& s) { s.write(1); }, [](St& s) { s.read(); }});
}

TEST(Corpus08SeqlockReaderWithoutFence, CaughtUnderC11MissedUnderScAndTso) {
  expect_missed(seqlock<false, true>("corpus08_seqlock_reader"));
  expect_missed(seqlock<false, true>("corpus08_seqlock_reader"), Mode{Tier::kTso});
  expect_caught(seqlock<false, true>("corpus08_seqlock_reader"), {FailureKind::kAssertion},
                Mode{Tier::kC11});
}
TEST(Corpus09SeqlockWriterWithoutFence, CaughtUnderC11MissedUnderScAndTso) {
  expect_missed(seqlock<true, false>("corpus09_seqlock_writer"));
  expect_missed(seqlock<true, false>("corpus09_seqlock_writer"), Mode{Tier::kTso});
  expect_caught(seqlock<true, false>("corpus09_seqlock_writer"), {FailureKind::kAssertion},
                Mode{Tier::kC11});
}
TEST(Corpus08And09SeqlockWithBothFences, PassesUnderC11) {
  expect_passes(seqlock<true, true>("corpus08_09_seqlock_fix"), Mode{Tier::kC11});
}

// ---- 14. Chase-Lev resize publishes the array with a relaxed store (C11 only) -----------------

/// The owner grows the array and publishes it relaxed; a thief loads it relaxed and reads a slot
/// (relaxed atomics, initialised by the owner's copy). Only a weak-memory model lets the thief
/// see the new array before its slots. kFixed: release publication, acquire load.
template <bool kFixed>
struct Resize {
  struct Array {
    std::array<S::atomic<long>, 2> slot{};
  };
  S::atomic<Array*> array{nullptr};
  S::atomic<long> bottom{0};
  Array first;
  Array second;

  void owner() {
    first.slot[0].store(7, kRlx);
    array.store(&first, kRel);
    bottom.store(1, kRel);
    second.slot[0].store(first.slot[0].load(kRlx), kRlx);  // copy into the grown array
    array.store(&second, kFixed ? kRel : kRlx);  // the bug: relaxed; fixed: pairs with the thief
  }
  void thief() {
    if (bottom.load(kAcq) == 0) return;           // pairs with the owner's release of bottom
    Array* a = array.load(kFixed ? kAcq : kRlx);  // the bug: relaxed; fixed: pairs with the owner
    CPB_CHECK_ASSERT(a->slot[0].load(kRlx) == 7);
  }
};

template <bool kFixed>
TestCase resize(std::string name) {
  using R = Resize<kFixed>;
  return make_test<R>(std::move(name), {[](R& s) { s.owner(); }, [](R& s) { s.thief(); }});
}

TEST(Corpus14ChaseLevRelaxedResize, CaughtUnderC11MissedUnderScAndTso) {
  const auto t = resize<false>("corpus14_resize_publish");
  expect_missed(t);
  expect_missed(t, Mode{Tier::kTso});
  expect_caught(t, {FailureKind::kAssertion}, Mode{Tier::kC11});
}
TEST(Corpus14ChaseLevRelaxedResize, ReleasePublicationPassesUnderC11) {
  expect_passes(resize<true>("corpus14_resize_fix"), Mode{Tier::kC11});
}

// ---- 12 and 13. Lamport SPSC ring -------------------------------------------------------------

constexpr unsigned kRing = 2;
constexpr int kItems = 3;

template <std::memory_order kPublish, bool kWrongFullTest>
struct Ring {
  S::atomic<unsigned> head{0};
  S::atomic<unsigned> tail{0};
  S::cell<int> slot[kRing];

  void produce() {
    unsigned t = 0;
    for (int i = 1; i <= kItems; ++i) {
      // Acquire pairs with the consumer's release store of head: the slot is free to reuse.
      while (kWrongFullTest ? t - head.load(kAcq) > kRing : t - head.load(kAcq) == kRing) {
        S::yield();
      }
      slot[t % kRing].store(i);
      ++t;
      tail.store(t, kPublish);  // fixed: release, pairs with the consumer's acquire load
    }
  }
  void consume() {
    unsigned h = 0;
    for (int i = 1; i <= kItems; ++i) {
      while (tail.load(kAcq) == h) S::yield();        // acquire pairs with the publishing store
      CPB_CHECK_ASSERT(slot[h % kRing].load() == i);  // FIFO
      ++h;
      head.store(h, kRel);  // pairs with the producer's acquire load of head
    }
  }
};

template <std::memory_order kPublish, bool kWrongFullTest>
TestCase ring(std::string name) {
  using St = Ring<kPublish, kWrongFullTest>;
  return make_test<St>(std::move(name), {[](St& s) { s.produce(); }, [](St& s) { s.consume(); }});
}

TEST(Corpus12SpscRelaxedPublish, IsCaught) {
  expect_caught(ring<kRlx, false>("corpus12_spsc_bug"), {FailureKind::kDataRace});
}
TEST(Corpus12SpscRelaxedPublish, ReleasePublishPasses) {
  expect_passes(ring<kRel, false>("corpus12_spsc_fix"));
}
TEST(Corpus13SpscWrongFullTest, IsCaught) {
  // The producer overwrites an unconsumed slot: the FIFO assertion fails, or (when the
  // consumer reads it at the same time) the overwrite races with the read.
  expect_caught(ring<kRel, true>("corpus13_spsc_full_bug"),
                {FailureKind::kAssertion, FailureKind::kDataRace});
}
TEST(Corpus13SpscWrongFullTest, RightFullTestPasses) {
  expect_passes(ring<kRel, false>("corpus13_spsc_full_fix"));
}

// ---- 19 and 20. condition variables -----------------------------------------------------------

struct Handoff {
  S::mutex m;
  S::condition_variable cv;
  S::atomic<bool> ready_flag{false};  // entry 19 tests it outside the mutex
  S::cell<bool> ready{false};
};

TEST(Corpus19CondVarPredicateOutsideMutex, LostWakeupIsCaughtAsDeadlock) {
  const auto t = make_test<Handoff>("corpus19_cv_bug", {[](Handoff& s) {
                                                          if (!s.ready_flag.load()) {
                                                            std::unique_lock lk(s.m);
                                                            s.cv.wait(lk);
                                                          }
                                                        },
                                                        [](Handoff& s) {
                                                          s.ready_flag.store(true);
                                                          s.cv.notify_one();
                                                        }});
  Config c = dfs();
  expect_caught(t, {FailureKind::kDeadlock});
}

TEST(Corpus19CondVarPredicateOutsideMutex, PredicateUnderMutexPasses) {
  expect_passes(make_test<Handoff>("corpus19_cv_fix", {[](Handoff& s) {
                                                         std::unique_lock lk(s.m);
                                                         s.cv.wait(lk,
                                                                   [&] { return s.ready.load(); });
                                                       },
                                                       [](Handoff& s) {
                                                         {
                                                           std::scoped_lock lk(s.m);
                                                           s.ready.store(true);
                                                         }
                                                         s.cv.notify_one();
                                                       }}));
}

template <bool kLoop>
TestCase cv_if(std::string name) {
  return make_test<Handoff>(std::move(name), {[](Handoff& s) {
                                                std::unique_lock lk(s.m);
                                                if constexpr (kLoop) {
                                                  while (!s.ready.load()) s.cv.wait(lk);
                                                } else {
                                                  if (!s.ready.load()) s.cv.wait(lk);
                                                }
                                                CPB_CHECK_ASSERT(s.ready.load());
                                              },
                                              [](Handoff& s) {
                                                {
                                                  std::scoped_lock lk(s.m);
                                                  s.ready.store(true);
                                                }
                                                s.cv.notify_one();
                                              }});
}

TEST(Corpus20CondVarIfInsteadOfWhile, SpuriousWakeupIsCaught) {
  expect_caught(cv_if<false>("corpus20_cv_if_bug"), {FailureKind::kAssertion});
}
TEST(Corpus20CondVarIfInsteadOfWhile, WhileLoopPasses) {
  expect_passes(cv_if<true>("corpus20_cv_if_fix"));
}

// ---- 22. TAS spinlock with a relaxed unlock ---------------------------------------------------

class RelaxedUnlockTas {
 public:
  void lock() {
    while (locked_.exchange(true, kAcq)) S::pause();
  }
  void unlock() { locked_.store(false, kRlx); }  // the bug: no release

 private:
  S::atomic<bool> locked_{false};
};

template <class L>
struct Guarded {
  L lock;
  S::cell<int> count{0};
};

template <class L>
TestCase counter(std::string name) {
  using St = Guarded<L>;
  const auto inc = [](St& s) {
    s.lock.lock();
    s.count.store(s.count.load() + 1);
    s.lock.unlock();
  };
  return make_test<St>(std::move(name), {inc, inc},
                       [](St& s) { CPB_CHECK_ASSERT(s.count.load() == 2); });
}

TEST(Corpus22TasRelaxedUnlock, IsCaught) {
  expect_caught(counter<RelaxedUnlockTas>("corpus22_tas_bug"), {FailureKind::kDataRace});
}
TEST(Corpus22TasRelaxedUnlock, ReleaseUnlockPasses) {
  // The fixed twin is the family's own TasSpinlock.
  expect_passes(counter<patterns::mutex::TasSpinlock<S>>("corpus22_tas_fix"));
}

// ---- 23. reader-writer lock "upgrade" ---------------------------------------------------------

template <bool kUpgrade>
struct Rw {
  S::shared_mutex m;
  S::cell<int> value{0};

  void bump() {
    m.lock_shared();
    const int seen = value.load();
    if constexpr (kUpgrade) {
      m.lock();  // the bug: waits for every reader, itself included
      value.store(seen + 1);
      m.unlock();
      m.unlock_shared();
    } else {
      m.unlock_shared();
      m.lock();
      value.store(value.load() + 1);  // re-read: it may have changed in between
      m.unlock();
    }
  }
};

template <bool kUpgrade>
TestCase rw(std::string name) {
  using St = Rw<kUpgrade>;
  return make_test<St>(std::move(name), {[](St& s) { s.bump(); }, [](St& s) { s.bump(); }},
                       [](St& s) { CPB_CHECK_ASSERT(s.value.load() == 2); });
}

TEST(Corpus23RwUpgrade, IsCaughtAsDeadlock) {
  expect_caught(rw<true>("corpus23_rw_bug"), {FailureKind::kDeadlock});
}
TEST(Corpus23RwUpgrade, ReleaseThenLockPasses) { expect_passes(rw<false>("corpus23_rw_fix")); }

}  // namespace
}  // namespace cpb::check
