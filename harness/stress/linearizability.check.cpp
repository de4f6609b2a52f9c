// SPDX-License-Identifier: Apache-2.0
// Linearizability and mutual exclusion on real threads: correct objects pass over at least
// 100,000 recorded operations; deliberately broken ones are caught, and their failing history
// is printed. The objects here are test fixtures, not the families' implementations: families
// run the same checks over their own implementations (see README.md).
#include "harness/stress/linearizability.hpp"

#include "harness/core/sync.hpp"
#include "harness/stress/mutual_exclusion.hpp"
#include "harness/stress/specs.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace cpb::stress {
namespace {

constexpr std::size_t kOps = 100'000;
constexpr std::size_t kThreads = 4;

void print(const CheckResult& r) {
  std::printf("%s", format(r).c_str());
  std::fflush(stdout);
}

RecordOptions options(std::size_t ops) {
  RecordOptions o;
  o.threads = kThreads;
  o.operations = ops;
  o.ops_per_round = 8;
  return o;
}

/// Unique values per thread, readable in a failing history: thread t's i-th push is
/// t * 1,000,000 + i.
struct Values {
  explicit Values(std::size_t threads) : next(threads) {}
  struct alignas(64) Next {
    std::int64_t v = 0;
  };
  std::vector<Next> next;  // next[t] is touched by thread t only
  std::int64_t take(std::size_t t) {
    return static_cast<std::int64_t>(t) * 1'000'000 + next[t].v++;
  }
};

// -- a correct locked queue ---------------------------------------------------------------------

class LockedQueue {
 public:
  /// `capacity` 0 is unbounded; otherwise try_push refuses when `capacity` elements are queued.
  explicit LockedQueue(std::size_t capacity = 0) : capacity_(capacity) {}
  void push(std::int64_t v) { try_push(v); }
  bool try_push(std::int64_t v) {
    std::lock_guard lk(m_);
    if (capacity_ != 0 && q_.size() >= capacity_) return false;
    q_.push_back(v);
    return true;
  }
  bool try_pop(std::int64_t& out) {
    std::lock_guard lk(m_);
    if (q_.empty()) return false;
    out = q_.front();
    q_.pop_front();
    return true;
  }

 private:
  const std::size_t capacity_;
  std::mutex m_;
  std::deque<std::int64_t> q_;
};

/// Pops a little more often than it pushes, so the container stays short: concurrent pushes
/// leave the checker unsure of their order (several possible states) until they are popped.
constexpr std::uint64_t kPushIn5 = 2;

template <class Queue>
Body queue_body(std::shared_ptr<Queue> q, std::shared_ptr<Values> values) {
  return [q, values](std::size_t t, Rng& rng, Recorder& rec) {
    if (rng.chance(kPushIn5, 5)) {
      const std::int64_t v = values->take(t);
      rec.call(QueueSpec::kPush, v, [&] {
        q->push(t, v);
        return Ret::yes();
      });
    } else {
      rec.call(QueueSpec::kPop, 0, [&] {
        std::int64_t v = 0;
        return q->try_pop(t, v) ? Ret::of(v) : Ret::no();
      });
    }
  };
}

/// Adapts a queue without a thread argument to queue_body.
template <class Queue>
struct ByThread {
  Queue q;
  void push(std::size_t, std::int64_t v) { q.push(v); }
  bool try_pop(std::size_t, std::int64_t& v) { return q.try_pop(v); }
};

TEST(Linearizability, LockedQueuePasses) {
  const auto q = std::make_shared<ByThread<LockedQueue>>();
  const CheckResult r = run_linearizability("locked_queue", QueueSpec{}, options(kOps),
                                            queue_body(q, std::make_shared<Values>(kThreads)));
  print(r);
  EXPECT_TRUE(r.passed()) << r.failure;
  EXPECT_GE(r.samples, kOps);
}

// -- a lock-free (Treiber) stack ----------------------------------------------------------------

/// Treiber's stack. Nodes are never freed while the stack lives (they are kept on an
/// all-nodes list and freed by the destructor), so no address is reused: no ABA, and a pop may
/// read a node another thread already popped.
class TreiberStack {
 public:
  TreiberStack() = default;
  TreiberStack(const TreiberStack&) = delete;
  TreiberStack& operator=(const TreiberStack&) = delete;
  ~TreiberStack() {
    // Acquire pairs with the release CAS in push() that linked each node on all_.
    Node* n = all_.load(std::memory_order_acquire);
    while (n != nullptr) {
      Node* next = n->all_next;
      delete n;
      n = next;
    }
  }

