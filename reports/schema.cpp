// SPDX-License-Identifier: Apache-2.0
#include "reports/schema.hpp"

#include "harness/core/errors.hpp"
#include "reports/build_info.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>
#include <unistd.h>

namespace cpb::reports {
namespace {

using nlohmann::json;

std::string iso_date() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
  return buf;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

/// The numeric fields aggregated over repetitions, as JSON pointers.
const std::vector<std::string>& aggregated_fields() {
  static const std::vector<std::string> f = {"/real_time",
                                             "/cpu_time",
                                             "/items_per_second",
                                             "/wall_time_s",
                                             "/fairness",
                                             "/latency_ns/p50",
                                             "/latency_ns/p90",
                                             "/latency_ns/p99",
                                             "/latency_ns/p999",
                                             "/latency_ns/max",
                                             "/cpu_user_ns_per_item",
                                             "/cpu_sys_ns_per_item",
                                             "/cpu_utilization",
                                             "/voluntary_csw_per_item",
                                             "/involuntary_csw_per_item",
                                             "/allocs_per_item",
                                             "/alloc_bytes_per_item",
                                             "/peak_rss_kb",
                                             "/rss_growth_kb",
                                             "/threads_peak"};
  return f;
}

const std::vector<std::string>& derived_keys() {
  static const std::vector<std::string> k = {"items_per_second_min",
                                             "items_per_second_max",
                                             "vs_reference",
                                             "vs_best_baseline",
                                             "scaling",
                                             "primary"};
  return k;
}

std::string key_of(const json& e, bool with_impl, bool with_threads) {
  std::string k = e.value("family", "") + "|" + e.value("scenario", "") + "|" +
                  e.value("params", json::object()).dump();
  if (with_impl) k += "|" + e.value("impl", "");
  if (with_threads) k += "|" + std::to_string(e.value("threads", 0));
  return k;
}

}  // namespace

json machine_context() {
  const auto& cpu = benchmark::CPUInfo::Get();
  json caches = json::array();
  for (const auto& c : cpu.caches) {
    caches.push_back(
        {{"type", c.type}, {"level", c.level}, {"size", c.size}, {"num_sharing", c.num_sharing}});
  }
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  char exe[4096] = {};
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  return {{"date", iso_date()},
          {"host_name", host},
          {"executable", n > 0 ? std::string(exe, static_cast<std::size_t>(n)) : ""},
          {"num_cpus", cpu.num_cpus},
          {"mhz_per_cpu", static_cast<int>(cpu.cycles_per_second / 1e6)},
          {"cpu_scaling_enabled", cpu.scaling == benchmark::CPUInfo::Scaling::ENABLED},
          {"caches", caches},
          {"load_avg", cpu.load_avg},
          {"library_build_type", kBuildType == std::string("Debug") ? "debug" : "release"}};
}

json build_info() {
  return {{"schema_version", kSchemaVersion},
          {"version", kVersion},
          {"git_commit", kGitCommit},
          {"compiler", kCompiler},
          {"flags", kFlags},
          {"build_type", kBuildType},
          {"preset", kPreset},
          {"sanitizers", kSanitizers}};
}

void write_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw std::runtime_error(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
    out << content;
    out.flush();
    if (!out)
      throw std::runtime_error(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw std::runtime_error(fmt::format("cannot write {}: {}", path, why));
  }
}

void check_writable(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  if (p.filename().empty())
    throw UsageError(fmt::format("'{}' is a folder, not a file name", path));
  std::error_code ec;
  if (fs::is_directory(p, ec))
    throw UsageError(fmt::format("'{}' is a folder, not a file name", path));
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    throw UsageError(
        fmt::format("cannot write '{}': folder '{}' does not exist", path, dir.string()));
  }
  if (access(dir.c_str(), W_OK) != 0) {
    throw UsageError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  }
}

namespace {

enum class Kind : std::uint8_t { kString, kBool, kInteger, kNumber, kNumberOrNull, kObject };

/// The type every field that cpbench's readers use must have, where it is present.
const std::map<std::string, Kind>& entry_fields() {
  static const std::map<std::string, Kind> f = [] {
    std::map<std::string, Kind> m;
    for (const char* k : {"name", "run_name", "run_type", "family", "impl", "scenario", "progress",
                          "aggregate_name", "aggregate_unit", "time_unit", "error_message"}) {
      m[k] = Kind::kString;
    }
    for (const char* k : {"error_occurred", "baseline", "primary", "pinned"}) m[k] = Kind::kBool;
    for (const char* k : {"threads", "family_index", "per_family_instance_index", "repetitions",
                          "repetition_index", "gb_threads"}) {
      m[k] = Kind::kInteger;
    }
    for (const char* k : {"iterations", "real_time", "cpu_time", "items", "items_per_second",
                          "items_per_second_min", "items_per_second_max", "wall_time_s"}) {
      m[k] = Kind::kNumber;
    }
    m["fairness"] = Kind::kNumberOrNull;
    for (const char* k :
         {"params", "counters", "latency_ns", "vs_reference", "vs_best_baseline", "scaling"}) {
      m[k] = Kind::kObject;
    }
    return m;
  }();
  return f;
}

bool has_kind(const json& v, Kind k) {
  switch (k) {
    case Kind::kString:
      return v.is_string();
    case Kind::kBool:
      return v.is_boolean();
    case Kind::kInteger:
      return v.is_number_integer();
    case Kind::kNumber:
      return v.is_number();
    case Kind::kNumberOrNull:
      return v.is_number() || v.is_null();
    case Kind::kObject:
      return v.is_object();
  }
  return false;
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kString:
      return "a string";
    case Kind::kBool:
      return "true or false";
    case Kind::kInteger:
      return "an integer";
    case Kind::kNumber:
      return "a number";
    case Kind::kNumberOrNull:
      return "a number or null";
    case Kind::kObject:
      return "an object";
  }
  return "?";
}

