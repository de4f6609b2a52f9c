// SPDX-License-Identifier: Apache-2.0
/// @file
/// `ShuffleEngine`: the own MapReduce engine, the classic shape in one process. N threads (the
/// calling thread and N − 1 owned workers) run a job in three steps:
/// 1. map: each thread claims chunks of documents from a shared cursor and maps them, either
///    straight into its own P partition buffers (`NoCombiner`), or through a small per-thread
///    combining cache of accumulators that folds repeated keys before they reach the buffers
///    (`Combiner`: the per-worker combine of MapReduce §4.3, bounded; see `MapSide`);
/// 2. shuffle: a barrier; partition p of every thread's buffers now belongs to the reducer of p.
///    The buffers are plain vectors of (key, value or accumulator, hash) records, so a
///    distributed engine can swap this hand-off for an exchange (`MPI_Alltoallv` of partition p
///    to rank p) without touching the map or reduce steps;
/// 3. reduce: each thread claims whole partitions from a second cursor, merges partition p of
///    every thread's buffers into a hash map, finishes every key, and writes partition p's
///    output. A last barrier hands the P outputs to the caller, which concatenates them.
/// The steps are separate types (`MapSide`, `reduce_partition`) over the plain `Partition` data.
/// Between runs the workers park in the barrier. Buffers, maps and outputs are kept from run to
/// run (cleared, not freed), so a run in steady state allocates only its result. A job must not
/// throw; `run` must not be called from two threads at once.
///
/// Progress: blocking (a barrier between phases; cursors are wait-free fetch_adds).
/// Memory ordering: the caller's job and input, and the reset cursors, are published to the
/// workers by the start barrier; each thread's partition buffers, written during the map, are
/// handed to the reducers by the middle barrier (acq_rel arrivals, release phase store, acquire
/// loads: see `PhaseBarrier`); the outputs go back to the caller through the end barrier. The
/// cursors are relaxed: they hand out indices only, and what they index is ordered by the
/// barriers. Shared plain data (the buffers, the outputs, the task) lives in `S::cell`, so the
/// model checker reports a hand-off the barriers do not order as a data race.
/// When to use: aggregations with many values per key (word counts, histograms, indexes), where
/// per-thread combining shrinks the data and a partitioned reduce keeps the merge parallel. When
/// not to use: a single scalar result (a plain parallel reduce), or jobs whose keys are nearly
/// all distinct (the shuffle then copies the whole map output once more).
/// Reference: Dean & Ghemawat, OSDI 2004; Ranger et al., "Evaluating MapReduce for Multi-core
/// and Multiprocessor Systems" (Phoenix), HPCA 2007.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/map_reduce/corpus.hpp"
#include "patterns/map_reduce/flat_map.hpp"
#include "patterns/map_reduce/jobs.hpp"
#include "patterns/map_reduce/phase_barrier.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpb::patterns::map_reduce {

/// The engine's modes: combine per worker before the shuffle, or shuffle every emitted pair.
struct Combiner {
  static constexpr bool kCombine = true;
  static constexpr std::string_view kName = "shuffle_engine";
};
struct NoCombiner {
  static constexpr bool kCombine = false;
  static constexpr std::string_view kName = "shuffle_engine_no_combiner";
};

/// A seeded-bug flag for the model tests (map_reduce.model.cpp): a mode that sets
/// `kSeededBugNoShuffleBarrier = true` skips the barrier between map and reduce.
template <class Mode>
constexpr bool kSeededBugNoShuffleBarrier = [] {
  if constexpr (requires { Mode::kSeededBugNoShuffleBarrier; }) {
    return Mode::kSeededBugNoShuffleBarrier;
  } else {
    return false;
  }
}();

// -- the steps, over plain data ----------------------------------------------------------------

/// One shuffled record: a key with one emitted value (no combiner) or a worker's accumulator
/// (combiner), and the key's hash (so the reducer need not hash again).
template <Job J, bool kCombined>
struct Shuffled {
  typename J::Key key;
  std::conditional_t<kCombined, typename J::Acc, typename J::Value> value;
  std::uint64_t hash;
};
/// One partition of one mapper's output: plain data, the unit of the shuffle.
template <Job J, bool kCombined>
using Partition = std::vector<Shuffled<J, kCombined>>;

/// The partition of a key's hash among `partitions` (< 2^32): Lemire's multiply-shift range
/// reduction of the hash's high 32 bits (the maps index by the low ones).
inline std::size_t partition_of(std::uint64_t hash, std::size_t partitions) {
  return static_cast<std::size_t>(((hash >> 32) * partitions) >> 32);
}

