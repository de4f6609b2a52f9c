// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `producer_consumer` family: bounded buffers of `std::uint64_t` items between producer
/// and consumer threads, with a backpressure policy for a full buffer (block, reject, drop the
/// oldest, drop the newest), batch consumption with a timeout, and close. The concept, the
/// scenarios (throughput over producer/consumer ratios and batch sizes; a bursty producer that
/// overruns the buffer) and the checks (an outcome table per policy of what may be missing,
/// no loss / no duplication / per-producer FIFO under real threads, model checks).
///
/// Items carry their producer and sequence: (producer + 1) << 40 | sequence, so every fixture
/// and check verifies per-producer order and counts what was lost.
#pragma once

#include "harness/check/explore.hpp"
#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "harness/stress/outcome.hpp"
#include "harness/stress/result.hpp"
#include "patterns/producer_consumer/buffer.hpp"
#include "workloads/workload.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace cpb::patterns::producer_consumer {

/// A bounded buffer of `std::uint64_t` items. `B b(capacity, policy)` builds it (capacity 0
/// throws std::invalid_argument; `capacity()` is what it holds, which may be rounded up).
/// `push(v, sink)` buffers `v` or does what the policy says when full, and returns the
/// outcome (`Pushed`); under kDropOldest each evicted item is passed to `sink(item)` before
/// `push` returns. `consume_batch(out, max, timeout)` writes up to `max` items to `out` and
/// returns how many: it returns when it has `max`, when `timeout` has passed (a partial batch,
/// maybe empty; `Timeout::zero()` takes only what is there, `kForever` never times out), or
/// when the buffer is closed and empty. `close()` makes later pushes return kClosed and wakes
/// every blocked producer and consumer. Any number of threads may push and consume.
/// `kGlobalFifo`: items come out in the order they were accepted (else only per producer).
template <class B>
concept BoundedBuffer = std::constructible_from<B, std::size_t, Policy> &&
    requires(B& b, const B& cb, std::uint64_t v, std::uint64_t* out, std::size_t n, Timeout t,
             DiscardEvicted sink) {
  { b.push(v, sink) } -> std::same_as<Pushed>;
  { b.consume_batch(out, n, t) } -> std::same_as<std::size_t>;
  { b.close() } -> std::same_as<void>;
  { cb.capacity() } -> std::convertible_to<std::size_t>;
  { cb.policy() } -> std::same_as<Policy>;
  { B::kName } -> std::convertible_to<std::string_view>;
  { B::kProgress } -> std::convertible_to<Progress>;
  { B::kGlobalFifo } -> std::convertible_to<bool>;
};

namespace detail {

inline constexpr unsigned kSeqBits = 40;
inline constexpr std::uint64_t kSeqMask = (std::uint64_t{1} << kSeqBits) - 1;
/// Per-thread state of the fixtures is kept this far apart (x86 prefetches line pairs).
inline constexpr std::size_t kSeparation = 128;
/// Pushes per producer per benchmark iteration in `throughput`.
inline constexpr std::uint64_t kChunk = 256;

inline std::uint64_t item(std::size_t producer, std::uint64_t seq) {
  return (static_cast<std::uint64_t>(producer + 1) << kSeqBits) | seq;
}

/// Checks per-producer order of what one consumer receives.
class OrderCheck {
 public:
  explicit OrderCheck(std::size_t producers) : last_(producers, 0) {}
  void see(std::uint64_t v) {
    const std::uint64_t p = (v >> kSeqBits) - 1;
    const std::uint64_t seq = v & kSeqMask;
    if (p >= last_.size()) {
      note(0, v);
    } else {
      if (seq <= last_[p]) note(last_[p] | ((p + 1) << kSeqBits), v);
      last_[p] = seq;
    }
  }
  [[nodiscard]] std::uint64_t bad() const { return bad_; }
  [[nodiscard]] std::string describe() const {
    return fmt::format(
        "{} items out of per-producer order or from no producer (first: {:#x} after {:#x})", bad_,
        got_, after_);
  }

 private:
  void note(std::uint64_t after, std::uint64_t got) {
    if (bad_++ == 0) {
      after_ = after;
      got_ = got;
    }
  }
  std::vector<std::uint64_t> last_;
  std::uint64_t bad_ = 0;
  std::uint64_t after_ = 0;
  std::uint64_t got_ = 0;
};

/// Producer/consumer throughput under kBlock (atomic_queue's throughput benchmark with
/// blocking sides): each iteration every producer pushes kChunk items and every consumer takes
/// kChunk x producers / consumers in `consume_batch` calls of up to `batch` items with no
/// timeout, so the counts balance at the end of every trial. Consumers check per-producer
/// order; verify() checks counts and sums. One item = one item consumed; one operation = one
/// consume_batch call.
template <BoundedBuffer B>
class Throughput final : public Fixture {
 public:
  Throughput(int producers, int consumers, std::int64_t batch, std::int64_t capacity)
      : b_(static_cast<std::size_t>(capacity), Policy::kBlock),
        batch_(static_cast<std::size_t>(batch)),
        producers_(static_cast<std::size_t>(producers)),
        quota_(kChunk * static_cast<std::uint64_t>(producers) /
               static_cast<std::uint64_t>(consumers)) {
    for (int c = 0; c < consumers; ++c) {
      consumers_.emplace_back(producers_.size(), batch_);
    }
  }

