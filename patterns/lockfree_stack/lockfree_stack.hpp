// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `lockfree_stack` family: concurrent LIFO stacks of `std::uint64_t`. The concept, its
/// scenarios, fixtures and checks.
#pragma once

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "harness/stress/history.hpp"
#include "harness/stress/linearizability.hpp"
#include "harness/stress/specs.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

namespace cpb::patterns::lockfree_stack {

/// A concurrent LIFO stack: `push(v)` always succeeds (unbounded); `try_pop()` returns the top
/// value, or nothing when the stack is empty. Safe to call from any number of threads.
template <class St>
concept Stack = std::default_initializable<St> && requires(St& s, std::uint64_t v) {
  { s.push(v) } -> std::same_as<void>;
  { s.try_pop() } -> std::same_as<std::optional<std::uint64_t>>;
  { St::kName } -> std::convertible_to<std::string_view>;
  { St::kProgress } -> std::convertible_to<Progress>;
};

namespace detail {

/// A value unique to (thread, sequence number), so a lost or duplicated element changes the
/// hashed sums that verification compares.
inline std::uint64_t tagged(std::size_t thread, std::uint64_t seq) {
  return (static_cast<std::uint64_t>(thread) << 40U) | seq;
}

/// A second thread, alive but asleep for the fixture's lifetime: glibc's mutex skips its atomic
/// instructions while a process has a single thread (performance-anchors §0.4), which would
/// flatter a mutex-based baseline in the 1-thread cases.
class Sleeper {
 public:
  Sleeper()
      : thread_([this] {
          std::unique_lock lk(m_);
          cv_.wait(lk, [this] { return done_; });
        }) {}
  ~Sleeper() {
    {
      std::lock_guard lk(m_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

/// What one benchmark thread pushed and popped, summed over trials. Touched by its thread only
/// while a trial runs; read by verify() after Google Benchmark joined the threads.
struct alignas(64) Tally {
  std::uint64_t next = 0;  ///< sequence number of the next value this thread pushes
  std::uint64_t pushes = 0;
  std::uint64_t pops = 0;
  std::uint64_t empty_pops = 0;
  std::uint64_t pushed_hash = 0;  ///< sum of mix64(value) over pushes (wrapping)
  std::uint64_t popped_hash = 0;
};

/// What verification may assume about a run.
struct Expect {
  bool pops_never_empty = false;  ///< every pop had a value available
  bool ends_empty = false;        ///< everything pushed was popped by the end
};

/// Compares what went in with what came out: the values pushed must be the values popped plus
/// what is left on the stack (which this drains). Empty when right, else what is wrong.
template <Stack St>
std::string verify_conservation(St& stack, const std::vector<Tally>& tallies, Expect expect) {
  Tally sum;
  for (const auto& t : tallies) {
    sum.pushes += t.pushes;
    sum.pops += t.pops;
    sum.empty_pops += t.empty_pops;
    sum.pushed_hash += t.pushed_hash;
    sum.popped_hash += t.popped_hash;
  }
  std::uint64_t left = 0;
  while (auto v = stack.try_pop()) {
    ++left;
    sum.popped_hash += stress::mix64(*v);
  }
  if (expect.pops_never_empty && sum.empty_pops != 0) {
    return fmt::format(
        "{} pops found the stack empty although every thread pushed before it popped",
        sum.empty_pops);
  }
  if (expect.ends_empty && left != 0) {
    return fmt::format("{} elements were left on the stack after {} pushes and {} pops", left,
                       sum.pushes, sum.pops);
  }
  if (sum.pushes != sum.pops + left) {
    return fmt::format("{} pushes but {} pops and {} left: elements were lost or duplicated",
                       sum.pushes, sum.pops, left);
  }
  if (sum.pushed_hash != sum.popped_hash) {
    return fmt::format(
        "the values popped are not the values pushed ({} pushes): elements were lost, duplicated "
        "or corrupted",
        sum.pushes);
  }
  return {};
}

/// Every thread loops { push a value of its own; pop one }. A pop can never find the stack
/// empty (its own push came before it), and the stack ends empty. Contention on the head grows
/// with the thread count.
template <Stack St>
class PushPopPairs final : public Fixture {
 public:
  explicit PushPopPairs(int threads) : tallies_(static_cast<std::size_t>(threads)) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    const auto t = static_cast<std::size_t>(state.thread_index());
    Tally& me = tallies_[t];
    meter.begin();
    for (auto _ : state) {
      meter.op(
          [&] {
            const std::uint64_t v = tagged(t, me.next++);
            stack_.push(v);
            ++me.pushes;
            me.pushed_hash += stress::mix64(v);
            if (const auto got = stack_.try_pop()) {
              ++me.pops;
              me.popped_hash += stress::mix64(*got);
            } else {
              ++me.empty_pops;
            }
          },
          2);
    }
    meter.end();
  }

  std::string verify() override { return verify_conservation(stack_, tallies_, {true, true}); }

 private:
  Sleeper sleeper_;
  St stack_;
  std::vector<Tally> tallies_;
};

/// Even-numbered threads push, odd-numbered threads pop (retrying, with back-off, until they
/// get a value). Producers and consumers are equally many and run the same number of
/// iterations, so every pushed value is popped by the end of each trial.
template <Stack St>
class ProducerConsumer final : public Fixture {
 public:
  explicit ProducerConsumer(int threads) : tallies_(static_cast<std::size_t>(threads)) {
    if (threads < 2 || threads % 2 != 0) {
      throw std::invalid_argument(fmt::format(
          "producer_consumer needs an even number of threads (half push, half pop), not {}",
          threads));
    }
  }

  void run(benchmark::State& state, bench::Meter& meter) override {
    const auto t = static_cast<std::size_t>(state.thread_index());
    Tally& me = tallies_[t];
    meter.begin();
    if (t % 2 == 0) {
      for (auto _ : state) {
        meter.op([&] {
          const std::uint64_t v = tagged(t, me.next++);
          stack_.push(v);
          ++me.pushes;
          me.pushed_hash += stress::mix64(v);
        });
      }
    } else {
      for (auto _ : state) {
        meter.op([&] {
          sync::Backoff<> backoff;
          for (;;) {
            if (const auto got = stack_.try_pop()) {
              ++me.pops;
              me.popped_hash += stress::mix64(*got);
              return;
            }
            ++me.empty_pops;
            backoff();
          }
        });
      }
    }
    meter.end();
  }

  std::string verify() override { return verify_conservation(stack_, tallies_, {false, true}); }

 private:
  St stack_;
  std::vector<Tally> tallies_;
};

/// The model checks take the stack rebound to `check::Sync`, which is not a `Stack`: its
/// destructor may throw (an abandoned execution unwinds from any atomic operation).

/// An own stack built to reclaim eagerly (a hazard scan at every retire), so that the model
/// checks run the reclamation code too. Stacks without that constructor are used as they are.
template <class M>
struct Eager : M {
  Eager() : M(std::size_t{1}) {}
};
template <class M>
using ModelStack = std::conditional_t<std::is_constructible_v<M, std::size_t>, Eager<M>, M>;

constexpr std::uint64_t kNone = 0;  ///< "the pop found the stack empty" (values pushed are > 0)

inline std::uint64_t value_or_none(std::optional<std::uint64_t> v) { return v ? *v : kNone; }

/// Model check: thread 1 pushes 1 then 2; thread 2 pops twice. LIFO: if the first pop got 2,
/// 1 was under it, so the second pop must get 1. At the end, what was popped plus what is left
/// must be {1, 2}, what is left in LIFO order. A node whose value is read without being ordered
/// after the push that wrote it shows as a data race on the value cell.
template <class M>
check::TestCase lifo_model(std::string name) {
  struct State {
    ModelStack<M> stack;
    std::uint64_t a = kNone;
    std::uint64_t b = kNone;
  };
  return check::make_test<State>(std::move(name),
                                 {[](State& s) {
                                    s.stack.push(1);
                                    s.stack.push(2);
                                  },
                                  [](State& s) {
                                    s.a = value_or_none(s.stack.try_pop());
                                    s.b = value_or_none(s.stack.try_pop());
                                    if (s.a == 2) CPB_CHECK_ASSERT(s.b == 1);
                                  }},
                                 [](State& s) {
                                   std::vector<std::uint64_t> left;
                                   while (auto v = s.stack.try_pop()) left.push_back(*v);
                                   if (left.size() == 2)
                                     CPB_CHECK_ASSERT(left[0] == 2 && left[1] == 1);
                                   std::vector<std::uint64_t> all = left;
                                   if (s.a != kNone) all.push_back(s.a);
                                   if (s.b != kNone) all.push_back(s.b);
                                   std::sort(all.begin(), all.end());
                                   CPB_CHECK_ASSERT((all == std::vector<std::uint64_t>{1, 2}));
                                 });
}

/// Model check: three threads each push their own value and then pop. No pop may find the
/// stack empty; the three pops get three distinct values, and the stack ends empty. With three
/// threads on the head, CAS failures (and, for the elimination stack, meetings) happen.
template <class M>
check::TestCase pairs_model(std::string name) {
  struct State {
    ModelStack<M> stack;
    std::uint64_t got[3] = {kNone, kNone, kNone};
  };
  const auto pair = [](std::size_t i) {
    return [i](State& s) {
      s.stack.push(i + 1);
      s.got[i] = value_or_none(s.stack.try_pop());
      CPB_CHECK_ASSERT(s.got[i] != kNone);
    };
  };
  return check::make_test<State>(std::move(name), {pair(0), pair(1), pair(2)}, [](State& s) {
    std::vector<std::uint64_t> all(std::begin(s.got), std::end(s.got));
    std::sort(all.begin(), all.end());
    CPB_CHECK_ASSERT((all == std::vector<std::uint64_t>{1, 2, 3}));
    CPB_CHECK_ASSERT(!s.stack.try_pop().has_value());
  });
}

}  // namespace detail

template <Stack St>
struct Family {
  static constexpr std::string_view kName = "lockfree_stack";
  static constexpr std::string_view kDescription = "concurrent LIFO stacks";
  static constexpr std::string_view kReference = "locked_vector";

  static std::vector<Scenario> scenarios() {
    return {
        {"push_pop_pairs",
         "every thread loops: push a value, pop one (contention on the head); 2 items per loop",
         {},
         ThreadAxis::runners({1, 2, 4}, {1, 2}),
         64,
         [](const Point& p) -> std::unique_ptr<Fixture> {
           return std::make_unique<detail::PushPopPairs<St>>(p.threads);
         }},
        {"producer_consumer",
         "half the threads push, half pop (retrying with back-off when empty); 1 item per push "
         "or pop",
         {},
         ThreadAxis::runners({2, 4}, {2}),
         64,
         [](const Point& p) -> std::unique_ptr<Fixture> {
           return std::make_unique<detail::ProducerConsumer<St>>(p.threads);
         }},
    };
  }

  static std::vector<Check> checks() {
    std::vector<Check> checks{
        {"linearizability",
         "4 threads push (2 in 5) and pop, 20,000 operations; the recorded history must be "
         "linearizable against a sequential LIFO stack",
         [](const CheckConfig& c) { return linearizability(c); },
         {}}};
    if constexpr (sync::sync_templated<St>) {
      using M = sync::rebind_t<St, check::Sync>;
      checks[0].model = check::model_mode(
          [] { return detail::lifo_model<M>(fmt::format("lockfree_stack/{}/lifo", St::kName)); });
      checks.push_back(
          {"push_pop_pairs",
           "model only: 3 threads each push then pop; no pop finds the stack empty, no value is "
           "lost or duplicated",
           {},
           check::model_mode([] {
             return detail::pairs_model<M>(
                 fmt::format("lockfree_stack/{}/push_pop_pairs", St::kName));
           })});
    }
    return checks;
  }

 private:
  static stress::CheckResult linearizability(const CheckConfig& c) {
    constexpr std::size_t kThreads = 4;
    // Shared: a hung thread is detached and may outlive this call.
    auto stack = std::make_shared<St>();
    auto next = std::make_shared<std::vector<detail::Tally>>(kThreads);
    stress::RecordOptions o;
    o.threads = kThreads;
    o.operations = 20'000;
    o.seed = c.seed;
    if (c.budget.count() > 0) o.time_cap = c.budget;
    return stress::run_linearizability(
        fmt::format("lockfree_stack/{}/linearizability", St::kName), stress::StackSpec{}, o,
        [stack, next](std::size_t t, stress::Rng& rng, stress::Recorder& rec) {
          // Pushes 2 in 5: the stack stays short, so the checker has few orders to consider.
          if (rng.chance(2, 5)) {
            // Small readable values, unique per thread: thread t's i-th push is t*1e6 + i + 1.
            const auto v = static_cast<std::int64_t>(t * 1'000'000 + ++(*next)[t].next);
            rec.call(stress::StackSpec::kPush, v, [&] {
              stack->push(static_cast<std::uint64_t>(v));
              return stress::Ret::yes();
            });
          } else {
            rec.call(stress::StackSpec::kPop, 0, [&] {
              const auto got = stack->try_pop();
              return got ? stress::Ret::of(static_cast<std::int64_t>(*got)) : stress::Ret::no();
            });
          }
        });
  }
};

}  // namespace cpb::patterns::lockfree_stack