  void push(std::int64_t v) {
    Node* n = new Node{v, nullptr, nullptr};
    n->all_next = all_.load(std::memory_order_relaxed);  // only the CAS below publishes
    // Release pairs with the destructor's acquire load of all_.
    // Failure is relaxed: it only reloads the head to retry.
    while (!all_.compare_exchange_weak(n->all_next, n, std::memory_order_release,
                                       std::memory_order_relaxed)) {
    }
    n->next = top_.load(std::memory_order_relaxed);  // only the CAS below publishes
    // Release pairs with the acquire loads/CAS of top_ in try_pop: the node's value and next
    // are visible to whoever reads n from top_. Failure is relaxed: it only retries.
    while (!top_.compare_exchange_weak(n->next, n, std::memory_order_release,
                                       std::memory_order_relaxed)) {
    }
  }

  bool try_pop(std::int64_t& out) {
    // Acquire pairs with push's release CAS on top_.
    Node* t = top_.load(std::memory_order_acquire);
    // Acquire (both outcomes): a failed CAS reloads t, whose next we read next.
    while (t != nullptr && !top_.compare_exchange_weak(t, t->next, std::memory_order_acquire,
                                                       std::memory_order_acquire)) {
    }
    if (t == nullptr) return false;
    out = t->value;
    return true;
  }