/// One mapper's side of a run: maps documents and leaves its output in P partitions, reached
/// through `part(p)` (a `Partition&`). Without a combiner, `map` appends every emitted pair to
/// its partition. With one, values first fold into a combining cache: a direct-mapped table of
/// `kCacheSlots` accumulators indexed by the key's hash. A value whose key holds its slot folds
/// in place; one whose slot holds another key evicts that key's accumulator to its partition
/// and takes the slot; `flush` evicts the rest. The frequent keys of a skewed input stay in the
/// cache and leave one record per key; the rare ones pass through at the cost of a record each,
/// and the cache stays small enough for the L2 cache whatever the number of distinct keys.
/// (A full per-worker hash map of every key, the first version, ran at 0.74× the TBB baseline
/// on 1M Zipf words at 1 thread: its 4 MiB table missed the cache on every rare word; see
/// README.) The reducer merges whatever arrives, so eviction changes the records, not the
/// output.
template <Job J, bool kCombine>
class MapSide {
 public:
  using Part = Partition<J, kCombine>;
  static constexpr std::size_t kCacheSlots = 4096;  // 128 KiB for word count's 32-byte slots

  MapSide() {
    if constexpr (kCombine) cache_.resize(kCacheSlots);
  }

  template <class PartAt>
  void map(const J& job, const Document& d, std::size_t partitions, PartAt&& part) {
    job.map(d, [&](const typename J::Key& k, typename J::Value v) {
      const std::uint64_t h = job.hash(k);
      if constexpr (kCombine) {
        const std::uint64_t tag = h | 1;  // 0 marks an empty slot; the partition is unchanged
        Slot& s = cache_[h & (kCacheSlots - 1)];
        if (s.hash != tag || !(s.key == k)) {
          if (s.hash != 0) {
            part(partition_of(s.hash, partitions)).push_back({s.key, std::move(s.acc), s.hash});
          }
          s.hash = tag;
          s.key = k;
          s.acc = typename J::Acc{};
        }
        job.fold(s.acc, std::move(v));
      } else {
        part(partition_of(h, partitions)).push_back({k, std::move(v), h});
      }
    });
  }

  template <class PartAt>
  void flush(std::size_t partitions, PartAt&& part) {
    if constexpr (kCombine) {
      for (Slot& s : cache_) {
        if (s.hash == 0) continue;
        part(partition_of(s.hash, partitions)).push_back({s.key, std::move(s.acc), s.hash});
        s = Slot{};
      }
    }
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    typename J::Key key{};
    typename J::Acc acc{};
  };
  std::vector<Slot> cache_;  // kCombine only
};

/// The reduce step for one partition: merges `count` inputs (`input(i)` is a `Partition&`,
/// consumed) into `scratch` and appends the finished keys to `out`.
template <Job J, bool kCombined, class InputAt>
void reduce_partition(const J& job, std::size_t count, InputAt&& input,
                      FlatMap<typename J::Key, typename J::Acc>& scratch, Output<J>& out) {
  scratch.clear();
  for (std::size_t i = 0; i < count; ++i) {
    for (Shuffled<J, kCombined>& r : input(i)) {
      typename J::Acc& a = scratch.find_or_insert(r.key, r.hash);
      if constexpr (kCombined) {
        job.merge(a, std::move(r.value));
      } else {
        job.fold(a, std::move(r.value));
      }
    }
  }
  scratch.for_each([&](const typename J::Key& k, std::uint64_t /*hash*/, typename J::Acc& a) {
    out.emplace_back(k, job.finish(std::move(a)));
  });
}

// -- the engine --------------------------------------------------------------------------------

template <class Mode = Combiner, class S = sync::Real>
class ShuffleEngine {
 public:
  static constexpr std::string_view kName = Mode::kName;
  static constexpr Progress kProgress = Progress::kBlocking;

  /// Runs jobs on `workers` threads (the caller and `workers` − 1 owned ones) with `partitions`
  /// shuffle partitions; barrier waiters spin `spins` Backoff steps before they park.
  /// @throws std::invalid_argument when `workers` or `partitions` is 0.
  ShuffleEngine(std::size_t workers, std::size_t partitions,
                int spins = PhaseBarrier<S>::kDefaultSpins)
      : workers_(checked(workers, "workers")),
        partitions_(checked(partitions, "partitions")),
        barrier_(workers_, spins) {
    threads_.reserve(workers_ - 1);
    for (std::size_t w = 1; w < workers_; ++w) threads_.emplace_back([this, w] { work(w); });
  }

  /// Stops and joins the workers. The workers wait at the start barrier between runs; breaking
  /// it releases them without waiting for them to arrive (so a worker that is gone, as in an
  /// execution the model checker abandons, cannot hang the destructor).
  ~ShuffleEngine() {
    barrier_.break_barrier();
    for (auto& t : threads_) t.join();
  }

  ShuffleEngine(const ShuffleEngine&) = delete;
  ShuffleEngine& operator=(const ShuffleEngine&) = delete;

  [[nodiscard]] std::size_t workers() const { return workers_; }
  [[nodiscard]] std::size_t partitions() const { return partitions_; }

