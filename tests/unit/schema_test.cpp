// SPDX-License-Identifier: Apache-2.0
#include "reports/schema.hpp"

#include "harness/core/errors.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

namespace cpb::reports {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

/// One repetition of a case, as the suite writes it.
json iteration(const std::string& impl, int threads, int family_index, int instance,
               int repetitions, int repetition, double ips) {
  const std::string name = "fake/" + impl + "/count/size:1/threads:" + std::to_string(threads);
  return {{"name", name},
          {"family_index", family_index},
          {"per_family_instance_index", instance},
          {"run_name", name},
          {"run_type", "iteration"},
          {"repetitions", repetitions},
          {"repetition_index", repetition},
          {"threads", threads},
          {"family", "fake"},
          {"impl", impl},
          {"baseline", impl == "beta"},
          {"progress", "blocking"},
          {"scenario", "count"},
          {"params", {{"size", 1}}},
          {"iterations", 1000 + repetition},
          {"real_time", 1e9 / ips},
          {"cpu_time", 2e9 / ips},
          {"time_unit", "ns"},
          {"items", 1000},
          {"wall_time_s", 1000 / ips},
          {"items_per_second", ips},
          {"latency_ns",
           {{"samples", 10}, {"p50", ips / 10}, {"p90", 1}, {"p99", 2}, {"p999", 3}, {"max", 4}}},
          {"per_thread_items", json::array()},
          {"fairness", threads > 1 ? json(1.0) : json(nullptr)},
          {"gb_threads", threads},
          {"placement", json::array()},
          {"pinned", false},
          {"error_occurred", false}};
}

/// Throughput of each repetition, by impl and threads. alpha at 1 thread has a fourth repetition
/// that failed, with an absurd throughput that must not reach any aggregate.
const std::map<std::pair<std::string, int>, std::vector<double>> kIps = {
    {{"alpha", 1}, {500, 700, 600}},
    {{"alpha", 2}, {1000, 900, 1500}},
    {{"beta", 1}, {100, 300, 200}},
    {{"beta", 2}, {400, 380, 420}},
};

json sample_doc() {
  json doc;
  doc["context"] = {{"num_cpus", 2}};
  doc["cpbench"] = {
      {"schema_version", kSchemaVersion},
      {"families", {{"fake", {{"description", "a fake family"}, {"reference", "beta"}}}}}};
  doc["checks"] = json::array();
  json b = json::array();
  // Execution order: interleaved, as the suite shuffles.
  for (int rep = 0; rep < 3; ++rep) {
    for (const auto& [impl, threads] : std::vector<std::pair<std::string, int>>{
             {"beta", 2}, {"alpha", 1}, {"beta", 1}, {"alpha", 2}}) {
      const int fi = impl == "alpha" ? 0 : 1;
      const int reps = impl == "alpha" && threads == 1 ? 4 : 3;
      b.push_back(iteration(impl, threads, fi, threads - 1, reps, rep,
                            kIps.at({impl, threads})[static_cast<std::size_t>(rep)]));
    }
  }
  json failed = iteration("alpha", 1, 0, 0, 4, 3, 1e12);
  failed["error_occurred"] = true;
  failed["error_message"] = "verification failed: lost updates";
  b.push_back(failed);
  // A case run once: its only entry is its primary entry.
  for (const auto& [impl, ips] :
       std::vector<std::pair<std::string, double>>{{"alpha", 50}, {"beta", 25}}) {
    json e = iteration(impl, 1, impl == "alpha" ? 2 : 3, 0, 1, 0, ips);
    e["scenario"] = "once";
    e["name"] = e["run_name"] = "fake/" + impl + "/once/threads:1";
    b.push_back(e);
  }
  doc["benchmarks"] = b;
  return doc;
}

const json& find(const json& doc, const std::string& name) {
  for (const auto& e : doc["benchmarks"]) {
    if (e["name"] == name) return e;
  }
  static const json none;
  ADD_FAILURE() << "no entry named " << name;
  return none;
}

std::string run_name(const std::string& impl, int threads) {
  return "fake/" + impl + "/count/size:1/threads:" + std::to_string(threads);
}

TEST(Finalize, AddsGoogleBenchmarkAggregates) {
  json doc = sample_doc();
  finalize(doc);
  for (const auto& [key, ips] : kIps) {
    const std::string rn = run_name(key.first, key.second);
    for (const std::string agg : {"mean", "median", "stddev", "cv"}) {
      const json& a = find(doc, rn + "_" + agg);
      SCOPED_TRACE(a.dump());
      EXPECT_EQ(a["run_name"], rn);
      EXPECT_EQ(a["run_type"], "aggregate");
      EXPECT_EQ(a["aggregate_name"], agg);
      EXPECT_EQ(a["aggregate_unit"], agg == "cv" ? "percentage" : "time");
      EXPECT_EQ(a["threads"], key.second);
      EXPECT_EQ(a["impl"], key.first);
      EXPECT_EQ(a["family"], "fake");
      EXPECT_EQ(a["time_unit"], "ns");
      EXPECT_EQ(a["repetitions"], key.first == "alpha" && key.second == 1 ? 4 : 3);
      EXPECT_TRUE(a.contains("real_time"));
      EXPECT_TRUE(a.contains("cpu_time"));
      EXPECT_FALSE(a.contains("repetition_index"));
    }
  }
  // 4 cases x (3 or 4 repetitions) + 4 x 4 aggregates + 2 single runs.
  EXPECT_EQ(doc["benchmarks"].size(), 13U + 16 + 2);
  // Single runs get no aggregates.
  for (const auto& e : doc["benchmarks"]) {
    EXPECT_EQ(e["name"].get<std::string>().find("/once/threads:1_"), std::string::npos);
  }
}

TEST(Finalize, MedianAndSpreadAreRight) {
  json doc = sample_doc();
  finalize(doc);
  const json& med = find(doc, run_name("alpha", 2) + "_median");
  EXPECT_DOUBLE_EQ(med["items_per_second"].get<double>(), 1000);
  EXPECT_DOUBLE_EQ(med["real_time"].get<double>(), 1e9 / 1000);
  EXPECT_DOUBLE_EQ(med["latency_ns"]["p50"].get<double>(), 100);
  // Google Benchmark writes the number of repetitions aggregated, as an integer.
  ASSERT_TRUE(med["iterations"].is_number_integer());
  EXPECT_EQ(med["iterations"].get<int>(), 3);
  EXPECT_DOUBLE_EQ(med["items_per_second_min"].get<double>(), 900);
  EXPECT_DOUBLE_EQ(med["items_per_second_max"].get<double>(), 1500);

  const double mean = (1000.0 + 900 + 1500) / 3;
  const double sd = std::sqrt(((1000 - mean) * (1000 - mean) + (900 - mean) * (900 - mean) +
                               (1500 - mean) * (1500 - mean)) /
                              2);
  EXPECT_NEAR(find(doc, run_name("alpha", 2) + "_mean")["items_per_second"].get<double>(), mean,
              1e-9);
  EXPECT_NEAR(find(doc, run_name("alpha", 2) + "_stddev")["items_per_second"].get<double>(), sd,
              1e-9);
  EXPECT_NEAR(find(doc, run_name("alpha", 2) + "_cv")["items_per_second"].get<double>(), sd / mean,
              1e-12);
  // Min and max belong on the median entry only.
  EXPECT_FALSE(find(doc, run_name("alpha", 2) + "_mean").contains("items_per_second_min"));

  EXPECT_DOUBLE_EQ(find(doc, run_name("beta", 1) + "_median")["items_per_second"].get<double>(),
                   200);
  // fairness is null at one thread: no number to aggregate, so the aggregate has none.
  EXPECT_FALSE(find(doc, run_name("beta", 1) + "_median").contains("fairness"));
  EXPECT_DOUBLE_EQ(find(doc, run_name("beta", 2) + "_median")["fairness"].get<double>(), 1.0);
}

TEST(Finalize, FailedRepetitionsAreKeptButNotAggregated) {
  json doc = sample_doc();
  finalize(doc);
  int failed = 0;
  for (const auto& e : doc["benchmarks"]) {
    if (e.value("error_occurred", false)) {
      ++failed;
      EXPECT_EQ(e["run_type"], "iteration");
      EXPECT_EQ(e["error_message"], "verification failed: lost updates");
      EXPECT_FALSE(e.contains("vs_reference"));
    }
  }
  EXPECT_EQ(failed, 1);
  const std::string rn = run_name("alpha", 1);
  EXPECT_DOUBLE_EQ(find(doc, rn + "_median")["items_per_second"].get<double>(), 600);
  EXPECT_DOUBLE_EQ(find(doc, rn + "_median")["items_per_second_max"].get<double>(), 700);
  EXPECT_DOUBLE_EQ(find(doc, rn + "_mean")["items_per_second"].get<double>(), 600);
}

TEST(Finalize, RatiosToTheReferenceAndScaling) {
  json doc = sample_doc();
  finalize(doc);
  const auto ratio = [&](const std::string& name) {
    const json& e = find(doc, name);
    EXPECT_EQ(e["vs_reference"]["impl"], "beta") << name;
    return e["vs_reference"]["throughput_ratio"].get<double>();
  };
  EXPECT_DOUBLE_EQ(ratio(run_name("alpha", 1) + "_median"), 600.0 / 200);
  EXPECT_DOUBLE_EQ(ratio(run_name("alpha", 2) + "_median"), 1000.0 / 400);
  EXPECT_DOUBLE_EQ(ratio(run_name("beta", 1) + "_median"), 1.0);
  EXPECT_DOUBLE_EQ(ratio(run_name("beta", 2) + "_median"), 1.0);
  EXPECT_DOUBLE_EQ(ratio("fake/alpha/once/threads:1"), 2.0);  // a single run is its own primary

  // Derived fields live on primary entries only.
  for (const auto& e : doc["benchmarks"]) {
    const bool primary =
        e["run_type"] == "aggregate" ? e["aggregate_name"] == "median" : e["repetitions"] == 1;
    if (primary) continue;
    EXPECT_FALSE(e.contains("vs_reference")) << e["name"];
    EXPECT_FALSE(e.contains("scaling")) << e["name"];
    EXPECT_FALSE(e.contains("items_per_second_min")) << e["name"];
  }

  const json& a2 = find(doc, run_name("alpha", 2) + "_median");
  EXPECT_EQ(a2["scaling"]["base_threads"], 1);
  EXPECT_DOUBLE_EQ(a2["scaling"]["speedup"].get<double>(), 1000.0 / 600);
  EXPECT_DOUBLE_EQ(a2["scaling"]["efficiency"].get<double>(), 1000.0 / 600 / 2);
  const json& b2 = find(doc, run_name("beta", 2) + "_median");
  EXPECT_DOUBLE_EQ(b2["scaling"]["speedup"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(b2["scaling"]["efficiency"].get<double>(), 1.0);
  // The base thread count has no scaling block.
  EXPECT_FALSE(find(doc, run_name("alpha", 1) + "_median").contains("scaling"));
  EXPECT_FALSE(find(doc, "fake/alpha/once/threads:1").contains("scaling"));
}

TEST(Finalize, RatiosToTheFastestBaseline) {
  json doc = sample_doc();
  // gamma: a second baseline, run once per point; faster than beta at 1 thread only.
  for (const auto& [threads, ips] : {std::pair{1, 900.0}, std::pair{2, 100.0}}) {
    json e = iteration("gamma", threads, 4, threads - 1, 1, 0, ips);
    e["baseline"] = true;
    doc["benchmarks"].push_back(e);
  }
  finalize(doc);
  const json& a1 = find(doc, run_name("alpha", 1) + "_median");
  EXPECT_EQ(a1["vs_best_baseline"]["impl"], "gamma");
  EXPECT_DOUBLE_EQ(a1["vs_best_baseline"]["throughput_ratio"].get<double>(), 600.0 / 900);
  const json& a2 = find(doc, run_name("alpha", 2) + "_median");
  EXPECT_EQ(a2["vs_best_baseline"]["impl"], "beta");
  EXPECT_DOUBLE_EQ(a2["vs_best_baseline"]["throughput_ratio"].get<double>(), 1000.0 / 400);
  // Baselines are not compared with each other.
  for (const auto& e : doc["benchmarks"]) {
    if (e["baseline"].get<bool>()) {
      EXPECT_FALSE(e.contains("vs_best_baseline")) << e["name"];
    }
  }
}

TEST(Finalize, CountersAreAggregatedLikeMeasurements) {
  json doc = sample_doc();
  for (auto& e : doc["benchmarks"]) {
    e["counters"] = {{"aborts", e["items_per_second"].get<double>() / 10}};
  }
  finalize(doc);
  // alpha at 2 threads: 1000, 900, 1500 items/s, so aborts 100, 90, 150.
  const json& median = find(doc, run_name("alpha", 2) + "_median");
  EXPECT_DOUBLE_EQ(median["counters"]["aborts"].get<double>(), 100.0);
  const json& mean = find(doc, run_name("alpha", 2) + "_mean");
  EXPECT_DOUBLE_EQ(mean["counters"]["aborts"].get<double>(), (100.0 + 90 + 150) / 3);
}

TEST(Finalize, OrdersEntriesAsGoogleBenchmarkDoes) {
  json doc = sample_doc();
  finalize(doc);
  std::vector<std::string> first;
  for (std::size_t i = 0; i < 8; ++i) first.push_back(doc["benchmarks"][i]["name"]);
  const std::string a1 = run_name("alpha", 1);
  const std::vector<std::string> want = {
      a1, a1, a1, a1, a1 + "_mean", a1 + "_median", a1 + "_stddev", a1 + "_cv"};
  EXPECT_EQ(first, want);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(doc["benchmarks"][static_cast<std::size_t>(i)]["repetition_index"], i);
  }
}

TEST(Finalize, IsIdempotent) {
  json once = sample_doc();
  finalize(once);
  json twice = once;
  finalize(twice);
  EXPECT_EQ(once, twice) << json::diff(once, twice).dump(1);
}

TEST(Finalize, NoRatioWhenTheReferenceDidNotRun) {
  json doc = sample_doc();
  doc["cpbench"]["families"]["fake"]["reference"] = "gamma";
  finalize(doc);
  for (const auto& e : doc["benchmarks"]) {
    EXPECT_FALSE(e.contains("vs_reference")) << e["name"];
  }
}

/// A fresh empty folder under the temporary directory, removed at the end of the test.
class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("cpb_unit_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& content) const {
    std::ofstream(path(name)) << content;
  }
  [[nodiscard]] std::vector<std::string> listing() const {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(dir_)) v.push_back(e.path().filename().string());
    return v;
  }

