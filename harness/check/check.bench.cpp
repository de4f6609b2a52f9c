// SPDX-License-Identifier: Apache-2.0
// Executions per second of the model checker's random mode on a 2-thread message-passing test
// (issue 3 aims at >= 1 M/s; Relacy reaches 0.8-4 M/s on such tests). Run:
//   build/release/harness/check/cpb_check_bench --benchmark_min_time=1
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

}  // namespace
