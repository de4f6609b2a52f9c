// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `channel` family (CSP message passing): channels of `std::uint64_t` between threads,
/// rendezvous (capacity 0), bounded and unbounded, with close and a receiving `select`. The
/// concept, the scenarios (ping-pong through rendezvous channels; producers/consumers on a
/// bounded channel; select over K channels) and the checks (no loss or duplication, close wakes
/// every waiter, select fairness; model checks of the hand-off, of close racing a parked
/// receiver, and of select).
///
/// Items carry their producer (or channel) and sequence: (source + 1) << 40 | sequence, so
/// every fixture and check verifies per-source order and counts what was lost.
#pragma once

#include "harness/check/explore.hpp"
#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "harness/stress/result.hpp"
#include "patterns/channel/status.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace cpb::patterns::channel {

/// A channel of `std::uint64_t`. `C c(capacity)`: 0 is a rendezvous channel (a send returns
/// once a receiver took the item), `kUnbounded` an unbounded one, else bounded to `capacity`
/// items; a kind the implementation lacks (`kRendezvous`, `kBounded`, `kUnbounded` say which it
/// has) throws std::invalid_argument. `send(v)` blocks while there is no room (or, rendezvous,
/// until taken) and returns false when the channel is closed (before `v` was taken).
/// `recv(out)` blocks while empty and open; false once closed and drained. `try_recv` never
/// blocks. `close()` makes later sends fail and wakes every blocked sender and receiver.
/// `C::select(chans, out, start)` receives from whichever of `chans` is ready (a closed,
/// drained channel is ready with ok = false), trying them from `start` round the list; callers
/// rotate `start` (`Selector`) so that no channel starves. Any number of threads may use a
/// channel.
template <class C>
concept Channel = std::constructible_from<C, std::size_t> &&
    requires(C& c, std::uint64_t v, std::uint64_t& out, std::span<C* const> chans,
             std::size_t start) {
  { c.send(v) } -> std::same_as<bool>;
  { c.recv(out) } -> std::same_as<bool>;
  { c.try_recv(out) } -> std::same_as<Recv>;
  { c.close() } -> std::same_as<void>;
  { C::select(chans, out, start) } -> std::same_as<Selected>;
  { C::kName } -> std::convertible_to<std::string_view>;
  { C::kProgress } -> std::convertible_to<Progress>;
  { C::kRendezvous } -> std::convertible_to<bool>;
  { C::kBounded } -> std::convertible_to<bool>;
  { C::kUnbounded } -> std::convertible_to<bool>;
  { C::kNativeSelect } -> std::convertible_to<bool>;
};

/// A select with a rotating start: select k begins at channel k mod n.
template <Channel C>
class Selector {
 public:
  Selected operator()(std::span<C* const> chans, std::uint64_t& out) {
    return C::select(chans, out, next_++ % chans.size());
  }

 private:
  std::size_t next_ = 0;
};

namespace detail {

inline constexpr unsigned kSeqBits = 40;
inline constexpr std::uint64_t kSeqMask = (std::uint64_t{1} << kSeqBits) - 1;
inline constexpr std::size_t kSeparation = 128;
/// Sends per producer per benchmark iteration.
inline constexpr std::uint64_t kChunk = 256;

inline std::uint64_t item(std::size_t source, std::uint64_t seq) {
  return (static_cast<std::uint64_t>(source + 1) << kSeqBits) | seq;
}
inline std::size_t source_of(std::uint64_t v) { return (v >> kSeqBits) - 1; }

/// Per-source order of what one receiver sees; counts items out of order or from nowhere.
class OrderCheck {
 public:
  explicit OrderCheck(std::size_t sources) : last_(sources, 0) {}
  void see(std::uint64_t v) {
    const std::uint64_t s = (v >> kSeqBits) - 1;
    const std::uint64_t seq = v & kSeqMask;
    if (s >= last_.size() || seq <= last_[s]) {
      if (bad_++ == 0) first_ = v;
      return;
    }
    last_[s] = seq;
  }
  [[nodiscard]] std::uint64_t bad() const { return bad_; }
  [[nodiscard]] std::string describe() const {
    return fmt::format("{} items out of per-source order or from no source (first {:#x})", bad_,
                       first_);
  }

