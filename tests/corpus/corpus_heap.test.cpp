// SPDX-License-Identifier: Apache-2.0
// Corpus entries caught through the checker heap (use after free, ABA with eager reuse, a free
// racing with an access) and through the progress checks: 1, 2, 3, 4, 15, 21.
#include "tests/corpus/corpus.hpp"

#include "harness/check/explore.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cpb::check {
namespace {

using namespace corpus;  // NOLINT(google-build-using-namespace): the corpus vocabulary

struct Node {
  explicit Node(int v) : value(v) {}
  S::cell<int> value;
  S::atomic<Node*> next{nullptr};
};

/// Frees what is left of a linked list at the end of an execution, counting the values.
void drain(Node* n, std::vector<int>& seen) {
  while (n != nullptr) {
    seen.push_back(n->value.load());
    Node* next = n->next.load(kRlx);
    S::destroy(n);
    n = next;
  }
}

/// Every value in 1..n appears exactly once among `seen`.
void expect_each_once(const std::vector<int>& seen, int n) {
  for (int v = 1; v <= n; ++v) {
    int count = 0;
    for (const int s : seen) count += s == v ? 1 : 0;
    CPB_CHECK_ASSERT(count == 1);
  }
  CPB_CHECK_ASSERT(seen.size() == static_cast<std::size_t>(n));
}

// ---- 1. Treiber stack whose pop deletes the node at once -------------------------------------

template <bool kDeferred>
struct Treiber {
  S::atomic<Node*> head{nullptr};
  std::array<std::vector<Node*>, 2> retired;  // per popping thread: freed when all are done
  std::array<int, 2> got{-1, -1};

  Treiber() {
    push(2);
    push(1);
  }
  ~Treiber() {
    std::vector<int> seen;
    for (int i = 0; i < 2; ++i) {
      if (got[i] > 0) seen.push_back(got[i]);
      for (Node* n : retired[i]) S::destroy(n);
    }
    drain(head.load(kAcq), seen);
    expect_each_once(seen, 2);
  }
  void push(int v) {
    Node* n = S::create<Node>(v);
    Node* h = head.load(kRlx);
    do {
      n->next.store(h, kRlx);
    } while (!head.compare_exchange_weak(h, n, kRel, kRlx));  // pairs with pop's acquire
  }
  void pop(int me) {
    Node* h = head.load(kAcq);  // pairs with push's release CAS
    while (h != nullptr && !head.compare_exchange_weak(h, h->next.load(kRlx), kAcq, kAcq)) {
    }
    if (h == nullptr) return;
    got[me] = h->value.load();
    if (kDeferred) {
      retired[me].push_back(h);  // the fix, as hazard pointers or epochs provide: free later
    } else {
      S::destroy(h);  // the bug: another popper may still read h->next
    }
  }
};

template <bool kDeferred>
TestCase treiber(std::string name) {
  using St = Treiber<kDeferred>;
  return make_test<St>(std::move(name), {[](St& s) { s.pop(0); }, [](St& s) { s.pop(1); }});
}

TEST(Corpus01TreiberImmediateDelete, UseAfterFreeIsCaught) {
  expect_caught(treiber<false>("corpus01_treiber_bug"), {FailureKind::kUseAfterFree});
}
TEST(Corpus01TreiberImmediateDelete, DeferredReclamationPasses) {
  expect_passes(treiber<true>("corpus01_treiber_fix"));
}

// ---- 2. Treiber stack with recycled nodes and an untagged CAS: ABA ----------------------------

/// Nodes recycle through the allocator (with Config::reuse_freed the checker heap hands a freed
/// block back at once). The fix tags the head word with a counter bumped by every CAS, and keeps
/// nodes type-stable (a free list of its own), so a stale CAS fails and a stale read is benign.
template <bool kTagged>
struct AbaStack {
  static constexpr std::uint64_t kPtr = (std::uint64_t{1} << 48) - 1;
  S::atomic<std::uint64_t> head{0};
  S::atomic<std::uint64_t> free{0};  // the fix's free list (same tagged Treiber stack)
  std::vector<int> got;