/// Throws UsageError naming the first entry and field whose type the readers cannot use.
void validate(const json& doc, const std::string& what) {
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
    throw UsageError(fmt::format("'{}' is not a result file: no 'benchmarks' array", what));
  }
  for (const char* block : {"context", "cpbench"}) {
    if (doc.contains(block) && !doc[block].is_object()) {
      throw UsageError(fmt::format("'{}': '{}' is not an object", what, block));
    }
  }
  if (doc.contains("cpbench") && doc["cpbench"].contains("families")) {
    const json& fams = doc["cpbench"]["families"];
    bool ok = fams.is_object();
    for (const auto& f : fams) {
      ok = ok && f.is_object() && (!f.contains("reference") || f["reference"].is_string());
    }
    if (!ok) throw UsageError(fmt::format("'{}': cpbench.families is malformed", what));
  }
  if (doc.contains("checks") && !doc["checks"].is_array()) {
    throw UsageError(fmt::format("'{}': 'checks' is not an array", what));
  }
  std::size_t i = 0;
  for (const auto& e : doc["benchmarks"]) {
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) {
      throw UsageError(fmt::format("'{}' is not a result file: entry {} has no 'name'", what, i));
    }
    for (const auto& [field, kind] : entry_fields()) {
      if (e.contains(field) && !has_kind(e[field], kind)) {
        throw UsageError(fmt::format("'{}': entry {} ('{}'): '{}' must be {}", what, i,
                                     e["name"].get<std::string>(), field, kind_name(kind)));
      }
    }
    for (const char* nested : {"params", "counters", "latency_ns"}) {
      if (!e.contains(nested)) continue;
      for (const auto& [k, v] : e[nested].items()) {
        if (!v.is_number()) {
          throw UsageError(fmt::format("'{}': entry {} ('{}'): '{}.{}' must be a number", what, i,
                                       e["name"].get<std::string>(), nested, k));
        }
      }
    }
    ++i;
  }
}

}  // namespace

json parse_result(std::string_view text, const std::string& what) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    // The parser quotes what it last read, which may hold line breaks: keep the message one line.
    std::string why = e.what();
    std::replace_if(
        why.begin(), why.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    throw UsageError(fmt::format("'{}' is not valid JSON: {}", what, why));
  }
  validate(doc, what);
  return doc;
}

json read_result_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_result(ss.str(), path);
}

