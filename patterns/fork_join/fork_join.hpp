// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `fork_join` family: runtimes for divide-and-conquer parallelism (spawn a part, do the
/// rest, join). The concept, the divide-and-conquer programs its scenarios run, the fixtures,
/// and the model check.
///
/// Every scenario has one driver thread that calls `run(root)` once per iteration; the root
/// recursively forks with `invoke(a, b)`. Each fixture checks the result against a sequential
/// computation (fib's value, a sorted array with the input's checksum, a tree's node count,
/// every item processed once with monotonic progress), so a runtime that loses a task, runs one
/// twice or returns from a join early fails verification instead of winning.
#pragma once

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "patterns/fork_join/fork_join_processor.hpp"
#include "workloads/workload.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::fork_join {

namespace detail {
/// A concrete callable for the concept check.
struct ProbeFn {
  void operator()() const {}
};
}  // namespace detail

/// A fork-join runtime: `R rt(workers)` makes a runtime of `workers` threads (`workers` >= 1,
/// else `std::invalid_argument`); `rt.run(root)` runs the `void()` callable `root` on the
/// runtime from an outside thread and returns when it has finished, rethrowing what it threw;
/// inside a task of `rt`, `rt.invoke(a, b)` runs `a()` and `b()`, possibly in parallel, and
/// returns when both have finished, with their effects visible to the caller. If either throws,
/// `invoke` rethrows one of the exceptions once neither branch is running (a branch that had
/// not started may be skipped). Outside a task, `invoke` may run sequentially. `kCutoff` is
/// true for a runtime that forks only near the root (it runs deep calls sequentially), which
/// the one-task-per-call `fib` scenario leaves out.
template <class R>
concept ForkJoin = std::constructible_from<R, std::size_t> && requires(R& r, detail::ProbeFn f) {
  r.run(f);
  r.invoke(f, f);
  { R::kName } -> std::convertible_to<std::string_view>;
  { R::kProgress } -> std::convertible_to<Progress>;
  { R::kCutoff } -> std::convertible_to<bool>;
};

// -- the divide-and-conquer programs ------------------------------------------------------------

/// fib(n) with one fork per call and no cutoff: the libfork / TBB task-overhead benchmark.
template <ForkJoin R>
std::uint64_t fib(R& rt, int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  std::uint64_t x = 0;
  std::uint64_t y = 0;
  rt.invoke([&] { x = fib(rt, n - 1); }, [&] { y = fib(rt, n - 2); });
  return x + y;
}

/// The number of calls (tasks) of `fib(n)`: 2 fib(n + 1) - 1.
inline std::uint64_t fib_calls(int n) {
  std::uint64_t a = 0;  // fib(0)
  std::uint64_t b = 1;  // fib(1)
  for (int i = 0; i < n + 1; ++i) {
    const std::uint64_t c = a + b;
    a = b;
    b = c;
  }
  return 2 * a - 1;  // a = fib(n + 1)
}

/// Merge sort of `x[0, n)`, forking the two halves; the result ends in `y` if `into_y`, else in
/// `x` (the halves ping-pong between the arrays, so no level copies back). Below `grain` keys
/// a leaf runs `std::sort`.
template <ForkJoin R>
void merge_sort(R& rt, std::uint64_t* x, std::uint64_t* y, std::size_t n, std::size_t grain,
                bool into_y) {
  if (n <= grain) {
    std::sort(x, x + n);
    if (into_y) std::copy(x, x + n, y);
    return;
  }
  const std::size_t h = n / 2;
  rt.invoke([&] { merge_sort(rt, x, y, h, grain, !into_y); },
            [&] { merge_sort(rt, x + h, y + h, n - h, grain, !into_y); });
  // The sorted halves are in the other array than the result.
  const std::uint64_t* from = into_y ? x : y;
  std::uint64_t* to = into_y ? y : x;
  std::merge(from, from + h, from + h, from + n, to);
}

inline std::uint64_t mix64(std::uint64_t z) {  // splitmix64's finalizer
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// An order-independent checksum of a multiset of keys: a key lost, duplicated or changed
/// changes it (with probability 1 - 2^-64).
inline std::uint64_t multiset_checksum(const std::uint64_t* keys, std::size_t n) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += mix64(keys[i] + 0x9E3779B97F4A7C15ULL);
  return sum;
}

