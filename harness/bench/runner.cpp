// SPDX-License-Identifier: Apache-2.0
#include "harness/bench/runner.hpp"

#include "harness/bench/cost.hpp"
#include "harness/bench/pinning.hpp"
#include "harness/core/errors.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace cpb::bench {
namespace {

/// Keeps the runs Google Benchmark reports instead of printing them.
class CaptureReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context& /*context*/) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    runs_.insert(runs_.end(), runs.begin(), runs.end());
  }
  [[nodiscard]] const std::vector<Run>& runs() const { return runs_; }

 private:
  std::vector<Run> runs_;
};

/// Jain's fairness index of the per-thread rates: 1 when all threads progressed at the same rate,
/// 1/n when one thread did all the work.
double jain(const std::vector<double>& x) {
  double sum = 0;
  double sq = 0;
  for (double v : x) {
    sum += v;
    sq += v * v;
  }
  return sq > 0 ? sum * sum / (static_cast<double>(x.size()) * sq) : 1.0;
}

/// An entry for a run that measured nothing. It keeps Google Benchmark's timing fields (as zero)
/// because its tools read them from every entry.
nlohmann::json error_entry(const std::string& message) {
  return {{"error_occurred", true}, {"error_message", message}, {"iterations", 0},
          {"real_time", 0.0},       {"cpu_time", 0.0},          {"time_unit", "ns"}};
}

nlohmann::json measurements(const std::vector<Meter>& meters, bool per_thread_fairness) {
  Histogram merged;
  std::uint64_t items = 0;
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::vector<std::uint64_t> per_thread;
  std::vector<double> rates;
  for (const auto& m : meters) {
    start = std::max(start, m.start_ns());  // the last thread to arrive releases the barrier
    end = std::max(end, m.end_ns());
  }
  for (const auto& m : meters) {
    merged.merge(m.histogram());
    items += m.ops();
    per_thread.push_back(m.ops());
    // Each thread's rate over its own active span, from the common start: a thread that waited
    // at the start barrier is not charged for it.
    const std::uint64_t stop = m.last_ns() > start ? m.last_ns() : m.end_ns();
    const std::uint64_t active = stop > start ? stop - start : 0;
    rates.push_back(active > 0 ? static_cast<double>(m.ops()) / static_cast<double>(active) : 0);
  }
  const double wall_s = end > start ? static_cast<double>(end - start) * 1e-9 : 0;
  nlohmann::json j;
  j["items"] = items;
  j["wall_time_s"] = wall_s;
  j["items_per_second"] = wall_s > 0 ? static_cast<double>(items) / wall_s : 0.0;
  j["latency_ns"] = {{"samples", merged.count()},      {"p50", merged.quantile(0.5)},
                     {"p90", merged.quantile(0.9)},    {"p99", merged.quantile(0.99)},
                     {"p999", merged.quantile(0.999)}, {"max", merged.max()}};
  j["per_thread_items"] = per_thread;
  j["fairness"] = per_thread_fairness ? nlohmann::json(jain(rates)) : nlohmann::json(nullptr);
  return j;
}

}  // namespace

