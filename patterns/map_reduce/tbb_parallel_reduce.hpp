// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline (the reference): `tbb::parallel_reduce` with a splitting body over the documents.
/// Each body folds the pairs its ranges emit into its own hash map of accumulators (the same
/// `FlatMap` the own engine uses, so the two differ only in their parallel structure); when
/// TBB joins two bodies, the right one's map is merged into the left's. The root body's map is
/// then finished key by key on the calling thread.
///
/// The run happens in a `tbb::task_arena` of N slots (one of them the caller's, as the own
/// engine's caller is one of its N threads); a `global_control` raises TBB's process-wide
/// worker limit to at least N, and the constructor runs one parallel loop so that the workers
/// exist before timing. `partitions` does not apply (TBB has no shuffle); it is checked and
/// otherwise ignored.
///
/// Progress: blocking (TBB's workers spin briefly, then sleep).
/// Not run under ThreadSanitizer: libtbb is not instrumented (see map_reduce.register.cpp).
/// Reference: oneTBB, `parallel_reduce` (imperative form with a splitting body).
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/map_reduce/corpus.hpp"
#include "patterns/map_reduce/flat_map.hpp"
#include "patterns/map_reduce/jobs.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace cpb::patterns::map_reduce {

class TbbParallelReduce {
 public:
  static constexpr std::string_view kName = "tbb_parallel_reduce";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  /// @throws std::invalid_argument when `workers` or `partitions` is 0.
  TbbParallelReduce(std::size_t workers, std::size_t partitions)
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
      Body<J> body(job, input);
      tbb::parallel_reduce(tbb::blocked_range<std::size_t>(0, input.size()), body);
      out.reserve(body.map.size());
      body.map.for_each([&](const typename J::Key& k, std::uint64_t /*hash*/, typename J::Acc& a) {
        out.emplace_back(k, job.finish(std::move(a)));
      });
    });
    return out;
  }

 private:
  template <Job J>
  struct Body {
    Body(const J& j, Input in) : job(&j), input(in) {}
    Body(Body& other, tbb::split) : job(other.job), input(other.input) {}

    void operator()(const tbb::blocked_range<std::size_t>& r) {
      for (std::size_t d = r.begin(); d != r.end(); ++d) {
        job->map(input[d], [&](const typename J::Key& k, typename J::Value v) {
          job->fold(map.find_or_insert(k, job->hash(k)), std::move(v));
        });
      }
    }

    void join(Body& rhs) {
      rhs.map.for_each([&](const typename J::Key& k, std::uint64_t h, typename J::Acc& a) {
        job->merge(map.find_or_insert(k, h), std::move(a));
      });
    }

    const J* job;
    Input input;
    FlatMap<typename J::Key, typename J::Acc> map;
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