/// An unbalanced tree in the style of UTS's binomial trees (Olivier et al., LCPC 2006): the
/// root has `root_children` children; every other node has `kChildren` children with
/// probability `kProbability`, else none (expected size 1 + root_children / (1 - 4 x 0.234375)
/// = 1 + 16 x root_children, with a heavy tail). A node's identity is a 64-bit hash of its
/// parent's and its index, so the tree is the same on every run, whoever visits it.
struct UtsTree {
  static constexpr std::uint64_t kChildren = 4;
  static constexpr double kProbability = 0.234375;
  static constexpr std::uint64_t kRootState = 0x5EEDBA5E5EEDBA5EULL;

  std::uint64_t root_children = 1;
  std::int64_t node_ns = 0;  ///< busy work per node

  [[nodiscard]] std::uint64_t children(std::uint64_t state, bool root) const {
    if (root) return root_children;
    const double u = static_cast<double>(mix64(state) >> 11) * 0x1.0p-53;  // in [0, 1)
    return u < kProbability ? kChildren : 0;
  }
  [[nodiscard]] static std::uint64_t child(std::uint64_t state, std::uint64_t i) {
    return mix64(state + (i + 1) * 0x9E3779B97F4A7C15ULL);
  }

  /// The node count by a plain sequential traversal (an explicit stack, no recursion).
  [[nodiscard]] std::uint64_t count_sequential() const {
    std::uint64_t count = 0;
    std::vector<std::pair<std::uint64_t, bool>> stack{{kRootState, true}};
    while (!stack.empty()) {
      const auto [s, root] = stack.back();
      stack.pop_back();
      ++count;
      const std::uint64_t k = children(s, root);
      for (std::uint64_t i = 0; i < k; ++i) stack.emplace_back(child(s, i), false);
    }
    return count;
  }

  /// The node count by a parallel traversal: one fork per split of a node's children.
  template <ForkJoin R>
  [[nodiscard]] std::uint64_t count(R& rt) const {
    return visit(rt, kRootState, true);
  }

 private:
  template <ForkJoin R>
  std::uint64_t visit(R& rt, std::uint64_t state, bool root) const {
    workloads::spin_ns(node_ns);
    const std::uint64_t k = children(state, root);
    return 1 + (k == 0 ? 0 : visit_children(rt, state, root, 0, k));
  }

  template <ForkJoin R>
  std::uint64_t visit_children(R& rt, std::uint64_t state, bool root, std::uint64_t lo,
                               std::uint64_t hi) const {
    if (hi - lo == 1) return visit(rt, child(state, lo), false);
    const std::uint64_t mid = lo + (hi - lo) / 2;
    std::uint64_t left = 0;
    std::uint64_t right = 0;
    rt.invoke([&] { left = visit_children(rt, state, root, lo, mid); },
              [&] { right = visit_children(rt, state, root, mid, hi); });
    return left + right;
  }
};

namespace detail {

inline std::uint64_t to_count(std::int64_t v) { return v > 0 ? static_cast<std::uint64_t>(v) : 0; }

/// Records the ns per task x threads of a finished trial (libfork's metric, performance-anchors
/// §2.1): wall time x threads / tasks.
inline void report_ns_per_task(benchmark::State& state, const bench::Meter& meter, int threads) {
  if (meter.ops() == 0 || meter.end_ns() <= meter.start_ns()) return;
  state.counters["ns_per_task_x_threads"] = static_cast<double>(meter.end_ns() - meter.start_ns()) *
                                            threads / static_cast<double>(meter.ops());
}

/// `fib(n)` per iteration; items = calls (tasks).
template <ForkJoin R>
class FibFixture final : public Fixture {
 public:
  FibFixture(int workers, int n)
      : workers_(workers),
        n_(n),
        want_(workloads::fib(n)),
        rt_(static_cast<std::size_t>(workers)) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    const std::uint64_t calls = fib_calls(n_);
    meter.begin();
    for (auto _ : state) {
      meter.op([&] { rt_.run([&] { got_ = fib(rt_, n_); }); }, calls);
      if (got_ != want_ && wrong_.empty()) {
        wrong_ = fmt::format("fib({}) returned {}, not {}", n_, got_, want_);
      }
    }
    meter.end();
    report_ns_per_task(state, meter, workers_);
  }

  std::string verify() override { return wrong_; }

 private:
  const int workers_;
  const int n_;
  const std::uint64_t want_;
  std::uint64_t got_ = 0;
  std::string wrong_;
  R rt_;
};

/// Merge sort of `keys` fixed random keys per iteration (the copy of the input into the work
/// array is inside the loop); items = keys.
template <ForkJoin R>
class SortFixture final : public Fixture {
 public:
  static constexpr std::size_t kGrain = 2048;

