// SPDX-License-Identifier: Apache-2.0
// The model checker's speed (issue 3, numbers in README.md):
// - executions per second of random mode on a 2-thread message-passing test (aim >= 1 M/s;
//   Relacy reaches 0.8-4 M/s on such tests);
// - executions that bounded DFS with partial-order reduction needs to exhaust the correct
//   3-item SPSC ring (capacity 4) at preemption bounds 1, 2, 3 and unbounded (Relacy: 140 /
//   1,503 / 10,778 / 59.2 M);
// - (issue 15) executions of an unbounded search of the Michael-Scott queue and the Chase-Lev
//   deque under SC and C11, against GenMC's and CDSChecker's counts.
// Run: build/release/harness/check/cpb_check_bench --benchmark_min_time=1
#include "harness/check/explore.hpp"

#include <benchmark/benchmark.h>

#include <atomic>

namespace {

using S = cpb::check::Sync;

struct Mp {
  S::atomic<int> flag{0};
  S::cell<int> data{0};
};

cpb::check::TestCase mp_test() {
  return cpb::check::make_test<Mp>("bench_mp", {[](Mp& s) {
                                                  s.data.store(1);
                                                  s.flag.store(1, std::memory_order_release);
                                                },
                                                [](Mp& s) {
                                                  if (s.flag.load(std::memory_order_acquire)) {
                                                    CPB_CHECK_ASSERT(s.data.load() == 1);
                                                  }
                                                }});
}

void BM_RandomMessagePassing(benchmark::State& state) {
  const auto test = mp_test();
  cpb::check::Config c;
  c.strategy = cpb::check::Strategy::kRandom;
  c.max_executions = static_cast<std::uint64_t>(state.range(0));
  c.max_seconds = 0;
  std::uint64_t total = 0;
  for (auto _ : state) {
    const auto r = cpb::check::explore(c, test);
    if (!r.ok()) state.SkipWithError(r.summary().c_str());
    total += r.executions;
  }
  state.counters["executions/s"] =
      benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RandomMessagePassing)->Arg(100'000)->Unit(benchmark::kMillisecond);

/// A whole exhaustive DFS of the same test per iteration (a few executions): dominated by the
/// per-explore set-up (engine, fiber stacks).
void BM_DfsMessagePassingExhaustive(benchmark::State& state) {
  const auto test = mp_test();
  cpb::check::Config c;
  c.strategy = cpb::check::Strategy::kDfs;
  c.preemption_bound = -1;
  c.max_executions = 0;
  c.max_seconds = 0;
  std::uint64_t total = 0;
  for (auto _ : state) {
    const auto r = cpb::check::explore(c, test);
    total += r.executions;
  }
  state.counters["executions/s"] =
      benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DfsMessagePassingExhaustive);

/// One exhaustive search of `test` per iteration (an error if it fails or does not finish);
/// counters: the executions it needed and the branches sleep sets pruned.
void exhaust(benchmark::State& state, const cpb::check::Config& c,
             const cpb::check::TestCase& test) {
  cpb::check::Result r;
  for (auto _ : state) {
    r = cpb::check::explore(c, test);
    if (!r.ok() || !r.exhausted) state.SkipWithError(r.summary().c_str());
  }
  state.counters["executions"] = static_cast<double>(r.executions);
  state.counters["pruned"] = static_cast<double>(r.pruned);
}

/// An exhaustive, unbounded DFS under SC (`tier_arg` 0) or C11 (otherwise), for at most 2 min.
cpb::check::Config unbounded_dfs(std::int64_t tier_arg) {
  cpb::check::Config c;
  c.strategy = cpb::check::Strategy::kDfs;
  c.preemption_bound = -1;
  c.tier = tier_arg == 0 ? cpb::check::Tier::kSc : cpb::check::Tier::kC11;
  c.max_executions = 0;
  c.max_seconds = 120;
  return c;
}

/// Lamport's SPSC ring, correct: capacity 4, 3 items, release/acquire indices, plain slots.
struct SpscRing {
  static constexpr unsigned kCapacity = 4;
  static constexpr int kItems = 3;
  S::atomic<unsigned> head{0};
  S::atomic<unsigned> tail{0};
  S::cell<int> slot[kCapacity];

  void produce() {
    for (unsigned t = 0; t < kItems; ++t) {
      // Acquire pairs with the consumer's release store of head: the slot is free again.
      while (t - head.load(std::memory_order_acquire) == kCapacity) S::yield();
      slot[t % kCapacity].store(static_cast<int>(t) + 1);
      tail.store(t + 1, std::memory_order_release);  // pairs with the consumer's acquire load
    }
  }
  void consume() {
    for (unsigned h = 0; h < kItems; ++h) {
      while (tail.load(std::memory_order_acquire) == h) S::yield();  // pairs with produce()
      CPB_CHECK_ASSERT(slot[h % kCapacity].load() == static_cast<int>(h) + 1);
      head.store(h + 1, std::memory_order_release);  // pairs with the producer's acquire
    }
  }
};

/// One exhaustive DFS of the ring per iteration at preemption bound `range(0)` (-1: unbounded),
/// under SC (`range(1)` 0), TSO (1) or C11 (2), with the default reduction (`range(2)` 1: DPOR
/// where it applies; C11 has none) or sleep sets alone (0); counters: the executions it needed
/// and the branches sleep sets pruned.
void BM_DfsSpscRing(benchmark::State& state) {
  const auto test = cpb::check::make_test<SpscRing>(
      "bench_spsc_ring", {[](SpscRing& s) { s.produce(); }, [](SpscRing& s) { s.consume(); }});
  cpb::check::Config c;
  c.strategy = cpb::check::Strategy::kDfs;
  c.preemption_bound = static_cast<int>(state.range(0));
  c.tier = state.range(1) == 0   ? cpb::check::Tier::kSc
           : state.range(1) == 1 ? cpb::check::Tier::kTso
                                 : cpb::check::Tier::kC11;
  c.dpor = state.range(2) != 0;
  c.iterative = false;
  c.max_executions = 0;
  c.max_seconds = 0;
  exhaust(state, c, test);
}
BENCHMARK(BM_DfsSpscRing)
    ->ArgNames({"bound", "tier", "dpor"})
    ->ArgsProduct({{1, 2, 3, -1}, {0, 1, 2}, {1, 0}})
    ->Unit(benchmark::kMillisecond);

/// The Michael-Scott queue as GenMC's `ms-queue` test has it (no reclamation: nodes are never
/// freed), with its client: two threads each enqueue one value, then dequeue one.
struct MsQueue {
  struct Node {
    S::atomic<Node*> next{nullptr};
    S::cell<int> value{0};
  };
  S::atomic<Node*> head{nullptr};
  S::atomic<Node*> tail{nullptr};

  MsQueue() {
    Node* dummy = S::create<Node>();
    head.store(dummy, std::memory_order_relaxed);  // before the threads start (spawn orders it)
    tail.store(dummy, std::memory_order_relaxed);
  }
  void enqueue(int v) {
    Node* n = S::create<Node>();
    n->value.store(v);
    for (;;) {
      // Acquire pairs with the release CAS that linked or swung it: its node is initialized.
      Node* t = tail.load(std::memory_order_acquire);
      Node* next = t->next.load(std::memory_order_acquire);  // pairs with the linking CAS
      if (next != nullptr) {
        // Release: helping publishes what the helped CAS published.
        tail.compare_exchange_strong(t, next, std::memory_order_release, std::memory_order_relaxed);
        continue;
      }
      // Release pairs with the acquire loads of next: n's value is visible to its dequeuer.
      if (t->next.compare_exchange_strong(next, n, std::memory_order_release,
                                          std::memory_order_relaxed)) {
        // Release: as above, for readers of tail.
        tail.compare_exchange_strong(t, n, std::memory_order_release, std::memory_order_relaxed);
        return;
      }
    }
  }
  bool dequeue(int& out) {
    for (;;) {
      Node* h = head.load(std::memory_order_acquire);        // pairs with the release CAS on head
      Node* t = tail.load(std::memory_order_acquire);        // pairs with the release CAS on tail
      Node* next = h->next.load(std::memory_order_acquire);  // pairs with the linking CAS
      if (h == t) {
        if (next == nullptr) return false;
        tail.compare_exchange_strong(t, next, std::memory_order_release, std::memory_order_relaxed);
        continue;
      }
      out = next->value.load();
      // Release: the next dequeuer of head sees what this one saw.
      if (head.compare_exchange_strong(h, next, std::memory_order_release,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
  }
};

/// One exhaustive, unbounded DFS of the Michael-Scott client per iteration under SC (`range(0)`
/// 0) or C11 (2); the executions it needed against GenMC's 50 (RC11 and SC, with its optimal
/// DPOR on execution graphs).
void BM_DfsMsQueue(benchmark::State& state) {
  const auto rw = [](int v) {
    return [v](MsQueue& q) {
      q.enqueue(v);
      int got = 0;
      CPB_CHECK_ASSERT(q.dequeue(got));  // its own value is in, or was taken by the other
    };
  };
  const auto test = cpb::check::make_test<MsQueue>("bench_ms_queue", {rw(1), rw(2)});
  cpb::check::Config c = unbounded_dfs(state.range(0));
  c.detect_leaks = false;  // as GenMC's test: the queue never frees
  exhaust(state, c, test);
}
BENCHMARK(BM_DfsMsQueue)->ArgNames({"tier"})->Arg(0)->Arg(2)->Unit(benchmark::kMillisecond);

/// The Chase-Lev deque with the C11 orders of Lê et al. (PPoPP'13) and a fixed array (the
/// clients never fill it).
struct ChaseLev {
  static constexpr long kEmpty = 0;
  S::atomic<long> top{0};
  S::atomic<long> bottom{0};
  S::atomic<long> slots[4]{};
  S::cell<long> got[3]{};  // per take or steal site: what it obtained, read after the joins

  void push(long v) {
    const long b = bottom.load(std::memory_order_relaxed);
    slots[b % 4].store(v, std::memory_order_relaxed);
    S::fence(std::memory_order_release);  // pairs with the acquire load of bottom in steal()
    bottom.store(b + 1, std::memory_order_relaxed);
  }
  long take() {
    const long b = bottom.load(std::memory_order_relaxed) - 1;
    bottom.store(b, std::memory_order_relaxed);
    S::fence(std::memory_order_seq_cst);  // the bottom store goes before the top load
    long t = top.load(std::memory_order_relaxed);
    long x = kEmpty;
    if (t <= b) {
      x = slots[b % 4].load(std::memory_order_relaxed);
      if (t != b) return x;
      // The last item: race the thief for it (seq_cst: ordered with the thief's fence).
      if (!top.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                       std::memory_order_relaxed)) {
        x = kEmpty;
      }
    }
    bottom.store(b + 1, std::memory_order_relaxed);
    return x;
  }
  long steal() {
    long t = top.load(std::memory_order_acquire);  // pairs with the CAS of an earlier steal
    S::fence(std::memory_order_seq_cst);
    const long b = bottom.load(std::memory_order_acquire);  // pairs with the fence in push()
    if (t >= b) return kEmpty;
    const long x = slots[t % 4].load(std::memory_order_relaxed);
    return top.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                       std::memory_order_relaxed)
               ? x
               : kEmpty;
  }
};

/// One exhaustive, unbounded DFS of a Chase-Lev client per iteration under SC (`range(0)` 0)
/// or C11 (2). Client `range(1)` 0, CDSChecker's (759 executions in its own C11 model): the
/// owner pushes 1 and 2 and takes one, the thief steals until it gets one. Client 1, without
/// a spin loop (as the corpus's): the owner pushes 1 and 2 and takes twice, the thief steals
/// once (GenMC: 65 on its own test). Either way each item is obtained exactly once.
void BM_DfsChaseLev(benchmark::State& state) {
  const bool spin = state.range(1) == 0;
  const auto owner = [spin](ChaseLev& q) {
    q.push(1);
    q.push(2);
    q.got[0].store(q.take());
    if (!spin) q.got[1].store(q.take());
  };
  const auto thief = [spin](ChaseLev& q) {
    long x = q.steal();
    while (spin && x == ChaseLev::kEmpty) {
      S::yield();
      x = q.steal();
    }
    q.got[2].store(x);
  };
  const auto each_once = [](ChaseLev& q) {
    int seen[3] = {};
    for (auto& g : q.got) ++seen[g.load()];
    CPB_CHECK_ASSERT(seen[1] == 1 && seen[2] == 1);
  };
  const auto test = cpb::check::make_test<ChaseLev>("bench_chase_lev", {owner, thief}, each_once);
  exhaust(state, unbounded_dfs(state.range(0)), test);
}
BENCHMARK(BM_DfsChaseLev)
    ->ArgNames({"tier", "client"})
    ->ArgsProduct({{0, 2}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

}  // namespace