 private:
  std::vector<std::uint64_t> last_;
  std::uint64_t bad_ = 0;
  std::uint64_t first_ = 0;
};

// -- benchmarks -----------------------------------------------------------------------------------

/// Ping-pong through two rendezvous channels (Savina's ping-pong; the Go benchmark
/// BenchmarkChanSync): thread 0 sends i on `ping` and waits for it on `pong`; thread 1 sends
/// back what it receives. One operation = one round trip (two hand-offs).
template <Channel C>
class PingPong final : public Fixture {
 public:
  PingPong() : ping_(0), pong_(0) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    if (state.thread_index() == 0) {
      meter.begin();
      for (auto _ : state) {
        meter.op([&] {
          const std::uint64_t v = ++sent_;
          std::uint64_t back = 0;
          if (!ping_.send(v) || !pong_.recv(back) || back != v) ++wrong_;
        });
      }
      meter.end();
    } else {
      meter.begin();
      for (auto _ : state) {
        std::uint64_t v = 0;
        if (!ping_.recv(v) || !pong_.send(v)) ++echo_failed_;
      }
      meter.end();
    }
  }

  std::string verify() override {
    if (sent_ == 0) return "no round trip ran";
    if (wrong_ > 0) return fmt::format("{} of {} round trips came back wrong", wrong_, sent_);
    if (echo_failed_ > 0) return fmt::format("{} echoes failed", echo_failed_);
    return {};
  }

 private:
  C ping_;
  C pong_;
  alignas(kSeparation) std::uint64_t sent_ = 0;         // thread 0's
  std::uint64_t wrong_ = 0;                             // thread 0's
  alignas(kSeparation) std::uint64_t echo_failed_ = 0;  // thread 1's
};

/// Producers and consumers on one bounded channel: each iteration every producer sends kChunk
/// items and every consumer receives kChunk x producers / consumers, so the counts balance at
/// the end of every trial. One item = one item received.
template <Channel C>
class Throughput final : public Fixture {
 public:
  Throughput(int producers, int consumers, std::int64_t capacity)
      : c_(static_cast<std::size_t>(capacity)),
        producers_(static_cast<std::size_t>(producers)),
        quota_(kChunk * static_cast<std::uint64_t>(producers) /
               static_cast<std::uint64_t>(consumers)) {
    for (int i = 0; i < consumers; ++i) consumers_.emplace_back(producers_.size());
  }

  void run(benchmark::State& state, bench::Meter& meter) override {
    const auto i = static_cast<std::size_t>(state.thread_index());
    if (i < producers_.size()) {
      auto& me = producers_[i];
      meter.begin();
      for (auto _ : state) {
        for (std::uint64_t k = 0; k < kChunk; ++k) {
          const std::uint64_t v = item(i, ++me.seq);
          if (!c_.send(v)) ++me.refused;
          me.sum += v;
        }
      }
      meter.end();
    } else {
      auto& me = consumers_[i - producers_.size()];
      meter.begin();
      for (auto _ : state) {
        for (std::uint64_t k = 0; k < quota_; ++k) {
          std::uint64_t v = 0;
          bool ok = false;
          meter.op([&] { ok = c_.recv(v); });
          if (!ok) {
            ++me.failed;
            continue;
          }
          me.order.see(v);
          me.sum += v;
          ++me.count;
        }
      }
      meter.end();
    }
  }

  std::string verify() override {
    std::uint64_t sent = 0;
    std::uint64_t sent_sum = 0;
    for (const auto& p : producers_) {
      if (p.refused > 0) return fmt::format("{} sends on an open channel failed", p.refused);
      sent += p.seq;
      sent_sum += p.sum;
    }
    std::uint64_t got = 0;
    std::uint64_t got_sum = 0;
    for (const auto& c : consumers_) {
      if (c.failed > 0) return fmt::format("{} receives on an open channel failed", c.failed);
      if (c.order.bad() > 0) return c.order.describe();
      got += c.count;
      got_sum += c.sum;
    }
    if (sent != got || sent_sum != got_sum) {
      return fmt::format("{} items sent (sum {:#x}) but {} received (sum {:#x})", sent, sent_sum,
                         got, got_sum);
    }
    std::uint64_t v = 0;
    if (c_.try_recv(v) == Recv::kOk) return fmt::format("an item ({:#x}) was left over", v);
    return {};
  }

