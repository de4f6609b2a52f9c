// SPDX-License-Identifier: Apache-2.0
/// @file
/// A small fake family for the harness's unit tests: two implementations and one scenario of
/// each thread-axis kind, registered into a local `cpb::Registry` (never the global one, so the
/// tests do not depend on which built-in families are linked).
#pragma once

#include "harness/core/registry.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cpb::patterns::fake {

/// An implementation that does nothing; only its name and declarations matter here.
struct Alpha {
  static constexpr std::string_view kName = "alpha";
  static constexpr Progress kProgress = Progress::kLockFree;
};

/// The family's reference baseline.
struct Beta {
  static constexpr std::string_view kName = "beta";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
};

/// Counts one item per iteration; the loop is the meter's.
class CountFixture final : public Fixture {
 public:
  void run(benchmark::State& state, bench::Meter& meter) override {
    meter.loop(state, [] {});
    counted_.fetch_add(meter.ops(), std::memory_order_relaxed);
  }
  std::string verify() override { return counted_.load() > 0 ? "" : "nothing was counted"; }

 private:
  std::atomic<std::uint64_t> counted_{0};
};

template <class T>
struct Family {
  static constexpr std::string_view kName = "fake";
  static constexpr std::string_view kDescription = "a family for the harness's own tests";
  static constexpr std::string_view kReference = "beta";

  static std::vector<Scenario> scenarios() {
    const auto make = [](const Point&) -> std::unique_ptr<Fixture> {
      return std::make_unique<CountFixture>();
    };
    return {
        {"count",
         "two parameter axes, runner threads",
         {{"size", "a size", {1, 2, 3}, {2}}, {"delay_ns", "a delay in ns", {0, 10}, {}}},
         ThreadAxis::runners({1, 2, 4}, {1, 2}),
         64,
         make},
        {"fixed", "no parameters, a fixed thread count", {}, ThreadAxis::fixed({3}), 64, make},
        {"owned",
         "the implementation owns its workers",
         {{"grain", "a grain", {5}, {}}},
         ThreadAxis::owned({2, 4}, {2}),
         64,
         make},
    };
  }
};

}  // namespace cpb::patterns::fake

namespace cpb::testing {

/// What `CPB_REGISTER_IMPL` does, into `reg` instead of `Registry::instance()`.
template <template <class> class F, class T>
void register_into(Registry& reg) {
  detail::register_into<F, T>(reg, "fake_family.hpp");
}

/// A registry holding the fake family's two implementations, alpha then beta.
inline Registry fake_registry() {
  Registry reg;
  register_into<patterns::fake::Family, patterns::fake::Alpha>(reg);
  register_into<patterns::fake::Family, patterns::fake::Beta>(reg);
  return reg;
}

}  // namespace cpb::testing