  static Node* ptr(std::uint64_t w) { return reinterpret_cast<Node*>(w & kPtr); }
  static std::uint64_t pack(Node* p, std::uint64_t old) {
    const std::uint64_t tag = kTagged ? (old >> 48) + 1 : 0;
    return (tag << 48) | reinterpret_cast<std::uintptr_t>(p);
  }
  static void push_node(S::atomic<std::uint64_t>& top, Node* n) {
    std::uint64_t w = top.load(kRlx);
    do {
      n->next.store(ptr(w), kRlx);
    } while (!top.compare_exchange_weak(w, pack(n, w), kRel, kRlx));  // pairs with pop_node
  }
  static Node* pop_node(S::atomic<std::uint64_t>& top) {
    std::uint64_t w = top.load(kAcq);  // pairs with push_node's release CAS
    while (ptr(w) != nullptr &&
           !top.compare_exchange_weak(w, pack(ptr(w)->next.load(kRlx), w), kAcq, kAcq)) {
    }
    return ptr(w);
  }

  AbaStack() {
    push(2);
    push(1);
  }
  ~AbaStack() {
    std::vector<int> seen = got;
    drain(ptr(head.load(kAcq)), seen);
    std::vector<int> ignored;
    drain(ptr(free.load(kAcq)), ignored);
    expect_each_once(seen, 3);
  }
  void push(int v) {
    Node* n = kTagged ? pop_node(free) : nullptr;
    if (n == nullptr) {
      n = S::create<Node>(v);
    } else {
      n->value.store(v);
    }
    push_node(head, n);
  }
  void pop() {
    Node* n = pop_node(head);
    if (n == nullptr) return;
    got.push_back(n->value.load());
    if (kTagged) {
      push_node(free, n);
    } else {
      S::destroy(n);
    }
  }
};

template <bool kTagged>
TestCase aba(std::string name) {
  using St = AbaStack<kTagged>;
  return make_test<St>(std::move(name), {[](St& s) { s.pop(); },
                                         [](St& s) {
                                           s.pop();
                                           s.pop();
                                           s.push(3);
                                         }});
}

constexpr Mode kReuse{Tier::kSc, true};

TEST(Corpus02TreiberAba, UntaggedCasIsCaughtWithEagerReuse) {
  expect_caught(aba<false>("corpus02_aba_bug"),
                {FailureKind::kAssertion, FailureKind::kUseAfterFree}, kReuse);
}
TEST(Corpus02TreiberAba, TaggedCasWithTypeStableNodesPasses) {
  expect_passes(aba<true>("corpus02_aba_fix"), kReuse);
}

// ---- 3 and 4. Michael-Scott queue -------------------------------------------------------------

/// kDeferred: dequeued dummies are freed after the threads finish (the fix for 3, standing in
/// for hazard pointers). kHelp: an enqueuer that finds tail lagging swings it forward (the fix
/// for 4).
template <bool kDeferred, bool kHelp>
struct MsQueue {
  S::atomic<Node*> head{nullptr};
  S::atomic<Node*> tail{nullptr};
  std::array<std::vector<Node*>, 2> retired;
  std::vector<int> got;