  void run(benchmark::State& state, bench::Meter& meter) override {
    const auto i = static_cast<std::size_t>(state.thread_index());
    if (i < producers_.size()) {
      produce(state, meter, i);
    } else {
      consume(state, meter, i - producers_.size());
    }
  }

  std::string verify() override {
    std::uint64_t pushed = 0;
    std::uint64_t pushed_sum = 0;
    for (const auto& p : producers_) {
      if (p.refused > 0) return fmt::format("{} blocking pushes were not accepted", p.refused);
      pushed += p.seq;
      pushed_sum += p.sum;
    }
    std::uint64_t got = 0;
    std::uint64_t got_sum = 0;
    for (std::size_t c = 0; c < consumers_.size(); ++c) {
      const auto& me = consumers_[c];
      if (me.order.bad() > 0) return fmt::format("consumer {}: {}", c, me.order.describe());
      if (me.short_batches > 0) {
        return fmt::format("consumer {}: {} batches without a timeout returned short", c,
                           me.short_batches);
      }
      got += me.count;
      got_sum += me.sum;
    }
    if (pushed != got || pushed_sum != got_sum) {
      return fmt::format("{} items pushed (sum {:#x}) but {} consumed (sum {:#x})", pushed,
                         pushed_sum, got, got_sum);
    }
    std::uint64_t v = 0;
    if (b_.consume_batch(&v, 1, Timeout::zero()) != 0) {
      return fmt::format("an item ({:#x}) was left in the buffer", v);
    }
    return {};
  }

 private:
  void produce(benchmark::State& state, bench::Meter& meter, std::size_t p) {
    auto& me = producers_[p];
    std::uint64_t seq = me.seq;
    std::uint64_t sum = me.sum;
    meter.begin();  // counts no items: consumers count them
    for (auto _ : state) {
      for (std::uint64_t k = 0; k < kChunk; ++k) {
        const std::uint64_t v = item(p, ++seq);
        if (b_.push(v, DiscardEvicted{}) != Pushed::kAccepted) ++me.refused;
        sum += v;
      }
    }
    meter.end();
    me.seq = seq;
    me.sum = sum;
  }

  void consume(benchmark::State& state, bench::Meter& meter, std::size_t c) {
    auto& me = consumers_[c];
    std::uint64_t* out = me.buf.data();
    meter.begin();
    for (auto _ : state) {
      for (std::uint64_t left = quota_; left > 0;) {
        const std::size_t want = std::min<std::uint64_t>(batch_, left);
        std::size_t n = 0;
        meter.op([&] { n = b_.consume_batch(out, want, kForever); }, want);
        if (n != want) ++me.short_batches;
        for (std::size_t k = 0; k < n; ++k) {
          me.order.see(out[k]);
          me.sum += out[k];
        }
        me.count += n;
        left -= std::min<std::uint64_t>(left, std::max<std::size_t>(n, 1));
      }
    }
    meter.end();
  }

  struct alignas(kSeparation) Producer {
    std::uint64_t seq = 0;
    std::uint64_t sum = 0;
    std::uint64_t refused = 0;
  };
  struct alignas(kSeparation) Consumer {
    Consumer(std::size_t producers, std::size_t batch) : order(producers), buf(batch) {}
    OrderCheck order;
    std::vector<std::uint64_t> buf;
    std::uint64_t sum = 0;
    std::uint64_t count = 0;
    std::uint64_t short_batches = 0;
  };

  B b_;
  const std::size_t batch_;
  std::vector<Producer> producers_;  // [i]: touched by producer thread i only
  std::vector<Consumer> consumers_;  // [i]: touched by consumer thread i only
  const std::uint64_t quota_;
};

/// A bursty producer against a slower consumer, under one policy. Each iteration the producer
/// (thread 0) pushes `burst` items back to back, records what happened to each (accepted,
/// rejected, dropped, evicted by a later push), publishes how many items the consumer should
/// get in all, then idles `gap_us` (a sleep). The consumer (thread 1) takes batches of up to
/// `batch` and spends `work_ns` per item, until it has what the producer published. One
/// operation = one item delivered and processed (its latency is the work on it). Counters:
/// `rejected`, `dropped`, `evicted`, `offered` (all items the producer tried), `peak_occupancy`
/// (the producer's view after each push: accepted − evicted − what the consumer had reported
/// taking, an upper bound of the true occupancy because the consumer reports after each batch;
/// clamped to the capacity). verify(): per-producer order, and delivered = accepted − evicted in
/// count and sum, with only the policy's kind of loss.
template <BoundedBuffer B>
class Bursty final : public Fixture {
 public:
  Bursty(Policy policy, const Point& p)
      : b_(static_cast<std::size_t>(p.get("capacity")), policy),
        policy_(policy),
        burst_(static_cast<std::uint64_t>(p.get("burst"))),
        gap_us_(p.get("gap_us")),
        work_ns_(p.get("work_ns")),
        batch_(static_cast<std::size_t>(p.get("batch"))),
        consumer_(batch_) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    if (state.thread_index() == 0) {
      produce(state, meter);
    } else {
      consume(state, meter);
    }
  }