  fs::path dir_;
};

std::string usage_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no UsageError";
  return {};
}

using ResultFiles = TempDir;

TEST_F(ResultFiles, MissingFileIsAUsageError) {
  const auto p = path("missing.json");
  const auto msg = usage_error_of([&] { read_result_file(p); });
  EXPECT_NE(msg.find("cannot read '" + p + "'"), std::string::npos) << msg;
}

TEST_F(ResultFiles, MalformedJsonIsAUsageError) {
  write("bad.json", R"({"benchmarks": [)");
  const auto msg = usage_error_of([&] { read_result_file(path("bad.json")); });
  EXPECT_NE(msg.find("is not valid JSON"), std::string::npos) << msg;
}

TEST_F(ResultFiles, JsonWithoutBenchmarksIsAUsageError) {
  for (const char* text : {R"({"context": {}})", R"({"benchmarks": {}})", R"([1, 2])",
                           R"({"benchmarks": [{"nom": "x"}]})"}) {
    write("other.json", text);
    const auto msg = usage_error_of([&] { read_result_file(path("other.json")); });
    EXPECT_NE(msg.find("is not a result file"), std::string::npos) << text << ": " << msg;
  }
}

TEST_F(ResultFiles, ReadsWhatItWrote) {
  json doc = sample_doc();
  finalize(doc);
  write_atomically(path("r.json"), doc.dump(2));
  EXPECT_EQ(read_result_file(path("r.json")), doc);
}

