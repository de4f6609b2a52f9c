// SPDX-License-Identifier: Apache-2.0
/// @file
/// The registry of families, implementations, scenarios and checks, and `CPB_REGISTER_IMPL`.
///
/// A family header defines `template <class T> struct Family` with `kName`, `kDescription`,
/// `kReference` (the baseline that ratios are taken against) and
/// `static std::vector<Scenario> scenarios()`. `CPB_REGISTER_IMPL(mutex, TicketLock<>)`
/// instantiates `cpb::patterns::mutex::Family<TicketLock<>>` and adds it here. Everything here is
/// outside timed loops; the loops themselves are static code in each scenario's fixture.
#pragma once

#include "harness/bench/meter.hpp"
#include "harness/core/progress.hpp"
#include "harness/stress/result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace benchmark {
class State;
}

namespace cpb {

/// One parameter axis of a scenario.
struct ParamAxis {
  std::string name;  ///< snake_case with its unit as a suffix: `cs_ns`, `block_us`
  std::string description;
  std::vector<std::int64_t> values;  ///< what the default suite runs
  std::vector<std::int64_t> quick;   ///< what `--quick` runs; empty means the first value
  std::int64_t min = 0;  ///< the smallest value `--param` may set (a buffer of 0 items: 1)
  std::int64_t max = std::numeric_limits<std::int64_t>::max();  ///< the largest
};

/// How a scenario uses threads.
struct ThreadAxis {
  enum class Kind {
    kRunners,  ///< `threads` benchmark threads run the body (`--threads` overrides the list)
    kFixed,    ///< always exactly these thread counts (`--threads` does not apply)
    kOwned,    ///< the implementation owns `threads` workers; one driver thread runs the body
  };
  Kind kind = Kind::kRunners;
  std::vector<int> values;  ///< default list
  std::vector<int> quick;   ///< `--quick` list; empty means `values`

  static ThreadAxis runners(std::vector<int> v, std::vector<int> q = {}) {
    return {Kind::kRunners, std::move(v), std::move(q)};
  }
  static ThreadAxis fixed(std::vector<int> v) { return {Kind::kFixed, std::move(v), {}}; }
  static ThreadAxis owned(std::vector<int> v, std::vector<int> q = {}) {
    return {Kind::kOwned, std::move(v), std::move(q)};
  }
};

/// One point of a scenario's matrix: a value for every parameter, and a thread count.
struct Point {
  std::vector<std::pair<std::string, std::int64_t>> params;
  int threads = 1;

  /// The value of parameter `name`; throws std::out_of_range if the scenario has none.
  [[nodiscard]] std::int64_t get(std::string_view name) const;
};

/// The shared state of one benchmark: built once per benchmark process, before any timing, and
/// used by every trial Google Benchmark runs.
class Fixture {
 public:
  virtual ~Fixture() = default;
  /// Runs in every benchmark thread and holds the timed loop. Reports through `meter`.
  virtual void run(benchmark::State& state, bench::Meter& meter) = 0;
  /// Called once after the last trial: an empty string when the results are right, else what
  /// is wrong (a lost update, a lost task ...). Runs outside timing.
  virtual std::string verify() { return {}; }
};

/// A benchmark body for a family, with its parameter axes.
struct Scenario {
  std::string name;
  std::string description;
  std::vector<ParamAxis> params;
  ThreadAxis threads;
  std::uint32_t sample_every = 64;  ///< latency sampling period, in operations
  std::function<std::unique_ptr<Fixture>(const Point&)> make;
};

/// How a check runs: its seed (0 picks one, printed with any failure) and time budget (0: the
/// check's default). The model-checker fields are names the checker parses (harness/check).
struct CheckConfig {
  std::uint64_t seed = 0;
  std::chrono::milliseconds budget{0};
  std::string strategy = "all";  ///< model: random, pct, dfs or all (each in turn)
  std::string tier = "sc";       ///< model: sc or tso
  std::string replay;            ///< model: replay this failure instead of searching
};

/// A small concurrent program with an oracle, run against one implementation. `stress` runs it
/// on real threads (harness/stress); `model` explores its interleavings under the model checker
/// (harness/check), on the same implementation code with the policy rebound to `check::Sync`.
/// Either may be empty.
struct Check {
  std::string name;
  std::string description;
  std::function<stress::CheckResult(const CheckConfig&)> stress;
  std::function<stress::CheckResult(const CheckConfig&)> model;
};

/// A registered implementation of a family.
struct ImplInfo {
  std::string family;
  std::string name;
  Progress progress = Progress::kBlocking;
  bool baseline = false;
  std::string source;  ///< where it was registered: file:line
  std::vector<Scenario> scenarios;
  std::vector<Check> checks;
  /// Set when the type declares `static std::string unavailable()`: empty when it can run on
  /// this machine, else why not (the kernel or the sandbox refuses io_uring). `run` and `check`
  /// skip an unavailable implementation with that reason; `list impls` shows it.
  std::function<std::string()> unavailable;

