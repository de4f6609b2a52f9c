// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `lockfree_queue` family: non-blocking FIFO queues of `std::uint64_t` with `try_push` /
/// `try_pop`, single- and multi-producer/consumer. The concept, its scenarios (performance-
/// anchors §1.3: atomic_queue's ping-pong round trip and N-producer/N-consumer throughput, both
/// verifying what arrives), and its checks (linearizability, per-producer FIFO, model checks).
#pragma once

#include "harness/check/explore.hpp"
#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "harness/stress/history.hpp"
#include "harness/stress/linearizability.hpp"
#include "harness/stress/specs.hpp"
#include "patterns/lockfree_queue/bound.hpp"

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
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::lockfree_queue {

/// A FIFO queue of `std::uint64_t`. `Q q(capacity)` builds it (unbounded queues may ignore the
/// capacity); `try_push(v)` returns false when it refuses (full), `try_pop(out)` false when it
/// found nothing. Traits: `kMultiProducer` / `kMultiConsumer` (false: at most one thread may
/// push / pop at a time), `kBound` (bound.hpp; `capacity()` is the exact capacity of a `kExact`
/// queue, the guaranteed one of a `kAtLeast` queue, 0 for an unbounded one) and
/// `kLinearizable` (false: only FIFO per producer, like moodycamel's).
template <class Q>
concept Queue = std::constructible_from<Q, std::size_t> &&
    std::same_as<typename Q::value_type, std::uint64_t> &&
    requires(Q& q, const Q& cq, const std::uint64_t& v, std::uint64_t& out) {
  { q.try_push(v) } -> std::same_as<bool>;
  { q.try_pop(out) } -> std::same_as<bool>;
  { cq.capacity() } -> std::convertible_to<std::size_t>;
  { Q::kName } -> std::convertible_to<std::string_view>;
  { Q::kProgress } -> std::convertible_to<Progress>;
  { Q::kMultiProducer } -> std::convertible_to<bool>;
  { Q::kMultiConsumer } -> std::convertible_to<bool>;
  { Q::kBound } -> std::convertible_to<Bound>;
  { Q::kLinearizable } -> std::convertible_to<bool>;
};

namespace detail {

/// Queue capacity in the scenarios (every implementation gets the same).
inline constexpr std::size_t kCapacity = 4096;
/// Pushes per producer per benchmark iteration in `throughput`.
inline constexpr std::uint64_t kBatch = 256;
/// Unbounded queues in `throughput`: a producer waits while more than this many messages may be
/// in flight, so a fast producer cannot grow the queue without limit. It is >= 2 x producers x
/// kBatch, which keeps the wait deadlock-free (see Throughput::produce).
inline constexpr std::uint64_t kWindow = kCapacity;
/// `throughput` messages: producer index + 1 in the high bits, a per-producer sequence below.
inline constexpr unsigned kSeqBits = 40;
inline constexpr std::uint64_t kSeqMask = (std::uint64_t{1} << kSeqBits) - 1;
/// Per-thread state of the fixtures is kept this far apart: x86 prefetches cache lines in
/// 128-byte pairs.
inline constexpr std::size_t kSeparation = 128;

/// How benchmark threads wait for a queue that is full or empty: a `pause` per failed try for a
/// while (a hand-off arrives within a round trip, well under kSpins pauses), then a yield per
/// failed try (the other side may be descheduled: 4 threads on 2 CPUs). A flat spin rather than
/// sync::Backoff's doubling: doubling pauses overshoot the moment the item arrives and inflate
/// the measured round trip by up to 2x. Every implementation waits the same way.
class Waiter {
 public:
  void operator()() {
    if (spins_ < kSpins) {
      ++spins_;
      sync::Real::pause();
    } else {
      sync::Real::yield();
    }
  }

 private:
  static constexpr unsigned kSpins = 128;
  unsigned spins_ = 0;
};

template <Queue Q>
void push_wait(Q& q, std::uint64_t v) {
  if (q.try_push(v)) return;
  Waiter wait;
  do {
    wait();
  } while (!q.try_push(v));
}

template <Queue Q>
std::uint64_t pop_wait(Q& q) {
  std::uint64_t v = 0;
  if (q.try_pop(v)) return v;
  Waiter wait;
  do {
    wait();
  } while (!q.try_pop(v));
  return v;
}

/// The first wrong value a thread saw, and how many.
struct Mismatches {
  std::uint64_t count = 0;
  std::uint64_t expected = 0;
  std::uint64_t got = 0;
  void note(std::uint64_t want, std::uint64_t have) {
    if (count++ == 0) {
      expected = want;
      got = have;
    }
  }
};

/// atomic_queue's latency benchmark (performance-anchors §1.2): two queues; thread 0 sends a
/// counter through `there_`, thread 1 pops it and sends it back incremented through `back_`,
/// thread 0 waits for it and sends the next. At most one element is in flight, and each message
/// depends on the previous one, so one operation is one round trip. Both sides check the
/// counter they receive. Only thread 0 counts operations (items = round trips).
template <Queue Q>
class PingPong final : public Fixture {
 public:
  PingPong() : there_(kCapacity), back_(kCapacity) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    if (state.thread_index() == 0) {
      serve(state, meter);
    } else {
      echo(state, meter);
    }
  }

  std::string verify() override {
    std::string wrong;
    if (sender_.bad.count > 0) {
      wrong = fmt::format("the sender got {} wrong answers (first: {} instead of {}); ",
                          sender_.bad.count, sender_.bad.got, sender_.bad.expected);
    }
    if (echo_.bad.count > 0) {
      wrong += fmt::format("the echo thread got {} wrong messages (first: {} instead of {}); ",
                           echo_.bad.count, echo_.bad.got, echo_.bad.expected);
    }
    std::uint64_t v = 0;
    if (there_.try_pop(v) || back_.try_pop(v)) {
      wrong += fmt::format("a message ({}) was left in a queue after the run; ", v);
    }
    if (!wrong.empty()) wrong.resize(wrong.size() - 2);
    return wrong;
  }

 private:
  void serve(benchmark::State& state, bench::Meter& meter) {
    std::uint64_t next = sender_.next;
    meter.begin();
    for (auto _ : state) {
      meter.op([&] {
        push_wait(there_, next);
        const std::uint64_t got = pop_wait(back_);
        if (got != next + 1) sender_.bad.note(next + 1, got);
        next = got + 1;
      });
    }
    meter.end();
    sender_.next = next;
  }

  void echo(benchmark::State& state, bench::Meter& meter) {
    std::uint64_t expect = echo_.next;
    meter.begin();  // counts no items: a round trip is counted once, by the sender
    for (auto _ : state) {
      const std::uint64_t got = pop_wait(there_);
      if (got != expect) echo_.bad.note(expect, got);
      push_wait(back_, got + 1);
      expect = got + 2;
    }
    meter.end();
    echo_.next = expect;
  }

  // Each role's state, touched by that role's thread only (Google Benchmark joins the threads
  // of a trial before it starts the next, and before verify()).
  struct alignas(kSeparation) Role {
    std::uint64_t next = 1;
    Mismatches bad;
  };
  Q there_;
  Q back_;
  Role sender_;
  Role echo_;
};

/// atomic_queue's throughput benchmark: `producers` threads push, `consumers` threads pop, no
/// dependency between messages. Each benchmark iteration, every producer pushes kBatch
/// messages and every consumer pops kBatch x producers / consumers, so the counts balance at
/// the end of every trial whatever order the threads run in. A message is (producer + 1) << 40
/// | sequence; each consumer checks that the sequence of every producer increases (per-producer
/// FIFO: true of every queue here, linearizable or not), and verify() checks that the sums and
/// counts pushed and popped are equal. Consumers count the items: one item = one message.
template <Queue Q>
class Throughput final : public Fixture {
 public:
  Throughput(int producers, int consumers)
      : q_(kCapacity),
        producers_(static_cast<std::size_t>(producers)),
        consumers_(static_cast<std::size_t>(consumers)),
        quota_(kBatch * static_cast<std::uint64_t>(producers) /
               static_cast<std::uint64_t>(consumers)) {
    for (auto& c : consumers_) c.last.assign(producers_.size(), 0);
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
      pushed += p.pushed;
      pushed_sum += p.sum;
    }
    std::uint64_t popped = 0;
    std::uint64_t popped_sum = 0;
    std::string wrong;
    for (std::size_t c = 0; c < consumers_.size(); ++c) {
      const auto& me = consumers_[c];
      popped += me.popped;
      popped_sum += me.sum;
      if (me.bad.count > 0 && wrong.empty()) {
        wrong = fmt::format(
            "consumer {} saw {} messages out of per-producer order or from no producer (first: "
            "{:#x} after {:#x})",
            c, me.bad.count, me.bad.got, me.bad.expected);
      }
    }
    if (!wrong.empty()) return wrong;
    if (pushed != popped || pushed_sum != popped_sum) {
      return fmt::format("{} messages pushed (sum {:#x}) but {} popped (sum {:#x})", pushed,
                         pushed_sum, popped, popped_sum);
    }
    std::uint64_t v = 0;
    if (q_.try_pop(v)) return fmt::format("a message ({:#x}) was left in the queue", v);
    return {};
  }

 private:
  void produce(benchmark::State& state, bench::Meter& meter, std::size_t p) {
    auto& me = producers_[p];
    const std::uint64_t tag = static_cast<std::uint64_t>(p + 1) << kSeqBits;
    const auto n = static_cast<std::uint64_t>(producers_.size());
    std::uint64_t seq = me.seq;
    std::uint64_t sum = me.sum;
    std::uint64_t pushed = me.pushed;
    meter.begin();
    for (auto _ : state) {
      if constexpr (Q::kBound == Bound::kUnbounded) {
        // At most kWindow messages in flight, counting every producer as far along as this
        // one. The producer furthest behind never waits here (it is <= 2 x n x kBatch ahead of
        // the published count, which is <= kWindow), so the producers cannot all wait at once.
        Waiter wait;
        // Relaxed: a count; nothing is read through it.
        while ((pushed + kBatch) * n > consumed_.load(std::memory_order_relaxed) + kWindow) wait();
      }
      for (std::uint64_t k = 0; k < kBatch; ++k) {
        const std::uint64_t v = tag | ++seq;
        push_wait(q_, v);
        sum += v;
      }
      pushed += kBatch;
    }
    meter.end();
    me.seq = seq;
    me.sum = sum;
    me.pushed = pushed;
  }

  void consume(benchmark::State& state, bench::Meter& meter, std::size_t c) {
    auto& me = consumers_[c];
    const std::uint64_t n = producers_.size();
    std::uint64_t* last = me.last.data();
    std::uint64_t sum = me.sum;
    meter.begin();
    for (auto _ : state) {
      for (std::uint64_t k = 0; k < quota_; ++k) {
        meter.op([&] {
          const std::uint64_t v = pop_wait(q_);
          const std::uint64_t p = (v >> kSeqBits) - 1;
          const std::uint64_t seq = v & kSeqMask;
          if (p >= n) {
            me.bad.note(0, v);
          } else {
            if (seq <= last[p]) me.bad.note(last[p] | ((p + 1) << kSeqBits), v);
            last[p] = seq;
          }
          sum += v;
        });
      }
      me.popped += quota_;
      if constexpr (Q::kBound == Bound::kUnbounded) {
        // Relaxed: a count for the producers' window; nothing is read through it.
        consumed_.fetch_add(quota_, std::memory_order_relaxed);
      }
    }
    meter.end();
    me.sum = sum;
  }

  struct alignas(kSeparation) Producer {
    std::uint64_t seq = 0;
    std::uint64_t sum = 0;
    std::uint64_t pushed = 0;
  };
  struct alignas(kSeparation) Consumer {
    std::vector<std::uint64_t> last;  // per producer: the last sequence seen
    std::uint64_t sum = 0;
    std::uint64_t popped = 0;
    Mismatches bad;
  };

  Q q_;
  std::vector<Producer> producers_;  // [i]: touched by producer thread i only
  std::vector<Consumer> consumers_;  // [i]: touched by consumer thread i only
  const std::uint64_t quota_;
  alignas(kSeparation) std::atomic<std::uint64_t> consumed_{0};
};

