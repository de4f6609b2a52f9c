// SPDX-License-Identifier: Apache-2.0
#include "harness/bench/runner.hpp"

#include "harness/bench/cost.hpp"
#include "harness/core/registry.hpp"

#include <benchmark/benchmark.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

namespace cpb::bench {
namespace {

using nlohmann::json;

constexpr std::uint64_t kItemsPerOp = 2;
constexpr std::uint32_t kSampleEvery = 4;

/// Each benchmark thread counts its own operations, two items each, in its own slot.
class PerThreadCounter final : public Fixture {
 public:
  void run(benchmark::State& state, Meter& meter) override {
    auto& mine = slots_.at(static_cast<std::size_t>(state.thread_index())).n;
    meter.loop(
        state, [&] { ++mine; }, kItemsPerOp);
  }
  std::string verify() override {
    std::uint64_t total = 0;
    for (const auto& s : slots_) total += s.n;
    return total > 0 ? "" : "no operation ran";
  }

 private:
  struct alignas(128) Slot {
    std::uint64_t n = 0;
  };
  std::array<Slot, 8> slots_{};
};

/// Stands in for the counting allocator: "allocates" 3 blocks of 16 bytes per operation.
std::atomic<std::uint64_t> g_fake_allocs{0};
AllocCounts fake_reader() {
  const std::uint64_t n = g_fake_allocs.load();
  return {n, n * 16};
}
class Allocates final : public Fixture {
 public:
  void run(benchmark::State& state, Meter& meter) override {
    meter.loop(
        state, [] { g_fake_allocs.fetch_add(3); }, 1);
  }
};

/// One driver thread submits `threads` items per iteration to workers it would own.
class OwnedWorkers final : public Fixture {
 public:
  explicit OwnedWorkers(int workers) : workers_(workers) {}
  void run(benchmark::State& state, Meter& meter) override {
    meter.loop(
        state, [] {}, static_cast<std::uint64_t>(workers_));
  }