void finalize(json& doc) {
  auto& all = doc["benchmarks"];
  json entries = json::array();
  for (auto& e : all) {
    if (e.value("run_type", "iteration") != "iteration") continue;
    for (const auto& k : derived_keys()) e.erase(k);
    entries.push_back(e);
  }

  // Group the repetitions of each case, in order of first appearance.
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (e.value("error_occurred", false)) continue;
    const std::string rn = e.value("run_name", e["name"].get<std::string>());
    if (groups[rn].empty()) order.push_back(rn);
    groups[rn].push_back(i);
  }

  json out = entries;
  std::map<std::string, std::size_t> primary;  // run_name -> index into out
  for (const auto& rn : order) {
    const auto& idx = groups[rn];
    if (idx.size() < 2) {
      primary[rn] = idx.front();
      continue;
    }
    const json& first = entries[idx.front()];
    std::vector<std::string> fields = aggregated_fields();
    const json counters = first.value("counters", json::object());
    for (const auto& c : counters.items()) {
      fields.push_back((json::json_pointer("/counters") / c.key()).to_string());
      // Written flat too, where Google Benchmark's tools read user counters.
      if (first.contains(c.key()) && first[c.key()].is_number()) {
        fields.push_back((json::json_pointer() / c.key()).to_string());
      }
    }
    for (const std::string agg : {"mean", "median", "stddev", "cv"}) {
      json a;
      for (const char* k : {"family", "impl", "baseline", "progress", "scenario", "params",
                            "threads", "family_index", "per_family_instance_index", "repetitions",
                            "time_unit", "pinned", "placement"}) {
        if (first.contains(k)) a[k] = first[k];
      }
      a["name"] = rn + "_" + agg;
      a["run_name"] = rn;
      a["run_type"] = "aggregate";
      a["aggregate_name"] = agg;
      a["aggregate_unit"] = agg == "cv" ? "percentage" : "time";
      a["iterations"] = idx.size();  // as Google Benchmark writes it: the repetitions aggregated
      for (const auto& f : fields) {
        const json::json_pointer ptr(f);
        std::vector<double> v;
        for (auto i : idx) {
          if (entries[i].contains(ptr) && entries[i][ptr].is_number()) {
            v.push_back(entries[i][ptr].get<double>());
          }
        }
        if (v.empty()) continue;
        double x = 0;
        if (agg == "mean") x = mean(v);
        if (agg == "median") x = median(v);
        if (agg == "stddev") x = stddev(v);
        if (agg == "cv") x = mean(v) != 0 ? stddev(v) / mean(v) : 0;
        a[ptr] = x;
      }
      if (agg == "median") {
        std::vector<double> ips;
        for (auto i : idx) ips.push_back(entries[i].value("items_per_second", 0.0));
        a["items_per_second_min"] = *std::min_element(ips.begin(), ips.end());
        a["items_per_second_max"] = *std::max_element(ips.begin(), ips.end());
        primary[rn] = out.size();
      }
      out.push_back(std::move(a));
    }
  }

  // Ratios to the family's reference and to its fastest baseline, and speed-up across thread
  // counts.
  const auto cp = doc.find("cpbench");
  const json families =
      cp != doc.end() && cp->is_object() ? cp->value("families", json::object()) : json::object();
  std::map<std::string, double> reference;  // family|scenario|params|threads -> ips
  std::map<std::string, std::pair<std::string, double>> best;  // the same -> fastest baseline
  std::map<std::string, std::pair<int, double>> fewest;        // family|scenario|params|impl
  for (const auto& [rn, i] : primary) {
    const auto& e = out[i];
    const std::string fam = e.value("family", "");
    const double ips = e.value("items_per_second", 0.0);
    if (families.contains(fam) && families[fam].value("reference", "") == e.value("impl", "")) {
      reference[key_of(e, false, true)] = ips;
    }
    if (e.value("baseline", false)) {
      auto& b = best[key_of(e, false, true)];
      if (b.first.empty() || ips > b.second) b = {e.value("impl", ""), ips};
    }
    auto& f = fewest[key_of(e, true, false)];
    const int t = e.value("threads", 0);
    if (f.first == 0 || t < f.first) f = {t, ips};
  }
  for (const auto& [rn, i] : primary) {
    auto& e = out[i];
    e["primary"] = true;
    const double ips = e.value("items_per_second", 0.0);
    const auto r = reference.find(key_of(e, false, true));
    const std::string fam = e.value("family", "");
    if (r != reference.end() && r->second > 0) {
      e["vs_reference"] = {{"impl", families[fam].value("reference", "")},
                           {"throughput_ratio", ips / r->second}};
    }
    const auto b = best.find(key_of(e, false, true));
    if (!e.value("baseline", false) && b != best.end() && b->second.second > 0) {
      e["vs_best_baseline"] = {{"impl", b->second.first},
                               {"throughput_ratio", ips / b->second.second}};
    }
    const auto& [t0, ips0] = fewest[key_of(e, true, false)];
    const int t = e.value("threads", 0);
    if (t0 > 0 && ips0 > 0 && t != t0) {
      const double speedup = ips / ips0;
      e["scaling"] = {{"base_threads", t0},
                      {"speedup", speedup},
                      {"efficiency", speedup * t0 / static_cast<double>(t)}};
    }
  }
  // Registry order (family, implementation, scenario, point), each case's repetitions before its
  // aggregates: the order Google Benchmark writes. Execution order is in repetition_index.
  std::stable_sort(out.begin(), out.end(), [](const json& a, const json& b) {
    const auto rank = [](const json& e) {
      return std::tuple(e.value("family_index", 0), e.value("per_family_instance_index", 0),
                        e.value("run_type", "iteration") == "aggregate" ? 1 : 0,
                        e.value("repetition_index", 0));
    };
    return rank(a) < rank(b);
  });
  all = std::move(out);
}

ResultFile::ResultFile(std::string path, json doc) : path_(std::move(path)), doc_(std::move(doc)) {
  if (!doc_.contains("benchmarks")) doc_["benchmarks"] = json::array();
  if (!doc_.contains("checks")) doc_["checks"] = json::array();
  flush();
}

void ResultFile::add(json entry) {
  doc_["benchmarks"].push_back(std::move(entry));
  flush();
}

void ResultFile::add_check(json check) {
  doc_["checks"].push_back(std::move(check));
  flush();
}

void ResultFile::set(const std::string& key, json value) {
  doc_["cpbench"][key] = std::move(value);
  flush();
}

void ResultFile::finalize() {
  reports::finalize(doc_);
  flush();
}

void ResultFile::flush() { write_atomically(path_, doc_.dump(2)); }

}  // namespace cpb::reports