  std::string verify() override {
    const auto& p = producer_;
    const auto& c = consumer_;
    if (c.order.bad() > 0) return "the consumer saw " + c.order.describe();
    if (p.closed > 0) return fmt::format("{} pushes returned kClosed on an open buffer", p.closed);
    const bool wrong_kind = (policy_ != Policy::kReject && p.rejected > 0) ||
                            (policy_ != Policy::kDropNewest && p.dropped > 0) ||
                            (policy_ != Policy::kDropOldest && p.evicted > 0);
    if (wrong_kind) {
      return fmt::format(
          "policy {} lost items another policy's way: {} rejected, {} dropped, {} "
          "evicted",
          to_string(policy_), p.rejected, p.dropped, p.evicted);
    }
    if (p.accepted - p.evicted != c.count || p.accepted_sum - p.evicted_sum != c.sum) {
      return fmt::format(
          "{} items accepted and {} evicted, but {} delivered (sums {:#x} - {:#x} vs {:#x})",
          p.accepted, p.evicted, c.count, p.accepted_sum, p.evicted_sum, c.sum);
    }
    std::uint64_t v = 0;
    if (b_.consume_batch(&v, 1, Timeout::zero()) != 0) {
      return fmt::format("an item ({:#x}) was left in the buffer", v);
    }
    return {};
  }

 private:
  void produce(benchmark::State& state, bench::Meter& meter) {
    auto& me = producer_;
    const std::uint64_t cap = b_.capacity();
    std::uint64_t peak = 0;
    const std::uint64_t rejected0 = me.rejected;
    const std::uint64_t dropped0 = me.dropped;
    const std::uint64_t evicted0 = me.evicted;
    const std::uint64_t offered0 = me.seq;
    const auto sink = [&me](std::uint64_t old) {
      ++me.evicted;
      me.evicted_sum += old;
    };
    meter.begin();  // counts no items: the consumer counts deliveries
    for (auto _ : state) {
      for (std::uint64_t k = 0; k < burst_; ++k) {
        const std::uint64_t v = item(0, ++me.seq);
        switch (b_.push(v, sink)) {
          case Pushed::kAccepted:
            ++me.accepted;
            me.accepted_sum += v;
            break;
          case Pushed::kRejected:
            ++me.rejected;
            break;
          case Pushed::kDropped:
            ++me.dropped;
            break;
          case Pushed::kClosed:
            ++me.closed;
            break;
        }
        // Relaxed: a statistic; the consumer's count may lag (see the class comment).
        const std::uint64_t taken = taken_.load(std::memory_order_relaxed);
        const std::uint64_t held =
            me.accepted - me.evicted - std::min(taken, me.accepted - me.evicted);
        peak = std::max(peak, std::min(held, cap));
      }
      ++me.bursts;
      // Release pairs with the consumer's acquire loads: the pushes of this burst are done.
      expected_.store(me.accepted - me.evicted, std::memory_order_release);
      // Release: as above; stored after expected_, so a consumer that sees this burst sealed
      // reads its expected count or a later one.
      sealed_.store(me.bursts, std::memory_order_release);
      if (gap_us_ > 0) workloads::block_us(gap_us_);
    }
    meter.end();
    // Google Benchmark sums counters over threads; only this thread sets them.
    state.counters["rejected"] = static_cast<double>(me.rejected - rejected0);
    state.counters["dropped"] = static_cast<double>(me.dropped - dropped0);
    state.counters["evicted"] = static_cast<double>(me.evicted - evicted0);
    state.counters["offered"] = static_cast<double>(me.seq - offered0);
    state.counters["peak_occupancy"] = static_cast<double>(peak);
  }

  void consume(benchmark::State& state, bench::Meter& meter) {
    auto& me = consumer_;
    std::uint64_t* out = me.buf.data();
    constexpr Timeout kPoll = std::chrono::microseconds(100);
    meter.begin();
    for (auto _ : state) {
      ++me.bursts;
      for (;;) {
        std::size_t want = batch_;
        Timeout timeout = kPoll;
        // Acquire pairs with the producer's release stores.
        if (sealed_.load(std::memory_order_acquire) >= me.bursts) {
          const std::uint64_t expected = expected_.load(std::memory_order_acquire);
          if (me.count >= expected) break;
          // Sealed: exactly this many more will come (later bursts only add).
          want = std::min<std::uint64_t>(batch_, expected - me.count);
          timeout = kForever;
        }
        const std::size_t n = b_.consume_batch(out, want, timeout);
        for (std::size_t k = 0; k < n; ++k) {
          meter.op([&] {
            workloads::spin_ns(work_ns_);
            me.order.see(out[k]);
            me.sum += out[k];
          });
        }
        me.count += n;
        // Relaxed: a statistic for the producer's occupancy estimate.
        taken_.store(me.count, std::memory_order_relaxed);
      }
    }
    meter.end();
  }

