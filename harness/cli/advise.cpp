// SPDX-License-Identifier: Apache-2.0
#include "harness/cli/commands.hpp"
#include "harness/core/errors.hpp"
#include "reports/advice.hpp"
#include "reports/html.hpp"
#include "reports/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <unistd.h>

namespace cpb::cli {
namespace {

/// A workload shape: the candidates that serve it, and the flags that describe it.
struct Shape {
  std::string_view name;
  std::string_view what;
  std::string_view family;  ///< regex over families: the candidates
  std::vector<std::string_view> flags;
};

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> s = {
      {"counter",
       "a shared counter: increments with a read every so often",
       "atomic_counter",
       {"threads", "read_pct"}},
      {"lock",
       "a critical section of cpu_ns under a lock, think_ns outside it",
       "mutex",
       {"threads", "cpu_ns", "think_ns"}},
      {"read_mostly",
       "shared data read far more often than written",
       "rw_lock",
       {"threads", "read_pct"}},
      {"tasks",
       "independent tasks of cpu_ns each (or blocking block_us) on a pool",
       "thread_pool",
       {"threads", "cpu_ns", "block_us"}},
      {"requests",
       "HTTP/1.1 requests over loopback TCP: event loops, completions (io_uring), a thread per "
       "connection, a coroutine per connection, an actor per connection",
       "reactor|proactor|coroutine|actor",
       {"connections", "rate"}},
      {"transactions",
       "transfers between accounts, hot_pct of them on a few hot accounts",
       "optimistic_cc|pessimistic_cc",
       {"threads", "accounts", "hot_pct"}},
  };
  return s;
}

std::string known_shapes() {
  std::string out;
  for (const auto& s : shapes()) out += (out.empty() ? "" : ", ") + std::string(s.name);
  return out;
}

/// Fills the options the flags left unset from a workload file (the flags' names as keys).
void read_workload_file(AdviseOptions& o) {
  std::ifstream in(o.file, std::ios::binary);
  if (!in) throw UsageError(fmt::format("cannot read '{}'", o.file));
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(fmt::format("'{}' is not valid JSON: {}", o.file, e.what()));
  }
  if (!j.is_object()) throw UsageError(fmt::format("'{}': expected a JSON object", o.file));
  for (const auto& [k, v] : j.items()) {
    const auto text = [&](std::string& field, const std::string& fallback) {
      if (!v.is_string()) throw UsageError(fmt::format("'{}': '{}' must be a string", o.file, k));
      if (field.empty() || field == fallback) field = v.get<std::string>();
    };
    const auto& figures = advise_figures();
    const auto figure =
        std::find_if(figures.begin(), figures.end(), [&](const auto& f) { return f.name == k; });
    if (figure != figures.end()) {
      if (!v.is_number_integer()) {
        throw UsageError(fmt::format("'{}': '{}' must be an integer", o.file, k));
      }
      if (o.*figure->field < 0) o.*figure->field = v.get<std::int64_t>();
    } else if (k == "workload") {
      text(o.workload, "");
    } else if (k == "goal") {
      text(o.goal, "throughput");
    } else if (k == "threads") {
      if (v.is_array()) {
        std::string t;
        for (const auto& x : v) t += (t.empty() ? "" : ",") + x.dump();
        if (o.threads.empty()) o.threads = t;
      } else {
        text(o.threads, "");
      }
    } else {
      throw UsageError(fmt::format("'{}': unknown key '{}'", o.file, k));
    }
  }
}

std::string dashed(std::string_view flag) {
  std::string s(flag);
  std::replace(s.begin(), s.end(), '_', '-');
  return s;
}

/// The selection that runs `shape` with the user's figures.
bench::Selection selection(const Shape& shape, const AdviseOptions& o) {
  std::vector<std::pair<std::string_view, std::int64_t>> given = {
      {"threads", o.threads.empty() ? -1 : 0}};
  for (const auto& f : advise_figures()) given.emplace_back(f.name, o.*f.field);
  for (const auto& [flag, value] : given) {
    if (value >= 0 &&
        std::find(shape.flags.begin(), shape.flags.end(), flag) == shape.flags.end()) {
      std::string takes;
      for (const auto f : shape.flags) takes += (takes.empty() ? "--" : ", --") + dashed(f);
      throw UsageError(fmt::format("--{} does not describe a '{}' workload (it takes {})",
                                   dashed(flag), shape.name, takes));
    }
  }
  bench::Selection sel;
  sel.family = std::string(shape.family);
  sel.quick = o.run.suite.quick;
  if (!o.threads.empty()) {
    std::vector<int> t;
    for (auto v : parse_int_list("--threads", o.threads, 1, 1024)) t.push_back(static_cast<int>(v));
    sel.threads = t;
  }
  const auto param = [&](const char* name, std::int64_t v) {
    if (v >= 0) sel.params.push_back({name, {v}});
  };
  if (shape.name == "counter") {
    sel.scenario = "increments";
    // read_every: one read per this many increments.
    if (o.read_pct > 100) throw UsageError("--read-pct: at most 100");
    if (o.read_pct == 0) param("read_every", 1 << 20);
    if (o.read_pct > 0) {
      param("read_every",
            std::max<std::int64_t>(1, std::llround(100.0 / static_cast<double>(o.read_pct))));
    }
  } else if (shape.name == "lock") {
    sel.scenario = "contended";
    param("cs_ns", o.cpu_ns);
    param("outside_ns", o.think_ns);
  } else if (shape.name == "read_mostly") {
    sel.scenario = "mixed";
    param("read_pct", o.read_pct);
  } else if (shape.name == "tasks") {
    if (o.block_us > 0) {
      sel.scenario = "blocking_tasks";
      param("block_us", o.block_us);
      if (o.cpu_ns >= 0)
        throw UsageError("--cpu-ns and --block-us: give one kind of task, not both");
    } else {
      sel.scenario = "cpu_tasks";
      param("grain_ns", o.cpu_ns);
    }
  } else if (shape.name == "requests") {
    sel.scenario = o.rate > 0 ? "http_open" : "http";
    param("connections", o.connections);
    if (o.rate > 0) param("rate_rps", o.rate);
  } else if (shape.name == "transactions") {
    sel.scenario = "transfer";
    param("accounts", o.accounts);
    param("hot_pct", o.hot_pct);
  }
  return sel;
}

