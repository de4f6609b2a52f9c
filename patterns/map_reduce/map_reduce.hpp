// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `map_reduce` family: engines that run a MapReduce job (map, shuffle by key, reduce) over
/// a corpus of documents on N threads. The concept, its scenarios and fixtures, and its checks.
///
/// Every scenario runs one job (word count, inverted index; jobs.hpp) over a seeded Zipf corpus
/// (corpus.hpp) built once per fixture, outside timing, together with the sequential run of the
/// same job. One operation = one whole run over the corpus, counted as its words, so items/s is
/// words/s (bytes/s = words/s × the mean bytes per word, about 7.5 with separators). After every
/// run the fixture checks the number of distinct keys, and `verify()` compares the last run's
/// output key by key with the sequential run: an engine that loses, duplicates or misroutes a
/// pair fails instead of winning.
#pragma once

#include "harness/check/explore.hpp"
#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "patterns/map_reduce/corpus.hpp"
#include "patterns/map_reduce/jobs.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::map_reduce {

/// A MapReduce engine: `E engine(workers, partitions)` runs jobs on `workers` threads, the
/// calling thread counted, with `partitions` shuffle partitions where it shuffles (an engine
/// without a shuffle ignores it); both must be at least 1 (else std::invalid_argument).
/// `engine.run(job, input)` returns one (key, output) pair per distinct key that the job emits
/// over `input`, in any order, equal to `run_sequential(job, input)` once sorted. Runs may be
/// repeated; one thread calls `run` at a time.
template <class E>
concept Engine = std::constructible_from<E, std::size_t, std::size_t> &&
    requires(E& e, const WordCount& wc, const InvertedIndex& ii, Input in) {
  { e.run(wc, in) } -> std::same_as<Output<WordCount>>;
  { e.run(ii, in) } -> std::same_as<Output<InvertedIndex>>;
  { E::kName } -> std::convertible_to<std::string_view>;
  { E::kProgress } -> std::convertible_to<Progress>;
};

/// The seed of every scenario's corpus: all engines at a point see the same text.
inline constexpr std::uint64_t kCorpusSeed = 0x5eed'2004'0d5c'a1e5ULL;

namespace detail {

/// One driver thread runs `job` over the corpus again and again on an engine of `threads`
/// workers. One operation = one run, counted as the corpus's words.
template <Engine E, Job J>
class JobRuns final : public Fixture {
 public:
  JobRuns(const Point& p)
      : corpus_(static_cast<std::size_t>(p.get("words")), static_cast<std::size_t>(p.get("docs")),
                kCorpusSeed),
        want_(run_sequential(job_, corpus_.input())),
        engine_(static_cast<std::size_t>(p.threads),
                static_cast<std::size_t>(p.get("partitions"))) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    meter.begin();
    for (auto _ : state) {
      meter.op([&] { got_ = engine_.run(job_, corpus_.input()); }, corpus_.words());
      ++runs_;
      if (got_.size() != want_.size() && wrong_.empty()) {
        wrong_ = fmt::format("run {}: {} distinct keys where the sequential run has {}", runs_,
                             got_.size(), want_.size());
      }
    }
    meter.end();
  }

  std::string verify() override {
    if (!wrong_.empty()) return wrong_;
    if (runs_ == 0) return {};
    const std::string d = difference<J>(want_, std::move(got_));
    return d.empty() ? d : fmt::format("the last run's output: {}", d);
  }

 private:
  const J job_{};
  const Corpus corpus_;
  const Output<J> want_;
  Output<J> got_;
  std::uint64_t runs_ = 0;
  std::string wrong_;
  E engine_;  // last: destroyed (workers joined) first
};

/// Model check: an engine of 2 threads (the caller and one worker) and 2 partitions runs a
/// word count over two tiny documents twice. The map output crosses threads at the middle
/// barrier and the reduce output at the end barrier; the buffers are race-checked cells, so a
/// hand-off the barriers do not order is a data race, and a lost or doubled pair a wrong count.
template <class M>
check::TestCase shuffle_model(std::string name) {
  return {std::move(name), [] {
            static constexpr std::array<Document, 2> kDocs{{{0, "a b"}, {1, "b"}}};
            const WordCount job;
            std::optional<M> engine(std::in_place, 2, 2, /*spins=*/1);
            for (int round = 0; round < 2; ++round) {
              const Output<WordCount> out = sorted<WordCount>(engine->run(job, kDocs));
              CPB_CHECK_ASSERT(out.size() == 2);
              CPB_CHECK_ASSERT(out.size() < 1 || (out[0].first == "a" && out[0].second == 1));
              CPB_CHECK_ASSERT(out.size() < 2 || (out[1].first == "b" && out[1].second == 2));
            }
            const check::NoThrow no_throw;  // the destructor joins the worker
            engine.reset();
          }};
}

}  // namespace detail

template <Engine E>
struct Family {
  static constexpr std::string_view kName = "map_reduce";
  static constexpr std::string_view kDescription =
      "MapReduce engines: a job (word count, inverted index) over a seeded Zipf corpus on N "
      "threads; throughput in words/s";
  static constexpr std::string_view kReference = "tbb_parallel_reduce";

  static std::vector<Check> checks() {
    if constexpr (sync::sync_templated<E>) {
      return {{"shuffle_handoff",
               "2 threads, 2 partitions: two word-count runs over two tiny documents; the map "
               "output is handed to the reducers at a barrier and every count is right",
               {},
               check::model_mode([] {
                 return detail::shuffle_model<sync::rebind_t<E, check::Sync>>(
                     fmt::format("map_reduce/{}/shuffle_handoff", E::kName));
               })}};
    } else {
      return {};
    }
  }

  static std::vector<Scenario> scenarios() {
    // The engine runs on `threads` threads (the driver is one of them).
    const auto workers = ThreadAxis::owned({1, 2, 4}, {1, 2});
    const std::vector<ParamAxis> axes = {
        {"words",
         "corpus size in words (Zipf s = 1 over 65,536 words)",
         {1 << 16, 1 << 20},
         {1 << 13},
         1,
         std::int64_t{1} << 28},
        {"docs",
         "documents the corpus is cut into (equal word counts)",
         {1024},
         {64},
         1,
         std::int64_t{1} << 24},
        {"partitions",
         "shuffle partitions (reduce tasks) of the shuffling engines",
         {16},
         {4},
         1,
         1 << 16},
    };
    return {
        {"word_count",
         "count every word of the corpus: a few very frequent keys, a long tail; per-thread "
         "combining shrinks the map output to one record per key",
         axes, workers, 1,
         [](const Point& p) { return std::make_unique<detail::JobRuns<E, WordCount>>(p); }},
        {"inverted_index",
         "for every word, the sorted ids of the documents it occurs in: larger values (id "
         "lists) cross the shuffle, and the reduce sorts them",
         axes, workers, 1,
         [](const Point& p) { return std::make_unique<detail::JobRuns<E, InvertedIndex>>(p); }},
    };
  }
};

}  // namespace cpb::patterns::map_reduce
