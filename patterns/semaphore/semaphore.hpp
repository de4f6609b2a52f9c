// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `semaphore` family: counting semaphores. The concept, its scenarios, fixtures and checks.
#pragma once

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "harness/stress/history.hpp"
#include "harness/stress/mutual_exclusion.hpp"
#include "workloads/workload.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::semaphore {

/// A counting semaphore, as `std::counting_semaphore`: `T sem(n)` starts with `n` permits;
/// `acquire` takes one, blocking while there is none; `try_acquire` takes one if there is one;
/// `release(n)` (default 1) returns `n` permits and unblocks up to `n` waiters. A `release`
/// happens-before the `acquire` that takes one of its permits.
template <class T>
concept Semaphore = std::constructible_from<T, std::ptrdiff_t> && requires(T& s, std::ptrdiff_t n) {
  { s.acquire() } -> std::same_as<void>;
  { s.try_acquire() } -> std::same_as<bool>;
  { s.release() } -> std::same_as<void>;
  { s.release(n) } -> std::same_as<void>;
  { T::kName } -> std::convertible_to<std::string_view>;
  { T::kProgress } -> std::convertible_to<Progress>;
};

namespace detail {

/// A semaphore seen as a lock (one permit = the lock), for the stress recorder's holds.
template <class Sem>
struct AsLock {
  Sem& sem;
  void lock() { sem.acquire(); }
  bool try_lock() { return sem.try_acquire(); }
  void unlock() { sem.release(); }
};

/// Takes every permit with try_acquire (at most `limit + 1`), gives them back, and returns how
/// many there were. Only for a quiescent semaphore.
template <Semaphore Sem>
std::ptrdiff_t count_permits(Sem& sem, std::ptrdiff_t limit) {
  std::ptrdiff_t n = 0;
  while (n <= limit && sem.try_acquire()) ++n;
  if (n > 0) sem.release(n);
  return n;
}

/// Two threads pass a ball back and forth through two semaphores: thread 0 releases `ping` and
/// acquires `pong`, thread 1 acquires `ping` and releases `pong`. Each operation is one hand-off
/// received (two per round trip). The ball is a plain counter each side increments when it has
/// the ball: its parity is checked on every hand-off and its total at the end, so a semaphore
/// that lets a thread through without a permit fails (and TSan sees the race).
template <Semaphore Sem>
class Handoff final : public Fixture {
 public:
  void run(benchmark::State& state, bench::Meter& meter) override {
    const bool first = state.thread_index() == 0;
    std::uint64_t wrong = 0;
    meter.begin();
    for (auto _ : state) {
      meter.op([&] {
        if (first) {
          ball_ = ball_ + 1;
          ping_.release();
          pong_.acquire();
          wrong += ball_ % 2 != 0 ? 1 : 0;
        } else {
          ping_.acquire();
          wrong += ball_ % 2 != 1 ? 1 : 0;
          ball_ = ball_ + 1;
          pong_.release();
        }
      });
    }
    meter.end();
    // Relaxed: read after the threads joined.
    wrong_.fetch_add(wrong, std::memory_order_relaxed);
    if (first) rounds_.fetch_add(meter.ops(), std::memory_order_relaxed);
  }

  std::string verify() override {
    const auto wrong = wrong_.load(std::memory_order_relaxed);
    const auto rounds = rounds_.load(std::memory_order_relaxed);
    if (wrong != 0) {
      return fmt::format(
          "{} hand-offs saw the ball on the wrong side: a thread passed acquire "
          "without a permit",
          wrong);
    }
    if (ball_ != 2 * rounds) {
      return fmt::format("the ball was passed {} times in {} round trips", ball_, rounds);
    }
    return {};
  }