 private:
  struct Node {
    std::int64_t value;
    Node* next;
    Node* all_next;
  };
  alignas(64) std::atomic<Node*> top_{nullptr};
  alignas(64) std::atomic<Node*> all_{nullptr};
};

TEST(Linearizability, TreiberStackPasses) {
  const auto s = std::make_shared<TreiberStack>();
  const auto values = std::make_shared<Values>(kThreads);
  const CheckResult r = run_linearizability("treiber_stack", StackSpec{}, options(kOps),
                                            [s, values](std::size_t t, Rng& rng, Recorder& rec) {
                                              if (rng.chance(kPushIn5, 5)) {
                                                const std::int64_t v = values->take(t);
                                                rec.call(StackSpec::kPush, v, [&] {
                                                  s->push(v);
                                                  return Ret::yes();
                                                });
                                              } else {
                                                rec.call(StackSpec::kPop, 0, [&] {
                                                  std::int64_t v = 0;
                                                  return s->try_pop(v) ? Ret::of(v) : Ret::no();
                                                });
                                              }
                                            });
  print(r);
  EXPECT_TRUE(r.passed()) << r.failure;
  EXPECT_GE(r.samples, kOps);
}

// -- an atomic counter --------------------------------------------------------------------------

TEST(Linearizability, AtomicCounterPasses) {
  const auto c = std::make_shared<std::atomic<std::int64_t>>(0);
  const CheckResult r = run_linearizability(
      "atomic_counter", CounterSpec{}, options(kOps), [c](std::size_t, Rng& rng, Recorder& rec) {
        if (rng.chance(3, 4)) {
          const auto d = static_cast<std::int64_t>(1 + rng.below(3));
          rec.call(CounterSpec::kFetchAdd, d, [&] { return Ret::of(c->fetch_add(d)); });
        } else {
          rec.call(CounterSpec::kLoad, 0, [&] { return Ret::of(c->load()); });
        }
      });
  print(r);
  EXPECT_TRUE(r.passed()) << r.failure;
  EXPECT_GE(r.samples, kOps);
}

// -- the same queue, bounded: try_push refuses when full -------------------------------------

TEST(Linearizability, LockedBoundedQueuePasses) {
  constexpr std::size_t kCapacity = 2;
  const auto q = std::make_shared<LockedQueue>(kCapacity);
  const auto values = std::make_shared<Values>(kThreads);
  const auto refused = std::make_shared<std::atomic<std::uint64_t>>(0);
  const CheckResult r = run_linearizability(
      "locked_bounded_queue", QueueSpec{kCapacity}, options(30'000),
      [q, values, refused](std::size_t t, Rng& rng, Recorder& rec) {
        if (rng.chance(1, 2)) {
          const std::int64_t v = values->take(t);
          const Ret got = rec.call(QueueSpec::kPush, v, [&] { return Ret::flag(q->try_push(v)); });
          // Relaxed: a statistic, read after the threads joined.
          if (!got.ok) refused->fetch_add(1, std::memory_order_relaxed);
        } else {
          rec.call(QueueSpec::kPop, 0, [&] {
            std::int64_t v = 0;
            return q->try_pop(v) ? Ret::of(v) : Ret::no();
          });
        }
      });
  print(r);
  EXPECT_TRUE(r.passed()) << r.failure;
  EXPECT_GT(refused->load(), 0U) << "the queue was never full: the bounded case went untested";
}

// -- a register with compare-and-swap -------------------------------------------------------------

TEST(Linearizability, AtomicRegisterPasses) {
  const auto reg = std::make_shared<std::atomic<std::int64_t>>(0);
  const CheckResult r = run_linearizability(
      "atomic_register", RegisterSpec{}, options(30'000),
      [reg](std::size_t, Rng& rng, Recorder& rec) {
        const auto v = static_cast<std::int64_t>(rng.below(4));
        switch (rng.below(3)) {
          case 0:
            rec.call(RegisterSpec::kRead, 0, [&] { return Ret::of(reg->load()); });
            break;
          case 1:
            rec.call(RegisterSpec::kWrite, v, [&] {
              reg->store(v);
              return Ret::yes();
            });
            break;
          default: {
            const auto desired = static_cast<std::int64_t>(rng.below(4));
            rec.call(RegisterSpec::kCas, v, desired, [&] {
              std::int64_t expected = v;
              const bool ok = reg->compare_exchange_strong(expected, desired);
              return Ret{ok, ok ? 0 : expected};  // a failed CAS records the value it saw
            });
          }
        }
      });
  print(r);
  EXPECT_TRUE(r.passed()) << r.failure;
}

// -- a locked set, checked per key ----------------------------------------------------------------

TEST(Linearizability, LockedSetPasses) {
  struct LockedSet {
    std::mutex m;
    std::set<std::int64_t> s;
  };
  const auto set = std::make_shared<LockedSet>();
  const CheckResult r = run_linearizability(
      "locked_set", SetSpec{}, options(kOps), [set](std::size_t, Rng& rng, Recorder& rec) {
        const auto key = static_cast<std::int64_t>(rng.below(8));
        const auto kind = static_cast<std::uint32_t>(rng.below(3));
        rec.call(kind, key, [&] {
          std::lock_guard lk(set->m);
          switch (kind) {
            case SetSpec::kInsert:
              return Ret::flag(set->s.insert(key).second);
            case SetSpec::kErase:
              return Ret::flag(set->s.erase(key) == 1);
            default:
              return Ret::flag(set->s.count(key) == 1);
          }
        });
      });
  print(r);
  EXPECT_TRUE(r.passed()) << r.failure;
  EXPECT_GE(r.samples, kOps);
  EXPECT_EQ(r.stat("partitions"), 8);
}

// -- a broken queue: one FIFO lane per thread parity ----------------------------------------------

/// Deliberately NOT linearizable: pushes go to the lane of the pushing thread's parity, and a
/// pop tries its own lane first. Each lane is FIFO and locked (no data race), but an element
/// pushed later into one lane can be popped before an older one waiting in the other lane.
class TwoLaneQueue {
 public:
  void push(std::size_t thread, std::int64_t v) {
    Lane& l = lanes_[thread % 2];
    std::lock_guard lk(l.m);
    l.q.push_back(v);
  }
  bool try_pop(std::size_t thread, std::int64_t& out) {
    for (std::size_t k = 0; k < 2; ++k) {
      Lane& l = lanes_[(thread + k) % 2];
      std::lock_guard lk(l.m);
      if (!l.q.empty()) {
        out = l.q.front();
        l.q.pop_front();
        return true;
      }
    }
    return false;
  }

 private:
  struct Lane {
    std::mutex m;
    std::deque<std::int64_t> q;
  };
  Lane lanes_[2];
};

TEST(Linearizability, TwoLaneQueueIsCaught) {
  const auto q = std::make_shared<TwoLaneQueue>();
  const CheckResult r = run_linearizability("two_lane_queue", QueueSpec{}, options(20'000),
                                            queue_body(q, std::make_shared<Values>(kThreads)));
  print(r);
  ASSERT_EQ(r.verdict, Verdict::kFail) << "the checker missed a non-linearizable queue";
  EXPECT_NE(r.failure.find("not linearizable"), std::string::npos) << r.failure;
  EXPECT_NE(r.failure.find("CPB_STRESS_SEED="), std::string::npos) << r.failure;
  EXPECT_NE(r.details.find("| thread "), std::string::npos) << r.details;
}

// -- mutual exclusion ---------------------------------------------------------------------------

/// Deliberately broken: "test, then set" as two separate steps (with a yield between them to
/// widen the window), so two threads can both see the lock free and both take it.
class TestThenSetLock {
 public:
  void lock() {
    // Acquire pairs with unlock's release store.
    while (locked_.load(std::memory_order_acquire)) std::this_thread::yield();
    std::this_thread::yield();
    locked_.store(true, std::memory_order_relaxed);  // the bug: not an atomic test-and-set
  }
  bool try_lock() {
    // Acquire pairs with unlock's release store.
    if (locked_.load(std::memory_order_acquire)) return false;
    locked_.store(true, std::memory_order_relaxed);  // the same bug
    return true;
  }
  void unlock() {
    // Release pairs with the acquire load in lock().
    locked_.store(false, std::memory_order_release);
  }

 private:
  std::atomic<bool> locked_{false};
};

template <class L>
CheckResult run_holds(const std::string& name, std::size_t holds) {
  const auto lock = std::make_shared<L>();
  const Recording rec = record(options(holds), [lock](std::size_t, Rng& rng, Recorder& r) {
    const auto spins = 1 + rng.below(16);
    r.hold(*lock, [&] {
      for (std::uint64_t i = 0; i < spins; ++i) sync::Real::pause();
    });
  });
  EXPECT_TRUE(rec.engine.ok()) << rec.engine.describe();
  CheckResult r = check_mutual_exclusion(rec.history, name, rec.seed);
  print(r);
  return r;
}

TEST(MutualExclusion, StdMutexPasses) {
  const CheckResult r = run_holds<std::mutex>("std_mutex", 40'000);
  EXPECT_TRUE(r.passed()) << r.failure;
  EXPECT_GE(r.samples, 40'000U);
}

TEST(MutualExclusion, TestThenSetLockIsCaught) {
  const CheckResult r = run_holds<TestThenSetLock>("test_then_set_lock", 10'000);
  ASSERT_EQ(r.verdict, Verdict::kFail) << "the broken lock was not caught";
  EXPECT_NE(r.details.find("*holds"), std::string::npos) << r.details;
}

}  // namespace
}  // namespace cpb::stress