 private:
  struct alignas(kSeparation) Producer {
    std::uint64_t seq = 0;
    std::uint64_t sum = 0;
    std::uint64_t refused = 0;
  };
  struct alignas(kSeparation) Consumer {
    explicit Consumer(std::size_t producers) : order(producers) {}
    OrderCheck order;
    std::uint64_t sum = 0;
    std::uint64_t count = 0;
    std::uint64_t failed = 0;
  };
  C c_;
  std::vector<Producer> producers_;
  std::vector<Consumer> consumers_;
  const std::uint64_t quota_;
};

/// Select over K channels: thread 0 sends kChunk items per iteration round-robin over the K
/// channels; thread 1 receives them with kChunk selects (rotating start). One item = one
/// select. Verifies counts, sums and per-channel order, and counts how many items each channel
/// gave (counter `min_share`: the smallest channel's share of the items, x K: 1 is even).
template <Channel C>
class Select final : public Fixture {
 public:
  Select(std::int64_t k, std::int64_t capacity) : order_(static_cast<std::size_t>(k)) {
    for (std::int64_t i = 0; i < k; ++i) {
      owned_.push_back(std::make_unique<C>(static_cast<std::size_t>(capacity)));
      chans_.push_back(owned_.back().get());
    }
    per_channel_.assign(chans_.size(), 0);
  }

  void run(benchmark::State& state, bench::Meter& meter) override {
    const std::size_t k = chans_.size();
    if (state.thread_index() == 0) {
      meter.begin();
      for (auto _ : state) {
        for (std::uint64_t j = 0; j < kChunk; ++j) {
          const std::size_t ch = static_cast<std::size_t>(next_ % k);
          const std::uint64_t v = item(ch, ++seq_[ch % kMaxK]);
          ++next_;
          if (!chans_[ch]->send(v)) ++refused_;
          sent_sum_ += v;
        }
      }
      meter.end();
    } else {
      meter.begin();
      for (auto _ : state) {
        for (std::uint64_t j = 0; j < kChunk; ++j) {
          std::uint64_t v = 0;
          Selected s;
          meter.op([&] { s = sel_(std::span<C* const>(chans_), v); });
          if (!s.ok || source_of(v) != s.index) {
            ++wrong_;
            continue;
          }
          ++per_channel_[s.index];
          order_.see(v);
          got_sum_ += v;
          ++got_;
        }
      }
      meter.end();
      const auto [lo, hi] = std::minmax_element(per_channel_.begin(), per_channel_.end());
      (void)hi;
      state.counters["min_share"] =
          got_ == 0 ? 0.0
                    : static_cast<double>(*lo) * static_cast<double>(k) / static_cast<double>(got_);
    }
  }

  std::string verify() override {
    if (refused_ > 0) return fmt::format("{} sends on open channels failed", refused_);
    if (wrong_ > 0) return fmt::format("{} selects returned no item or the wrong channel", wrong_);
    if (order_.bad() > 0) return order_.describe();
    if (got_ != next_ || got_sum_ != sent_sum_) {
      return fmt::format("{} items sent (sum {:#x}) but {} selected (sum {:#x})", next_, sent_sum_,
                         got_, got_sum_);
    }
    return {};
  }

 private:
  static constexpr std::size_t kMaxK = 64;
  std::vector<std::unique_ptr<C>> owned_;
  std::vector<C*> chans_;
  // thread 0's
  alignas(kSeparation) std::uint64_t next_ = 0;
  std::uint64_t seq_[kMaxK] = {};
  std::uint64_t sent_sum_ = 0;
  std::uint64_t refused_ = 0;
  // thread 1's
  alignas(kSeparation) Selector<C> sel_;
  OrderCheck order_;
  std::vector<std::uint64_t> per_channel_;
  std::uint64_t got_ = 0;
  std::uint64_t got_sum_ = 0;
  std::uint64_t wrong_ = 0;
};

// -- stress checks ------------------------------------------------------------------------------

inline stress::CheckResult start_result(std::string name, std::string kind, const CheckConfig& cfg,
                                        std::chrono::milliseconds fallback) {
  stress::CheckResult r;
  r.name = std::move(name);
  r.kind = std::move(kind);
  r.seed = stress::resolve_seed(cfg.seed);
  r.budget_ms = (cfg.budget.count() > 0 ? cfg.budget : fallback).count();
  return r;
}

