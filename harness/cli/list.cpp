// SPDX-License-Identifier: Apache-2.0
#include "harness/cli/commands.hpp"
#include "harness/core/errors.hpp"
#include "workloads/workload.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

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
      // Only where it cannot run here (the probe runs now, e.g. an io_uring ring set up).
      if (auto why = i.why_unavailable(); !why.empty()) out.back()["unavailable"] = why;
    }
  } else if (o.what == "scenarios") {
    // The union over the family's implementations (one may leave a scenario out, e.g. a
    // baseline with a known hang), each with the implementations that run it.
    for (const auto& f : reg.families()) {
      std::vector<std::pair<json, std::vector<std::string>>> seen;  // scenario, who runs it
      std::size_t impls = 0;
      for (const auto& i : reg.impls()) {
        if (i.family != f.name) continue;
        ++impls;
        for (const auto& s : i.scenarios) {
          // A family may list one name more than once (variants with other axes).
          auto j = scenario_json(s);
          auto it = std::find_if(seen.begin(), seen.end(),
                                 [&](const auto& entry) { return entry.first == j; });
          if (it == seen.end()) {
            seen.emplace_back(std::move(j), std::vector<std::string>{});
            it = seen.end() - 1;
          }
          it->second.push_back(i.name);
        }
      }
      for (auto& [j, names] : seen) {
        j["family"] = f.name;
        j["all_impls"] = names.size() == impls;
        j["impls"] = std::move(names);
        out.push_back(std::move(j));
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
  // Column widths from the longest family and name, so long names keep the columns aligned.
  std::size_t family_w = 0;
  std::size_t name_w = 0;
  for (const auto& e : out) {
    if (e.contains("family")) {
      family_w = std::max(family_w, e["family"].get_ref<const std::string&>().size());
    }
    name_w = std::max(name_w, e["name"].get_ref<const std::string&>().size());
  }
  for (const auto& e : out) {
    const auto name = fmt::format("{:<{}}", e["name"].get<std::string>(), name_w);
    const auto family = e.contains("family")
                            ? fmt::format("{:<{}} ", e["family"].get<std::string>(), family_w)
                            : std::string();
    if (o.what == "impls") {
      auto line = fmt::format("{}{} {:<16} {:<8}", family, name, e["progress"].get<std::string>(),
                              e["baseline"].get<bool>() ? "baseline" : "");
      if (e.contains("unavailable")) {
        line += " unavailable here: " + e["unavailable"].get<std::string>();
      }
      line.erase(line.find_last_not_of(' ') + 1);
      std::printf("%s\n", line.c_str());
    } else if (o.what == "scenarios") {
      std::string params;
      for (const auto& p : e["params"]) {
        params += fmt::format(" {}={}", p["name"].get<std::string>(), p["values"].dump());
      }
      const auto only =
          e["all_impls"].get<bool>()
              ? std::string()
              : fmt::format(" (only: {})",
                            fmt::join(e["impls"].get<std::vector<std::string>>(), ", "));
      std::printf("%s%s threads(%s)=%s%s%s\n", family.c_str(), name.c_str(),
                  e["threads"]["kind"].get<std::string>().c_str(),
                  e["threads"]["values"].dump().c_str(), params.c_str(), only.c_str());
    } else {
      std::printf("%s %s\n", name.c_str(), e["description"].get<std::string>().c_str());
    }
  }
  return 0;
}

}  // namespace cpb::cli