TEST_F(ResultFiles, WriteAtomicallyLeavesNoTemporaryFile) {
  write_atomically(path("out.json"), "first");
  write_atomically(path("out.json"), "second");
  EXPECT_EQ(listing(), std::vector<std::string>{"out.json"});
  std::ifstream in(path("out.json"));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "second");

  EXPECT_THROW(write_atomically(path("no/such/folder/out.json"), "x"), std::runtime_error);
  EXPECT_EQ(listing(), std::vector<std::string>{"out.json"});
}

TEST_F(ResultFiles, CheckWritable) {
  EXPECT_NO_THROW(check_writable(path("new.json")));
  const auto missing = path("nope/out.json");
  const auto msg = usage_error_of([&] { check_writable(missing); });
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  const auto folder = usage_error_of([&] { check_writable(dir_.string()); });
  EXPECT_NE(folder.find("is a folder"), std::string::npos) << folder;
  EXPECT_TRUE(listing().empty());  // checking writes nothing
}

TEST_F(ResultFiles, ResultFileIsRewrittenOnEveryAdd) {
  json doc;
  doc["cpbench"] = build_info();
  ResultFile f(path("live.json"), doc);
  EXPECT_EQ(read_result_file(path("live.json"))["benchmarks"].size(), 0U);
  EXPECT_TRUE(read_result_file(path("live.json"))["checks"].is_array());
  f.add(iteration("alpha", 1, 0, 0, 1, 0, 10));
  EXPECT_EQ(read_result_file(path("live.json"))["benchmarks"].size(), 1U);
  f.set("options", {{"repetitions", 1}});
  EXPECT_EQ(read_result_file(path("live.json"))["cpbench"]["options"]["repetitions"], 1);
  EXPECT_EQ(read_result_file(path("live.json"))["cpbench"]["schema_version"], kSchemaVersion);
  EXPECT_EQ(listing(), std::vector<std::string>{"live.json"});
}