 private:
  Sem ping_{0};
  Sem pong_{0};
  alignas(64) std::uint64_t ball_ = 0;
  std::atomic<std::uint64_t> wrong_{0};
  std::atomic<std::uint64_t> rounds_{0};
};

/// A pool of `permits` resources shared by the benchmark threads: each loops { acquire; hold a
/// resource for `hold_ns`; release; `outside_ns` of work }. An occupancy counter checks on every
/// acquisition that no more than `permits` threads hold one, and at the end the semaphore must
/// hold exactly `permits` permits again (none lost, none made up).
template <Semaphore Sem>
class Pool final : public Fixture {
 public:
  Pool(std::int64_t permits, std::int64_t hold_ns, std::int64_t outside_ns)
      : permits_(permits), hold_ns_(hold_ns), outside_ns_(outside_ns), sem_(permits) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    std::uint64_t over = 0;
    meter.begin();
    for (auto _ : state) {
      meter.op([&] {
        sem_.acquire();
        // Relaxed: occupancy is a count; the semaphore orders the holds themselves.
        const auto now = inside_.fetch_add(1, std::memory_order_relaxed) + 1;
        over += now > permits_ ? 1 : 0;
        workloads::spin_ns(hold_ns_);
        inside_.fetch_sub(1, std::memory_order_relaxed);
        sem_.release();
      });
      workloads::spin_ns(outside_ns_);
    }
    meter.end();
    over_.fetch_add(over, std::memory_order_relaxed);  // read after the threads joined
  }

  std::string verify() override {
    if (const auto over = over_.load(std::memory_order_relaxed); over != 0) {
      return fmt::format("{} acquisitions found more than {} holders", over, permits_);
    }
    if (const auto n = count_permits(sem_, permits_); n != permits_) {
      return fmt::format("the semaphore holds {} permits after the run, not {}", n, permits_);
    }
    return {};
  }

 private:
  std::int64_t permits_;
  std::int64_t hold_ns_;
  std::int64_t outside_ns_;
  Sem sem_;
  alignas(64) std::atomic<std::int64_t> inside_{0};
  std::atomic<std::uint64_t> over_{0};
};

/// The most holds (Op.invoke = acquired, Op.response = about to release) that overlap at one
/// instant, and a ticket where that many did. Tickets are unique, so there are no ties.
inline std::pair<std::size_t, std::uint64_t> max_overlap(const stress::History& holds) {
  std::vector<std::pair<std::uint64_t, int>> events;
  events.reserve(2 * holds.size());
  for (const auto& op : holds) {
    events.emplace_back(op.invoke, +1);
    events.emplace_back(op.response, -1);
  }
  std::sort(events.begin(), events.end());
  std::size_t now = 0;
  std::size_t most = 0;
  std::uint64_t at = 0;
  for (const auto& [ticket, delta] : events) {
    now = delta > 0 ? now + 1 : now - 1;
    if (now > most) {
      most = now;
      at = ticket;
    }
  }
  return {most, at};
}

/// The result of an invariant check from a recorded run: an error if the run itself failed (a
/// thread threw or hung: for a semaphore, usually a lost wake-up), a failure if `wrong` says
/// what is wrong, else a pass.
inline stress::CheckResult invariant_result(std::string name, const stress::Recording& rec,
                                            const std::string& wrong, std::uint64_t samples) {
  stress::CheckResult r;
  r.name = std::move(name);
  r.kind = "invariant";
  r.seed = rec.seed;
  r.elapsed_ms = rec.elapsed_ms;
  r.samples = samples;
  r.stats = {{"rounds", static_cast<std::int64_t>(rec.rounds)}};
  if (!rec.engine.ok()) {
    r.verdict = stress::Verdict::kError;
    r.failure = rec.engine.describe() + " (a thread blocked for good: a lost wake-up or permit?)";
  } else if (!wrong.empty()) {
    r.verdict = stress::Verdict::kFail;
    r.failure = wrong;
  }
  if (!r.passed()) r.details = stress::replay_hint(rec.seed);
  return r;
}

