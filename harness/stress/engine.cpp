// SPDX-License-Identifier: Apache-2.0
#include "harness/stress/engine.hpp"

#include "harness/bench/pinning.hpp"
#include "harness/stress/result.hpp"

#include <fmt/format.h>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

namespace cpb::stress {
namespace {

using Clock = std::chrono::steady_clock;

/// Phases published per actor for the watchdog.
enum Phase : std::uint64_t { kWaiting = 0, kRunning = 1, kExited = 2 };

constexpr std::uint64_t encode(std::uint64_t stride, Phase p) { return (stride << 2U) | p; }

/// Everything the actor threads touch. Shared ownership: a hung actor's detached thread keeps
/// it (and the hooks, and whatever they captured) alive after run_strides returns.
struct Shared {
  Shared(const EngineOptions& o, std::shared_ptr<EngineHooks> h)
      : options(o),
        hooks(std::move(h)),
        n(o.actor_names.size()),
        barrier(o.actor_names.size(),
                o.actor_names.size() <= bench::allowed_cpus().size() ? 2048U : 32U),
        progress(o.actor_names.size()),
        exited(o.actor_names.size(), false),
        cpus(o.actor_names.size(), -1) {}

  const EngineOptions options;
  const std::shared_ptr<EngineHooks> hooks;
  const std::size_t n;
  SpinBarrier barrier;
  std::atomic<bool> abort{false};
  Clock::time_point start = Clock::now();

  // Written only inside the barrier's completion (by the last arriver) and read by the actors
  // after the barrier releases them: the barrier orders both.
  bool started = false;
  bool stop = false;
  std::uint64_t stride = 0;
  std::vector<std::uint32_t> delays;

  std::atomic<std::uint64_t> completed{0};
  /// encode(stride, 1) while end_stride runs, else encode(stride, 0). For the watchdog.
  std::atomic<std::uint64_t> boundary{0};
  std::vector<std::atomic<std::uint64_t>> progress;

  std::mutex m;  // guards everything below
  std::condition_variable cv;
  std::vector<bool> exited;
  std::size_t exited_count = 0;
  std::vector<int> cpus;
  EngineReport::Problem problem = EngineReport::Problem::kNone;
  std::size_t bad_actor = EngineReport::kBoundary;
  std::uint64_t bad_stride = 0;
  std::string message;

  void fail(EngineReport::Problem p, std::size_t actor, std::uint64_t s, std::string what) {
    {
      std::lock_guard lk(m);
      if (problem == EngineReport::Problem::kNone) {
        problem = p;
        bad_actor = actor;
        bad_stride = s;
        message = std::move(what);
      }
    }
    abort.store(true);
  }

  /// The completion step at a stride boundary; runs with every other actor waiting.
  void boundary_step() {
    const auto elapsed = Clock::now() - start;
    bool satisfied = false;  // before the first stride nothing is satisfied yet
    if (started) {
      // Relaxed: only the watchdog reads this, as a hint of where a hang is.
      boundary.store(encode(stride, kRunning), std::memory_order_relaxed);
      try {
        satisfied = hooks->end_stride(stride);
      } catch (const std::exception& e) {
        fail(EngineReport::Problem::kThrew, EngineReport::kBoundary, stride, e.what());
      } catch (...) {
        fail(EngineReport::Problem::kThrew, EngineReport::kBoundary, stride,
             "an exception that is not a std::exception");
      }
      boundary.store(encode(stride, kWaiting), std::memory_order_relaxed);  // a hint, as above
      completed.fetch_add(1);
      ++stride;
    }
    // Never stop before the first stride: a slow start (a loaded machine, a sanitizer) must
    // not turn into a run that checked nothing.
    stop = started && ((options.max_strides != 0 && stride >= options.max_strides) ||
                       elapsed >= options.max_time || (elapsed >= options.min_time && satisfied));
    started = true;
    if (options.jitter) {
      delays = stride_delays(options.seed, stride, n);
    } else {
      delays.assign(n, 0);
    }
    if (!stop && hooks->begin_stride) {
      try {
        hooks->begin_stride(stride);
      } catch (const std::exception& e) {
        fail(EngineReport::Problem::kThrew, EngineReport::kBoundary, stride, e.what());
      } catch (...) {
        fail(EngineReport::Problem::kThrew, EngineReport::kBoundary, stride,
             "an exception that is not a std::exception");
      }
    }
  }

