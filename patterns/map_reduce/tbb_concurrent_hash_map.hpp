// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `tbb::parallel_for` over the documents, every emitted pair folded straight into
/// one shared `tbb::concurrent_hash_map` under its per-element write lock (an `accessor`). No
/// per-thread state, no merge step: the shared-map design, whose cost is a lock and a shared
/// cache line per emitted pair, worst on the frequent keys of a Zipf corpus. The map is then
/// finished key by key on the calling thread.
///
/// Runs in a `tbb::task_arena` of N slots (the caller's included), with the worker limit raised
/// and the workers started before timing, as `tbb_parallel_reduce`. `partitions` does not apply;
/// it is checked and otherwise ignored.
///
/// Progress: blocking (per-element locks inside the map).
/// Not run under ThreadSanitizer: libtbb is not instrumented (see map_reduce.register.cpp).
/// Reference: oneTBB, `concurrent_hash_map` (the word-count example of its documentation).
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/map_reduce/corpus.hpp"
#include "patterns/map_reduce/jobs.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/concurrent_hash_map.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace cpb::patterns::map_reduce {

class TbbConcurrentHashMap {
 public:
  static constexpr std::string_view kName = "tbb_concurrent_hash_map";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  /// @throws std::invalid_argument when `workers` or `partitions` is 0.
  TbbConcurrentHashMap(std::size_t workers, std::size_t partitions)
      : workers_(checked(workers, partitions)),
        limit_(tbb::global_control::max_allowed_parallelism,
               std::max(workers_, tbb::global_control::active_value(
                                      tbb::global_control::max_allowed_parallelism))),
        arena_(static_cast<int>(workers_)) {
    arena_.execute([] {
      tbb::parallel_for(0, 1024, [](int) {});  // starts the workers before timing
    });
  }

  template <Job J>
  Output<J> run(const J& job, Input input) {
    Output<J> out;
    arena_.execute([&] {
      tbb::concurrent_hash_map<typename J::Key, typename J::Acc, HashCompare<J>> map(
          HashCompare<J>{&job});
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, input.size()),
                        [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t d = r.begin(); d != r.end(); ++d) {
                            job.map(input[d], [&](const typename J::Key& k, typename J::Value v) {
                              typename decltype(map)::accessor a;
                              map.insert(a, k);
                              job.fold(a->second, std::move(v));
                            });
                          }
                        });
      out.reserve(map.size());
      for (auto& [k, acc] : map) out.emplace_back(k, job.finish(std::move(acc)));
    });
    return out;
  }

 private:
  template <Job J>
  struct HashCompare {
    const J* job = nullptr;
    [[nodiscard]] std::size_t hash(const typename J::Key& k) const { return job->hash(k); }
    [[nodiscard]] bool equal(const typename J::Key& a, const typename J::Key& b) const {
      return a == b;
    }
  };

  static std::size_t checked(std::size_t workers, std::size_t partitions) {
    if (workers == 0) throw std::invalid_argument("map_reduce engine: 0 workers");
    if (partitions == 0) throw std::invalid_argument("map_reduce engine: 0 partitions");
    return workers;
  }

  std::size_t workers_;
  tbb::global_control limit_;
  tbb::task_arena arena_;
};

}  // namespace cpb::patterns::map_reduce
