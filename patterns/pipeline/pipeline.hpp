// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `pipeline` family: a stream of items passes through a line of stages, each a function of
/// the item, with its own concurrency; in-order stages see the items in the source's order,
/// unordered stages run several at once. The concept, its scenarios and its fixtures.
///
/// Every scenario has one driver thread that runs streams: each Google Benchmark iteration is a
/// stream of `items` items, timed from the first item until the end of stream has passed every
/// stage. The items are real values (a hash of their index), every stage maps them through a
/// bijective mix, and the last stage (in order) compares each item with the value a sequential
/// run gives for that position: an item lost, duplicated, reordered or passed around a stage
/// fails verification, and so does a checksum of the stream that differs from the sequential
/// one.
#pragma once

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "patterns/pipeline/stage.hpp"
#include "workloads/workload.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::pipeline {

namespace detail {
/// A concrete source type for the concept check.
template <class T>
struct ProbeSource {
  std::optional<T> operator()() const { return std::nullopt; }
};
}  // namespace detail

/// A pipeline: `P pipe(stages, capacity)` builds a line of `Stage<P::item_type>` with queues of
/// `capacity` items (throws std::invalid_argument on no stage, a capacity of 0, or a stage it
/// cannot run); `pipe.run(source)` runs one stream from `source()` (returning
/// `std::optional<item_type>`, empty at the end) through every stage and returns when the end
/// of stream has passed the last one, with the `RunReport`; the pipeline stays usable for the
/// next stream. At most `tokens()` items are in flight at once.
template <class P>
concept Pipeline =
    std::constructible_from<P, std::vector<Stage<typename P::item_type>>, std::size_t> &&
    requires(P& p, detail::ProbeSource<typename P::item_type> src) {
  { p.run(src) } -> std::same_as<RunReport>;
  { p.tokens() } -> std::convertible_to<std::size_t>;
  { P::kName } -> std::convertible_to<std::string_view>;
  { P::kProgress } -> std::convertible_to<Progress>;
};

/// The item type of the scenarios.
using Item = std::uint64_t;

