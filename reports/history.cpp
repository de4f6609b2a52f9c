// SPDX-License-Identifier: Apache-2.0
#include "reports/history.hpp"

#include "harness/core/errors.hpp"
#include "reports/html.hpp"
#include "reports/page.hpp"
#include "reports/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <unistd.h>

namespace cpb::reports {

extern const std::string_view kTrendTemplate;  ///< reports/templates/trend.html

namespace fs = std::filesystem;
using nlohmann::json;

void prepare_history(const std::string& dir) {
  const fs::path p(dir);
  std::error_code ec;
  if (fs::exists(p, ec) && !fs::is_directory(p, ec)) {
    throw UsageError(fmt::format("--history: '{}' is a file, not a folder", dir));
  }
  fs::create_directories(p, ec);
  if (ec) {
    throw UsageError(fmt::format("--history: cannot create folder '{}': {}", dir, ec.message()));
  }
  if (access(p.c_str(), W_OK) != 0) {
    throw UsageError(fmt::format("--history: cannot write in '{}': {}", dir, std::strerror(errno)));
  }
}

std::string append_history(const std::string& dir, const json& doc) {
  const auto clock = std::chrono::system_clock::now();
  const std::time_t now = std::chrono::system_clock::to_time_t(clock);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &utc);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock.time_since_epoch()).count() %
      1000;
  std::string commit = "unknown";
  if (const auto* c = doc.contains("cpbench") ? &doc["cpbench"] : nullptr;
      c != nullptr && c->contains("git_commit") && (*c)["git_commit"].is_string()) {
    commit = (*c)["git_commit"].get<std::string>();
  }
  const fs::path base = fs::path(dir) / fmt::format("{}.{:03}Z-{}", stamp, ms, commit);
  fs::path path = base.string() + ".json";
  for (int n = 2; fs::exists(path); ++n) path = fmt::format("{}-{}.json", base.string(), n);
  write_atomically(path.string(), doc.dump(2));
  return path.string();
}

std::vector<std::pair<std::string, json>> read_history(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.ends_with(".json")) files.push_back(entry.path().string());
  }
  if (ec) throw UsageError(fmt::format("cannot read folder '{}': {}", dir, ec.message()));
  if (files.empty()) {
    throw UsageError(fmt::format(
        "'{}' holds no result files (*.json); `cpbench run --history {}` adds them", dir, dir));
  }
  // By name without ".json": a run's date and time, then "-2" after the run it shares them with.
  std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    return fs::path(a).stem() < fs::path(b).stem();
  });
  std::vector<std::pair<std::string, json>> runs;
  for (const auto& f : files) runs.emplace_back(f, read_result_file(f));
  return runs;
}

namespace {

std::string text_or(const json& j, const char* fallback) {
  return j.is_string() ? j.get<std::string>() : fallback;
}

json string_field(const json& doc, const char* block, const char* key) {
  if (!doc.contains(block) || !doc[block].is_object()) return nullptr;
  const json& b = doc[block];
  return b.contains(key) && b[key].is_string() ? b[key] : json(nullptr);
}

}  // namespace