  struct alignas(kSeparation) Producer {
    std::uint64_t seq = 0;
    std::uint64_t bursts = 0;
    std::uint64_t accepted = 0;
    std::uint64_t accepted_sum = 0;
    std::uint64_t rejected = 0;
    std::uint64_t dropped = 0;
    std::uint64_t evicted = 0;
    std::uint64_t evicted_sum = 0;
    std::uint64_t closed = 0;
  };
  struct alignas(kSeparation) Consumer {
    explicit Consumer(std::size_t batch) : order(1), buf(batch) {}
    OrderCheck order;
    std::vector<std::uint64_t> buf;
    std::uint64_t bursts = 0;
    std::uint64_t count = 0;
    std::uint64_t sum = 0;
  };

  B b_;
  const Policy policy_;
  const std::uint64_t burst_;
  const std::int64_t gap_us_;
  const std::int64_t work_ns_;
  const std::size_t batch_;
  Producer producer_;  // thread 0 only
  Consumer consumer_;  // thread 1 only
  alignas(kSeparation) std::atomic<std::uint64_t> sealed_{0};
  std::atomic<std::uint64_t> expected_{0};
  alignas(kSeparation) std::atomic<std::uint64_t> taken_{0};
};

// -- the outcome table: what each policy may drop ----------------------------------------------

/// The outcome program: a buffer of capacity 2 holds items 1 and 2 (pushed in order by the
/// thread that built it); a producer pushes item 3; a consumer takes a batch of up to 3 with
/// timeout 0; afterwards the rest is drained. The tuple is [push outcome (Pushed as a number),
/// items evicted into the sink, items the consumer got, items drained], each list written as
/// its digits in order (12 = item 1 then item 2; 0 = none).
using PolicyOutcome = stress::Outcome<4>;

inline std::vector<int> digits(std::int64_t v) {
  std::vector<int> out;
  for (; v > 0; v /= 10) out.insert(out.begin(), static_cast<int>(v % 10));
  return out;
}
inline std::int64_t undigits(const std::vector<int>& items) {
  std::int64_t v = 0;
  for (const int i : items) v = v * 10 + i;
  return v;
}

/// The oracle of the outcome program. Block loses nothing; reject and drop-newest lose only
/// item 3 (and then report it), and only it; drop-oldest loses only the oldest item there when
/// it evicts (1, or 2 if the consumer took 1 first), which it hands to the sink. Nothing comes out
/// twice, items 1 and 2 come out in order, and with a globally FIFO buffer everything delivered
/// comes out in push order. Returns "" if allowed, else why not.
inline std::string judge(Policy policy, bool global_fifo, const PolicyOutcome& o) {
  const auto pushed = static_cast<Pushed>(o[0]);
  const std::vector<int> evicted = digits(o[1]);
  std::vector<int> delivered = digits(o[2]);
  for (const int i : digits(o[3])) delivered.push_back(i);
  const bool accepted = pushed == Pushed::kAccepted;
  switch (policy) {
    case Policy::kBlock:
    case Policy::kDropOldest:
      if (!accepted) return "the push of item 3 was not accepted";
      break;
    case Policy::kReject:
      if (!accepted && pushed != Pushed::kRejected) return "neither accepted nor rejected";
      break;
    case Policy::kDropNewest:
      if (!accepted && pushed != Pushed::kDropped) return "neither accepted nor dropped";
      break;
  }
  if (!evicted.empty() && policy != Policy::kDropOldest)
    return "evicted under " + std::string(to_string(policy));
  // Drop-oldest evicts the oldest item there at the moment of eviction: 1, or 2 once the
  // consumer has taken 1 (a buffer whose full check and eviction are two steps may find the
  // buffer no longer full by then; see the README).
  const std::vector<int> consumed = digits(o[2]);
  const bool took_1 = std::find(consumed.begin(), consumed.end(), 1) != consumed.end();
  if (!evicted.empty() && evicted != std::vector<int>{1} &&
      !(evicted == std::vector<int>{2} && took_1)) {
    return "evicted something other than the oldest item there";
  }
  std::array<int, 4> seen{};
  for (const int i : evicted) ++seen[static_cast<std::size_t>(i)];
  for (const int i : delivered) ++seen[static_cast<std::size_t>(i)];
  if (seen[1] != 1 || seen[2] != 1) return "item 1 or 2 was lost or came out twice";
  if (seen[3] != (accepted ? 1 : 0)) {
    return accepted ? "accepted item 3 was lost or came out twice"
                    : "item 3 came out although the push refused it";
  }
  const auto pos = [&](int i) { return std::find(delivered.begin(), delivered.end(), i); };
  if (seen[1] == 1 && evicted.empty() && pos(1) > pos(2)) return "item 2 came out before item 1";
  if (global_fifo && !std::is_sorted(delivered.begin(), delivered.end())) {
    return "items came out of push order";
  }
  return {};
}