  SortFixture(int workers, std::size_t keys)
      : input_(keys), work_(keys), scratch_(keys), rt_(static_cast<std::size_t>(workers)) {
    std::uint64_t s = 42;
    for (auto& k : input_) k = mix64(s++);
    checksum_ = multiset_checksum(input_.data(), keys);
  }

  void run(benchmark::State& state, bench::Meter& meter) override {
    const std::size_t n = input_.size();
    meter.begin();
    for (auto _ : state) {
      std::copy(input_.begin(), input_.end(), work_.begin());
      meter.op(
          [&] {
            rt_.run([&] { merge_sort(rt_, work_.data(), scratch_.data(), n, kGrain, false); });
          },
          n);
      ++sorts_;
    }
    meter.end();
  }

  std::string verify() override {
    if (sorts_ == 0) return {};
    if (!std::is_sorted(work_.begin(), work_.end())) return "the array is not sorted";
    if (multiset_checksum(work_.data(), work_.size()) != checksum_) {
      return "the sorted keys' checksum differs from the input's: a key was lost or duplicated";
    }
    return {};
  }

 private:
  std::vector<std::uint64_t> input_;
  std::vector<std::uint64_t> work_;
  std::vector<std::uint64_t> scratch_;
  std::uint64_t checksum_ = 0;
  std::uint64_t sorts_ = 0;
  R rt_;
};

/// A parallel traversal of the UTS-like tree per iteration; items = nodes.
template <ForkJoin R>
class UtsFixture final : public Fixture {
 public:
  UtsFixture(int workers, UtsTree tree)
      : tree_(tree), want_(tree.count_sequential()), rt_(static_cast<std::size_t>(workers)) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    meter.begin();
    for (auto _ : state) {
      meter.op([&] { rt_.run([&] { got_ = tree_.count(rt_); }); }, want_);
      if (got_ != want_ && wrong_.empty()) {
        wrong_ = fmt::format("the traversal counted {} nodes, the sequential one {}", got_, want_);
      }
    }
    meter.end();
  }

  std::string verify() override { return wrong_; }

 private:
  const UtsTree tree_;
  const std::uint64_t want_;
  std::uint64_t got_ = 0;
  std::string wrong_;
  R rt_;
};

/// The seed's form: a `ForkJoinProcessor` processes `items` items (each `item_ns` of busy work
/// and a mark) per iteration, with a progress callback; items = items.
template <ForkJoin R>
class ProcessFixture final : public Fixture {
 public:
  ProcessFixture(int workers, std::size_t items, std::int64_t item_ns, std::size_t chunk)
      : items_(items),
        item_ns_(item_ns),
        marks_(std::make_unique<std::atomic<std::uint32_t>[]>(items)),
        processor_(static_cast<std::size_t>(workers), chunk) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    meter.begin();
    for (auto _ : state) {
      meter.op(
          [&] {
            std::uint64_t last = 0;
            processor_.process(
                items_,
                [&](std::size_t i) {
                  workloads::spin_ns(item_ns_);
                  // Relaxed: a count only; run's return orders it before verify's read.
                  marks_[i].fetch_add(1, std::memory_order_relaxed);
                },
                [&](std::uint64_t done) {  // serialized by the processor
                  if (done <= last && wrong_.empty()) {
                    wrong_ = fmt::format("progress went from {} to {}", last, done);
                  }
                  last = done;
                });
            if (last != items_ && wrong_.empty()) {
              wrong_ = fmt::format("progress ended at {} of {} items", last, items_);
            }
          },
          items_);
      ++rounds_;
    }
    meter.end();
  }

  std::string verify() override {
    if (!wrong_.empty()) return wrong_;
    for (std::size_t i = 0; i < items_; ++i) {
      // Relaxed: process() has returned, which ordered every item's increment before this.
      const std::uint32_t m = marks_[i].load(std::memory_order_relaxed);
      if (m != rounds_) {
        return fmt::format("item {} was processed {} times in {} rounds", i, m, rounds_);
      }
    }
    return {};
  }

 private:
  const std::size_t items_;
  const std::int64_t item_ns_;
  std::unique_ptr<std::atomic<std::uint32_t>[]> marks_;
  std::uint32_t rounds_ = 0;
  std::string wrong_;
  ForkJoinProcessor<R> processor_;
};