// -- checks --------------------------------------------------------------------------------------

/// Unique values per recording thread, readable in a failing history: thread t's i-th push is
/// t * 1,000,000 + i + 1.
class Values {
 public:
  explicit Values(std::size_t threads) : next_(threads) {}
  std::uint64_t take(std::size_t t) { return t * kPerThread + ++next_[t].v; }
  static std::size_t producer(std::uint64_t v) { return static_cast<std::size_t>(v / kPerThread); }

 private:
  static constexpr std::uint64_t kPerThread = 1'000'000;
  struct alignas(64) Next {
    std::uint64_t v = 0;
  };
  std::vector<Next> next_;  // [t] is touched by thread t only
};

/// How a stress check records: SPSC queues get one pushing thread and one popping thread, the
/// others 4 threads that mix both (more than the 2 CPUs, so operations get preempted).
/// A mixed thread pushes with probability `push_num / push_den`.
template <Queue Q>
stress::Body queue_body(std::shared_ptr<Q> q, std::shared_ptr<Values> values,
                        std::shared_ptr<std::atomic<std::uint64_t>> refused, std::uint64_t push_num,
                        std::uint64_t push_den) {
  return [q, values, refused, push_num, push_den](std::size_t t, stress::Rng& rng,
                                                  stress::Recorder& rec) {
    const bool push =
        (Q::kMultiProducer && Q::kMultiConsumer) ? rng.chance(push_num, push_den) : t == 0;
    if (push) {
      const std::uint64_t v = values->take(t);
      const auto r = rec.call(stress::QueueSpec::kPush, static_cast<std::int64_t>(v),
                              [&] { return stress::Ret::flag(q->try_push(v)); });
      // Relaxed: a statistic, read after the threads joined.
      if (!r.ok) refused->fetch_add(1, std::memory_order_relaxed);
    } else {
      rec.call(stress::QueueSpec::kPop, 0, [&] {
        std::uint64_t v = 0;
        return q->try_pop(v) ? stress::Ret::of(static_cast<std::int64_t>(v)) : stress::Ret::no();
      });
    }
  };
}

