// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `actor` family: actors that share nothing and talk by messages, on a runtime that owns
/// `threads` workers. The concept, the Savina scenarios (ping-pong, counting, fork-join
/// throughput, thread ring, chameneos, big), the fault scenario (own runtime only: CAF 0.17 has
/// no supervisors), their fixtures, and the model check of the mailbox hand-off.
///
/// Every scenario has one driver thread. One operation = one complete run of the benchmark
/// (its actors are spawned once, before timing), counted as the messages the actors handle in
/// it. Each actor counts what it receives in its own slot (plain data: one actor runs at a
/// time, and each trial ends with a message chain into the driver's latch), and every trial
/// checks the counts and the result (the counter's total, the meetings, the hops): a runtime
/// that loses, duplicates or invents a message fails verification.
#pragma once

#include "harness/bench/histogram.hpp"
#include "harness/check/explore.hpp"
#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "patterns/actor/mailbox.hpp"
#include "patterns/actor/message.hpp"
#include "patterns/actor/runtime.hpp"
#include "patterns/reactor/reactor.hpp"
#include "patterns/reactor/server.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::actor {

namespace detail {
template <class R>
struct ProbeHandler {
  void operator()(typename R::context& /*ctx*/, const Msg& /*m*/) const {}
};
}  // namespace detail

/// An actor runtime for the Savina scenarios: `R rt(workers)` starts `workers` workers;
/// `rt.spawn(h)` makes an actor whose handler `h(ctx, msg)` runs for each message, one at a
/// time (`ctx.send(ref, msg)` sends from inside a handler); `rt.send(ref, msg)` sends from
/// outside. Destroying the runtime stops its actors and joins its workers.
template <class R>
concept Runtime = std::constructible_from<R, std::size_t> &&
    requires(R& r, typename R::context& ctx, const typename R::ref_type& ref, const Msg& m) {
  { r.spawn(detail::ProbeHandler<R>{}) } -> std::same_as<typename R::ref_type>;
  r.send(ref, m);
  ctx.send(ref, m);
  { R::kName } -> std::convertible_to<std::string_view>;
  { R::kProgress } -> std::convertible_to<Progress>;
};

/// The message tags of the scenarios.
enum Tag : std::uint64_t {
  kStart,
  kPing,
  kPong,
  kInc,
  kGet,
  kResult,
  kWork,
  kToken,
  kMeet,
  kMate,
  kStop
};