inline stress::RecordOptions record_options(const CheckConfig& c, std::size_t threads,
                                            std::size_t operations) {
  stress::RecordOptions o;
  o.threads = threads;
  o.operations = operations;
  o.seed = c.seed;
  // The operations take well under a second; a thread that has not returned by the cap (5 s
  // unless the caller gives a budget) is reported as hung instead of being waited on for long.
  o.time_cap = c.budget.count() > 0 ? c.budget : std::chrono::milliseconds(5000);
  o.grace = std::chrono::milliseconds(3000);
  return o;
}

// -- model tests (the implementation rebound to check::Sync) --------------------------------

using CS = check::Sync;

/// One permit is a lock: three threads (one with try_acquire when it succeeds) increment a
/// race-checked cell; the count must be 3 and the permit back at the end.
template <Semaphore M>
check::TestCase mutual_exclusion_model(std::string name) {
  struct State {
    M sem{1};
    CS::cell<int> count{0};
  };
  const auto critical = [](State& s) {
    s.sem.acquire();
    s.count.store(s.count.load() + 1);
    s.sem.release();
  };
  return check::make_test<State>(std::move(name),
                                 {critical, critical,
                                  [critical](State& s) {
                                    if (s.sem.try_acquire()) {
                                      s.count.store(s.count.load() + 1);
                                      s.sem.release();
                                    } else {
                                      critical(s);
                                    }
                                  }},
                                 [](State& s) {
                                   CPB_CHECK_ASSERT(s.count.load() == 3);
                                   CPB_CHECK_ASSERT(s.sem.try_acquire());
                                   CPB_CHECK_ASSERT(!s.sem.try_acquire());
                                 });
}

/// Two permits, three threads: never more than two holders, and two permits at the end.
template <Semaphore M>
check::TestCase bounded_holders_model(std::string name) {
  struct State {
    M sem{2};
    CS::atomic<int> inside{0};
  };
  const auto hold = [](State& s) {
    CPB_CHECK_ASSERT(s.inside.fetch_add(1) < 2);
    s.inside.fetch_sub(1);
    s.sem.release();
  };
  const auto take = [hold](State& s) {
    s.sem.acquire();
    hold(s);
  };
  return check::make_test<State>(std::move(name),
                                 {take, take,
                                  [hold, take](State& s) {
                                    if (s.sem.try_acquire()) {
                                      hold(s);
                                    } else {
                                      take(s);
                                    }
                                  }},
                                 [](State& s) {
                                   CPB_CHECK_ASSERT(s.sem.try_acquire());
                                   CPB_CHECK_ASSERT(s.sem.try_acquire());
                                   CPB_CHECK_ASSERT(!s.sem.try_acquire());
                                 });
}

/// Ping-pong through two semaphores for two round trips; the ball is a race-checked cell.
template <Semaphore M>
check::TestCase handoff_model(std::string name) {
  struct State {
    M ping{0};
    M pong{0};
    CS::cell<int> ball{0};
  };
  constexpr int kRounds = 2;
  return check::make_test<State>(std::move(name),
                                 {[](State& s) {
                                    for (int r = 0; r < kRounds; ++r) {
                                      s.ball.store(s.ball.load() + 1);
                                      s.ping.release();
                                      s.pong.acquire();
                                      CPB_CHECK_ASSERT(s.ball.load() == 2 * (r + 1));
                                    }
                                  },
                                  [](State& s) {
                                    for (int r = 0; r < kRounds; ++r) {
                                      s.ping.acquire();
                                      CPB_CHECK_ASSERT(s.ball.load() == 2 * r + 1);
                                      s.ball.store(s.ball.load() + 1);
                                      s.pong.release();
                                    }
                                  }});
}

/// Two threads block on an empty semaphore; a third releases two permits at once. Both must
/// wake (a semaphore that wakes one waiter per release(n) deadlocks here), none may be left.
template <Semaphore M>
check::TestCase release_many_model(std::string name) {
  struct State {
    M sem{0};
    CS::cell<int> data{0};
  };
  const auto waiter = [](State& s) {
    s.sem.acquire();
    CPB_CHECK_ASSERT(s.data.load() == 1);
  };
  return check::make_test<State>(std::move(name),
                                 {waiter, waiter,
                                  [](State& s) {
                                    s.data.store(1);
                                    s.sem.release(2);
                                  }},
                                 [](State& s) { CPB_CHECK_ASSERT(!s.sem.try_acquire()); });
}

}  // namespace detail