inline stress::CheckResult& fail(stress::CheckResult& r, const std::string& what) {
  r.verdict = stress::Verdict::kFail;
  r.failure = fmt::format("{}: {}; seed {:#x}, replay with {}", r.name, what, r.seed,
                          stress::replay_hint(r.seed));
  return r;
}

/// 2 producers and 2 consumers on one channel of `capacity` for the budget; then the
/// producers stop, the channel is closed and the consumers drain it. Every item a send
/// accepted is received exactly once, per-producer FIFO per consumer, and no send fails before
/// close.
template <Channel C>
stress::CheckResult no_loss(const CheckConfig& cfg, std::size_t capacity, std::string kind) {
  constexpr std::size_t kProducers = 2;
  constexpr std::size_t kConsumers = 2;
  auto r = start_result(fmt::format("channel/{}/no_loss_{}", C::kName, kind), "no_loss", cfg,
                        std::chrono::milliseconds(300));
  C c(capacity);
  std::vector<std::vector<std::uint64_t>> sent(kProducers);
  std::vector<std::vector<std::uint64_t>> got(kConsumers);
  std::vector<std::uint64_t> refused(kProducers, 0);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      stress::Rng rng(stress::mix64(r.seed + p));
      // Relaxed: a stop hint; the joins order everything read afterwards.
      for (std::uint64_t seq = 1; !stop.load(std::memory_order_relaxed); ++seq) {
        const std::uint64_t v = item(p, seq);
        if (c.send(v)) {
          sent[p].push_back(v);
        } else {
          ++refused[p];
        }
        if (rng.chance(1, 16)) std::this_thread::yield();
      }
    });
  }
  for (std::size_t k = 0; k < kConsumers; ++k) {
    threads.emplace_back([&, k] {
      stress::Rng rng(stress::mix64(r.seed + 100 + k));
      for (;;) {
        std::uint64_t v = 0;
        if (rng.chance(1, 4)) {
          const Recv t = c.try_recv(v);
          if (t == Recv::kClosed) break;
          if (t == Recv::kEmpty) {
            std::this_thread::yield();
            continue;
          }
        } else if (!c.recv(v)) {
          break;
        }
        got[k].push_back(v);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(r.budget_ms));
  stop.store(true);
  for (std::size_t p = 0; p < kProducers; ++p) threads[p].join();
  c.close();
  for (std::size_t k = 0; k < kConsumers; ++k) threads[kProducers + k].join();
  r.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::map<std::uint64_t, int> fate;
  std::uint64_t total = 0;
  for (std::size_t p = 0; p < kProducers; ++p) {
    if (refused[p] > 0) return fail(r, fmt::format("{} sends failed before close", refused[p]));
    for (const std::uint64_t v : sent[p]) fate[v] = 0;
    total += sent[p].size();
  }
  for (std::size_t k = 0; k < kConsumers; ++k) {
    OrderCheck order(kProducers);
    for (const std::uint64_t v : got[k]) {
      const auto it = fate.find(v);
      if (it == fate.end()) return fail(r, fmt::format("{:#x} received but never sent", v));
      if (++it->second > 1) return fail(r, fmt::format("{:#x} received twice", v));
      order.see(v);
    }
    if (order.bad() > 0) return fail(r, fmt::format("consumer {}: {}", k, order.describe()));
  }
  for (const auto& [v, n] : fate) {
    if (n == 0) return fail(r, fmt::format("sent item {:#x} was lost", v));
  }
  r.samples = total;
  r.stats = {{"sent", static_cast<std::int64_t>(total)}};
  return r;
}

/// Close wakes every waiter: `kWaiters` receivers park on an empty channel (some in `select`
/// over it and another empty channel) and `kWaiters` senders park on a full one (a rendezvous
/// channel with no receiver, or a bounded channel of capacity 1 holding one item); then both
/// channels are closed. Every receive and select returns "closed", every parked send returns
/// false, and the full channel still yields its buffered item. Rounds until the budget is spent.
template <Channel C>
stress::CheckResult close_wakes_all(const CheckConfig& cfg) {
  constexpr int kWaiters = 4;
  auto r = start_result(fmt::format("channel/{}/close_wakes_all", C::kName), "close", cfg,
                        std::chrono::milliseconds(200));
  const std::size_t full_cap = C::kBounded ? 1 : 0;
  const std::size_t empty_cap = C::kBounded ? 4 : 0;
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::milliseconds(r.budget_ms);
  std::uint64_t rounds = 0;
  do {
    C empty(empty_cap);
    C other(empty_cap);
    C full(full_cap);
    if (full_cap == 1 && !full.send(42)) return fail(r, "a send to an empty channel failed");
    std::atomic<int> started{0};
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kWaiters; ++i) {
      threads.emplace_back([&, i] {
        started.fetch_add(1);
        std::uint64_t v = 0;
        if (i % 2 == 0) {
          if (empty.recv(v)) wrong.fetch_add(1);
        } else {
          C* chans[] = {&other, &empty};
          Selected s = C::select(std::span<C* const>(chans), v, static_cast<std::size_t>(i));
          if (s.ok) wrong.fetch_add(1);
        }
      });
      threads.emplace_back([&, i] {
        started.fetch_add(1);
        if (full.send(1000 + static_cast<std::uint64_t>(i))) wrong.fetch_add(1);
      });
    }
    while (started.load() < 2 * kWaiters) std::this_thread::yield();
    // Not a correctness condition: a thread that has not parked yet finds the channel closed,
    // and that must work too. The pause lets most of them park first.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    empty.close();
    other.close();
    full.close();
    for (auto& t : threads) t.join();
    if (wrong.load() > 0) {
      return fail(r, fmt::format("round {}: {} waiters got an item or a successful send after "
                                 "close",
                                 rounds, wrong.load()));
    }
    std::uint64_t v = 0;
    if (full_cap == 1 && (!full.recv(v) || v != 42)) {
      return fail(r, "the buffered item did not drain after close");
    }
    if (!stale_slot_after_close<C>() && full.recv(v)) {
      return fail(r, fmt::format("a failed send's item {} was received", v));
    }
    ++rounds;
  } while (std::chrono::steady_clock::now() < deadline);
  r.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  r.samples = rounds * 2 * kWaiters;
  r.stats = {{"rounds", static_cast<std::int64_t>(rounds)}};
  return r;
}

/// Select fairness over K always-ready channels: K = 4 channels each hold N items; N selects
/// (rotating start) must take at least N / (2K) and at most 2N / K from each channel.
template <Channel C>
stress::CheckResult select_fairness(const CheckConfig& cfg) {
  constexpr std::size_t kK = 4;
  constexpr std::uint64_t kN = 4000;
  auto r = start_result(fmt::format("channel/{}/select_fairness", C::kName), "fairness", cfg,
                        std::chrono::milliseconds(0));
  std::vector<std::unique_ptr<C>> owned;
  std::vector<C*> chans;
  for (std::size_t i = 0; i < kK; ++i) {
    owned.push_back(std::make_unique<C>(C::kUnbounded ? kUnbounded : kN));
    chans.push_back(owned.back().get());
    for (std::uint64_t s = 1; s <= kN; ++s) {
      if (!chans.back()->send(item(i, s))) return fail(r, "a send failed");
    }
  }
  Selector<C> sel;
  std::vector<std::uint64_t> share(kK, 0);
  for (std::uint64_t n = 0; n < kN; ++n) {
    std::uint64_t v = 0;
    const Selected s = sel(std::span<C* const>(chans), v);
    if (!s.ok || source_of(v) != s.index) return fail(r, "a select returned the wrong item");
    ++share[s.index];
  }
  for (std::size_t i = 0; i < kK; ++i) {
    if (share[i] < kN / (2 * kK) || share[i] > 2 * kN / kK) {
      return fail(r, fmt::format("channel {} got {} of {} selects (bound {} to {})", i, share[i],
                                 kN, kN / (2 * kK), 2 * kN / kK));
    }
  }
  r.samples = kN;
  r.stats = {
      {"min_share", static_cast<std::int64_t>(*std::min_element(share.begin(), share.end()))}};
  return r;
}

// -- model checks -------------------------------------------------------------------------------

/// A rendezvous hand-off: one thread sends 7, another receives it.
template <Channel M>
check::TestCase handoff_model(std::string name) {
  struct State {
    M c{0};
    std::uint64_t got = 0;
    bool sent = false;
  };
  return check::make_test<State>(
      std::move(name),
      {[](State& s) { s.sent = s.c.send(7); }, [](State& s) { CPB_CHECK_ASSERT(s.c.recv(s.got)); }},
      [](State& s) { CPB_CHECK_ASSERT(s.sent && s.got == 7); });
}

/// Close racing a parked receiver: two receivers on an empty bounded channel; a third thread
/// sends 5, then closes. Exactly one receiver gets 5; the other gets "closed" (a lost close
/// wake-up leaves it parked: a deadlock).
template <class M>
check::TestCase close_model(std::string name) {
  struct State {
    M c{1};
    int got5 = 0;      // the receivers'
    int closed_a = 0;  // receiver a's
    int closed_b = 0;  // receiver b's
    bool sent = false;
  };
  return check::make_test<State>(std::move(name),
                                 {[](State& s) {
                                    std::uint64_t v = 0;
                                    if (s.c.recv(v)) {
                                      CPB_CHECK_ASSERT(v == 5);
                                    } else {
                                      s.closed_a = 1;
                                    }
                                  },
                                  [](State& s) {
                                    std::uint64_t v = 0;
                                    if (s.c.recv(v)) {
                                      CPB_CHECK_ASSERT(v == 5);
                                    } else {
                                      s.closed_b = 1;
                                    }
                                  },
                                  [](State& s) {
                                    s.sent = s.c.send(5);
                                    s.c.close();
                                  }},
                                 [](State& s) {
                                   CPB_CHECK_ASSERT(s.sent);
                                   CPB_CHECK_ASSERT(s.closed_a + s.closed_b == 1);
                                   std::uint64_t v = 0;
                                   CPB_CHECK_ASSERT(!s.c.recv(v));
                                 });
}

/// Select over two channels races a send on one and close of the other: the select returns
/// the item (then the closed channel stays closed) or "closed" on the second (then the item
/// is still in the first).
template <Channel M>
check::TestCase select_model(std::string name) {
  struct State {
    M a{1};
    M b{1};
    Selected got;
    std::uint64_t v = 0;
  };
  return check::make_test<State>(
      std::move(name),
      {[](State& s) {
         M* chans[] = {&s.a, &s.b};
         s.got = M::select(std::span<M* const>(chans), s.v, 0);
       },
       [](State& s) { CPB_CHECK_ASSERT(s.a.send(3)); }, [](State& s) { s.b.close(); }},
      [](State& s) {
        std::uint64_t left = 0;
        if (s.got.ok) {
          CPB_CHECK_ASSERT(s.got.index == 0 && s.v == 3);
          CPB_CHECK_ASSERT(s.a.try_recv(left) == Recv::kEmpty);
        } else {
          CPB_CHECK_ASSERT(s.got.index == 1);
          CPB_CHECK_ASSERT(s.a.try_recv(left) == Recv::kOk && left == 3);
        }
      });
}

}  // namespace detail