/// A bijective mix (splitmix64's finalizer): the fork-join actors' work, and random choices.
constexpr std::uint64_t mix(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

namespace detail {

inline std::uint64_t to_count(std::int64_t v) { return v > 0 ? static_cast<std::uint64_t>(v) : 0; }

/// The driver waits here until `n` actors arrived.
class Latch {
 public:
  void reset(std::uint64_t n) {
    std::lock_guard lk(m_);
    left_ = n;
  }
  void arrive() {
    std::lock_guard lk(m_);  // notify under the lock: the driver may reset or leave right after
    if (--left_ == 0) cv_.notify_all();
  }
  void wait() {
    std::unique_lock lk(m_);
    cv_.wait(lk, [this] { return left_ == 0; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::uint64_t left_ = 0;
};

/// The frame of a Savina scenario: `actors` actors whose handler is `handle(k, ctx, msg)`,
/// a per-actor reception count, and a trial = `start()`, then wait for `arrivals()` arrivals.
/// Every trial ends quiescent (its last message arrives at the latch, and `arrive` is the last
/// thing a handler does), so no handler runs when the runtime (the last member) is destroyed.
template <Runtime R, class Derived>
class Savina : public Fixture {
 public:
  Savina(int workers, std::size_t actors)
      : received_(actors), rt_(static_cast<std::size_t>(workers)) {
    refs_.reserve(actors);
    for (std::size_t k = 0; k < actors; ++k) {
      refs_.push_back(rt_.spawn([this, k](typename R::context& ctx, const Msg& m) {
        ++received_[k];
        static_cast<Derived*>(this)->handle(k, ctx, m);
      }));
    }
  }

  void run(benchmark::State& state, bench::Meter& meter) override {
    meter.begin();
    for (auto _ : state) meter.op([&] { trial(); }, self().messages());
    meter.end();
  }

  std::string verify() override {
    trial();
    return wrong_;
  }

 protected:
  void send(typename R::context& ctx, std::size_t to, const Msg& m) { ctx.send(refs_[to], m); }
  void send(std::size_t to, const Msg& m) { rt_.send(refs_[to], m); }
  void arrive() { latch_.arrive(); }

 private:
  Derived& self() { return *static_cast<Derived*>(this); }

  void trial() {
    for (auto& r : received_) r = 0;
    self().reset();
    latch_.reset(self().arrivals());
    self().start();
    latch_.wait();
    if (!wrong_.empty()) return;
    std::uint64_t total = 0;
    for (auto r : received_) total += r;
    if (total != self().messages()) {
      wrong_ = fmt::format("the actors handled {} messages, expected {}", total, self().messages());
      return;
    }
    wrong_ = self().check();
  }

  std::vector<std::uint64_t> received_;  // slot k: actor k only
  Latch latch_;
  std::string wrong_;  // driver only

 protected:
  std::vector<typename R::ref_type> refs_;  // set up before the first message
  R rt_;                                    // last: destroyed first
};

/// Ping-pong: `pairs` pairs; the driver starts each ping actor, which plays `pings` round trips
/// with its pong actor.
template <Runtime R>
class PingPong final : public Savina<R, PingPong<R>> {
 public:
  PingPong(int workers, std::uint64_t pairs, std::uint64_t pings)
      : Savina<R, PingPong<R>>(workers, 2 * pairs), pairs_(pairs), pings_(pings), pongs_(pairs) {}
  void handle(std::size_t k, typename R::context& ctx, const Msg& m) {
    const std::size_t pair = k / 2;
    if (k % 2 == 1) {  // pong
      this->send(ctx, k - 1, {kPong, m.a, 0});
    } else if (m.tag == kStart) {
      this->send(ctx, k + 1, {kPing, pings_, 0});
    } else {
      ++pongs_[pair];
      if (m.a == 1) {
        this->arrive();
      } else {
        this->send(ctx, k + 1, {kPing, m.a - 1, 0});
      }
    }
  }
  void reset() {
    for (auto& p : pongs_) p = 0;
  }
  void start() {
    for (std::size_t i = 0; i < pairs_; ++i) this->send(2 * i, {kStart, 0, 0});
  }
  [[nodiscard]] std::uint64_t arrivals() const { return pairs_; }
  [[nodiscard]] std::uint64_t messages() const { return pairs_ * (2 * pings_ + 1); }
  std::string check() {
    for (std::size_t i = 0; i < pairs_; ++i) {
      if (pongs_[i] != pings_)
        return fmt::format("pair {} got {} pongs of {}", i, pongs_[i], pings_);
    }
    return {};
  }

 private:
  const std::uint64_t pairs_, pings_;
  std::vector<std::uint64_t> pongs_;  // slot i: ping actor i only
};

/// Counting: a producer sends `messages` increments to a counter, then asks for its total.
template <Runtime R>
class Counting final : public Savina<R, Counting<R>> {
 public:
  Counting(int workers, std::uint64_t n) : Savina<R, Counting<R>>(workers, 2), n_(n) {}
  void handle(std::size_t k, typename R::context& ctx, const Msg& m) {
    if (k == 1) {  // the counter
      if (m.tag == kInc) {
        total_ += m.a;
      } else {
        this->send(ctx, 0, {kResult, total_, 0});
        total_ = 0;
      }
    } else if (m.tag == kStart) {
      for (std::uint64_t i = 0; i < n_; ++i) this->send(ctx, 1, {kInc, 1, 0});
      this->send(ctx, 1, {kGet, 0, 0});
    } else {
      result_ = m.a;
      this->arrive();
    }
  }
  void reset() { result_ = 0; }
  void start() { this->send(0, {kStart, 0, 0}); }
  [[nodiscard]] std::uint64_t arrivals() const { return 1; }
  [[nodiscard]] std::uint64_t messages() const { return n_ + 3; }
  std::string check() {
    return result_ == n_ ? "" : fmt::format("the counter reached {} of {}", result_, n_);
  }

 private:
  const std::uint64_t n_;
  std::uint64_t total_ = 0;   // the counter only
  std::uint64_t result_ = 0;  // the producer only
};

/// Fork-join throughput (fan-out): the driver sends `messages` messages to each of `actors`
/// actors, round robin; each does a little work per message and arrives after its last.
template <Runtime R>
class ForkJoin final : public Savina<R, ForkJoin<R>> {
 public:
  ForkJoin(int workers, std::uint64_t actors, std::uint64_t n)
      : Savina<R, ForkJoin<R>>(workers, actors), actors_(actors), n_(n), state_(actors) {}
  void handle(std::size_t k, typename R::context& /*ctx*/, const Msg& m) {
    State& s = state_[k];
    s.sum += mix(m.a);
    if (++s.count == n_) this->arrive();
  }
  void reset() {
    for (auto& s : state_) s = {};
  }
  void start() {
    for (std::uint64_t i = 0; i < n_; ++i) {
      for (std::size_t k = 0; k < actors_; ++k) this->send(k, {kWork, i, 0});
    }
  }
  [[nodiscard]] std::uint64_t arrivals() const { return actors_; }
  [[nodiscard]] std::uint64_t messages() const { return actors_ * n_; }
  std::string check() {
    std::uint64_t want = 0;
    for (std::uint64_t i = 0; i < n_; ++i) want += mix(i);
    for (std::size_t k = 0; k < actors_; ++k) {
      if (state_[k].sum != want) return fmt::format("actor {}'s checksum is wrong", k);
    }
    return {};
  }

 private:
  struct State {
    std::uint64_t count = 0;
    std::uint64_t sum = 0;
  };
  const std::uint64_t actors_, n_;
  std::vector<State> state_;  // slot k: actor k only
};

/// Thread ring: a token passes `hops` times around a ring of `actors` actors.
template <Runtime R>
class ThreadRing final : public Savina<R, ThreadRing<R>> {
 public:
  ThreadRing(int workers, std::uint64_t actors, std::uint64_t hops)
      : Savina<R, ThreadRing<R>>(workers, actors), actors_(actors), hops_(hops) {}
  void handle(std::size_t k, typename R::context& ctx, const Msg& m) {
    if (m.a == 0) {
      last_ = k;
      this->arrive();
    } else {
      this->send(ctx, (k + 1) % actors_, {kToken, m.a - 1, 0});
    }
  }
  void reset() { last_ = actors_; }
  void start() { this->send(0, {kToken, hops_, 0}); }
  [[nodiscard]] std::uint64_t arrivals() const { return 1; }
  [[nodiscard]] std::uint64_t messages() const { return hops_ + 1; }
  std::string check() {
    return last_ == hops_ % actors_
               ? ""
               : fmt::format("the token stopped at actor {}, expected {}", last_, hops_ % actors_);
  }

 private:
  const std::uint64_t actors_, hops_;
  std::uint64_t last_ = 0;  // the actor the token stops at
};

/// Chameneos: `creatures` creatures meet pairwise at a mall (actor 0) until `meetings` meetings
/// took place; each meeting changes both creatures' colours.
template <Runtime R>
class Chameneos final : public Savina<R, Chameneos<R>> {
 public:
  Chameneos(int workers, std::uint64_t creatures, std::uint64_t meetings)
      : Savina<R, Chameneos<R>>(workers, creatures + 1),
        c_(creatures),
        m_(meetings),
        colour_(creatures + 1),
        met_(creatures + 1) {}
  void handle(std::size_t k, typename R::context& ctx, const Msg& m) {
    if (k == 0) {
      mall(ctx, m);
      return;
    }
    if (m.tag == kStop) {
      this->arrive();
      return;
    }
    if (m.tag == kMate) {
      ++met_[k];
      colour_[k] = colour_[k] == m.b ? colour_[k] : 3 - colour_[k] - m.b;  // the complement
    }
    this->send(ctx, 0, {kMeet, k, colour_[k]});
  }
  void reset() {
    for (std::size_t k = 0; k <= c_; ++k) {
      colour_[k] = k % 3;
      met_[k] = 0;
    }
    meetings_ = 0;
    waiting_ = 0;
  }
  void start() {
    for (std::size_t k = 1; k <= c_; ++k) this->send(k, {kStart, 0, 0});
  }
  [[nodiscard]] std::uint64_t arrivals() const { return c_; }
  [[nodiscard]] std::uint64_t messages() const { return 3 * c_ + 4 * m_; }
  std::string check() {
    std::uint64_t met = 0;
    for (auto x : met_) met += x;
    if (meetings_ != m_ || met != 2 * m_) {
      return fmt::format("{} meetings and {} creature meetings, expected {} and {}", meetings_, met,
                         m_, 2 * m_);
    }
    return {};
  }

 private:
  void mall(typename R::context& ctx, const Msg& m) {
    if (meetings_ == m_) {
      this->send(ctx, m.a, {kStop, 0, 0});
    } else if (waiting_ == 0) {
      waiting_ = m.a;
      waiting_colour_ = m.b;
    } else {
      ++meetings_;
      this->send(ctx, m.a, {kMate, waiting_, waiting_colour_});
      this->send(ctx, waiting_, {kMate, m.a, m.b});
      waiting_ = 0;
    }
  }

  const std::uint64_t c_, m_;
  std::vector<std::uint64_t> colour_, met_;                        // slot k: creature k only
  std::uint64_t meetings_ = 0, waiting_ = 0, waiting_colour_ = 0;  // the mall only
};

/// Big: each of `actors` actors pings random actors `pings` times, one at a time; every ping is
/// answered with a pong.
template <Runtime R>
class Big final : public Savina<R, Big<R>> {
 public:
  Big(int workers, std::uint64_t actors, std::uint64_t pings)
      : Savina<R, Big<R>>(workers, actors), n_(actors), p_(pings), state_(actors) {}
  void handle(std::size_t k, typename R::context& ctx, const Msg& m) {
    State& s = state_[k];
    if (m.tag == kPing) {
      this->send(ctx, m.a, {kPong, 0, 0});
      return;
    }
    if (m.tag == kPong && ++s.pongs == p_) {
      this->arrive();
      return;
    }
    s.rng = mix(s.rng);
    this->send(ctx, s.rng % n_, {kPing, k, 0});
  }
  void reset() {
    for (std::size_t k = 0; k < n_; ++k) state_[k] = {0, mix(k ^ (++round_ << 32))};
  }
  void start() {
    for (std::size_t k = 0; k < n_; ++k) this->send(k, {kStart, 0, 0});
  }
  [[nodiscard]] std::uint64_t arrivals() const { return n_; }
  [[nodiscard]] std::uint64_t messages() const { return n_ * (2 * p_ + 1); }
  std::string check() {
    for (std::size_t k = 0; k < n_; ++k) {
      if (state_[k].pongs != p_)
        return fmt::format("actor {} got {} pongs of {}", k, state_[k].pongs, p_);
    }
    return {};
  }

 private:
  struct State {
    std::uint64_t pongs = 0;
    std::uint64_t rng = 0;
  };
  const std::uint64_t n_, p_;
  std::uint64_t round_ = 0;
  std::vector<State> state_;  // slot k: actor k only
};

/// The message of the fault scenario: the child's own sequence number.
struct FaultMsg {
  std::uint64_t seq = 0;
};

/// The fault scenario: `children` children under one supervisor (`strategy`), the driver sends
/// `messages` messages round robin, a handler throws with probability `fault_ppm` / 10^6
/// (decided by a hash of the message, so every run injects the same faults). Per trial it
/// waits until the runtime is idle and checks the policy's bound: every message sent was handled
/// or dropped because its handler threw (lost = failures, none lost from a live actor); each
/// child saw its messages in send order; each failure restarted the children the strategy says.
/// Reports, as counters: sent, handled, lost_failed, lost_accepted (must be 0), failures,
/// mid_run_kills, restarts, restarts_requested, restarts_coalesced, fifo_violations and the
/// restart latency (failure to new instance) as restart_p50_ns / p99 / max and restart_samples.
template <class P>
class Faults final : public Fixture {
 public:
  Faults(int workers, std::size_t children, Strategy strategy, std::uint64_t ppm, std::uint64_t n)
      : rt_(static_cast<std::size_t>(workers)),
        children_(children),
        strategy_(strategy),
        ppm_(ppm),
        n_(n),
        last_(children, 0),
        next_seq_(children, 0),
        fifo_bad_(children, 0) {
    auto& sys = rt_.system();
    // No escalation in this scenario: the bound under test is the one-failure-one-message one.
    Supervisor<>& sup = sys.supervisor(strategy, {std::size_t{1} << 40, std::chrono::seconds(1)});
    for (std::size_t k = 0; k < children; ++k) {
      refs_.push_back(sup.template spawn<FaultMsg>(fmt::format("child{}", k), [this, k] {
        return [this, k](FaultMsg& m) {
          if (m.seq <= last_[k]) ++fifo_bad_[k];
          last_[k] = m.seq;
          if (mix(m.seq * 0x100000001B3ULL + k) % 1000000 < ppm_) {
            throw std::runtime_error("injected fault");
          }
        };
      }));
    }
  }

  void run(benchmark::State& state, bench::Meter& meter) override {
    auto& sys = rt_.system();
    sys.clear_restart_log();
    const Stats before = sys.stats();
    const std::uint64_t fifo_before = fifo_violations();
    std::uint64_t sent = 0;
    meter.begin();
    for (auto _ : state) {
      meter.op([&] { sent += trial(); }, n_);
    }
    meter.end();
    const Stats s = sys.stats();
    const bench::Histogram lat = sys.restart_latency();
    const auto d = [](std::uint64_t a, std::uint64_t b) { return static_cast<double>(a - b); };
    state.counters["sent"] = static_cast<double>(sent);
    state.counters["handled"] = d(s.handled, before.handled);
    state.counters["failures"] = d(s.failures, before.failures);
    state.counters["lost_failed"] = d(s.dropped_failed, before.dropped_failed);
    state.counters["lost_accepted"] = static_cast<double>(sent) - d(s.handled, before.handled) -
                                      d(s.dropped_failed, before.dropped_failed);
    state.counters["mid_run_kills"] = d(s.mid_run_kills, before.mid_run_kills);
    state.counters["restarts"] = d(s.restarts, before.restarts);
    state.counters["restarts_requested"] = d(s.restarts_requested, before.restarts_requested);
    state.counters["restarts_coalesced"] = d(s.restarts_coalesced, before.restarts_coalesced);
    state.counters["fifo_violations"] = d(fifo_violations(), fifo_before);
    state.counters["restart_samples"] = static_cast<double>(lat.count());
    state.counters["restart_p50_ns"] = static_cast<double>(lat.quantile(0.5));
    state.counters["restart_p99_ns"] = static_cast<double>(lat.quantile(0.99));
    state.counters["restart_max_ns"] = static_cast<double>(lat.max());
  }

  std::string verify() override {
    trial();
    return wrong_;
  }

 private:
  std::uint64_t fifo_violations() const {
    std::uint64_t n = 0;
    for (auto x : fifo_bad_) n += x;
    return n;
  }

  /// Sends one round; returns how many messages it sent.
  std::uint64_t trial() {
    auto& sys = rt_.system();
    const Stats before = sys.stats();
    const std::uint64_t fifo_before = fifo_violations();
    std::uint64_t faults = 0;
    std::uint64_t expected_restarts = 0;  // what the strategy restarts, summed over the faults
    for (std::uint64_t i = 0; i < n_; ++i) {
      const std::size_t k = i % children_;
      const std::uint64_t seq = ++next_seq_[k];
      if (mix(seq * 0x100000001B3ULL + k) % 1000000 < ppm_) {
        ++faults;
        expected_restarts += strategy_ == Strategy::kOneForOne   ? 1
                             : strategy_ == Strategy::kOneForAll ? children_
                                                                 : children_ - k;
      }
      refs_[k].send({seq});
    }
    sys.wait_idle();
    const Stats s = sys.stats();
    if (!wrong_.empty()) return n_;
    const std::uint64_t handled = s.handled - before.handled;
    const std::uint64_t failed = s.failures - before.failures;
    const std::uint64_t dropped = s.dropped_failed - before.dropped_failed;
    const std::uint64_t requested = s.restarts_requested - before.restarts_requested;
    const std::uint64_t done = s.restarts - before.restarts;
    const std::uint64_t merged = s.restarts_coalesced - before.restarts_coalesced;
    if (handled + dropped != n_ || dropped != failed || failed != faults) {
      wrong_ = fmt::format(
          "sent {} ({} faults injected): {} handled, {} dropped, {} failures; the policy "
          "allows exactly one lost message per failure",
          n_, faults, handled, dropped, failed);
    } else if (fifo_violations() != fifo_before) {
      wrong_ = fmt::format("{} messages came after a later one from the same sender",
                           fifo_violations() - fifo_before);
    } else if (requested != expected_restarts || done + merged != requested) {
      wrong_ = fmt::format(
          "{} failures under strategy {}: {} restarts requested (expected {}), {} done, {} "
          "coalesced",
          failed, static_cast<int>(strategy_), requested, expected_restarts, done, merged);
    }
    return n_;
  }

  // First: destroyed last. Every trial ends with wait_idle(), so no handler runs by then.
  P rt_;
  const std::size_t children_;
  const Strategy strategy_;
  const std::uint64_t ppm_, n_;
  std::vector<std::uint64_t> last_;      // slot k: child k only
  std::vector<std::uint64_t> next_seq_;  // the driver only
  std::vector<std::uint64_t> fifo_bad_;  // slot k: child k only
  std::vector<Ref<FaultMsg>> refs_;
  std::string wrong_;
};

/// The model check of the scheduling hand-off: two senders push one message each to an idle
/// mailbox; whoever claims the schedule runs the actor: it pops up to one message per batch
/// (throughput 1) and releases, running again while `release` says so. Checked: never two
/// runners at once, and both messages handled once the senders are done. With the seeded twin
/// (`kLoseWakeup`: look, then clear) a message is stranded: caught.
template <bool kLoseWakeup = false>
check::TestCase handoff_model(std::string name) {
  return {std::move(name), [] {
            using S = check::Sync;
            Mailbox<std::uint64_t, S, kLoseWakeup> box;
            S::atomic<int> running{0};
            S::cell<std::uint64_t> handled{0};
            auto runner = [&] {
              for (;;) {
                CPB_CHECK_ASSERT(running.fetch_add(1) == 0);
                const bool got = box.pop().has_value();
                if (got) handled.store(handled.load() + 1);
                running.fetch_sub(1);
                if (!box.release()) return;
                if (!got) S::yield();  // a push in flight: let it link
              }
            };
            auto sender = [&](std::uint64_t v) {
              if (box.push(v)) runner();
            };
            S::thread a([&] { sender(1); });
            S::thread b([&] { sender(2); });
            a.join();
            b.join();
            CPB_CHECK_ASSERT(handled.load() == 2);
            CPB_CHECK_ASSERT(box.empty());
          }};
}

}  // namespace detail

/// A runtime, or a request-serving server built on one (`reactor::Server`: it gets the
/// reactors' echo / http / http_open scenarios and churn check, so it is ranked beside them).
template <class P>
requires Runtime<P> || reactor::Server<P>
struct Family {
  static constexpr std::string_view kName = "actor";
  static constexpr std::string_view kDescription =
      "actors: Savina's message-passing benchmarks, supervised restarts under faults, and an "
      "actor per connection serving HTTP";
  static constexpr std::string_view kReference = "caf_actor";

  static std::vector<Check> checks() {
    if constexpr (reactor::Server<P>) {
      return {reactor::detail::churn_check<P>()};
    } else if constexpr (sync::sync_templated<P>) {
      return {{"mailbox_handoff",
               "two senders and a finishing batch race on an actor's schedule: it runs at most "
               "once at a time, and no message is left with nobody scheduled",
               {},
               check::model_mode([] {
                 return detail::handoff_model(fmt::format("actor/{}/mailbox_handoff", P::kName));
               })}};
    } else {
      return {};
    }
  }

  static std::vector<Scenario> scenarios() {
    if constexpr (reactor::Server<P>) {
      return reactor::detail::scenarios<P>();
    } else {
      return runtime_scenarios();
    }
  }

 private:
  static std::vector<Scenario> runtime_scenarios() {
    const auto threads = ThreadAxis::owned({1, 2, 4}, {2});
    using detail::to_count;
    std::vector<Scenario> out{
        {"ping_pong",
         "Savina ping-pong: `pairs` pairs of actors each play `pings` round trips; the cost of "
         "one message hand-off between two actors",
         {{"pairs", "ping-pong pairs", {1}, {}, 1, 4096},
          {"pings", "round trips per pair", {20000}, {2000}, 1}},
         threads,
         1,
         [](const Point& p) {
           return std::make_unique<detail::PingPong<P>>(p.threads, to_count(p.get("pairs")),
                                                        to_count(p.get("pings")));
         }},
        {"counting",
         "Savina counting: a producer sends `messages` increments to a counter actor, then asks "
         "for the total: one busy mailbox",
         {{"messages", "increments per run", {50000}, {5000}, 1}},
         threads,
         1,
         [](const Point& p) {
           return std::make_unique<detail::Counting<P>>(p.threads, to_count(p.get("messages")));
         }},
        {"fork_join",
         "Savina fork-join throughput (fan-out): the driver sends `messages` messages to each "
         "of `actors` actors, round robin; each does a little work per message",
         {{"actors", "receiving actors", {64}, {16}, 1, 1 << 16},
          {"messages", "messages per actor", {1000}, {200}, 1}},
         threads,
         1,
         [](const Point& p) {
           return std::make_unique<detail::ForkJoin<P>>(p.threads, to_count(p.get("actors")),
                                                        to_count(p.get("messages")));
         }},
        {"thread_ring",
         "Savina thread ring: one token passes `hops` times around a ring of `actors` actors; "
         "one actor runnable at a time, so this is the scheduling latency",
         {{"actors", "actors in the ring", {100}, {50}, 1, 1 << 16},
          {"hops", "token passes", {20000}, {2000}, 0}},
         threads,
         1,
         [](const Point& p) {
           return std::make_unique<detail::ThreadRing<P>>(p.threads, to_count(p.get("actors")),
                                                          to_count(p.get("hops")));
         }},
        {"chameneos",
         "Savina chameneos: `creatures` creatures meet pairwise at a mall actor until "
         "`meetings` meetings took place: one contended mailbox",
         {{"creatures", "creature actors", {16}, {8}, 2, 1 << 16},
          {"meetings", "meetings per run", {5000}, {500}, 1}},
         threads,
         1,
         [](const Point& p) {
           return std::make_unique<detail::Chameneos<P>>(p.threads, to_count(p.get("creatures")),
                                                         to_count(p.get("meetings")));
         }},
        {"big",
         "Savina big: each of `actors` actors sends `pings` pings to random actors, one at a "
         "time, and each is answered: many-to-many traffic",
         {{"actors", "actors", {64}, {16}, 1, 1 << 16},
          {"pings", "pings per actor", {200}, {50}, 1}},
         threads,
         1,
         [](const Point& p) {
           return std::make_unique<detail::Big<P>>(p.threads, to_count(p.get("actors")),
                                                   to_count(p.get("pings")));
         }},
    };
    if constexpr (requires { P::kSupervision; }) {
      out.push_back(
          {"fault",
           "children throw at rate fault_ppm/10^6 under a supervisor (`strategy` 0 one-for-one, "
           "1 one-for-all, 2 rest-for-one); the driver sends `messages` messages round robin. "
           "Counters: restarts, messages lost (bounded by the failures), restart latency",
           {{"children", "supervised children", {4}, {}, 1, 4096},
            {"strategy", "0 one_for_one, 1 one_for_all, 2 rest_for_one", {0, 1, 2}, {0, 2}, 0, 2},
            {"fault_ppm",
             "fault probability per message, in parts per million",
             {1000, 10000},
             {10000},
             0,
             1000000},
            {"messages", "messages per run", {20000}, {2000}, 1}},
           threads,
           1,
           [](const Point& p) {
             return std::make_unique<detail::Faults<P>>(
                 p.threads, static_cast<std::size_t>(p.get("children")),
                 static_cast<Strategy>(p.get("strategy")), to_count(p.get("fault_ppm")),
                 to_count(p.get("messages")));
           }});
    }
    return out;
  }
};

}  // namespace cpb::patterns::actor