/// Recording options for a stress check. The budget (default 2 s) caps the recording time, and
/// sets the number of operations, `per_ms` per millisecond of budget: the recording is fast
/// and the history check takes most of the time (a few times longer under sanitizers), so a
/// short budget checks a shorter history instead of recording one it has no time to check.
template <Queue Q>
stress::RecordOptions record_options(const CheckConfig& c, std::size_t per_ms) {
  const std::chrono::milliseconds budget =
      c.budget.count() > 0 ? c.budget : std::chrono::milliseconds(2'000);
  stress::RecordOptions o;
  o.threads = (Q::kMultiProducer && Q::kMultiConsumer) ? 4 : 2;
  o.operations = per_ms * static_cast<std::size_t>(budget.count());
  o.ops_per_round = 8;
  o.seed = c.seed;
  o.time_cap = budget;
  return o;
}

/// A FIFO queue that may refuse a push only while at least `refuse_from` elements are queued,
/// and never holds more than `hold_at_most`: a `kAtLeast` queue ({capacity, unlimited}) or a
/// `kAtMost` one ({0, capacity}), which stress::QueueSpec's exact capacity does not describe.
/// Pops as in stress::QueueSpec.
struct CapacityQueueSpec {
  using State = stress::QueueSpec::State;
  std::size_t refuse_from = 0;
  std::size_t hold_at_most = std::numeric_limits<std::size_t>::max();

  [[nodiscard]] State init() const { return {}; }
  bool step(State& s, const stress::Op& op) const {
    if (op.kind == stress::QueueSpec::kPush) {
      if (!op.ok) return s.size() >= refuse_from;
      if (s.size() >= hold_at_most) return false;
      s.push_back(op.arg);
      return true;
    }
    if (!op.ok) return s.empty();
    if (s.empty() || s.front() != op.value) return false;
    s.pop_front();
    return true;
  }
  [[nodiscard]] std::size_t hash(const State& s) const { return stress::QueueSpec{}.hash(s); }
  [[nodiscard]] std::string describe(const stress::Op& op) const {
    return stress::QueueSpec{}.describe(op);
  }
  [[nodiscard]] std::string describe_state(const State& s) const {
    return stress::QueueSpec{}.describe_state(s);
  }
};

/// Linearizability against a FIFO spec. `full`: capacity 2 and half the operations pushes, so
/// the queue is often full and every refusal is checked: against the exact capacity
/// (stress::QueueSpec) or as CapacityQueueSpec says; else a capacity the run never reaches,
/// against an unbounded spec.
template <Queue Q>
stress::CheckResult linearizable(const CheckConfig& c, bool full) {
  auto q = std::make_shared<Q>(full ? 2 : 1024);
  auto refused = std::make_shared<std::atomic<std::uint64_t>>(0);
  const auto o = record_options<Q>(c, full ? 20 : 40);
  const auto name =
      fmt::format("lockfree_queue/{}/{}", Q::kName, full ? "linearizable_full" : "linearizable");
  // Full: half pushes, so the queue fills; else 2 in 5, so it stays short (concurrent pushes
  // leave the checker several possible states until they are popped).
  auto body =
      queue_body(q, std::make_shared<Values>(o.threads), refused, full ? 1 : 2, full ? 2 : 5);
  stress::CheckResult r;
  if (full && Q::kBound == Bound::kAtLeast) {
    r = stress::run_linearizability(name, CapacityQueueSpec{q->capacity()}, o, body);
  } else if (full && Q::kBound == Bound::kAtMost) {
    r = stress::run_linearizability(name, CapacityQueueSpec{0, q->capacity()}, o, body);
  } else {
    r = stress::run_linearizability(name, stress::QueueSpec{full ? q->capacity() : 0}, o, body);
  }
  if (full && r.passed() && refused->load() == 0) {
    r.verdict = stress::Verdict::kError;
    r.failure = "the queue was never full: the bounded case went untested";
  }
  if (!full && r.passed() && refused->load() > 0) {
    r.verdict = stress::Verdict::kFail;
    r.failure = fmt::format(
        "{} pushes were refused by a queue of capacity 1024 that never held "
        "more than a few elements",
        refused->load());
  }
  return r;
}

/// For queues that promise only FIFO per producer (moodycamel::ConcurrentQueue): checks a
/// recorded history and the values drained after it. Every accepted push is popped or drained
/// exactly once, nothing else is popped, and for each producer, a pop that completed before
/// another pop began got the earlier-pushed value (pushes of one producer are sequential, so
/// its values increase in push order). Empty results are not checked: such a queue may report
/// empty while it holds items.
inline stress::CheckResult check_per_producer_fifo(const std::string& name,
                                                   const stress::History& h,
                                                   const std::vector<std::uint64_t>& drained,
                                                   std::uint64_t seed) {
  using stress::QueueSpec;
  stress::CheckResult r;
  r.name = name;
  r.kind = "per_producer_fifo";
  r.seed = seed;
  r.samples = h.size();
  const auto fail = [&](const std::string& what) {
    r.verdict = stress::Verdict::kFail;
    r.failure = fmt::format("{}: {}; seed {:#x}, replay with {}", name, what, seed,
                            stress::replay_hint(seed));
    return r;
  };
  std::map<std::uint64_t, const stress::Op*> pushes;  // accepted pushes by value
  for (const auto& op : h) {
    if (op.kind == QueueSpec::kPush && op.ok) pushes[static_cast<std::uint64_t>(op.arg)] = &op;
  }
  std::map<std::uint64_t, const stress::Op*> pops;  // successful pops by value
  std::map<std::size_t, std::vector<const stress::Op*>> by_producer;
  for (const auto& op : h) {
    if (op.kind != QueueSpec::kPop || !op.ok) continue;
    const auto v = static_cast<std::uint64_t>(op.value);
    const auto it = pushes.find(v);
    if (it == pushes.end()) {
      return fail(
          fmt::format("thread {} popped {}, which no accepted push enqueued", op.thread, v));
    }
    if (op.response < it->second->invoke) {
      return fail(fmt::format("thread {} popped {} before its push began", op.thread, v));
    }
    if (!pops.emplace(v, &op).second) {
      return fail(
          fmt::format("{} was popped twice (threads {} and {})", v, pops.at(v)->thread, op.thread));
    }
    by_producer[Values::producer(v)].push_back(&op);
  }
  // Real-time order among one producer's pops: a pop that completed before another began got
  // the earlier-pushed (smaller) value.
  std::map<std::size_t, std::uint64_t> max_popped;
  for (auto& [p, ops] : by_producer) {
    std::vector<const stress::Op*> by_invoke = ops;
    std::sort(by_invoke.begin(), by_invoke.end(),
              [](const stress::Op* a, const stress::Op* b) { return a->invoke < b->invoke; });
    std::vector<const stress::Op*> by_response = ops;
    std::sort(by_response.begin(), by_response.end(),
              [](const stress::Op* a, const stress::Op* b) { return a->response < b->response; });
    const stress::Op* done_max = nullptr;  // the largest value among the pops completed so far
    std::size_t j = 0;
    for (const stress::Op* b : by_invoke) {
      for (; j < by_response.size() && by_response[j]->response < b->invoke; ++j) {
        if (done_max == nullptr || by_response[j]->value > done_max->value)
          done_max = by_response[j];
      }
      if (done_max != nullptr && done_max->value > b->value) {
        return fail(fmt::format(
            "producer {}: thread {} popped {} [ticket {}] after thread {}'s pop of {} had "
            "completed [ticket {}], but {} was pushed first",
            p, b->thread, b->value, b->invoke, done_max->thread, done_max->value,
            done_max->response, b->value));
      }
    }
    for (const stress::Op* op : ops) {
      max_popped[p] = std::max(max_popped[p], static_cast<std::uint64_t>(op->value));
    }
  }
  // The drain ran after every pop, on one thread.
  std::set<std::uint64_t> drained_set;
  std::map<std::size_t, std::uint64_t> last_drained;
  for (const std::uint64_t v : drained) {
    if (pushes.count(v) == 0)
      return fail(fmt::format("drained {}, which no accepted push enqueued", v));
    if (pops.count(v) != 0 || !drained_set.insert(v).second) {
      return fail(fmt::format("drained {}, which had already come out", v));
    }
    const std::size_t p = Values::producer(v);
    if (v < max_popped[p] || v < last_drained[p]) {
      return fail(fmt::format("drained {} after {} of the same producer had come out", v,
                              std::max(max_popped[p], last_drained[p])));
    }
    last_drained[p] = v;
  }
  for (const auto& [v, op] : pushes) {
    if (pops.count(v) == 0 && drained_set.count(v) == 0) {
      return fail(fmt::format(
          "{} (pushed by thread {}) was lost: never popped, not left in the queue", v, op->thread));
    }
  }
  r.stats = {{"accepted_pushes", static_cast<std::int64_t>(pushes.size())},
             {"pops", static_cast<std::int64_t>(pops.size())},
             {"drained", static_cast<std::int64_t>(drained.size())}};
  return r;
}

template <Queue Q>
stress::CheckResult per_producer_fifo(const CheckConfig& c) {
  auto q = std::make_shared<Q>(1024);
  auto refused = std::make_shared<std::atomic<std::uint64_t>>(0);
  const auto o = record_options<Q>(c, 40);
  const auto name = fmt::format("lockfree_queue/{}/per_producer_fifo", Q::kName);
  auto rec = stress::record(o, queue_body(q, std::make_shared<Values>(o.threads), refused, 2, 5));
  if (!rec.engine.ok()) {
    stress::CheckResult bad;
    bad.name = name;
    bad.kind = "per_producer_fifo";
    bad.seed = rec.seed;
    bad.verdict = stress::Verdict::kError;
    bad.failure = rec.engine.describe();
    return bad;
  }
  std::vector<std::uint64_t> drained;
  for (std::uint64_t v = 0; q->try_pop(v);) drained.push_back(v);
  auto r = check_per_producer_fifo(name, rec.history, drained, rec.seed);
  r.elapsed_ms += rec.elapsed_ms;
  return r;
}

// Model checks: a handful of operations on 2-3 logical threads, on the implementation rebound
// to check::Sync. The checker finds data races on the queue's cells (a missing release/acquire)
// and the assertions below find lost, duplicated or reordered elements.

/// One producer pushes 1, 2, 3 into a queue of capacity 2; one consumer tries three pops; the
/// main thread drains the rest. What came out, in order, must be what was accepted; the first
/// two pushes cannot be refused.
template <Queue Q>
check::TestCase spsc_model(std::string name) {
  struct State {
    Q q{2};
    std::array<std::uint64_t, 3> accepted{};  // the producer's; read after the join
    std::size_t n_accepted = 0;
    std::array<std::uint64_t, 3> got{};  // the consumer's; read after the join
    std::size_t n_got = 0;
  };
  return check::make_test<State>(
      std::move(name),
      {[](State& s) {
         for (std::uint64_t v = 1; v <= 3; ++v) {
           if (s.q.try_push(v)) s.accepted[s.n_accepted++] = v;
         }
       },
       [](State& s) {
         for (int i = 0; i < 3; ++i) {
           std::uint64_t v = 0;
           if (s.q.try_pop(v)) s.got[s.n_got++] = v;
         }
       }},
      [](State& s) {
        std::vector<std::uint64_t> out(s.got.begin(), s.got.begin() + s.n_got);
        for (std::uint64_t v = 0; s.q.try_pop(v);) out.push_back(v);
        CPB_CHECK_ASSERT(s.n_accepted >= 2);
        const std::vector<std::uint64_t> in(s.accepted.begin(), s.accepted.begin() + s.n_accepted);
        CPB_CHECK_ASSERT(out == in);
      });
}

/// A queue of capacity 1 (fewer slots than values, so they are reused): one producer pushes
/// 1, 2, 3, retrying while it is full; one consumer pops three values, retrying while it is
/// empty. They come out in order, and a slot is not written again before its value was read.
template <Queue Q>
check::TestCase wrap_model(std::string name) {
  struct State {
    Q q{1};
    std::array<std::uint64_t, 3> got{};  // the consumer's; read after the join
  };
  return check::make_test<State>(
      std::move(name),
      {[](State& s) {
         for (std::uint64_t v = 1; v <= 3; ++v) {
           while (!s.q.try_push(v)) check::Sync::yield();
         }
       },
       [](State& s) {
         for (std::uint64_t& v : s.got) {
           while (!s.q.try_pop(v)) check::Sync::yield();
         }
       }},
      [](State& s) {
        CPB_CHECK_ASSERT((s.got == std::array<std::uint64_t, 3>{1, 2, 3}));
      });
}

/// Two producers (1 then 2; and 3) and one consumer that tries two pops, capacity 4; the main
/// thread drains the rest. Every value comes out exactly once, and 1 before 2.
template <Queue Q>
check::TestCase two_producers_model(std::string name) {
  struct State {
    Q q{4};
    std::array<std::uint64_t, 2> got{};  // the consumer's; read after the join
    std::size_t n_got = 0;
  };
  return check::make_test<State>(
      std::move(name),
      {[](State& s) {
         CPB_CHECK_ASSERT(s.q.try_push(1));
         CPB_CHECK_ASSERT(s.q.try_push(2));
       },
       [](State& s) { CPB_CHECK_ASSERT(s.q.try_push(3)); },
       [](State& s) {
         for (int i = 0; i < 2; ++i) {
           std::uint64_t v = 0;
           if (s.q.try_pop(v)) s.got[s.n_got++] = v;
         }
       }},
      [](State& s) {
        std::vector<std::uint64_t> out(s.got.begin(), s.got.begin() + s.n_got);
        for (std::uint64_t v = 0; s.q.try_pop(v);) out.push_back(v);
        std::vector<std::uint64_t> sorted = out;
        std::sort(sorted.begin(), sorted.end());
        CPB_CHECK_ASSERT((sorted == std::vector<std::uint64_t>{1, 2, 3}));
        CPB_CHECK_ASSERT(std::find(out.begin(), out.end(), 1) <
                         std::find(out.begin(), out.end(), 2));
      });
}

/// One producer pushes 1 and 2 (capacity 2), two consumers try one pop each; the main thread
/// drains the rest. Each value comes out exactly once, and what is drained (after both pops)
/// was pushed after anything a consumer got, in order.
template <Queue Q>
check::TestCase two_consumers_model(std::string name) {
  struct State {
    Q q{2};
    std::array<std::uint64_t, 2> got{};  // [i]: consumer i's; read after the join
  };
  const auto pop = [](std::size_t i) {
    return [i](State& s) {
      std::uint64_t v = 0;
      if (s.q.try_pop(v)) s.got[i] = v;
    };
  };
  return check::make_test<State>(std::move(name),
                                 {[](State& s) {
                                    CPB_CHECK_ASSERT(s.q.try_push(1));
                                    CPB_CHECK_ASSERT(s.q.try_push(2));
                                  },
                                  pop(0), pop(1)},
                                 [](State& s) {
                                   std::vector<std::uint64_t> drained;
                                   for (std::uint64_t v = 0; s.q.try_pop(v);) drained.push_back(v);
                                   std::vector<std::uint64_t> all = drained;
                                   for (const std::uint64_t v : s.got) {
                                     if (v != 0) all.push_back(v);
                                     for (const std::uint64_t d : drained) CPB_CHECK_ASSERT(v < d);
                                   }
                                   std::sort(all.begin(), all.end());
                                   CPB_CHECK_ASSERT((all == std::vector<std::uint64_t>{1, 2}));
                                   CPB_CHECK_ASSERT(std::is_sorted(drained.begin(), drained.end()));
                                 });
}

}  // namespace detail

