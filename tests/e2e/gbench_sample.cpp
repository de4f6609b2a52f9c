// SPDX-License-Identifier: Apache-2.0
// A plain Google Benchmark program, with no cpbench in it: `cpbench compare` must read the JSON
// it writes (--benchmark_format=json), as it reads any Google Benchmark project's.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace {

void BM_Accumulate(benchmark::State& state) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(state.range(0)));
  std::iota(v.begin(), v.end(), 0);
  for (auto _ : state) {
    benchmark::DoNotOptimize(std::accumulate(v.begin(), v.end(), std::int64_t{0}));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Accumulate)->Arg(1 << 10)->Arg(1 << 14);

void BM_Sort(benchmark::State& state) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    std::iota(v.rbegin(), v.rend(), 0);
    std::sort(v.begin(), v.end());
    benchmark::DoNotOptimize(v.data());
  }
}
BENCHMARK(BM_Sort)->Arg(1 << 10);

}  // namespace