/// Every allowed tuple of the outcome program, graded: a lost (rejected, dropped, evicted)
/// item or a cross-producer reordering is ACCEPTABLE_INTERESTING. Anything else is forbidden,
/// because the table does not name it.
inline std::vector<stress::OutcomeRow<4>> outcome_table(Policy policy, bool global_fifo) {
  std::vector<std::vector<int>> lists{{}};
  for (int a = 1; a <= 3; ++a) {
    lists.push_back({a});
    for (int b = 1; b <= 3; ++b) {
      if (b == a) continue;
      lists.push_back({a, b});
      lists.push_back({a, b, 6 - a - b});
    }
  }
  std::vector<stress::OutcomeRow<4>> rows;
  for (const Pushed p : {Pushed::kAccepted, Pushed::kRejected, Pushed::kDropped}) {
    for (const auto& ev : lists) {
      for (const auto& con : lists) {
        for (const auto& dr : lists) {
          const PolicyOutcome o{static_cast<std::int64_t>(p), undigits(ev), undigits(con),
                                undigits(dr)};
          if (!judge(policy, global_fifo, o).empty()) continue;
          std::vector<int> all = con;
          all.insert(all.end(), dr.begin(), dr.end());
          const bool lost = p != Pushed::kAccepted || !ev.empty();
          const bool reordered = !std::is_sorted(all.begin(), all.end());
          std::string what = p == Pushed::kRejected      ? "3 rejected (reported, not delivered)"
                             : p == Pushed::kDropped     ? "3 dropped (reported, not delivered)"
                             : ev == std::vector<int>{1} ? "1 evicted into the sink, 3 accepted"
                             : !ev.empty() ? "2 evicted after the consumer took 1 (the full "
                                             "check and the eviction raced with it), 3 accepted"
                                           : "3 accepted, nothing lost";
          if (reordered) what += "; 3 overtook an item of another producer";
          rows.push_back(
              {o, lost || reordered ? stress::Grade::kInteresting : stress::Grade::kAcceptable,
               what});
        }
      }
    }
  }
  return rows;
}

template <BoundedBuffer B, Policy P>
struct OutcomeState {
  B b{2, P};
  OutcomeState() {
    b.push(1, DiscardEvicted{});
    b.push(2, DiscardEvicted{});
  }
};

template <BoundedBuffer B, Policy P>
stress::CheckResult policy_outcomes(const CheckConfig& c) {
  using St = OutcomeState<B, P>;
  stress::OutcomeTest<St, 4> t{
      fmt::format("producer_consumer/{}/outcomes_{}", B::kName, to_string(P)),
      "capacity 2 holding 1 and 2; a producer pushes 3, a consumer takes up to 3 with timeout "
      "0, the rest is drained",
      {{"producer",
        [](St& s, PolicyOutcome& r) {
          std::int64_t ev = 0;
          r[0] = static_cast<std::int64_t>(s.b.push(
              3, [&ev](std::uint64_t old) { ev = ev * 10 + static_cast<std::int64_t>(old); }));
          r[1] = ev;
        }},
       {"consumer",
        [](St& s, PolicyOutcome& r) {
          std::array<std::uint64_t, 3> out{};
          const std::size_t n = s.b.consume_batch(out.data(), 3, Timeout::zero());
          std::int64_t v = 0;
          for (std::size_t i = 0; i < n; ++i) v = v * 10 + static_cast<std::int64_t>(out[i]);
          r[2] = v;
        }}},
      [](St& s, PolicyOutcome& r) {
        std::array<std::uint64_t, 3> out{};
        const std::size_t n = s.b.consume_batch(out.data(), 3, Timeout::zero());
        std::int64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) v = v * 10 + static_cast<std::int64_t>(out[i]);
        r[3] = v;
      },
      outcome_table(P, B::kGlobalFifo)};
  stress::OutcomeOptions o;
  o.seed = c.seed;
  o.budget = c.budget.count() > 0 ? c.budget : std::chrono::milliseconds(300);
  o.stride = 256;
  return stress::run_outcome(t, o);
}

// -- the stress check: no loss, no duplication, per-producer FIFO, per policy ------------------