template <Semaphore T>
struct Family {
  static constexpr std::string_view kName = "semaphore";
  static constexpr std::string_view kDescription = "counting semaphores";
  /// `sem_t`, not `std::counting_semaphore`: libstdc++ 12's can hang `pool` (its `kKnownBug`).
  static constexpr std::string_view kReference = "posix_semaphore";

  static std::vector<Scenario> scenarios() {
    std::vector<Scenario> all{
        {"handoff",
         "two threads pass a permit back and forth through two semaphores (ping-pong); items "
         "are hand-offs, two per round trip",
         {},
         ThreadAxis::fixed({2}),
         64,
         [](const Point&) -> std::unique_ptr<Fixture> {
           return std::make_unique<detail::Handoff<T>>();
         }},
        {"pool",
         "threads share `permits` resources: acquire, hold hold_ns, release, outside_ns of work; "
         "never more than `permits` holders (checked on every acquisition)",
         {{"permits", "permits in the semaphore (resources in the pool)", {1, 2, 4}, {2}},
          {"hold_ns", "time a resource is held, in ns", {200}, {}},
          {"outside_ns", "work between acquisitions, in ns", {200}, {}}},
         ThreadAxis::runners({2, 4}, {4}),
         64,
         [](const Point& p) -> std::unique_ptr<Fixture> {
           return std::make_unique<detail::Pool<T>>(p.get("permits"), p.get("hold_ns"),
                                                    p.get("outside_ns"));
         }},
    };
    // A lost wake-up needs two threads acquiring one semaphore; in `handoff` each semaphore has
    // one acquirer, so an implementation with a known lost wake-up runs only that scenario
    // (else a waiter may sleep for good beside a free permit and the watchdog kills the run).
    if constexpr (requires { T::kKnownBug; }) {
      std::erase_if(all, [](const Scenario& s) { return s.name != "handoff"; });
    }
    return all;
  }

  static std::vector<Check> checks() {
    auto checks = stress_checks();
    if constexpr (sync::sync_templated<T>) {
      using M = sync::rebind_t<T, check::Sync>;
      checks[0].model = check::model_mode(
          [] { return detail::mutual_exclusion_model<M>(check_name("mutual_exclusion")); });
      checks[1].model = check::model_mode(
          [] { return detail::bounded_holders_model<M>(check_name("bounded_holders")); });
      checks[2].model =
          check::model_mode([] { return detail::handoff_model<M>(check_name("handoff")); });
      checks[3].model = check::model_mode(
          [] { return detail::release_many_model<M>(check_name("release_many")); });
    }
    return checks;
  }

 private:
  static std::string check_name(std::string_view check) {
    return fmt::format("semaphore/{}/{}", T::kName, check);
  }