template <Channel C>
struct Family {
  static constexpr std::string_view kName = "channel";
  static constexpr std::string_view kDescription =
      "CSP channels (rendezvous, bounded, unbounded) with close and select";
  /// The mutex + deque + condition variables channel: the floor every implementation must
  /// beat, and the one baseline with all three kinds and select (the Boost channels have no
  /// unbounded kind and no select). The README adds the ratios to the Boost channels.
  static constexpr std::string_view kReference = "deque_channel";

  static std::vector<Scenario> scenarios() {
    std::vector<Scenario> out;
    if constexpr (C::kRendezvous) {
      out.push_back({"ping_pong",
                     "two threads pass a token back and forth through two rendezvous channels; "
                     "one operation = one round trip (two hand-offs)",
                     {},
                     ThreadAxis::fixed({2}),
                     64,
                     [](const Point&) -> std::unique_ptr<Fixture> {
                       return std::make_unique<detail::PingPong<C>>();
                     }});
    }
    if constexpr (C::kBounded) {
      // 2/2 is 4 threads on a 2-CPU machine: oversubscribed on purpose.
      for (const auto& [p, c] : std::vector<std::pair<int, int>>{{1, 1}, {2, 1}, {1, 2}, {2, 2}}) {
        out.push_back({"throughput",
                       "producers send 256 items each per iteration on one bounded channel, "
                       "consumers receive them; one item = one item received; per-producer "
                       "order, sums and counts checked",
                       {{"producers", "producer threads", {p}, {}, 1, 64},
                        {"consumers", "consumer threads", {c}, {}, 1, 64},
                        {"capacity",
                         "channel capacity in items",
                         {1, 64, 1024},
                         {64},
                         1,
                         std::int64_t{1} << 30}},
                       ThreadAxis::fixed({p + c}),
                       64,
                       [p = p, c = c](const Point& pt) -> std::unique_ptr<Fixture> {
                         return std::make_unique<detail::Throughput<C>>(p, c, pt.get("capacity"));
                       }});
      }
    }
    const std::int64_t cap = C::kBounded ? 64 : 0;
    out.push_back({"select",
                   "one thread sends 256 items per iteration round-robin over k channels, another "
                   "receives them with select (rotating start); one item = one select; counter "
                   "min_share (smallest channel's share x k; 1 = even)",
                   {{"k", "channels selected over", {2, 8}, {2}, 1, 64},
                    {"capacity",
                     "each channel's capacity (0: rendezvous)",
                     {cap},
                     {},
                     C::kRendezvous ? 0 : 1,
                     C::kBounded ? std::int64_t{1} << 30 : 0}},
                   ThreadAxis::fixed({2}),
                   64,
                   [](const Point& pt) -> std::unique_ptr<Fixture> {
                     return std::make_unique<detail::Select<C>>(pt.get("k"), pt.get("capacity"));
                   }});
    return out;
  }