/// Model check: a runtime of 2 workers; an outside thread runs a root that forks once
/// (`invoke`: one branch spawned, one run by the root) and joins. Each branch writes a
/// race-checked cell; the join must order both writes before the root's reads, and `run`'s
/// return before the outside thread's (else a data race); neither branch may be lost or run
/// twice.
template <ForkJoin M>
check::TestCase spawn_sync_model(std::string name) {
  return {std::move(name), [] {
            using S = check::Sync;
            S::cell<int> a{0};
            S::cell<int> b{0};
            S::cell<int> seen{0};
            std::optional<M> rt(std::in_place, 2);
            rt->run([&] {
              rt->invoke([&] { a.store(a.load() + 1); }, [&] { b.store(b.load() + 1); });
              seen.store(a.load() + b.load());
            });
            CPB_CHECK_ASSERT(a.load() == 1 && b.load() == 1 && seen.load() == 2);
            const check::NoThrow no_throw;  // the destructor joins the workers
            rt.reset();
          }};
}

}  // namespace detail

template <ForkJoin R>
struct Family {
  static constexpr std::string_view kName = "fork_join";
  static constexpr std::string_view kDescription =
      "fork-join runtimes: divide and conquer (fib, merge sort, an unbalanced tree, N items "
      "with progress) from one driver thread";
  static constexpr std::string_view kReference = "tbb_task_group";

  static std::vector<Check> checks() {
    if constexpr (sync::sync_templated<R>) {
      return {{"spawn_sync",
               "2 workers; an outside thread runs a root that spawns one branch, runs the other "
               "and joins: each runs once and the join orders both before the root goes on",
               {},
               check::model_mode([] {
                 return detail::spawn_sync_model<sync::rebind_t<R, check::Sync>>(
                     fmt::format("fork_join/{}/spawn_sync", R::kName));
               })}};
    } else {
      return {};
    }
  }

  static std::vector<Scenario> scenarios() {
    // The runtime owns `threads` workers; one driver thread calls run().
    const auto workers = ThreadAxis::owned({1, 2, 4}, {1, 2});
    std::vector<Scenario> s;
    if constexpr (!R::kCutoff) {
      s.push_back({"fib",
                   "fib(n) with one fork per call and no cutoff: the per-task cost of spawn + join "
                   "(items = calls; counter ns_per_task_x_threads = time x workers / calls)",
                   {{"n", "fib argument", {30}, {20}, 0, 40}},
                   workers,
                   1,
                   [](const Point& p) {
                     return std::make_unique<detail::FibFixture<R>>(p.threads,
                                                                    static_cast<int>(p.get("n")));
                   }});
    }
    s.push_back({"merge_sort",
                 "merge sort of `keys` random 64-bit keys, forking both halves down to 2048-key "
                 "std::sort leaves; verified sorted with the input's checksum (items = keys)",
                 {{"keys", "keys to sort", {1 << 20}, {1 << 14}, 1}},
                 workers,
                 1,
                 [](const Point& p) {
                   return std::make_unique<detail::SortFixture<R>>(
                       p.threads, static_cast<std::size_t>(p.get("keys")));
                 }});
    s.push_back(
        {"uts",
         "an unbalanced binomial tree (UTS-like, seeded, ~16 x root_children nodes) counted by "
         "forking over every node's children, node_ns of work per node; verified against a "
         "sequential count (items = nodes)",
         {{"root_children", "children of the root", {2000}, {200}, 1},
          {"node_ns", "busy work per node in ns", {200}, {}, 0}},
         workers,
         1,
         [](const Point& p) {
           UtsTree tree;
           tree.root_children = detail::to_count(p.get("root_children"));
           tree.node_ns = p.get("node_ns");
           return std::make_unique<detail::UtsFixture<R>>(p.threads, tree);
         }});
    s.push_back(
        {"process_items",
         "the seed's ForkJoinProcessor: N items of item_ns busy work, split down to `chunk` "
         "items per task, with a progress callback after each chunk; verified: every item once, "
         "progress strictly increasing to N (items = items)",
         {{"items", "items to process", {10000}, {1000}, 1},
          {"item_ns", "busy work per item in ns", {1000}, {}, 0},
          {"chunk", "items per leaf task", {16}, {}, 1}},
         workers,
         1,
         [](const Point& p) {
           return std::make_unique<detail::ProcessFixture<R>>(
               p.threads, static_cast<std::size_t>(p.get("items")), p.get("item_ns"),
               static_cast<std::size_t>(p.get("chunk")));
         }});
    return s;
  }
};

}  // namespace cpb::patterns::fork_join