/// The value the source produces `i`-th: splitmix64 of `i`.
constexpr Item source_value(std::uint64_t i) {
  std::uint64_t z = i + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// What stage `stage` does to an item's value: a bijection, different per stage, so a skipped
/// or repeated stage changes the result.
constexpr Item mix(Item v, std::size_t stage) {
  v ^= v >> 29;
  v *= 0xBF58476D1CE4E5B9ULL + 2 * static_cast<std::uint64_t>(stage);  // odd: invertible
  return v ^ (v >> 32);
}

namespace detail {

/// One stage of a scenario: `work_ns` of busy work per item.
struct StagePlan {
  std::int64_t work_ns = 0;
  std::size_t concurrency = 1;
  Order order = Order::kUnordered;
};

/// One driver thread runs streams of `items` items through a pipeline of `plan`'s stages. One
/// operation = one stream, counted as `items` items. The last stage must be in order: it
/// checks each item against the sequential result at its position.
template <Pipeline P>
class Streams final : public Fixture {
 public:
  Streams(const std::vector<StagePlan>& plan, std::uint64_t items, std::size_t capacity)
      : items_(items), expected_(items), pipe_(stages(plan), capacity) {
    for (std::uint64_t i = 0; i < items; ++i) {
      Item v = source_value(i);
      for (std::size_t k = 0; k < plan.size(); ++k) v = mix(v, k);
      expected_[i] = v;
      expected_sum_ += v;
    }
  }

  void run(benchmark::State& state, bench::Meter& meter) override {
    meter.begin();
    for (auto _ : state) {
      meter.op([&] { stream(); }, items_);
    }
    meter.end();
  }

  std::string verify() override {
    stream();
    return wrong_;
  }

 private:
  std::vector<Stage<Item>> stages(const std::vector<StagePlan>& plan) {
    std::vector<Stage<Item>> out;
    for (std::size_t k = 0; k < plan.size(); ++k) {
      const std::int64_t ns = plan[k].work_ns;
      if (k + 1 < plan.size()) {
        out.push_back({[ns, k](Item v) {
                         workloads::spin_ns(ns);
                         return mix(v, k);
                       },
                       plan[k].concurrency, plan[k].order});
      } else {
        // The sink runs in order, one item at a time: its counters are plain data, ordered
        // between items by the pipeline and before run() returns.
        out.push_back({[this, ns, k](Item v) {
                         workloads::spin_ns(ns);
                         v = mix(v, k);
                         if (seen_ < items_ && v != expected_[seen_] && mismatch_.empty()) {
                           mismatch_ = fmt::format("position {} got {:#x}, expected {:#x}", seen_,
                                                   v, expected_[seen_]);
                         }
                         ++seen_;
                         sum_ += v;
                         return v;
                       },
                       1, Order::kInOrder});
      }
    }
    return out;
  }

  void stream() {
    std::uint64_t next = 0;
    seen_ = 0;
    sum_ = 0;
    const RunReport r = pipe_.run([&]() -> std::optional<Item> {
      if (next == items_) return std::nullopt;
      return source_value(next++);
    });
    if (!wrong_.empty()) return;
    if (r.items != items_ || r.completed != items_ || !r.errors.empty() || seen_ != items_) {
      wrong_ = fmt::format(
          "a stream of {} items reported {} items, {} completed, {} errors; the sink saw {}",
          items_, r.items, r.completed, r.errors.size(), seen_);
    } else if (!mismatch_.empty()) {
      wrong_ = "the sink got an item out of order or altered: " + mismatch_;
    } else if (sum_ != expected_sum_) {
      wrong_ = fmt::format("checksum {:#x}, sequential run {:#x}", sum_, expected_sum_);
    }
  }

  const std::uint64_t items_;
  std::vector<Item> expected_;
  Item expected_sum_ = 0;
  // The sink's state: written by the last stage, read by the driver after run().
  std::uint64_t seen_ = 0;
  Item sum_ = 0;
  std::string mismatch_;
  std::string wrong_;  // driver thread only
  P pipe_;             // last: destroyed (and its threads joined) first
};

inline std::uint64_t to_count(std::int64_t v) { return v > 0 ? static_cast<std::uint64_t>(v) : 0; }

template <Pipeline P>
std::unique_ptr<Fixture> streams(const std::vector<StagePlan>& plan, std::uint64_t items,
                                 std::int64_t capacity) {
  return std::make_unique<Streams<P>>(plan, items, static_cast<std::size_t>(to_count(capacity)));
}

/// The balanced line: `stages` stages of `work_ns` each; the first and the last in order, the
/// ones between unordered with `threads` threads each.
inline std::vector<StagePlan> balanced_plan(std::int64_t stages, std::int64_t work_ns,
                                            int threads) {
  std::vector<StagePlan> plan(to_count(stages));
  for (std::size_t k = 0; k < plan.size(); ++k) {
    const bool ends = k == 0 || k + 1 == plan.size();
    plan[k] = {work_ns, ends ? 1 : static_cast<std::size_t>(threads),
               ends ? Order::kInOrder : Order::kUnordered};
  }
  return plan;
}

}  // namespace detail

namespace detail {

/// Model check: an unordered stage of 2 threads hands 2 items to an in-order stage of 1
/// (`sink_order`; the family's check uses kInOrder), through queues of 1 and 2 tokens. The
/// in-order stage must see item 0 before item 1 whichever of the two threads finishes first,
/// the end of stream must reach it (run returns with both items completed), and the destructor
/// must stop and join all three stage threads. With `sink_order` = kUnordered (no reorder
/// buffer) the check must fail: that is the seeded twin in pipeline.model.cpp.
template <Pipeline M>
check::TestCase in_order_model(std::string name, Order sink_order = Order::kInOrder) {
  return {std::move(name), [sink_order] {
            using S = check::Sync;
            S::cell<Item> seen{0};
            std::vector<Stage<Item>> stages;
            stages.push_back({[](Item v) { return v * 10; }, 2, Order::kUnordered});
            stages.push_back({[&seen](Item v) {
                                CPB_CHECK_ASSERT(v == seen.load() * 10);
                                seen.store(seen.load() + 1);
                                return v;
                              },
                              1, sink_order});
            std::optional<M> pipe(std::in_place, std::move(stages), 1);
            std::uint64_t next = 0;
            const RunReport r = pipe->run([&]() -> std::optional<Item> {
              if (next == 2) return std::nullopt;
              return next++;
            });
            CPB_CHECK_ASSERT(r.items == 2 && r.completed == 2 && r.errors.empty());
            CPB_CHECK_ASSERT(seen.load() == 2);
            const check::NoThrow no_throw;  // the destructor joins the stage threads
            pipe.reset();
          }};
}

}  // namespace detail

template <Pipeline P>
struct Family {
  static constexpr std::string_view kName = "pipeline";
  static constexpr std::string_view kDescription =
      "pipelines: one driver streams items through in-order and unordered parallel stages";
  static constexpr std::string_view kReference = "tbb_parallel_pipeline";

  static std::vector<Check> checks() {
    if constexpr (sync::sync_templated<P>) {
      return {{"in_order_handoff",
               "an unordered stage of 2 threads hands 2 items to an in-order stage: it sees "
               "them in the source's order, the end of stream reaches it, every thread exits",
               {},
               check::model_mode([] {
                 return detail::in_order_model<sync::rebind_t<P, check::Sync>>(
                     fmt::format("pipeline/{}/in_order_handoff", P::kName));
               })}};
    } else {
      return {};
    }
  }

  static std::vector<Scenario> scenarios() {
    // `threads`: the concurrency of each unordered stage; one driver thread is the source.
    const auto threads = ThreadAxis::owned({1, 2, 4}, {1, 2});
    const ParamAxis capacity{"capacity",
                             "queue capacity per stage, in items (tokens in flight "
                             "= stages x capacity)",
                             {8},
                             {},
                             1};
    return {
        {"balanced",
         "streams of 2000 items through `stages` stages of work_ns busy work each: the first "
         "and last in order, those between unordered with `threads` threads each; the serial "
         "stages bound the rate, so this measures the cost of the hand-offs",
         {{"stages", "stages in the line", {3}, {}, 1, 64},
          {"work_ns", "busy work per item per stage, in ns", {1000}, {}},
          capacity},
         threads,
         1,
         [](const Point& p) {
           return detail::streams<P>(
               detail::balanced_plan(p.get("stages"), p.get("work_ns"), p.threads), 2000,
               p.get("capacity"));
         }},
        {"bottleneck",
         "streams of 500 items through 3 stages: in order (work_ns), unordered with `threads` "
         "threads (slow_ns, the bottleneck), in order (work_ns, the sink): the slow stage's "
         "concurrency should pay off up to the cores there are",
         {{"work_ns", "busy work per item in the in-order stages, in ns", {1000}, {}},
          {"slow_ns", "busy work per item in the slow unordered stage, in ns", {8000}, {}},
          capacity},
         threads,
         1,
         [](const Point& p) {
           const std::vector<detail::StagePlan> plan{
               {p.get("work_ns"), 1, Order::kInOrder},
               {p.get("slow_ns"), static_cast<std::size_t>(p.threads), Order::kUnordered},
               {p.get("work_ns"), 1, Order::kInOrder}};
           return detail::streams<P>(plan, 500, p.get("capacity"));
         }},
    };
  }
};

}  // namespace cpb::patterns::pipeline