json trends(const std::vector<std::pair<std::string, json>>& runs, const CompareOptions& options) {
  json run_list = json::array();
  std::map<std::string, json> series;
  const auto slot = [&](const json& row) -> json& {
    const std::string name = row.at("name").get<std::string>();
    auto [it, fresh] = series.try_emplace(name);
    if (fresh) {
      it->second = {{"name", name},
                    {"family", row.at("family")},
                    {"points", json::array()},
                    {"changes", json::array()}};
    }
    return it->second;
  };
  int faster = 0;
  int slower = 0;
  int failed = 0;
  int regressions = 0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& [file, doc] = runs[i];
    run_list.push_back({{"file", fs::path(file).filename().string()},
                        {"date", string_field(doc, "context", "date")},
                        {"git_commit", string_field(doc, "cpbench", "git_commit")},
                        {"host_name", string_field(doc, "context", "host_name")}});
    // A run against itself gives each benchmark's figure in that run.
    const json self = compare(doc, doc, options);
    for (const auto& row : self.at("comparisons")) {
      json& s = slot(row);
      const json& side = row.contains("base") ? row["base"] : json::object();
      if (side.contains("median")) {
        s["metric"] = row.at("metric");
        s["higher_is_better"] = row.at("higher_is_better");
        s["points"].push_back({{"run", i},
                               {"median", side["median"]},
                               {"min", side["min"]},
                               {"max", side["max"]},
                               {"n", side["n"]}});
      } else if (side.value("errors", 0) > 0) {
        s["points"].push_back({{"run", i}, {"error", side.value("error_message", "")}});
      }
    }
    if (i == 0) continue;
    const json against = compare(runs[i - 1].second, doc, options);
    for (const auto& row : against.at("comparisons")) {
      const std::string verdict = row.at("verdict").get<std::string>();
      if (verdict != "faster" && verdict != "slower" && verdict != "failed") continue;
      (verdict == "faster" ? faster : verdict == "slower" ? slower : failed)++;
      if (row.at("regression").get<bool>()) ++regressions;
      slot(row)["changes"].push_back({{"run", i},
                                      {"verdict", verdict},
                                      {"change", row.value("change", json(nullptr))},
                                      {"p_value", row.value("p_value", json(nullptr))},
                                      {"regression", row.at("regression")}});
    }
  }
  json list = json::array();
  for (auto& [name, s] : series) list.push_back(std::move(s));
  return {{"runs", std::move(run_list)},
          {"options", {{"alpha", options.alpha}, {"threshold", options.thresholds.fallback}}},
          {"series", std::move(list)},
          {"summary",
           {{"runs", runs.size()},
            {"benchmarks", series.size()},
            {"faster", faster},
            {"slower", slower},
            {"failed", failed},
            {"regressions", regressions}}}};
}

std::string render_trend_html(const json& t) {
  // Static, so a preview without JavaScript shows the changes.
  const json& runs = t.at("runs");
  std::string changes;
  for (const auto& s : t.at("series")) {
    for (const auto& c : s.at("changes")) {
      const json& run = runs.at(c.at("run").get<std::size_t>());
      const std::string verdict = c.at("verdict").get<std::string>();
      const std::string change =
          c["change"].is_number() ? fmt::format("{:+.1f}%", 100 * c["change"].get<double>()) : "-";
      const std::string p =
          c["p_value"].is_number() ? fmt::format("{:.3g}", c["p_value"].get<double>()) : "-";
      changes += fmt::format(
          "<tr><td class=l>{}</td><td class=l>{} {}</td><td class=l>{}</td><td class=\"l {}\">{}{}"
          "</td><td>{}</td><td>{}</td></tr>\n",
          c.at("run").get<std::size_t>(), html_escape(text_or(run.at("git_commit"), "?")),
          html_escape(text_or(run.at("date"), "")), html_escape(s.at("name").get<std::string>()),
          verdict == "faster" ? "good" : "bad", verdict,
          c.at("regression").get<bool>() ? " (regression)" : "", change, p);
    }
  }
  const json& sum = t.at("summary");
  std::string block = fmt::format(
      "<p>{} runs, {} benchmarks: {} significant slowdowns ({} beyond the threshold), {} "
      "speed-ups, {} new failures between consecutive runs.</p>\n",
      sum.at("runs").get<int>(), sum.at("benchmarks").get<int>(), sum.at("slower").get<int>(),
      sum.at("regressions").get<int>(), sum.at("faster").get<int>(), sum.at("failed").get<int>());
  if (!changes.empty()) {
    block +=
        "<table><tr><th class=l>run</th><th class=l>commit and date</th><th "
        "class=l>benchmark</th><th class=l>against the run before</th><th>change</th>"
        "<th>p</th></tr>\n" +
        changes + "</table>\n";
  }
  std::string page(kTrendTemplate);
  embed_chartjs(page);
  // The data before the static block: the block may hold any text of the files (a benchmark
  // named "/*CPB_DATA*/"); the data holds no '<', so no marker of the block.
  replace_once(page, "/*CPB_DATA*/", script_safe_json(t));
  replace_once(page, "<!--CPB_CHANGES-->", block);
  return page;
}

}  // namespace cpb::reports