  void actor_main(std::size_t a) {
    if (options.pin) {
      const int cpu = bench::pin_current_thread(static_cast<int>(a));
      std::lock_guard lk(m);
      cpus[a] = cpu;
    }
    for (;;) {
      if (abort.load()) break;
      if (!barrier.arrive_and_wait([this] { boundary_step(); }, abort)) break;
      if (stop || abort.load()) break;
      const std::uint64_t s = stride;
      // Relaxed: progress is a hint for the watchdog only.
      progress[a].store(encode(s, kRunning), std::memory_order_relaxed);
      for (std::uint32_t i = 0; i < delays[a]; ++i) sync::Real::pause();
      try {
        hooks->run_actor(a, s);
      } catch (const std::exception& e) {
        fail(EngineReport::Problem::kThrew, a, s, e.what());
        break;
      } catch (...) {
        fail(EngineReport::Problem::kThrew, a, s, "an exception that is not a std::exception");
        break;
      }
      progress[a].store(encode(s, kWaiting), std::memory_order_relaxed);  // a hint, as above
    }
    progress[a].store(encode(0, kExited), std::memory_order_relaxed);  // a hint, as above
    {
      std::lock_guard lk(m);
      exited[a] = true;
      ++exited_count;
    }
    cv.notify_all();
  }
};

}  // namespace

std::string EngineReport::describe() const {
  if (ok()) return {};
  const std::string who =
      actor == kBoundary ? actor_name : fmt::format("actor {} ({})", actor, actor_name);
  if (problem == Problem::kThrew)
    return fmt::format("{} threw in stride {}: {}", who, stride, message);
  return fmt::format("{} did not return in stride {}: {}", who, stride, message);
}

std::vector<std::uint32_t> stride_delays(std::uint64_t seed, std::uint64_t stride,
                                         std::size_t actors) {
  std::vector<std::uint32_t> d(actors, 0);
  Rng rng(mix64(seed ^ mix64(stride)));
  // 3 strides in 4 start together; in the 4th one actor is held back by 1..32 pauses.
  if (actors > 1 && rng.below(4) == 0) {
    d[rng.below(actors)] = 1 + static_cast<std::uint32_t>(rng.below(32));
  }
  return d;
}

EngineReport run_strides(const EngineOptions& options, std::shared_ptr<EngineHooks> hooks) {
  auto shared = std::make_shared<Shared>(options, std::move(hooks));
  std::vector<std::thread> threads;
  threads.reserve(shared->n);
  for (std::size_t a = 0; a < shared->n; ++a) {
    threads.emplace_back([shared, a] { shared->actor_main(a); });
  }

  EngineReport report;
  const auto deadline = shared->start + options.max_time + options.grace;
  std::unique_lock lk(shared->m);
  if (!shared->cv.wait_until(lk, deadline, [&] { return shared->exited_count == shared->n; })) {
    // The watchdog fires: name who is stuck, and where.
    std::size_t stuck = EngineReport::kBoundary;
    std::uint64_t stuck_stride = 0;
    for (std::size_t a = 0; a < shared->n; ++a) {
      const std::uint64_t p = shared->progress[a].load(std::memory_order_relaxed);  // a hint
      if (!shared->exited[a] && (p & 3U) == kRunning) {
        stuck = a;
        stuck_stride = p >> 2U;
        break;
      }
    }
    if (stuck == EngineReport::kBoundary) {
      stuck_stride = shared->boundary.load(std::memory_order_relaxed) >> 2U;  // a hint
    }
    const auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(options.max_time);
    std::string what = fmt::format("still running {} ms after the {} ms budget ran out",
                                   options.grace.count(), budget.count());
    if (shared->problem == EngineReport::Problem::kNone) {
      shared->problem = EngineReport::Problem::kHung;
      shared->bad_actor = stuck;
      shared->bad_stride = stuck_stride;
      shared->message = std::move(what);
    } else {
      shared->message += fmt::format("; then a thread hung ({})", what);
    }
    shared->abort.store(true);
    // Give the healthy actors a moment to leave their barrier wait.
    shared->cv.wait_for(lk, std::chrono::milliseconds(500),
                        [&] { return shared->exited_count + 1 >= shared->n; });
  }
  for (std::size_t a = 0; a < shared->n; ++a) {
    if (shared->exited[a]) {
      lk.unlock();
      threads[a].join();
      lk.lock();
    } else {
      threads[a].detach();  // it keeps `shared` alive; we cannot wait for it
    }
  }
  report.problem = shared->problem;
  report.actor = shared->bad_actor;
  report.actor_name = shared->bad_actor == EngineReport::kBoundary
                          ? std::string("end-of-stride step (arbiter)")
                          : options.actor_names[shared->bad_actor];
  report.stride = shared->bad_stride;
  report.message = shared->message;
  report.cpus = shared->cpus;
  lk.unlock();
  report.strides = shared->completed.load();
  report.elapsed_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - shared->start).count();
  return report;
}

}  // namespace cpb::stress
