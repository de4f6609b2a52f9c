// SPDX-License-Identifier: Apache-2.0
#include "harness/cli/commands.hpp"
#include "harness/core/errors.hpp"
#include "workloads/workload.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace cpb::cli {
namespace {

using nlohmann::json;

json scenario_json(const Scenario& s) {
  json params = json::array();
  for (const auto& p : s.params) {
    params.push_back({{"name", p.name}, {"description", p.description}, {"values", p.values}});
  }
  static constexpr const char* kKinds[] = {"runners", "fixed", "owned"};
  return {{"name", s.name},
          {"description", s.description},
          {"params", params},
          {"threads",
           {{"kind", kKinds[static_cast<int>(s.threads.kind)]}, {"values", s.threads.values}}}};
}

}  // namespace

int list(const ListOptions& o) {
  const auto& reg = Registry::instance();
  json out = json::array();
  if (o.what == "families") {
    for (const auto& f : reg.families()) {
      int n = 0;
      for (const auto& i : reg.impls()) n += i.family == f.name ? 1 : 0;
      out.push_back({{"name", f.name},
                     {"description", f.description},
                     {"reference", f.reference},
                     {"impls", n}});
    }
  } else if (o.what == "impls") {
    for (const auto& i : reg.impls()) {
      json scenarios = json::array();
      for (const auto& s : i.scenarios) scenarios.push_back(s.name);
      out.push_back({{"name", i.name},
                     {"family", i.family},
                     {"baseline", i.baseline},
                     {"progress", std::string(to_string(i.progress))},
                     {"scenarios", scenarios},
                     {"source", i.source}});
    }
  } else if (o.what == "scenarios") {
    for (const auto& f : reg.families()) {
      for (const auto& i : reg.impls()) {
        if (i.family != f.name) continue;
        for (const auto& s : i.scenarios) {
          auto j = scenario_json(s);
          j["family"] = f.name;
          out.push_back(std::move(j));
        }
        break;  // every implementation of a family shares its scenarios
      }
    }
  } else if (o.what == "workloads") {
    for (const auto& w : workloads::catalogue()) {
      out.push_back({{"name", w.name},
                     {"kind", w.kind},
                     {"description", w.description},
                     {"params", w.params}});
    }
  } else {
    throw UsageError(fmt::format(
        "list: unknown kind '{}' (known: families, impls, scenarios, workloads)", o.what));
  }

  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  for (const auto& e : out) {
    if (o.what == "impls") {
      std::printf("%-14s %-20s %-16s %s\n", e["family"].get<std::string>().c_str(),
                  e["name"].get<std::string>().c_str(), e["progress"].get<std::string>().c_str(),
                  e["baseline"].get<bool>() ? "baseline" : "");
    } else if (o.what == "scenarios") {
      std::string params;
      for (const auto& p : e["params"]) {
        params += fmt::format(" {}={}", p["name"].get<std::string>(), p["values"].dump());
      }
      std::printf("%-14s %-20s threads(%s)=%s%s\n", e["family"].get<std::string>().c_str(),
                  e["name"].get<std::string>().c_str(),
                  e["threads"]["kind"].get<std::string>().c_str(),
                  e["threads"]["values"].dump().c_str(), params.c_str());
    } else {
      std::printf("%-14s %s\n", e["name"].get<std::string>().c_str(),
                  e["description"].get<std::string>().c_str());
    }
  }
  return 0;
}

}  // namespace cpb::cli
