// SPDX-License-Identifier: Apache-2.0
#include "harness/bench/suite.hpp"

#include "harness/bench/calibration.hpp"
#include "harness/core/errors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <unistd.h>

namespace cpb::bench {
namespace {

nlohmann::json case_fields(const Case& c, int repetitions, int repetition) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : c.point.params) params[k] = v;
  return {{"name", c.name},
          {"family_index", c.family_index},
          {"per_family_instance_index", c.instance_index},
          {"run_name", c.name},
          {"run_type", "iteration"},
          {"repetitions", repetitions},
          {"repetition_index", repetition},
          {"threads", c.point.threads},
          {"family", c.impl->family},
          {"impl", c.impl->name},
          {"baseline", c.impl->baseline},
          {"progress", std::string(to_string(c.impl->progress))},
          {"scenario", c.scenario->name},
          {"params", params}};
}

std::string human_rate(double x) {
  if (x >= 1e9) return fmt::format("{:.2f} G/s", x / 1e9);
  if (x >= 1e6) return fmt::format("{:.2f} M/s", x / 1e6);
  if (x >= 1e3) return fmt::format("{:.2f} k/s", x / 1e3);
  return fmt::format("{:.1f} /s", x);
}

}  // namespace

nlohmann::json families_block(const std::vector<Case>& cases) {
  nlohmann::json f = nlohmann::json::object();
  for (const auto& c : cases) {
    if (const auto* info = Registry::instance().family(c.impl->family)) {
      f[info->name] = {{"description", info->description}, {"reference", info->reference}};
    }
  }
  return f;
}

namespace {

/// Drops the cases of implementations that cannot run here (`ImplInfo::unavailable`), saying
/// so once per implementation on stderr; returns the indices of the others and the `skipped`
/// block for the result file.
std::vector<std::size_t> skip_unavailable(const std::vector<Case>& cases, nlohmann::json& skipped) {
  std::vector<std::size_t> runnable;
  std::map<const ImplInfo*, bool> available;  // probed once per implementation
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const ImplInfo* impl = cases[i].impl;
    auto [it, first] = available.try_emplace(impl, true);
    if (first) {
      if (const auto why = impl->why_unavailable(); !why.empty()) {
        std::fprintf(stderr, "cpbench: skipping %s/%s, unavailable here: %s\n",
                     impl->family.c_str(), impl->name.c_str(), why.c_str());
        skipped.push_back({{"family", impl->family}, {"impl", impl->name}, {"reason", why}});
        it->second = false;
      }
    }
    if (it->second) runnable.push_back(i);
  }
  return runnable;
}

}  // namespace

int run_suite(const std::vector<Case>& cases, const SuiteOptions& opt, reports::ResultFile& out) {
  nlohmann::json skipped = nlohmann::json::array();
  std::vector<std::size_t> order = skip_unavailable(cases, skipped);
  if (!skipped.empty()) out.set("skipped", std::move(skipped));
  if (opt.calibrate) out.set("calibration", {{"start", calibrate(opt.quick)}});

  std::mt19937_64 rng(opt.seed);
  const std::size_t total = order.size() * static_cast<std::size_t>(opt.repetitions);
  std::size_t done = 0;
  int failed = 0;
  for (int rep = 0; rep < opt.repetitions; ++rep) {
    std::shuffle(order.begin(), order.end(), rng);
    for (const std::size_t i : order) {
      const Case& c = cases[i];
      if (opt.progress) {
        std::fprintf(stderr, "\r\033[K[%zu/%zu] %s", done + 1, total, c.name.c_str());
        std::fflush(stderr);
      }
      nlohmann::json entry = case_fields(c, opt.repetitions, rep);
      entry.update(opt.isolate ? run_isolated(c, opt.run) : run_here(c, opt.run));
      ++done;
      if (entry.value("setup_error", false)) {
        // Nothing later can run either (a server that cannot start): stop, keeping the rest.
        const std::string why = entry.value("error_message", "");
        out.add(std::move(entry));
        out.finalize();
        if (opt.progress) std::fprintf(stderr, "\r\033[K");
        throw SetupError(fmt::format("{}: {} (results so far: {})", c.name, why, out.path()));
      }
      if (entry.value("error_occurred", false)) {
        ++failed;
        std::fprintf(stderr, "%s%s: FAILED: %s\n", opt.progress ? "\r\033[K" : "", c.name.c_str(),
                     entry.value("error_message", "").c_str());
      } else if (opt.progress) {
        std::fprintf(stderr, "  %s", human_rate(entry.value("items_per_second", 0.0)).c_str());
      }
      out.add(std::move(entry));
    }
  }
  if (opt.progress) std::fprintf(stderr, "\r\033[K");

  if (opt.calibrate) {
    auto cal = out.doc()["cpbench"]["calibration"];
    cal["end"] = calibrate(opt.quick);
    // Flag a run whose core-to-core round trip moved by more than 2x (performance-anchors §8.3).
    const auto& a = cal["start"]["atomic_rtt_ns"];
    const auto& b = cal["end"]["atomic_rtt_ns"];
    if (a.is_number() && b.is_number()) {
      const double r = b.get<double>() / std::max(a.get<double>(), 1e-9);
      cal["drift_ratio"] = r;
      cal["drifted"] = r > 2.0 || r < 0.5;
    }
    out.set("calibration", cal);
  }
  out.finalize();
  return failed;
}

}  // namespace cpb::bench