  static std::vector<Check> stress_checks() {
    return {
        {"mutual_exclusion",
         "one permit is a lock: 4 threads take it in turn (acquire and try_acquire); no two "
         "holds may overlap",
         [](const CheckConfig& c) {
           auto sem = std::make_shared<T>(1);  // shared: a hung thread may outlive this call
           auto rec = stress::record(detail::record_options(c, 4, 20'000),
                                     [sem](std::size_t, stress::Rng& rng, stress::Recorder& r) {
                                       detail::AsLock<T> lock{*sem};
                                       const auto section = [] {
                                         for (int i = 0; i < 16; ++i) sync::Real::pause();
                                       };
                                       if (rng.chance(1, 4)) {
                                         r.try_hold(lock, section);
                                       } else {
                                         r.hold(lock, section);
                                       }
                                     });
           if (!rec.engine.ok()) {
             return detail::invariant_result(check_name("mutual_exclusion"), rec, {}, 0);
           }
           auto r = stress::check_mutual_exclusion(rec.history, check_name("mutual_exclusion"),
                                                   rec.seed);
           if (r.passed() && detail::count_permits(*sem, 1) != 1) {
             r.verdict = stress::Verdict::kFail;
             r.failure = "the permit was lost or duplicated";
           }
           return r;
         },
         {}},
        {"bounded_holders",
         "4 threads share 2 permits (acquire and try_acquire); never more than 2 holds overlap, "
         "and 2 permits are left at the end",
         [](const CheckConfig& c) {
           auto sem = std::make_shared<T>(2);
           auto rec = stress::record(detail::record_options(c, 4, 20'000),
                                     [sem](std::size_t, stress::Rng& rng, stress::Recorder& r) {
                                       detail::AsLock<T> lock{*sem};
                                       const auto section = [] {
                                         for (int i = 0; i < 16; ++i) sync::Real::pause();
                                       };
                                       if (rng.chance(1, 4)) {
                                         r.try_hold(lock, section);
                                       } else {
                                         r.hold(lock, section);
                                       }
                                     });
           std::string wrong;
           if (rec.engine.ok()) {
             const auto [most, at] = detail::max_overlap(rec.history);
             if (most > 2) {
               wrong = fmt::format("{} holds overlapped at ticket {} with 2 permits", most, at);
             } else if (const auto n = detail::count_permits(*sem, 2); n != 2) {
               wrong = fmt::format("{} permits left after the run, not 2", n);
             }
           }
           return detail::invariant_result(check_name("bounded_holders"), rec, wrong,
                                           rec.history.size());
         },
         {}},
        {"handoff",
         "2 threads ping-pong through two semaphores; the ball's parity is checked on every "
         "hand-off, and a lost wake-up hangs (reported)",
         [](const CheckConfig& c) {
           struct Shared {
             T ping{0};
             T pong{0};
             std::uint64_t ball = 0;
             std::atomic<std::uint64_t> wrong{0};
           };
           auto s = std::make_shared<Shared>();
           auto rec = stress::record(detail::record_options(c, 2, 10'000),
                                     [s](std::size_t t, stress::Rng&, stress::Recorder&) {
                                       if (t == 0) {
                                         s->ball = s->ball + 1;
                                         s->ping.release();
                                         s->pong.acquire();
                                         if (s->ball % 2 != 0) s->wrong.fetch_add(1);
                                       } else {
                                         s->ping.acquire();
                                         if (s->ball % 2 != 1) s->wrong.fetch_add(1);
                                         s->ball = s->ball + 1;
                                         s->pong.release();
                                       }
                                     });
           std::string wrong;
           if (rec.engine.ok() && s->wrong.load() != 0) {
             wrong = fmt::format("{} hand-offs saw the ball on the wrong side", s->wrong.load());
           }
           // The ball is read only when every thread returned (a hung one may still touch it).
           return detail::invariant_result(check_name("handoff"), rec, wrong,
                                           rec.engine.ok() ? s->ball : 0);
         },
         {}},
        {"release_many",
         "1 thread releases 3 permits at once, 3 threads acquire one each; every waiter must "
         "wake (a lost wake-up hangs, reported) and no permit may be left",
         [](const CheckConfig& c) {
           auto sem = std::make_shared<T>(0);
           auto rec = stress::record(detail::record_options(c, 4, 20'000),
                                     [sem](std::size_t t, stress::Rng&, stress::Recorder&) {
                                       if (t == 0) {
                                         sem->release(3);
                                       } else {
                                         sem->acquire();
                                       }
                                     });
           std::string wrong;
           if (rec.engine.ok()) {
             if (const auto n = detail::count_permits(*sem, 0); n != 0) {
               wrong = fmt::format("{} permits left after every release was acquired", n);
             }
           }
           return detail::invariant_result(check_name("release_many"), rec, wrong, rec.rounds);
         },
         {}},
    };
  }
};

}  // namespace cpb::patterns::semaphore
