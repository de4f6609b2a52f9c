// SPDX-License-Identifier: Apache-2.0
/// @file
/// GoogleTest glue: `cpb::testing::ToGTest<Impls>` turns a family's TypeList into the type list
/// of a TYPED_TEST_SUITE, so adding an implementation to the list enrols it in every test.
#pragma once

#include "harness/check/audit.hpp"
#include "harness/check/explore.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "harness/core/type_list.hpp"
#include "harness/stress/result.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpb::testing {

template <class L>
struct ToGTestT;
template <class... T>
struct ToGTestT<TypeList<T...>> {
  using type = ::testing::Types<T...>;
};
template <class L>
using ToGTest = typename ToGTestT<L>::type;

/// `SyncTemplated<Impls>`: the implementations of a family's TypeList that are templates on the
/// sync policy (those the model checker runs), as the type list of a TYPED_TEST_SUITE.
template <class Tuple>
struct TupleToGTestT;
template <class... T>
struct TupleToGTestT<std::tuple<T...>> {
  using type = ::testing::Types<T...>;
};
template <class L>
struct SyncTemplatedT;
template <class... T>
struct SyncTemplatedT<TypeList<T...>> {
  using type = typename TupleToGTestT<decltype(std::tuple_cat(
      std::declval<
          std::conditional_t<sync::sync_templated<T>, std::tuple<T>, std::tuple<>>>()...))>::type;
};
template <class L>
using SyncTemplated = typename SyncTemplatedT<L>::type;

/// Names typed tests by the implementation's `kName` instead of a number.
struct ImplName {
  template <class T>
  static std::string GetName(int /*index*/) {
    return std::string(T::kName);
  }
};

/// The time of one `stress` test: CPB_STRESS_MS, else 300 ms.
inline std::chrono::milliseconds stress_budget() {
  return stress::default_budget(std::chrono::milliseconds(300));
}