/// 2 producers and 2 consumers on a buffer of capacity 4 under policy P. Each producer pushes
/// until the budget is spent; consumers take batches of 1-8 with a timeout drawn from {0,
/// 20 µs, 1 ms, none}. Then the producers stop, the buffer is closed, and the consumers drain
/// it (a batch without a timeout returns short only once it is closed and empty). Oracle: every
/// accepted item is delivered or evicted exactly once, never both; a rejected or dropped item
/// never comes out; only the policy's kind of loss occurs; each consumer sees each producer's
/// items in order, and each producer evicts each producer's items in order (the oldest first).
template <BoundedBuffer B, Policy P>
stress::CheckResult no_loss(const CheckConfig& cfg) {
  constexpr std::size_t kProducers = 2;
  constexpr std::size_t kConsumers = 2;
  stress::CheckResult r;
  r.name = fmt::format("producer_consumer/{}/no_loss_{}", B::kName, to_string(P));
  r.kind = "no_loss";
  r.seed = stress::resolve_seed(cfg.seed);
  const auto budget = cfg.budget.count() > 0 ? cfg.budget : std::chrono::milliseconds(300);
  r.budget_ms = budget.count();
  const auto fail = [&](const std::string& what) {
    r.verdict = stress::Verdict::kFail;
    r.failure = fmt::format("{}: {}; seed {:#x}, replay with {}", r.name, what, r.seed,
                            stress::replay_hint(r.seed));
    return r;
  };
  B b(4, P);
  struct alignas(kSeparation) ProducerLog {
    std::vector<std::uint64_t> accepted;
    std::vector<std::uint64_t> refused;  // rejected or dropped
    std::vector<std::uint64_t> evicted;
    std::uint64_t closed = 0;
  };
  struct alignas(kSeparation) ConsumerLog {
    std::vector<std::uint64_t> got;
    std::uint64_t timed_out_short = 0;
  };
  std::vector<ProducerLog> plog(kProducers);
  std::vector<ConsumerLog> clog(kConsumers);
  std::atomic<bool> stop{false};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      auto& me = plog[p];
      stress::Rng rng(stress::mix64(r.seed + p));
      // Relaxed: a stop hint; the joins order everything read afterwards.
      for (std::uint64_t seq = 1; !stop.load(std::memory_order_relaxed); ++seq) {
        const std::uint64_t v = item(p, seq);
        switch (b.push(v, [&me](std::uint64_t old) { me.evicted.push_back(old); })) {
          case Pushed::kAccepted:
            me.accepted.push_back(v);
            break;
          case Pushed::kRejected:
          case Pushed::kDropped:
            me.refused.push_back(v);
            break;
          case Pushed::kClosed:
            ++me.closed;
            break;
        }
        if (rng.chance(1, 16)) std::this_thread::yield();
      }
    });
  }
  for (std::size_t c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      auto& me = clog[c];
      stress::Rng rng(stress::mix64(r.seed + 100 + c));
      std::array<std::uint64_t, 8> out{};
      for (;;) {
        const std::size_t max = 1 + rng.below(out.size());
        static constexpr std::array<Timeout, 4> kTimeouts{
            Timeout::zero(), std::chrono::microseconds(20), std::chrono::milliseconds(1), kForever};
        const Timeout t = kTimeouts[rng.below(kTimeouts.size())];
        const std::size_t n = b.consume_batch(out.data(), max, t);
        me.got.insert(me.got.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
        if (n < max && t == kForever) break;  // closed and empty
      }
    });
  }
  std::this_thread::sleep_for(budget);
  stop.store(true);
  for (std::size_t p = 0; p < kProducers; ++p) threads[p].join();
  b.close();
  for (std::size_t c = 0; c < kConsumers; ++c) threads[kProducers + c].join();
  r.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  // Every accepted item: delivered or evicted exactly once.
  std::map<std::uint64_t, int> fate;  // accepted item -> times it came out (delivered/evicted)
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;
  std::uint64_t evicted = 0;
  std::uint64_t delivered = 0;
  for (std::size_t p = 0; p < kProducers; ++p) {
    if (plog[p].closed > 0) return fail("a push returned kClosed before close()");
    for (const std::uint64_t v : plog[p].accepted) fate[v] = 0;
    accepted += plog[p].accepted.size();
    refused += plog[p].refused.size();
  }
  const auto came_out = [&](std::uint64_t v, std::string_view how) -> std::string {
    const auto it = fate.find(v);
    if (it == fate.end()) {
      return fmt::format(
          "{:#x} was {}, but no push accepted it{}", v, how,
          P == Policy::kReject || P == Policy::kDropNewest ? " (a refused item came out)" : "");
    }
    if (++it->second > 1) return fmt::format("{:#x} came out twice (last {})", v, how);
    return {};
  };
  for (std::size_t p = 0; p < kProducers; ++p) {
    OrderCheck order(kProducers);
    for (const std::uint64_t v : plog[p].evicted) {
      if (auto e = came_out(v, "evicted"); !e.empty()) return fail(e);
      order.see(v);
      ++evicted;
    }
    if (order.bad() > 0) return fail(fmt::format("producer {} evicted {}", p, order.describe()));
  }
  for (std::size_t c = 0; c < kConsumers; ++c) {
    OrderCheck order(kProducers);
    for (const std::uint64_t v : clog[c].got) {
      if (auto e = came_out(v, "delivered"); !e.empty()) return fail(e);
      order.see(v);
      ++delivered;
    }
    if (order.bad() > 0) return fail(fmt::format("consumer {} saw {}", c, order.describe()));
  }
  for (const auto& [v, n] : fate) {
    if (n == 0) return fail(fmt::format("accepted item {:#x} was lost", v));
  }
  if (P != Policy::kDropOldest && evicted > 0) return fail("items were evicted");
  if ((P == Policy::kBlock || P == Policy::kDropOldest) && refused > 0) {
    return fail(fmt::format("{} pushes were refused", refused));
  }
  r.samples = accepted + refused;
  r.stats = {{"accepted", static_cast<std::int64_t>(accepted)},
             {"refused", static_cast<std::int64_t>(refused)},
             {"evicted", static_cast<std::int64_t>(evicted)},
             {"delivered", static_cast<std::int64_t>(delivered)}};
  return r;
}