  /// Runs `job` over `input` and returns one (key, output) pair per distinct key, in partition
  /// order (sort it for a canonical order).
  template <Job J>
  Output<J> run(const J& job, Input input) {
    Run<J>& r = run_state<J>();
    r.job = &job;
    r.input = input;
    r.grain = std::max<std::size_t>(1, input.size() / (workers_ * 16));
    // Relaxed: the start barrier publishes the reset to the workers.
    r.next_doc.store(0, std::memory_order_relaxed);
    r.next_part.store(0, std::memory_order_relaxed);
    task_.store(Task{&Run<J>::work, &r});
    barrier_.arrive_and_wait();  // start
    r.work(0);
    barrier_.arrive_and_wait();  // end: every partition's output is written
    std::size_t total = 0;
    for (std::size_t p = 0; p < partitions_; ++p) total += std::as_const(r.outs[p]).get().size();
    Output<J> out;
    out.reserve(total);
    for (std::size_t p = 0; p < partitions_; ++p) {
      auto& o = r.outs[p].get();
      std::move(o.begin(), o.end(), std::back_inserter(out));
    }
    return out;
  }

 private:
  struct Task {
    void (*fn)(void* run, std::size_t worker) = nullptr;
    void* run = nullptr;
  };

  struct RunBase {
    virtual ~RunBase() = default;
  };

  /// Everything a run of job type `J` needs, kept for the next run of the same type.
  template <Job J>
  struct Run final : RunBase {
    static constexpr bool kCombine = Mode::kCombine;
    using Part = Partition<J, kCombine>;

    explicit Run(ShuffleEngine& e)
        : engine(e),
          parts(std::make_unique<typename S::template cell<Part>[]>(e.workers_ * e.partitions_)),
          outs(std::make_unique<typename S::template cell<Output<J>>[]>(e.partitions_)),
          mappers(e.workers_),
          scratch(e.workers_) {}

    static void work(void* self, std::size_t w) { static_cast<Run*>(self)->work(w); }

    void work(std::size_t w) {
      const std::size_t np = engine.partitions_;
      const auto part = [&](std::size_t p) -> Part& { return parts[w * np + p].get(); };
      for (std::size_t p = 0; p < np; ++p) part(p).clear();  // last run's reducers are done
      MapSide<J, kCombine>& mapper = mappers[w];
      const std::size_t n = input.size();
      for (;;) {
        // Relaxed: a ticket only; the start barrier ordered the reset and the input.
        const std::size_t first = next_doc.fetch_add(grain, std::memory_order_relaxed);
        if (first >= n) break;
        const std::size_t last = std::min(n, first + grain);
        for (std::size_t d = first; d < last; ++d) mapper.map(*job, input[d], np, part);
      }
      mapper.flush(np, part);
      if constexpr (!kSeededBugNoShuffleBarrier<Mode>) {
        engine.barrier_.arrive_and_wait();  // the shuffle: partition p now belongs to its reducer
      }
      for (;;) {
        // Relaxed: a ticket only; the middle barrier ordered the buffers it indexes.
        const std::size_t p = next_part.fetch_add(1, std::memory_order_relaxed);
        if (p >= np) break;
        Output<J>& out = outs[p].get();
        out.clear();
        reduce_partition<J, kCombine>(
            *job, engine.workers_,
            [&](std::size_t from) -> Part& { return parts[from * np + p].get(); }, scratch[w], out);
      }
    }

    ShuffleEngine& engine;
    const J* job = nullptr;  // set by the caller before the start barrier
    Input input;
    std::size_t grain = 1;
    typename S::template atomic<std::size_t> next_doc{0};
    typename S::template atomic<std::size_t> next_part{0};
    std::unique_ptr<typename S::template cell<Part>[]> parts;        // [worker * P + partition]
    std::unique_ptr<typename S::template cell<Output<J>>[]> outs;    // [partition]
    std::vector<MapSide<J, kCombine>> mappers;                       // [worker], private
    std::vector<FlatMap<typename J::Key, typename J::Acc>> scratch;  // [worker], private
  };

  template <Job J>
  Run<J>& run_state() {
    static constexpr char kTag = 0;  // one address per job type
    if (run_tag_ != &kTag) {
      run_ = std::make_unique<Run<J>>(*this);
      run_tag_ = &kTag;
    }
    return static_cast<Run<J>&>(*run_);
  }

  static std::size_t checked(std::size_t v, const char* what) {
    if (v == 0) throw std::invalid_argument(std::string("map_reduce engine: 0 ") + what);
    return v;
  }

  void work(std::size_t w) {
    for (;;) {
      barrier_.arrive_and_wait();     // start: the task is published
      if (barrier_.broken()) return;  // the engine is being destroyed
      const Task t = task_.load();
      t.fn(t.run, w);
      barrier_.arrive_and_wait();  // end
    }
  }

  const std::size_t workers_;
  const std::size_t partitions_;
  PhaseBarrier<S> barrier_;
  typename S::template cell<Task> task_;  // written by the caller before the start barrier
  std::unique_ptr<RunBase> run_;          // the caller's only
  const void* run_tag_ = nullptr;
  std::vector<typename S::thread> threads_;  // last: started after everything above exists
};

}  // namespace cpb::patterns::map_reduce