  static std::vector<Check> checks() {
    std::vector<Check> out;
    if constexpr (C::kRendezvous) {
      out.push_back({"no_loss_rendezvous",
                     "2 producers, 2 consumers on a rendezvous channel, then close and drain: "
                     "nothing lost or duplicated, per-producer FIFO",
                     [](const CheckConfig& c) { return detail::no_loss<C>(c, 0, "rendezvous"); },
                     {}});
    }
    if constexpr (C::kBounded) {
      out.push_back({"no_loss_bounded",
                     "2 producers, 2 consumers on a channel of capacity 4, then close and drain: "
                     "nothing lost or duplicated, per-producer FIFO",
                     [](const CheckConfig& c) { return detail::no_loss<C>(c, 4, "bounded"); },
                     {}});
    }
    if constexpr (C::kUnbounded) {
      out.push_back(
          {"no_loss_unbounded",
           "2 producers, 2 consumers on an unbounded channel, then close and drain: "
           "nothing lost or duplicated, per-producer FIFO",
           [](const CheckConfig& c) { return detail::no_loss<C>(c, kUnbounded, "unbounded"); },
           {}});
    }
    out.push_back({"close_wakes_all",
                   "4 receivers (recv and select) parked on empty channels and 4 senders parked "
                   "on a full one; close: every one returns closed, the buffered item drains",
                   [](const CheckConfig& c) { return detail::close_wakes_all<C>(c); },
                   {}});
    if constexpr (C::kBounded || C::kUnbounded) {
      out.push_back({"select_fairness",
                     "4 always-ready channels, 4000 selects: each channel gets 1/8 to 1/2 of them",
                     [](const CheckConfig& c) { return detail::select_fairness<C>(c); },
                     {}});
    }
    if constexpr (sync::sync_templated<C>) {
      using M = sync::rebind_t<C, check::Sync>;
      out.push_back({"model_handoff",
                     "model check: a rendezvous send and receive hand over the item",
                     {},
                     check::model_mode([] {
                       return detail::handoff_model<M>(
                           fmt::format("channel/{}/model_handoff", C::kName));
                     })});
      out.push_back({"model_close",
                     "model check: two receivers park on an empty channel; a sender sends one "
                     "item, then closes: one receiver gets it, close wakes the other",
                     {},
                     check::model_mode([] {
                       return detail::close_model<M>(
                           fmt::format("channel/{}/model_close", C::kName));
                     })});
      if constexpr (C::kNativeSelect) {
        out.push_back({"model_select",
                       "model check: a select over two channels races a send on one and close "
                       "of the other; it gets one of them, the other's state agrees",
                       {},
                       check::model_mode([] {
                         return detail::select_model<M>(
                             fmt::format("channel/{}/model_select", C::kName));
                       })});
      }
    }
    return out;
  }
};

}  // namespace cpb::patterns::channel