  MsQueue() {
    Node* dummy = S::create<Node>(0);
    head.store(dummy, kRlx);
    tail.store(dummy, kRlx);
  }
  ~MsQueue() {
    for (auto& r : retired) {
      for (Node* n : r) S::destroy(n);
    }
    Node* dummy = head.load(kAcq);
    std::vector<int> seen = got;
    drain(dummy->next.load(kAcq), seen);
    S::destroy(dummy);
    expect_each_once(seen, 2);
  }
  void enqueue(int v) {
    Node* n = S::create<Node>(v);
    for (;;) {
      Node* t = tail.load(kAcq);        // pairs with the release CASes on tail
      Node* next = t->next.load(kAcq);  // pairs with the release CAS that links a node
      if (next == nullptr) {
        if (t->next.compare_exchange_strong(next, n, kRel, kRlx)) {
          tail.compare_exchange_strong(t, n, kRel, kRlx);
          return;
        }
      } else if (kHelp) {
        tail.compare_exchange_strong(t, next, kRel, kRlx);  // help the lagging tail along
      } else {
        S::yield();  // the bug of 4: wait for the enqueuer that linked `next` to swing tail
      }
    }
  }
  void dequeue(int me) {
    for (;;) {
      Node* h = head.load(kAcq);        // pairs with the release CAS on head
      Node* next = h->next.load(kAcq);  // 3: h may have been freed by another dequeuer
      if (next == nullptr) return;
      // Read before the CAS: once head moves on, `next` is the dummy the next dequeuer frees.
      // acq_rel: the release orders this read before that dequeuer's free.
      const int v = next->value.load();
      if (head.compare_exchange_strong(h, next, std::memory_order_acq_rel, kRlx)) {
        got.push_back(v);
        if (kDeferred) {
          retired[me].push_back(h);
        } else {
          S::destroy(h);
        }
        return;
      }
    }
  }
};

template <bool kDeferred>
TestCase ms_dequeue(std::string name) {
  struct St : MsQueue<kDeferred, true> {
    St() {
      this->enqueue(1);
      this->enqueue(2);
    }
  };
  return make_test<St>(std::move(name), {[](St& s) { s.dequeue(0); }, [](St& s) { s.dequeue(1); }});
}

TEST(Corpus03MsQueueWithoutReclamation, UseAfterFreeIsCaught) {
  expect_caught(ms_dequeue<false>("corpus03_ms_bug"), {FailureKind::kUseAfterFree});
}
TEST(Corpus03MsQueueWithoutReclamation, DeferredReclamationPasses) {
  expect_passes(ms_dequeue<true>("corpus03_ms_fix"));
}

template <bool kHelp>
TestCase ms_enqueue(std::string name) {
  using St = MsQueue<true, kHelp>;
  return make_test<St>(std::move(name), {[](St& s) { s.enqueue(1); }, [](St& s) { s.enqueue(2); }});
}

/// Entry 4 is a lock-freedom bug: with fair scheduling the stalled enqueuer eventually swings
/// tail, so it is checked with Config::fair off, where a waiting thread may be run alone. DFS
/// (which keeps running the current thread) and PCT (which runs the highest-priority thread)
/// find it; a uniform random walk does not starve a thread, by design.
Config unfair(Strategy strategy) {
  Config c = strategy == Strategy::kDfs ? dfs() : random_walk();
  c.strategy = strategy;
  c.fair = false;
  c.max_steps = 2'000;
  return c;
}

void expect_progress_failure(const TestCase& t) {
  for (Strategy strategy : {Strategy::kDfs, Strategy::kPct}) {
    const Config c = unfair(strategy);
    const Result r = explore(c, t);
    ASSERT_FALSE(r.ok()) << t.name << " not caught by " << to_string(strategy);
    EXPECT_EQ(r.failure->kind, FailureKind::kLivelock) << r.report();
    Config rc = c;
    rc.replay = r.failure->replay;
    const Result rep = explore(rc, t);
    ASSERT_FALSE(rep.ok());
    EXPECT_EQ(rep.failure->trace, r.failure->trace);
  }
}

TEST(Corpus04MsQueueTailNotHelped, IsCaughtAsLivelockWithoutFairness) {
  expect_progress_failure(ms_enqueue<false>("corpus04_ms_tail_bug"));
}
TEST(Corpus04MsQueueTailNotHelped, HelpingPassesWithoutFairness) {
  for (Strategy strategy : {Strategy::kDfs, Strategy::kPct}) {
    const Result r = explore(unfair(strategy), ms_enqueue<true>("corpus04_ms_tail_fix"));
    EXPECT_TRUE(r.ok()) << r.report();
  }
}

// ---- 15. Chase-Lev push that does not reload the array after a resize -------------------------

struct Array {
  explicit Array(long n) : size(n), slots(static_cast<std::size_t>(n)) {}
  long size;
  std::vector<S::atomic<long>> slots;
  S::atomic<long>& at(long i) { return slots[static_cast<std::size_t>(i % size)]; }
};

template <bool kReload>
struct GrowingDeque {
  S::atomic<long> top{0};
  S::atomic<long> bottom{0};
  S::atomic<Array*> array{S::create<Array>(1)};
  std::vector<Array*> old;  // retired arrays: thieves may still read them
  std::vector<long> got;    // the owner's takes
  long stolen = 0;

