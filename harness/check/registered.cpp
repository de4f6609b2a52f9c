// SPDX-License-Identifier: Apache-2.0
#include "harness/check/registered.hpp"

#include "harness/check/audit.hpp"
#include "harness/core/errors.hpp"

#include <fmt/format.h>

#include <array>
#include <stdexcept>
#include <string>

namespace cpb::check {

Config config_for(const CheckConfig& c, std::string_view strategy) {
  Config cfg;
  if (strategy == "random") {
    cfg.strategy = Strategy::kRandom;
    cfg.max_executions = 200'000;
  } else if (strategy == "pct") {
    cfg.strategy = Strategy::kPct;
    cfg.max_executions = 200'000;
  } else if (strategy == "dfs") {
    cfg.strategy = Strategy::kDfs;
    cfg.max_executions = 0;
    cfg.preemption_bound = 2;
  } else {
    throw std::invalid_argument(
        fmt::format("unknown strategy '{}' (known: random, pct, dfs, all)", strategy));
  }
  if (c.tier == "sc") {
    cfg.tier = Tier::kSc;
  } else if (c.tier == "tso") {
    cfg.tier = Tier::kTso;
  } else if (c.tier == "c11") {
    cfg.tier = Tier::kC11;
  } else {
    throw std::invalid_argument(fmt::format("unknown tier '{}' (known: sc, tso, c11)", c.tier));
  }
  if (c.seed != 0) cfg.seed = c.seed;
  cfg.max_seconds = c.budget.count() > 0 ? static_cast<double>(c.budget.count()) / 1000.0 : 2.0;
  cfg.replay = c.replay;
  if (const AuditScope* scope = AuditScope::current()) scope->apply(cfg);
  return cfg;
}

stress::CheckResult to_check_result(const Result& r) {
  stress::CheckResult out;
  out.name = r.test;
  out.mode = "model";
  out.kind = r.failure ? std::string(to_string(r.failure->kind)) : "exploration";
  out.seed = r.seed;
  out.elapsed_ms = r.seconds * 1000.0;
  out.samples = r.executions;
  out.stats = {{"executions", static_cast<std::int64_t>(r.executions)},
               {"pruned", static_cast<std::int64_t>(r.pruned)},
               {"max_steps", static_cast<std::int64_t>(r.max_steps)},
               {"max_threads", static_cast<std::int64_t>(r.max_threads)}};
  if (r.strategy == Strategy::kDfs && !r.replayed) {
    out.stats.emplace_back("bound", r.bound);
    out.stats.emplace_back("exhausted", r.exhausted ? 1 : 0);
  }
  if (r.failure) {
    out.verdict = stress::Verdict::kFail;
    out.failure = r.summary();
    out.details = r.report();
  } else {
    out.details = r.summary();
  }
  return out;
}

std::function<stress::CheckResult(const CheckConfig&)> model_mode(std::function<TestCase()> make) {
  return [make = std::move(make)](const CheckConfig& c) {
    const TestCase test = make();
    const auto error = [&](std::string what) {
      stress::CheckResult bad;
      bad.name = test.name;
      bad.mode = "model";
      bad.kind = "exploration";
      bad.verdict = stress::Verdict::kError;
      bad.failure = std::move(what);
      return bad;
    };
    // Runs one strategy; the audit keeps the replay string of a failure.
    const auto run = [&](const CheckConfig& cc, std::string_view strategy) {
      Result r = explore(config_for(cc, strategy), test);
      if (AuditScope* scope = AuditScope::current(); scope != nullptr && r.failure) {
        scope->failed(r.failure->replay);
      }
      return to_check_result(r);
    };
    try {
      if (!c.replay.empty()) return run(c, "random");
      if (c.strategy != "all") return run(c, c.strategy);
      // Each strategy gets a third of the budget; the first failure ends the check.
      CheckConfig third = c;
      third.budget = c.budget.count() > 0 ? c.budget / 3 : std::chrono::milliseconds(700);
      stress::CheckResult last;
      std::uint64_t executions = 0;
      double ms = 0;
      for (const char* s : {"random", "pct", "dfs"}) {
        last = run(third, s);
        executions += last.samples;
        ms += last.elapsed_ms;
        if (!last.passed()) return last;
      }
      last.samples = executions;
      last.elapsed_ms = ms;
      last.details = fmt::format("random, pct and dfs: {} executions", executions);
      return last;
    } catch (const ReplayError& e) {
      throw UsageError(fmt::format("--replay: {}", e.what()));  // bad input: exit 2
    } catch (const std::invalid_argument& e) {
      return error(e.what());
    }
  };
}

}  // namespace cpb::check
