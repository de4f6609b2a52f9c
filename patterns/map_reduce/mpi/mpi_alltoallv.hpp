// SPDX-License-Identifier: Apache-2.0
/// @file
/// `mpi_alltoallv`: the `map_reduce` family's word count run as an MPI job (one process per
/// rank, `cpb_map_reduce_mpi`), registered beside the in-process engines.
///
/// It is not an `Engine`: its ranks are other processes that build the corpus themselves from
/// the scenario's parameters, rather than mapping the caller's documents. So it registers
/// through `MpiFamily`, the same family (name, description, reference) with its own fixture:
/// - the `word_count` scenario with the same axes as the in-process engines, `threads` being
///   the rank count (1, 2, 4; `--quick`: 1, 2), so that its rows line up with theirs;
///   `partitions` is ignored (one partition per rank), as the TBB baselines ignore it;
/// - the fixture starts one `mpirun -np <threads> cpb_map_reduce_mpi --serve` and loads the
///   corpus before timing; one timed operation = one whole job (map, `MPI_Alltoall` of the
///   counts, `MPI_Alltoallv` of the records, reduce, `MPI_Reduce` of the checksum), counted as
///   the corpus's words;
/// - every job's key count and checksum are compared with the sequential run's, and `verify()`
///   gathers the last job's output and compares it key by key; the fixture stops the job
///   (the whole process group) when it is destroyed, also after a failure.
/// Without mpirun or the program, `unavailable()` says why and `cpbench run` skips it.
/// Progress: blocking (collectives). Memory ordering: none shared; ranks share nothing but
/// messages.
#pragma once

#include "harness/core/errors.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "patterns/map_reduce/corpus.hpp"
#include "patterns/map_reduce/jobs.hpp"
#include "patterns/map_reduce/map_reduce.hpp"
#include "patterns/map_reduce/mpi/mpi_job.hpp"
#include "patterns/map_reduce/mpi/wire.hpp"
#include "patterns/map_reduce/shuffle_engine.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::map_reduce::mpi {

static_assert(kDefaultSeed == kCorpusSeed, "cpb_map_reduce_mpi's default seed is the benchmark's");

struct MpiAlltoallv {
  static constexpr std::string_view kName = "mpi_alltoallv";
  static constexpr Progress kProgress = Progress::kBlocking;
  static std::string unavailable() { return unavailable_reason(); }
};

namespace detail {

/// One MPI job of `threads` ranks, loaded with the scenario's corpus, run again and again.
class MpiWordCountRuns final : public Fixture {
 public:
  explicit MpiWordCountRuns(const Point& p)
      : words_(static_cast<std::uint64_t>(p.get("words"))),
        docs_(static_cast<std::uint64_t>(p.get("docs"))) {
    {
      const Corpus corpus(words_, docs_, kCorpusSeed);
      const Output<WordCount> want = run_sequential(WordCount{}, corpus.input());
      want_keys_ = want.size();
      want_sum_ = checksum(want);
      want_.reserve(want.size());
      for (const auto& [w, c] : want) want_.emplace_back(std::string(w), c);
    }
    try {
      job_.emplace(p.threads);
      job_->load(words_, docs_, kCorpusSeed);
    } catch (const JobError& e) {
      job_.reset();  // stops whatever started
      throw SetupError(e.what());
    }
  }

  void run(benchmark::State& state, bench::Meter& meter) override {
    meter.begin();
    for (auto _ : state) {
      MpiJob::Result r;
      meter.op([&] { r = job_->run(); }, words_);
      ++runs_;
      if ((r.keys != want_keys_ || r.checksum != want_sum_) && wrong_.empty()) {
        wrong_ = fmt::format(
            "run {}: {} keys, checksum {:016x}, where the sequential run has {} keys, {:016x}",
            runs_, r.keys, r.checksum, want_keys_, want_sum_);
      }
    }
    meter.end();
  }

  std::string verify() override {
    if (!wrong_.empty()) return wrong_;
    if (runs_ == 0) return {};
    const auto got = job_->dump();
    if (got.size() != want_.size()) {
      return fmt::format("the last run's output: {} keys where the sequential run has {}",
                         got.size(), want_.size());
    }
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (got[i] != want_[i]) {
        return fmt::format("the last run's output: entry {} is ('{}', {}), want ('{}', {})", i,
                           got[i].first, got[i].second, want_[i].first, want_[i].second);
      }
    }
    return {};
  }

 private:
  std::uint64_t words_;
  std::uint64_t docs_;
  std::uint64_t want_keys_ = 0;
  std::uint64_t want_sum_ = 0;
  std::vector<std::pair<std::string, std::uint64_t>> want_;  // sorted by word
  std::uint64_t runs_ = 0;
  std::string wrong_;
  std::optional<MpiJob> job_;
};

}  // namespace detail

/// The `map_reduce` family for `mpi_alltoallv` (see the file comment).
template <class T>
struct MpiFamily {
  using Base = Family<ShuffleEngine<>>;
  static constexpr std::string_view kName = Base::kName;
  static constexpr std::string_view kDescription = Base::kDescription;
  static constexpr std::string_view kReference = Base::kReference;

  static std::vector<Scenario> scenarios() {
    for (Scenario& s : Base::scenarios()) {
      if (s.name != "word_count") continue;
      s.description +=
          "; mpi_alltoallv: `threads` = MPI ranks (processes), one whole job per operation, "
          "partitions ignored (one per rank)";
      s.make = [](const Point& p) { return std::make_unique<detail::MpiWordCountRuns>(p); };
      return {std::move(s)};
    }
    return {};
  }
};

}  // namespace cpb::patterns::map_reduce::mpi