void print_advice(const nlohmann::json& a) {
  for (const auto& p : a["points"]) {
    std::string params;
    for (const auto& [k, v] : p["params"].items()) params += fmt::format(" {}:{}", k, v.dump());
    std::printf("\n%s%s threads:%d\n", p["scenario"].get<std::string>().c_str(), params.c_str(),
                p["threads"].get<int>());
    int rank = 0;
    for (const auto& r : p["ranking"]) {
      std::printf("  %d. %-40s %s%s\n", ++rank, r["impl"].get<std::string>().c_str(),
                  r["text"].get<std::string>().c_str(),
                  r["baseline"].get<bool>() ? "  (baseline)" : "");
    }
    for (const auto& why : p["reasons"]) std::printf("     - %s\n", why.get<std::string>().c_str());
  }
  std::printf("\nadvice: %s\n", a["overall"]["summary"].get<std::string>().c_str());
}

}  // namespace

int advise(AdviseOptions o) {
  if (!o.file.empty()) read_workload_file(o);
  if (o.workload.empty()) {
    throw UsageError(fmt::format("--workload: say which (known: {})", known_shapes()));
  }
  const auto it = std::find_if(shapes().begin(), shapes().end(),
                               [&](const Shape& s) { return s.name == o.workload; });
  if (it == shapes().end()) {
    throw UsageError(
        fmt::format("--workload: unknown workload '{}' (known: {})", o.workload, known_shapes()));
  }
  const reports::Goal goal = reports::Goal::parse(o.goal);
  o.run.selection = selection(*it, o);
  const auto cases = bench::plan(Registry::instance(), o.run.selection);

  const auto& s = o.run.suite;
  const double per_case = s.run.warmup_s + 3 * s.run.min_time_s + 0.05;
  const double estimate = static_cast<double>(cases.size()) * s.repetitions * per_case;
  std::set<std::string> impls;
  for (const auto& c : cases) impls.insert(c.impl->family + "/" + std::string(c.impl->name));
  std::printf("workload: %s (%s); goal: %s\n", it->name.data(), it->what.data(), goal.name.c_str());
  std::printf("candidates: %s\n", fmt::format("{}", fmt::join(impls, ", ")).c_str());
  std::printf("plan: %zu cases x %d repetitions, about %.0f s\n", cases.size(), s.repetitions,
              estimate);
  if (o.dry_run) {
    for (const auto& c : cases) std::printf("  %s\n", c.name.c_str());
    return 0;
  }

  reports::check_writable(o.run.out);
  if (!o.run.html.empty()) reports::check_writable(o.run.html);
  auto doc = run_document(o.run, cases);
  doc["cpbench"]["options"]["command"] = "advise";
  doc["cpbench"]["options"]["workload"] = it->name;
  reports::ResultFile file(o.run.out, std::move(doc));
  auto suite = o.run.suite;
  suite.progress = isatty(STDERR_FILENO) != 0;
  const int failed = bench::run_suite(cases, suite, file);

  nlohmann::json out = file.doc();
  out["advice"] = reports::advise(out, goal);
  out["advice"]["workload"] = it->name;
  reports::write_atomically(o.run.out, out.dump(2));
  print_advice(out["advice"]);
  std::printf("\nresults: %s\n", o.run.out.c_str());
  if (!o.run.html.empty()) {
    reports::write_atomically(o.run.html, reports::render_html(out));
    std::printf("report:  %s\n", o.run.html.c_str());
  }
  if (failed > 0) {
    std::fprintf(stderr, "cpbench: %d benchmark run(s) failed; see error_message in %s\n", failed,
                 o.run.out.c_str());
    return 1;
  }
  return 0;
}

}  // namespace cpb::cli