nlohmann::json run_here(const Case& c, const RunOptions& opt) {
  std::unique_ptr<Fixture> fixture;
  try {
    fixture = c.scenario->make(c.point);
  } catch (const UsageError& e) {  // bad input or SetupError: no later case can run either
    nlohmann::json j = error_entry(e.what());
    j["setup_error"] = true;  // run_suite stops here with exit code 2
    return j;
  } catch (const std::exception& e) {
    return error_entry(fmt::format("setting up the fixture failed: {}", e.what()));
  }
  const bool owned = c.scenario->threads.kind == ThreadAxis::Kind::kOwned;
  const int gb_threads = owned ? 1 : c.point.threads;
  std::vector<Meter> meters(static_cast<std::size_t>(gb_threads));
  for (auto& m : meters) m.configure(c.scenario->sample_every);
  std::vector<int> placement(static_cast<std::size_t>(gb_threads), -1);
  std::mutex thrown_mutex;
  std::string thrown;  // the first exception any benchmark thread threw
  // Thread 0 takes the process's counters as it enters and leaves each trial; the last trial's
  // are the reported ones.
  const std::int64_t rss_start_kb = reset_peak_rss_kb();
  CostSnapshot cost_begin;
  CostSnapshot cost_end;
  std::int64_t threads_seen = -1;

  benchmark::ClearRegisteredBenchmarks();
  auto* b = benchmark::RegisterBenchmark(c.name.c_str(), [&](benchmark::State& state) {
    const auto i = static_cast<std::size_t>(state.thread_index());
    // A scenario whose implementation owns its workers leaves the driver unpinned: workers that
    // the implementation starts from the driver thread would inherit its single CPU.
    if (opt.pin && !owned) placement[i] = pin_current_thread(state.thread_index());
    try {
      // Google Benchmark starts threads 1..n-1 before it runs thread 0 on this thread, so they
      // are all alive when it enters; workers that the trial starts are alive when it leaves.
      if (i == 0) {
        threads_seen = std::max(threads_seen, proc_status(getpid(), "Threads"));
        cost_begin = CostSnapshot::now();
      }
      fixture->run(state, meters[i]);
      if (i == 0) {
        cost_end = CostSnapshot::now();
        threads_seen = std::max(threads_seen, proc_status(getpid(), "Threads"));
      }
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(thrown_mutex);
        if (thrown.empty()) thrown = e.what();
      }
      state.SkipWithError("the benchmark threw an exception");
    }
  });
  b->Threads(gb_threads)->UseRealTime()->Unit(benchmark::kNanosecond);
  b->MinTime(opt.min_time_s);
  if (opt.warmup_s > 0) b->MinWarmUpTime(opt.warmup_s);

  // Google Benchmark runs thread 0 on this thread, which the benchmark pins: restore its
  // affinity afterwards, or threads that a later fixture creates would inherit one CPU.
  cpu_set_t affinity;
  const bool saved = pthread_getaffinity_np(pthread_self(), sizeof affinity, &affinity) == 0;
  CaptureReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::ClearRegisteredBenchmarks();
  if (saved) pthread_setaffinity_np(pthread_self(), sizeof affinity, &affinity);

  if (reporter.runs().empty()) return error_entry("Google Benchmark reported no run");
  const auto& run = reporter.runs().back();
  nlohmann::json j = measurements(meters, !owned && gb_threads > 1);
  j["iterations"] = run.iterations;
  j["real_time"] = run.GetAdjustedRealTime();
  j["cpu_time"] = run.GetAdjustedCPUTime();
  j["time_unit"] = "ns";
  j["gb_threads"] = run.threads;
  j["placement"] = placement;
  j["counters"] = nlohmann::json::object();
  for (const auto& [name, counter] : run.counters) j["counters"][name] = counter.value;
  if (!run.report_label.empty()) j["label"] = run.report_label;  // State::SetLabel
  j.update(cost_fields(cost_begin, cost_end, j["items"].get<std::uint64_t>()));
  const std::int64_t peak_kb = proc_status(getpid(), "VmHWM");
  j["peak_rss_kb"] = peak_kb;
  j["rss_growth_kb"] = std::max<std::int64_t>(0, peak_kb - rss_start_kb);
  j["threads_peak"] = threads_seen;
  j["pinned"] = opt.pin && !owned &&
                std::all_of(placement.begin(), placement.end(), [](int cpu) { return cpu >= 0; });
  // User counters flat as well, as Google Benchmark writes them, unless a name is one of ours.
  for (const auto& [name, counter] : run.counters) {
    if (!j.contains(name)) j[name] = counter.value;
  }
  if (run.error_occurred) {
    j["error_occurred"] = true;
    j["error_message"] = thrown.empty() ? run.error_message : thrown;
    return j;
  }
  std::string wrong;
  try {
    wrong = fixture->verify();
  } catch (const std::exception& e) {
    wrong = fmt::format("verification threw: {}", e.what());
  }
  j["error_occurred"] = !wrong.empty();
  if (!wrong.empty()) j["error_message"] = "verification failed: " + wrong;
  return j;
}

nlohmann::json run_isolated(const Case& c, const RunOptions& opt) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return error_entry(fmt::format("pipe: {}", std::strerror(errno)));
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return error_entry(fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    try {
      out = run_here(c, opt).dump();
    } catch (const std::exception& e) {
      out = error_entry(fmt::format("the benchmark threw: {}", e.what())).dump();
    }
    for (std::size_t done = 0; done < out.size();) {
      const ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);

  std::string out;
  bool timed_out = false;
  std::int64_t threads_peak = -1;  // sampled from /proc while the child runs
  const auto deadline = now_ns() + static_cast<std::uint64_t>(opt.timeout_s * 1e9);
  for (;;) {
    const std::uint64_t t = now_ns();
    if (t >= deadline) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int left_ms =
        static_cast<int>(std::min<std::uint64_t>((deadline - t) / 1'000'000 + 1, 50));
    const int r = poll(&p, 1, left_ms);
    threads_peak = std::max(threads_peak, proc_status(pid, "Threads"));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[65536];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of file: the child is done or died
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return error_entry(
        fmt::format("timed out: still running after {} s; killed by the watchdog", opt.timeout_s));
  }
  if (WIFSIGNALED(status)) {
    return error_entry(fmt::format("crashed: killed by signal {} ({})", WTERMSIG(status),
                                   strsignal(WTERMSIG(status))));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.empty()) {
    return error_entry(fmt::format("the benchmark process exited with status {} and no result",
                                   WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  }
  try {
    auto j = nlohmann::json::parse(out);
    if (j.contains("threads_peak")) {
      j["threads_peak"] = std::max(j["threads_peak"].get<std::int64_t>(), threads_peak);
    }
    return j;
  } catch (const nlohmann::json::exception& e) {
    return error_entry(fmt::format("unreadable result from the benchmark process: {}", e.what()));
  }
}

}  // namespace cpb::bench