TEST(MachineContext, HasGoogleBenchmarksContextFields) {
  const json c = machine_context();
  for (const char* k : {"date", "host_name", "executable", "num_cpus", "mhz_per_cpu",
                        "cpu_scaling_enabled", "caches", "load_avg", "library_build_type"}) {
    EXPECT_TRUE(c.contains(k)) << k;
  }
  EXPECT_GT(c["num_cpus"].get<int>(), 0);
  const json b = build_info();
  for (const char* k : {"schema_version", "version", "git_commit", "compiler", "flags",
                        "build_type", "preset", "sanitizers"}) {
    EXPECT_TRUE(b.contains(k)) << k;
  }
}

}  // namespace
}  // namespace cpb::reports

TEST(ReadResult, AFieldOfTheWrongTypeIsNamedInOneLine) {
  using cpb::reports::parse_result;
  EXPECT_NO_THROW(parse_result(R"({"benchmarks": [{"name": "a/b/c", "threads": 2}]})", "f"));
  const auto message = [](const char* text) {
    try {
      parse_result(text, "f.json");
    } catch (const cpb::UsageError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message(R"({"benchmarks": [{"name": "a/b/c", "threads": "2"}]})"),
            "'f.json': entry 0 ('a/b/c'): 'threads' must be an integer");
  EXPECT_EQ(message(R"({"benchmarks": [{"name": "x", "params": {"n": "big"}}]})"),
            "'f.json': entry 0 ('x'): 'params.n' must be a number");
  EXPECT_EQ(message(R"({"benchmarks": [], "cpbench": {"families": {"m": {"reference": 3}}}})"),
            "'f.json': cpbench.families is malformed");
  EXPECT_EQ(message(R"({"benchmarks": [{"name": 5}]})"),
            "'f.json' is not a result file: entry 0 has no 'name'");
  const std::string broken = message("{\"benchmarks\": [\n\n");
  EXPECT_NE(broken.find("is not valid JSON"), std::string::npos);
  EXPECT_EQ(broken.find('\n'), std::string::npos);  // one line, whatever the input held
}