// -- model checks ---------------------------------------------------------------------------------

/// The outcome program under the model checker (the same oracle as the outcome table), on the
/// implementation rebound to check::Sync. Under kBlock the producer blocks on the full buffer
/// until the consumer takes: the producer side's lost-wake-up window.
template <BoundedBuffer M, Policy P>
check::TestCase policy_model(std::string name) {
  struct State {
    M b{2, P};
    std::int64_t pushed = -1;  // the producer's; read after the join
    std::int64_t evicted = 0;  // the producer's
    std::int64_t got = 0;      // the consumer's
    State() {
      b.push(1, DiscardEvicted{});
      b.push(2, DiscardEvicted{});
    }
  };
  return check::make_test<State>(
      std::move(name),
      {[](State& s) {
         s.pushed = static_cast<std::int64_t>(s.b.push(3, [&s](std::uint64_t old) {
           s.evicted = s.evicted * 10 + static_cast<std::int64_t>(old);
         }));
       },
       [](State& s) {
         std::array<std::uint64_t, 3> out{};
         const std::size_t n = s.b.consume_batch(out.data(), 3, Timeout::zero());
         for (std::size_t i = 0; i < n; ++i) s.got = s.got * 10 + static_cast<std::int64_t>(out[i]);
       }},
      [](State& s) {
        std::array<std::uint64_t, 3> out{};
        const std::size_t n = s.b.consume_batch(out.data(), 3, Timeout::zero());
        std::int64_t drained = 0;
        for (std::size_t i = 0; i < n; ++i)
          drained = drained * 10 + static_cast<std::int64_t>(out[i]);
        CPB_CHECK_ASSERT(judge(P, M::kGlobalFifo, {s.pushed, s.evicted, s.got, drained}).empty());
      });
}

/// A consumer waits with no timeout for one item on an empty buffer; a producer pushes it. The
/// consumer must get it (a lost wake-up on the consumer side is a deadlock).
template <BoundedBuffer M>
check::TestCase wakeup_model(std::string name) {
  struct State {
    M b{2, Policy::kBlock};
    std::uint64_t got = 0;  // the consumer's
  };
  return check::make_test<State>(
      std::move(name),
      {[](State& s) { CPB_CHECK_ASSERT(s.b.push(7, DiscardEvicted{}) == Pushed::kAccepted); },
       [](State& s) { CPB_CHECK_ASSERT(s.b.consume_batch(&s.got, 1, kForever) == 1); }},
      [](State& s) { CPB_CHECK_ASSERT(s.got == 7); });
}

/// close() wakes blocked sides: a consumer waiting with no timeout on an empty buffer returns
/// 0, and a kBlock producer blocked on a full buffer (capacity 2, holding 1 and 2) returns
/// kClosed; what was buffered stays there to drain.
template <BoundedBuffer M>
check::TestCase close_model(std::string name) {
  struct State {
    M empty{2, Policy::kBlock};
    M full{2, Policy::kBlock};
    State() {
      full.push(1, DiscardEvicted{});
      full.push(2, DiscardEvicted{});
    }
  };
  return check::make_test<State>(
      std::move(name),
      {[](State& s) {
         std::uint64_t v = 0;
         CPB_CHECK_ASSERT(s.empty.consume_batch(&v, 1, kForever) == 0);
       },
       [](State& s) { CPB_CHECK_ASSERT(s.full.push(3, DiscardEvicted{}) == Pushed::kClosed); },
       [](State& s) {
         s.empty.close();
         s.full.close();
       }},
      [](State& s) {
        std::array<std::uint64_t, 3> out{};
        CPB_CHECK_ASSERT(s.full.consume_batch(out.data(), 3, kForever) == 2);
        CPB_CHECK_ASSERT(out[0] == 1 && out[1] == 2);
      });
}

}  // namespace detail

template <BoundedBuffer B>
struct Family {
  static constexpr std::string_view kName = "producer_consumer";
  static constexpr std::string_view kDescription =
      "bounded buffers with backpressure (block, reject, drop oldest, drop newest) and batch "
      "consumption with a timeout";
  /// The mutex + two condition variables buffer: the textbook floor the aim is
  /// against (eventcount_ring >= 1.5x it at 1 producer / 1 consumer). The README adds the
  /// ratios to moodycamel_blocking.
  static constexpr std::string_view kReference = "condvar_buffer";

