// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `mutex` family: mutual-exclusion locks. The concept, its scenarios and its fixtures.
#pragma once

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "harness/stress/history.hpp"
#include "harness/stress/mutual_exclusion.hpp"
#include "workloads/workload.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace cpb::patterns::mutex {

/// A mutual-exclusion lock usable with `std::scoped_lock`.
template <class L>
concept Lock = std::default_initializable<L> && requires(L& l) {
  { l.lock() } -> std::same_as<void>;
  { l.try_lock() } -> std::same_as<bool>;
  { l.unlock() } -> std::same_as<void>;
  { L::kName } -> std::convertible_to<std::string_view>;
  { L::kProgress } -> std::convertible_to<Progress>;
};

namespace detail {

/// Threads loop { lock; critical section of `cs_ns` touching a guarded counter; unlock;
/// `outside_ns` of work }. The guarded counter must end equal to the operations counted: a lock
/// that lets two threads in at once loses updates and fails verification.
template <Lock L>
class Contended final : public Fixture {
 public:
  Contended(std::int64_t cs_ns, std::int64_t outside_ns) : cs_ns_(cs_ns), outside_ns_(outside_ns) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    meter.begin();
    for (auto _ : state) {
      meter.op([&] {
        lock_.lock();
        guarded_ = guarded_ + 1;
        workloads::spin_ns(cs_ns_);
        lock_.unlock();
      });
      workloads::spin_ns(outside_ns_);
    }
    meter.end();
    counted_.fetch_add(meter.ops(), std::memory_order_relaxed);  // read after the threads joined
  }

  std::string verify() override {
    const auto counted = counted_.load(std::memory_order_relaxed);
    if (guarded_ == counted) return {};
    return fmt::format(
        "the guarded counter is {} after {} critical sections: mutual exclusion "
        "was violated (lost updates)",
        guarded_, counted);
  }

 private:
  L lock_;
  alignas(64) std::uint64_t guarded_ = 0;
  std::atomic<std::uint64_t> counted_{0};
  std::int64_t cs_ns_;
  std::int64_t outside_ns_;
};

/// One thread locks and unlocks with no contention, while a second thread is alive but asleep:
/// glibc's mutex skips its atomic instructions while a process has a single thread
/// (performance-anchors §0.4), which would flatter `std::mutex`.
template <Lock L>
class Uncontended final : public Fixture {
 public:
  Uncontended()
      : sleeper_([this] {
          std::unique_lock lk(m_);
          cv_.wait(lk, [this] { return done_; });
        }) {}
  ~Uncontended() override {
    {
      std::lock_guard lk(m_);
      done_ = true;
    }
    cv_.notify_one();
    sleeper_.join();
  }
  Uncontended(const Uncontended&) = delete;
  Uncontended& operator=(const Uncontended&) = delete;

  void run(benchmark::State& state, bench::Meter& meter) override {
    meter.loop(state, [&] {
      lock_.lock();
      guarded_ = guarded_ + 1;
      lock_.unlock();
    });
    counted_ += meter.ops();
  }

  std::string verify() override {
    if (guarded_ == counted_) return {};
    return fmt::format("the guarded counter is {} after {} critical sections", guarded_, counted_);
  }

 private:
  L lock_;
  std::uint64_t guarded_ = 0;
  std::uint64_t counted_ = 0;
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread sleeper_;
};

inline int cpus() { return static_cast<int>(std::max(1U, std::thread::hardware_concurrency())); }

/// Model check: three logical threads each take the lock (one of them with try_lock when it
/// succeeds) and increment a race-checked cell; the count must be 3. A lock that lets two
/// threads in at once shows as a data race on the cell or a lost update.
template <Lock M>
check::TestCase mutual_exclusion_model(std::string name) {
  struct State {
    M lock;
    check::Sync::cell<int> count{0};
  };
  const auto critical = [](State& s) {
    s.lock.lock();
    s.count.store(s.count.load() + 1);
    s.lock.unlock();
  };
  return check::make_test<State>(std::move(name),
                                 {critical, critical,
                                  [critical](State& s) {
                                    if (s.lock.try_lock()) {
                                      s.count.store(s.count.load() + 1);
                                      s.lock.unlock();
                                    } else {
                                      critical(s);
                                    }
                                  }},
                                 [](State& s) { CPB_CHECK_ASSERT(s.count.load() == 3); });
}

}  // namespace detail

template <Lock L>
struct Family {
  static constexpr std::string_view kName = "mutex";
  static constexpr std::string_view kDescription = "mutual-exclusion locks";
  static constexpr std::string_view kReference = "std_mutex";

  static std::vector<Scenario> scenarios() {
    const auto contended = [](const Point& p) -> std::unique_ptr<Fixture> {
      return std::make_unique<detail::Contended<L>>(p.get("cs_ns"), p.get("outside_ns"));
    };
    return {
        {"uncontended",
         "lock+unlock pairs on one thread while a second thread is alive (no contention)",
         {},
         ThreadAxis::fixed({1}),
         64,
         [](const Point&) -> std::unique_ptr<Fixture> {
           return std::make_unique<detail::Uncontended<L>>();
         }},
        {"contended",
         "every thread loops: lock, critical section of cs_ns, unlock, outside_ns of work",
         {{"cs_ns", "critical-section length in ns", {0, 100}, {100}},
          {"outside_ns", "work between critical sections in ns", {0, 1000}, {1000}}},
         ThreadAxis::runners({1, 2, 4}, {1, 2}),
         64,
         contended},
        {"oversubscribed",
         "contended with twice as many threads as CPUs: spinning without yielding collapses here",
         {{"cs_ns", "critical-section length in ns", {100}, {}},
          {"outside_ns", "work between critical sections in ns", {500}, {}}},
         ThreadAxis::fixed({2 * detail::cpus()}),
         64,
         contended},
    };
  }

  static std::vector<Check> checks() {
    auto checks = stress_checks();
    if constexpr (sync::sync_templated<L>) {
      checks[0].model = check::model_mode([] {
        return detail::mutual_exclusion_model<sync::rebind_t<L, check::Sync>>(
            fmt::format("mutex/{}/mutual_exclusion", L::kName));
      });
    }
    return checks;
  }

 private:
  static std::vector<Check> stress_checks() {
    return {{"mutual_exclusion",
             "4 threads take the lock in turn (lock and try_lock); no two holds may overlap",
             [](const CheckConfig& c) {
               // Shared: a hung thread is detached and may outlive this call.
               auto lock = std::make_shared<L>();
               stress::RecordOptions o;
               o.threads = 4;
               o.operations = 20'000;
               o.seed = c.seed;
               if (c.budget.count() > 0) o.time_cap = c.budget;
               auto rec =
                   stress::record(o, [lock](std::size_t, stress::Rng& rng, stress::Recorder& r) {
                     const auto section = [] {
                       for (int i = 0; i < 16; ++i) sync::Real::pause();
                     };
                     if (rng.chance(1, 4)) {
                       r.try_hold(*lock, section);
                     } else {
                       r.hold(*lock, section);
                     }
                   });
               if (!rec.engine.ok()) {
                 stress::CheckResult bad;
                 bad.kind = "mutual_exclusion";
                 bad.seed = rec.seed;
                 bad.verdict = stress::Verdict::kError;
                 bad.failure = rec.engine.describe();
                 return bad;
               }
               return stress::check_mutual_exclusion(rec.history, std::string(L::kName), rec.seed);
             },
             {}}};
  }
};

}  // namespace cpb::patterns::mutex