  /// Why this implementation cannot run here; empty when it can.
  [[nodiscard]] std::string why_unavailable() const { return unavailable ? unavailable() : ""; }
};

struct FamilyInfo {
  std::string name;
  std::string description;
  std::string reference;  ///< the baseline implementation ratios are taken against
};

class Registry {
 public:
  static Registry& instance();

  void add_family(FamilyInfo f);
  void add_impl(ImplInfo impl);

  [[nodiscard]] const std::vector<FamilyInfo>& families() const { return families_; }
  [[nodiscard]] const std::vector<ImplInfo>& impls() const { return impls_; }
  [[nodiscard]] const FamilyInfo* family(std::string_view name) const;
  /// Implementation `name` of `family`, or null when none is registered.
  [[nodiscard]] const ImplInfo* impl(std::string_view family, std::string_view name) const;
  /// Registration mistakes (a name registered twice), reported by the CLI before it runs.
  [[nodiscard]] const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
  std::vector<FamilyInfo> families_;
  std::vector<ImplInfo> impls_;
};

namespace detail {

template <class T>
constexpr bool is_baseline() {
  if constexpr (requires { T::kBaseline; }) {
    return T::kBaseline;
  } else {
    return false;
  }
}

/// What `CPB_REGISTER_IMPL(family, T)` adds to `reg`: `Family<T>`'s family and `T`, registered
/// at `source`.
template <template <class> class Family, class T>
void register_into(Registry& reg, std::string source) {
  using F = Family<T>;
  reg.add_family({std::string(F::kName), std::string(F::kDescription), std::string(F::kReference)});
  ImplInfo info{std::string(F::kName), std::string(T::kName), T::kProgress, is_baseline<T>(),
                std::move(source),     F::scenarios(),        {},           {}};
  if constexpr (requires { F::checks(); }) info.checks = F::checks();
  if constexpr (requires { std::string(T::unavailable()); }) {
    info.unavailable = [] { return std::string(T::unavailable()); };
  }
  reg.add_impl(std::move(info));
}

template <template <class> class Family, class T>
bool register_impl(const char* file, int line) {
  register_into<Family, T>(Registry::instance(), std::string(file) + ":" + std::to_string(line));
  return true;
}

}  // namespace detail
}  // namespace cpb

#define CPB_DETAIL_CAT2(a, b) a##b
#define CPB_DETAIL_CAT(a, b) CPB_DETAIL_CAT2(a, b)

/// Registers implementation `...` (a type) in family `family` (a folder name under patterns/).
/// Use it at namespace scope in a .cpp file: built-ins in `<family>.register.cpp`, plug-ins in
/// their own translation unit linked with `cpbench::main`.
#define CPB_REGISTER_IMPL(family, ...)                                                     \
  [[maybe_unused]] static const bool CPB_DETAIL_CAT(cpb_registered_, __COUNTER__) =        \
      ::cpb::detail::register_impl<::cpb::patterns::family::Family, __VA_ARGS__>(__FILE__, \
                                                                                 __LINE__)