  static std::vector<Scenario> scenarios() {
    std::vector<Scenario> out;
    // 2/2 is 4 threads on a 2-CPU machine: oversubscribed on purpose.
    for (const auto& [p, c] : std::vector<std::pair<int, int>>{{1, 1}, {2, 1}, {1, 2}, {2, 2}}) {
      out.push_back({"throughput",
                     "kBlock: producers push 256 items each per iteration, consumers take them in "
                     "consume_batch calls of up to `batch` with no timeout; one item = one item "
                     "consumed; consumers check per-producer order, the run checks sums and counts",
                     {{"producers", "producer threads", {p}, {}, 1, 64},
                      {"consumers", "consumer threads", {c}, {}, 1, 64},
                      {"batch", "most items per consume_batch call", {1, 64}, {64}, 1},
                      {"capacity",
                       "buffer capacity in items (a power of two: the ring rounds up)",
                       {1024},
                       {},
                       1}},
                     ThreadAxis::fixed({p + c}),
                     64,
                     [p = p, c = c](const Point& pt) -> std::unique_ptr<Fixture> {
                       return std::make_unique<detail::Throughput<B>>(p, c, pt.get("batch"),
                                                                      pt.get("capacity"));
                     }});
    }
    for (const Policy policy :
         {Policy::kBlock, Policy::kReject, Policy::kDropOldest, Policy::kDropNewest}) {
      out.push_back(
          {fmt::format("bursty_{}", to_string(policy)),
           fmt::format("policy {}: one producer pushes `burst` items back to back, then "
                       "sleeps gap_us; one consumer spends work_ns per item; counters "
                       "rejected, dropped, evicted, offered, peak_occupancy; one item = one "
                       "item delivered",
                       to_string(policy)),
           {{"capacity", "buffer capacity in items (a power of two)", {256}, {}, 1},
            {"burst", "items per burst", {1024}, {}, 1},
            {"gap_us", "producer sleep between bursts, µs", {200}, {}, 0},
            {"work_ns", "consumer work per item, ns", {200}, {}, 0},
            {"batch", "most items per consume_batch call", {16}, {}, 1}},
           ThreadAxis::fixed({2}),
           16,
           [policy](const Point& pt) -> std::unique_ptr<Fixture> {
             return std::make_unique<detail::Bursty<B>>(policy, pt);
           }});
    }
    return out;
  }

  static std::vector<Check> checks() {
    std::vector<Check> out;
    add_policy_checks<Policy::kBlock>(out);
    add_policy_checks<Policy::kReject>(out);
    add_policy_checks<Policy::kDropOldest>(out);
    add_policy_checks<Policy::kDropNewest>(out);
    if constexpr (sync::sync_templated<B>) {
      using M = sync::rebind_t<B, check::Sync>;
      out.push_back({"model_wakeup",
                     "model check: a consumer waits for one item on an empty buffer, a producer "
                     "pushes it; it must arrive (no lost wake-up)",
                     {},
                     check::model_mode([] {
                       return detail::wakeup_model<M>(
                           fmt::format("producer_consumer/{}/model_wakeup", B::kName));
                     })});
      out.push_back({"model_close",
                     "model check: close() wakes a consumer blocked on an empty buffer (it "
                     "returns 0) and a producer blocked on a full one (kClosed); the buffered "
                     "items stay to drain",
                     {},
                     check::model_mode([] {
                       return detail::close_model<M>(
                           fmt::format("producer_consumer/{}/model_close", B::kName));
                     })});
    }
    return out;
  }

 private:
  template <Policy P>
  static void add_policy_checks(std::vector<Check>& out) {
    const std::string policy(to_string(P));
    out.push_back({"outcomes_" + policy,
                   fmt::format("outcome table, policy {}: capacity 2 holding 1 and 2, a producer "
                               "pushes 3 while a consumer takes a batch; what may be missing",
                               policy),
                   [](const CheckConfig& c) { return detail::policy_outcomes<B, P>(c); },
                   {}});
    out.push_back({"no_loss_" + policy,
                   fmt::format("policy {}, 2 producers and 2 consumers on capacity 4, then "
                               "close and drain: nothing lost or duplicated but what the policy "
                               "reports, per-producer FIFO",
                               policy),
                   [](const CheckConfig& c) { return detail::no_loss<B, P>(c); },
                   {}});
    if constexpr (sync::sync_templated<B>) {
      using M = sync::rebind_t<B, check::Sync>;
      out.push_back(
          {"model_" + policy,
           fmt::format("model check of the outcome program, policy {}, with its oracle", policy),
           {},
           check::model_mode([] {
             return detail::policy_model<M, P>(
                 fmt::format("producer_consumer/{}/model_{}", B::kName, to_string(P)));
           })});
    }
  }
};

}  // namespace cpb::patterns::producer_consumer