/// The seed of one randomized `stress` test: CPB_SEED (decimal), else a fresh random one.
inline std::uint64_t stress_seed() {
  const char* env = std::getenv("CPB_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
}

/// Runs `round(rng)` until `time` is spent (at least once), from `stress_seed()`, which every
/// failure prints so that CPB_SEED=<seed> replays the same rounds. `round` returns what went
/// wrong, or an empty string.
template <class Round>
void repeat_rounds(Round round, std::chrono::milliseconds time = stress_budget()) {
  const std::uint64_t s = stress_seed();
  SCOPED_TRACE("seed " + std::to_string(s) + " (replay: CPB_SEED=" + std::to_string(s) + ")");
  std::mt19937_64 rng(s);
  const auto deadline = std::chrono::steady_clock::now() + time;
  int rounds = 0;
  do {
    const std::string wrong = round(rng);
    ASSERT_TRUE(wrong.empty()) << "round " << rounds << ": " << wrong;
    ++rounds;
  } while (std::chrono::steady_clock::now() < deadline);
}

/// The configuration of the `stress` tests: each check's budget is `stress_budget()`.
inline CheckConfig stress_config() {
  CheckConfig c;
  c.budget = stress_budget();
  return c;
}

/// The configuration of the `model` tests: 1 s per check, split among the strategies, with the
/// checker's fixed seed.
inline CheckConfig model_config() {
  CheckConfig c;
  c.budget = std::chrono::milliseconds(1000);
  return c;
}

/// Implementation `impl` of family `family` as it was registered; throws std::logic_error when
/// this binary has no such registration.
inline const ImplInfo& registered(std::string_view family, std::string_view impl) {
  if (const ImplInfo* i = Registry::instance().impl(family, impl)) return *i;
  throw std::logic_error(std::string(family) + "/" + std::string(impl) +
                         " is not registered in this test binary: register it with "
                         "CPB_REGISTER_IMPL in a source the binary links (in this repository, "
                         "cpb_add_family links the family's *.register.cpp objects)");
}

/// `ImplOf<Family<T>>::type` is `T`.
template <class Fam>
struct ImplOf;
template <template <class> class Family, class T>
struct ImplOf<Family<T>> {
  using type = T;
};

/// `Fam` (a family's `Family<T>`) as `CPB_REGISTER_IMPL` registered it: its `scenarios()` and
/// `checks()`, compiled once in the family's *.register.cpp, which the test binaries link,
/// instead of once more in each test.
template <class Fam>
const ImplInfo& registered() {
  return registered(Fam::kName, ImplOf<Fam>::type::kName);
}

/// Runs `Fam`'s registered checks of one mode (`&Check::stress` or `&Check::model`) with `cfg`
/// and expects each to pass having checked something. Returns how many ran.
template <class Fam>
int expect_registered_checks_pass(
    std::function<stress::CheckResult(const CheckConfig&)> Check::*mode, const CheckConfig& cfg) {
  int ran = 0;
  for (const Check& c : registered<Fam>().checks) {
    const auto& run = c.*mode;
    if (!run) continue;
    const stress::CheckResult r = run(cfg);
    EXPECT_TRUE(r.passed()) << c.name << ": " << stress::format(r);
    EXPECT_GT(r.samples, 0U) << c.name << ": nothing was checked";
    ++ran;
  }
  return ran;
}

/// The memory-order audit (harness/check/audit.hpp) of `Fam`'s registered model checks under
/// the C11 tier, `budget` per check and weaker order: the rows of the operations written in
/// `file` (a trailing part of their path), by line.
template <class Fam>
std::vector<check::AuditRow> audit_rows(
    std::string_view file, std::chrono::milliseconds budget = std::chrono::milliseconds(300)) {
  std::vector<check::AuditCheck> checks;
  for (const Check& c : registered<Fam>().checks) {
    if (c.model) checks.push_back({c.name, c.model});
  }
  CheckConfig cfg;
  cfg.tier = "c11";
  cfg.budget = budget;
  std::vector<check::AuditRow> rows;
  for (check::AuditRow& row : check::audit_orders(checks, cfg).rows) {
    if (std::string_view(row.site.file).ends_with(file)) rows.push_back(std::move(row));
  }
  return rows;
}

/// Expects each row whose written order is stronger than relaxed to be needed (every weaker
/// order caught), and returns how many such rows there were.
inline int expect_orders_needed(const std::vector<check::AuditRow>& rows) {
  int n = 0;
  for (const check::AuditRow& row : rows) {
    if (row.trials.empty()) continue;
    ++n;
    EXPECT_TRUE(row.needed()) << check::site_name(row.site) << " " << check::to_string(row.site.op)
                              << " " << check::order_name(row.site.op, row.site.order) << ": "
                              << row.verdict();
  }
  return n;
}

/// The searches a seeded-bug twin must be caught by: bounded DFS (preemption bound 2) ...
inline check::Config twin_dfs() {
  check::Config c;
  c.strategy = check::Strategy::kDfs;
  c.preemption_bound = 2;
  c.max_executions = 200'000;
  c.max_seconds = 10;
  return c;
}
/// ... and a random walk.
inline check::Config twin_random_walk() {
  check::Config c;
  c.strategy = check::Strategy::kRandom;
  c.max_executions = 20'000;
  c.max_seconds = 10;
  return c;
}

/// Both searches catch `t`, with failure `kind`.
inline void expect_caught(const check::TestCase& t, check::FailureKind kind) {
  for (const check::Config& c : {twin_dfs(), twin_random_walk()}) {
    const check::Result r = check::explore(c, t);
    ASSERT_FALSE(r.ok()) << t.name << " not caught by " << to_string(c.strategy) << ": "
                         << r.summary();
    EXPECT_EQ(r.failure->kind, kind) << r.report();
  }
}

/// Both searches, 1 s each, find nothing wrong with `t` (a fixed twin).
inline void expect_passes(const check::TestCase& t) {
  for (check::Config c : {twin_dfs(), twin_random_walk()}) {
    c.max_seconds = 1;
    const check::Result r = check::explore(c, t);
    EXPECT_TRUE(r.ok()) << r.report();
    EXPECT_GT(r.executions, 0U);
  }
}

/// True in a ThreadSanitizer build.
inline constexpr bool kTsan = sync::kTsan;

}  // namespace cpb::testing