 private:
  int workers_;
};

class WrongResult final : public Fixture {
 public:
  void run(benchmark::State& state, Meter& meter) override {
    meter.loop(state, [] {});
  }
  std::string verify() override { return "3 updates were lost"; }
};

class Throws final : public Fixture {
 public:
  void run(benchmark::State& state, Meter& meter) override {
    meter.begin();
    for (auto _ : state) {
      meter.op([] { throw std::runtime_error("the queue lost its head"); });
    }
  }
};

class Aborts final : public Fixture {
 public:
  void run(benchmark::State& state, Meter& /*meter*/) override {
    for (auto _ : state) std::abort();
  }
};

class Hangs final : public Fixture {
 public:
  void run(benchmark::State& state, Meter& /*meter*/) override {
    for (auto _ : state) {
      for (;;) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
};

/// An implementation with one scenario whose fixture `make` builds, and a case for it.
struct Harness {
  ImplInfo impl;
  Case c;

  template <class Make>
  Harness(ThreadAxis axis, int threads, Make make) {
    impl.family = "fake";
    impl.name = "alpha";
    Scenario s;
    s.name = "scenario";
    s.threads = std::move(axis);
    s.sample_every = kSampleEvery;
    s.make = std::move(make);
    impl.scenarios.push_back(std::move(s));
    c.impl = &impl;
    c.scenario = &impl.scenarios.front();
    c.point.threads = threads;
    c.name = case_name(impl, *c.scenario, c.point);
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;
};

template <class F>
auto maker() {
  return [](const Point&) -> std::unique_ptr<Fixture> { return std::make_unique<F>(); };
}

RunOptions quick_options() {
  RunOptions o;
  o.min_time_s = 0.005;
  o.warmup_s = 0;
  o.pin = false;
  o.timeout_s = 30;
  return o;
}

/// The fields every successful entry has, with their invariants.
void expect_measurements(const json& e, int gb_threads) {
  SCOPED_TRACE(e.dump());
  ASSERT_FALSE(e.value("error_occurred", true));
  EXPECT_FALSE(e.contains("error_message"));
  for (const char* k :
       {"iterations", "real_time", "cpu_time", "items", "items_per_second", "wall_time_s"}) {
    ASSERT_TRUE(e.contains(k) && e[k].is_number()) << k;
  }
  EXPECT_GT(e["iterations"].get<std::int64_t>(), 0);
  EXPECT_GT(e["real_time"].get<double>(), 0);
  EXPECT_GE(e["cpu_time"].get<double>(), 0);
  EXPECT_EQ(e["time_unit"], "ns");
  EXPECT_GT(e["items"].get<std::uint64_t>(), 0U);
  EXPECT_GT(e["wall_time_s"].get<double>(), 0);
  EXPECT_NEAR(e["items_per_second"].get<double>(),
              e["items"].get<double>() / e["wall_time_s"].get<double>(),
              1e-9 * e["items_per_second"].get<double>());

  const auto& lat = e["latency_ns"];
  for (const char* k : {"samples", "p50", "p90", "p99", "p999", "max"}) {
    ASSERT_TRUE(lat.contains(k) && lat[k].is_number_unsigned()) << k;
  }
  EXPECT_LE(lat["p50"].get<std::uint64_t>(), lat["p90"].get<std::uint64_t>());
  EXPECT_LE(lat["p90"].get<std::uint64_t>(), lat["p99"].get<std::uint64_t>());
  EXPECT_LE(lat["p99"].get<std::uint64_t>(), lat["p999"].get<std::uint64_t>());
  EXPECT_LE(lat["p999"].get<std::uint64_t>(), lat["max"].get<std::uint64_t>());

  ASSERT_TRUE(e["per_thread_items"].is_array());
  ASSERT_EQ(e["per_thread_items"].size(), static_cast<std::size_t>(gb_threads));
  std::uint64_t sum = 0;
  for (const auto& n : e["per_thread_items"]) {
    EXPECT_GT(n.get<std::uint64_t>(), 0U);
    sum += n.get<std::uint64_t>();
  }
  EXPECT_EQ(sum, e["items"].get<std::uint64_t>());

  EXPECT_EQ(e["gb_threads"], gb_threads);
  ASSERT_TRUE(e["placement"].is_array());
  ASSERT_EQ(e["placement"].size(), static_cast<std::size_t>(gb_threads));
  for (const auto& cpu : e["placement"]) {
    EXPECT_EQ(cpu, -1);  // pin=false
  }
  EXPECT_EQ(e["pinned"], false);
}

TEST(RunHere, OneRunnerThread) {
  Harness h(ThreadAxis::runners({1}), 1, maker<PerThreadCounter>());
  const json e = run_here(h.c, quick_options());
  expect_measurements(e, 1);
  // The meter saw exactly the trial that Google Benchmark reported.
  EXPECT_EQ(e["items"].get<std::uint64_t>(), kItemsPerOp * e["iterations"].get<std::uint64_t>());
  EXPECT_EQ(e["latency_ns"]["samples"].get<std::uint64_t>(),
            e["items"].get<std::uint64_t>() / kItemsPerOp / kSampleEvery);
  EXPECT_TRUE(e["fairness"].is_null());
  EXPECT_FALSE(e.contains("name"));  // the suite adds the naming fields
}

TEST(RunHere, TwoRunnerThreadsHavePerThreadCountsAndFairness) {
  Harness h(ThreadAxis::runners({2}), 2, maker<PerThreadCounter>());
  const json e = run_here(h.c, quick_options());
  expect_measurements(e, 2);
  // Google Benchmark sums the iterations of all threads.
  EXPECT_EQ(e["items"].get<std::uint64_t>(), kItemsPerOp * e["iterations"].get<std::uint64_t>());
  std::uint64_t samples = 0;
  for (const auto& n : e["per_thread_items"]) {
    samples += n.get<std::uint64_t>() / kItemsPerOp / kSampleEvery;
  }
  EXPECT_EQ(e["latency_ns"]["samples"].get<std::uint64_t>(), samples);
  ASSERT_TRUE(e["fairness"].is_number());
  EXPECT_GE(e["fairness"].get<double>(), 0.5 - 1e-12);  // Jain's index lies in [1/n, 1]
  EXPECT_LE(e["fairness"].get<double>(), 1.0 + 1e-12);
}

TEST(RunHere, OwnedWorkersRunOnOneDriverThread) {
  Harness h(ThreadAxis::owned({4}), 4, [](const Point& p) -> std::unique_ptr<Fixture> {
    return std::make_unique<OwnedWorkers>(p.threads);
  });
  const json e = run_here(h.c, quick_options());
  expect_measurements(e, 1);
  EXPECT_EQ(e["items"].get<std::uint64_t>(), 4 * e["iterations"].get<std::uint64_t>());
  EXPECT_TRUE(e["fairness"].is_null());
}

TEST(RunHere, PinnedThreadsRecordTheirCpus) {
  Harness h(ThreadAxis::runners({2}), 2, maker<PerThreadCounter>());
  RunOptions o = quick_options();
  o.pin = true;
  const json e = run_here(h.c, o);
  SCOPED_TRACE(e.dump());
  ASSERT_FALSE(e.value("error_occurred", true));
  ASSERT_EQ(e["placement"].size(), 2U);
  bool all = true;
  for (const auto& cpu : e["placement"]) all = all && cpu.get<int>() >= 0;
  EXPECT_EQ(e["pinned"].get<bool>(), all);
}

TEST(RunHere, TheCostOfTheTrialComesPerItem) {
  Harness h(ThreadAxis::runners({1}), 1, maker<Allocates>());
  EXPECT_FALSE(run_here(h.c, quick_options()).contains("allocs_per_item"));  // no counter linked
  set_alloc_reader(&fake_reader);
  const json e = run_here(h.c, quick_options());
  set_alloc_reader(nullptr);
  SCOPED_TRACE(e.dump());
  // Thread 0's snapshots bracket the trial, meter included: 3 allocations per item, give or take
  // the handful Google Benchmark's loop makes around it.
  EXPECT_NEAR(e["allocs_per_item"].get<double>(), 3.0, 0.01);
  EXPECT_NEAR(e["alloc_bytes_per_item"].get<double>(), 48.0, 0.2);
  EXPECT_GT(e["cpu_user_ns_per_item"].get<double>() + e["cpu_sys_ns_per_item"].get<double>(), 0);
  EXPECT_GT(e["cpu_utilization"].get<double>(), 0);
  EXPECT_LE(e["cpu_utilization"].get<double>(), 1.5);  // one busy thread
  EXPECT_GE(e["voluntary_csw_per_item"].get<double>(), 0);
  EXPECT_GE(e["threads_peak"].get<std::int64_t>(), 1);
  EXPECT_GT(e["peak_rss_kb"].get<std::int64_t>(), 0);
  EXPECT_GE(e["rss_growth_kb"].get<std::int64_t>(), 0);
}

TEST(RunHere, FailedVerificationIsAnError) {
  Harness h(ThreadAxis::runners({1}), 1, maker<WrongResult>());
  const json e = run_here(h.c, quick_options());
  EXPECT_TRUE(e.value("error_occurred", false)) << e.dump();
  EXPECT_EQ(e.value("error_message", ""), "verification failed: 3 updates were lost");
  EXPECT_TRUE(e.contains("items_per_second"));  // the measurements are kept
}

TEST(RunHere, AnExceptionInTheBenchmarkIsAnError) {
  Harness h(ThreadAxis::runners({1}), 1, maker<Throws>());
  const json e = run_here(h.c, quick_options());
  EXPECT_TRUE(e.value("error_occurred", false)) << e.dump();
  EXPECT_EQ(e.value("error_message", ""), "the queue lost its head");
}

TEST(RunHere, AFixtureThatCannotBeBuiltIsAnError) {
  Harness h(ThreadAxis::runners({1}), 1, [](const Point& p) -> std::unique_ptr<Fixture> {
    (void)p.get("missing");
    return nullptr;
  });
  const json e = run_here(h.c, quick_options());
  EXPECT_TRUE(e.value("error_occurred", false)) << e.dump();
  EXPECT_NE(e.value("error_message", "").find("setting up the fixture failed"), std::string::npos)
      << e.dump();
}

TEST(RunIsolated, ReturnsTheChildsMeasurements) {
  Harness h(ThreadAxis::runners({1}), 1, maker<PerThreadCounter>());
  const json e = run_isolated(h.c, quick_options());
  expect_measurements(e, 1);
}

TEST(RunIsolated, ACrashIsRecorded) {
  Harness h(ThreadAxis::runners({1}), 1, maker<Aborts>());
  const json e = run_isolated(h.c, quick_options());
  EXPECT_TRUE(e.value("error_occurred", false)) << e.dump();
  const auto msg = e.value("error_message", "");
  EXPECT_NE(msg.find("crashed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("signal 6"), std::string::npos) << msg;
}

TEST(RunIsolated, AHangIsKilledByTheWatchdog) {
  Harness h(ThreadAxis::runners({1}), 1, maker<Hangs>());
  RunOptions o = quick_options();
  o.timeout_s = 1;
  const auto t0 = std::chrono::steady_clock::now();
  const json e = run_isolated(h.c, o);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(e.value("error_occurred", false)) << e.dump();
  const auto msg = e.value("error_message", "");
  EXPECT_NE(msg.find("timed out"), std::string::npos) << msg;
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(5));
}

}  // namespace
}  // namespace cpb::bench