template <Queue Q>
struct Family {
  static constexpr std::string_view kName = "lockfree_queue";
  static constexpr std::string_view kDescription =
      "FIFO queues with try_push/try_pop: SPSC and MPMC, bounded and unbounded";
  /// The floor: a std::mutex ring. Every other queue should beat it, and it is the only
  /// baseline that runs every scenario in every build (the SPSC baselines cannot run the
  /// multi-producer points; moodycamel, boost::lockfree::queue and oneTBB are left out under
  /// TSan). The README adds the ratios to the strongest baseline of each scenario.
  static constexpr std::string_view kReference = "mutex_ring";

  static std::vector<Scenario> scenarios() {
    std::vector<Scenario> out;
    out.push_back({"ping_pong",
                   "round trip through two queues (atomic_queue's latency benchmark): thread 0 "
                   "sends a counter, thread 1 sends it back incremented; one item = one round "
                   "trip, both sides check the counter",
                   {},
                   ThreadAxis::fixed({2}),
                   64,
                   [](const Point&) -> std::unique_ptr<Fixture> {
                     return std::make_unique<detail::PingPong<Q>>();
                   }});
    // One scenario per producer/consumer split that the queue supports (an SPSC queue only
    // 1/1); 2/2 is 4 threads on a 2-CPU machine: oversubscribed on purpose.
    for (const int p : {1, 2}) {
      for (const int c : {1, 2}) {
        if ((p > 1 && !Q::kMultiProducer) || (c > 1 && !Q::kMultiConsumer)) continue;
        out.push_back({"throughput",
                       "producers push, consumers pop, no dependency between messages "
                       "(atomic_queue's throughput benchmark); one item = one message; "
                       "consumers check per-producer order, the run checks sums and counts",
                       {{"producers", "producer threads", {p}, {}},
                        {"consumers", "consumer threads", {c}, {}}},
                       ThreadAxis::fixed({p + c}),
                       64,
                       [p, c](const Point&) -> std::unique_ptr<Fixture> {
                         return std::make_unique<detail::Throughput<Q>>(p, c);
                       }});
      }
    }
    return out;
  }