  ~GrowingDeque() {
    for (Array* a : old) S::destroy(a);
    S::destroy(array.load(kRlx));
  }
  void push(long v) {
    const long b = bottom.load(kRlx);
    const long t = top.load(kAcq);  // pairs with the CAS on top in steal()
    Array* a = array.load(kRlx);    // only the owner stores array
    if (b - t > a->size - 1) {
      Array* bigger = S::create<Array>(a->size * 2);
      for (long i = t; i < b; ++i) bigger->at(i).store(a->at(i).load(kRlx), kRlx);
      old.push_back(a);
      array.store(bigger, kRel);          // pairs with the acquire load in steal()
      if (kReload) a = array.load(kRlx);  // the bug: without this, v goes to the old array
    }
    a->at(b).store(v, kRlx);
    S::fence(kRel);  // pairs with the acquire load of bottom in steal()
    bottom.store(b + 1, kRlx);
  }
  long take() {
    const long b = bottom.load(kRlx) - 1;
    Array* a = array.load(kRlx);
    bottom.store(b, kSc);
    long t = top.load(kSc);
    if (t > b) {
      bottom.store(b + 1, kRlx);
      return 0;
    }
    long x = a->at(b).load(kRlx);
    if (t == b) {
      if (!top.compare_exchange_strong(t, t + 1, kSc, kRlx)) x = 0;
      bottom.store(b + 1, kRlx);
    }
    return x;
  }
  long steal() {
    long t = top.load(kAcq);
    const long b = bottom.load(kAcq);  // pairs with the release fence in push()
    if (t >= b) return 0;
    Array* a = array.load(kAcq);  // pairs with the release store in push()
    const long x = a->at(t).load(kRlx);
    if (!top.compare_exchange_strong(t, t + 1, kSc, kRlx)) return 0;
    return x;
  }
};

template <bool kReload>
TestCase growing(std::string name) {
  using St = GrowingDeque<kReload>;
  return make_test<St>(std::move(name),
                       {[](St& s) {
                          s.push(1);
                          s.push(2);
                          for (long x = s.take(); x != 0; x = s.take()) s.got.push_back(x);
                        },
                        [](St& s) { s.stolen = s.steal(); }},
                       [](St& s) {
                         std::vector<int> seen;
                         for (long x : s.got) seen.push_back(static_cast<int>(x));
                         if (s.stolen != 0) seen.push_back(static_cast<int>(s.stolen));
                         expect_each_once(seen, 2);
                       });
}

TEST(Corpus15ChaseLevPushAfterResize, LostElementIsCaught) {
  expect_caught(growing<false>("corpus15_resize_bug"), {FailureKind::kAssertion});
}
TEST(Corpus15ChaseLevPushAfterResize, ReloadPasses) {
  expect_passes(growing<true>("corpus15_resize_fix"));
}

// ---- 21. reference count decremented with a relaxed fetch_sub --------------------------------

struct Shared {
  S::cell<int> data{0};
  S::atomic<int> refs{2};
};

template <std::memory_order kDecrement>
struct RefCount {
  Shared* obj = S::create<Shared>();
  void release() {
    // The fix: acq_rel, so the last owner's free happens after every other owner's use.
    if (obj->refs.fetch_sub(1, kDecrement) == 1) S::destroy(obj);
  }
};

template <std::memory_order kDecrement>
TestCase refcount(std::string name) {
  using St = RefCount<kDecrement>;
  return make_test<St>(std::move(name), {[](St& s) {
                                           s.obj->data.store(1);  // this owner's use
                                           s.release();
                                         },
                                         [](St& s) { s.release(); }});
}

TEST(Corpus21RelaxedRefcount, FreeRacingWithUseIsCaught) {
  expect_caught(refcount<kRlx>("corpus21_refcount_bug"), {FailureKind::kDataRace});
}
TEST(Corpus21RelaxedRefcount, AcqRelPasses) {
  expect_passes(refcount<std::memory_order_acq_rel>("corpus21_refcount_fix"));
}

}  // namespace
}  // namespace cpb::check