  static std::vector<Check> checks() {
    std::vector<Check> out;
    const char* const threads = (Q::kMultiProducer && Q::kMultiConsumer)
                                    ? "4 threads mixing try_push and try_pop"
                                    : "one thread pushing, one popping";
    if constexpr (Q::kLinearizable) {
      out.push_back({"linearizable",
                     fmt::format("{}, capacity never reached; the history must be linearizable "
                                 "against an unbounded FIFO queue",
                                 threads),
                     [](const CheckConfig& c) { return detail::linearizable<Q>(c, false); },
                     {}});
      if constexpr (Q::kBound != Bound::kUnbounded) {
        out.push_back({"linearizable_full",
                       fmt::format("{}, capacity 2, often full; linearizable against a FIFO "
                                   "queue that refuses only when full ({} capacity)",
                                   threads, to_string(Q::kBound)),
                       [](const CheckConfig& c) { return detail::linearizable<Q>(c, true); },
                       {}});
      }
    } else {
      out.push_back({"per_producer_fifo",
                     fmt::format("{}; every push comes out exactly once and in order per "
                                 "producer (the queue promises no more)",
                                 threads),
                     [](const CheckConfig& c) { return detail::per_producer_fifo<Q>(c); },
                     {}});
    }
    if constexpr (sync::sync_templated<Q>) {
      using M = sync::rebind_t<Q, check::Sync>;
      const auto name = [](std::string_view check) {
        return fmt::format("lockfree_queue/{}/{}", Q::kName, check);
      };
      if constexpr (Q::kMultiProducer && Q::kMultiConsumer) {
        out.push_back({"model_2p1c",
                       "model check: 2 producers push 1, 2 and 3, a consumer pops twice; each "
                       "value exactly once, 1 before 2, no data race",
                       {},
                       check::model_mode(
                           [name] { return detail::two_producers_model<M>(name("model_2p1c")); })});
        out.push_back({"model_1p2c",
                       "model check: a producer pushes 1 and 2, two consumers pop once each; "
                       "each value exactly once, in order, no data race",
                       {},
                       check::model_mode(
                           [name] { return detail::two_consumers_model<M>(name("model_1p2c")); })});
      } else {
        out.push_back(
            {"model_1p1c",
             "model check: a producer pushes 1, 2, 3 into capacity 2, a consumer "
             "pops three times; what comes out is what was accepted, no data race",
             {},
             check::model_mode([name] { return detail::spsc_model<M>(name("model_1p1c")); })});
      }
      if constexpr (Q::kBound != Bound::kUnbounded) {
        out.push_back(
            {"model_wrap",
             "model check: a producer pushes 1, 2, 3 through capacity 1, retrying while full, "
             "a consumer pops three; in order, and no slot is reused before it was read",
             {},
             check::model_mode([name] { return detail::wrap_model<M>(name("model_wrap")); })});
      }
    }
    return out;
  }
};

}  // namespace cpb::patterns::lockfree_queue
