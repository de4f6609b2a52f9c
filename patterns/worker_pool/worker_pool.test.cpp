// SPDX-License-Identifier: Apache-2.0
// Conformance of every worker pool in `Impls` (one typed suite), the dispatcher's policies on
// their own (deterministic, no threads: a worker that took a task and never finishes it is a
// blocked worker), the process workers' shutdown (every child reaped), the Pareto workload and
// the batch verifier.
#include "patterns/worker_pool/worker_pool.hpp"

#include "harness/testing.hpp"
#include "patterns/worker_pool/worker_pool.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <signal.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpb::patterns::worker_pool {
namespace {

using namespace std::chrono_literals;

/// `n` tasks with ids from `first`, random costs in [0, max_cost] and random priorities.
std::vector<Task> random_tasks(std::size_t n, std::uint64_t first, std::int64_t max_cost,
                               std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> cost(0, max_cost);
  std::bernoulli_distribution high(0.25);
  std::vector<Task> v;
  for (std::size_t i = 0; i < n; ++i) {
    v.push_back(Task{cost(rng), first + i, high(rng) ? Priority::kHigh : Priority::kLow});
  }
  return v;
}

template <class P>
std::vector<Done> run_all(P& pool, const std::vector<Task>& tasks) {
  for (const Task& t : tasks) pool.submit(t);
  pool.wait_idle();
  std::vector<Done> done;
  pool.collect(done);
  return done;
}

/// True when `pid` is no child of this process any more (reaped), i.e. no zombie is left.
bool reaped(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) < 0 && errno == ECHILD;
}

/// The implementations of `Impls` with dispatch policy `D`, as GoogleTest types.
template <Dispatch D, class L = Impls>
struct WithDispatchT;
template <Dispatch D, class... T>
struct WithDispatchT<D, TypeList<T...>> {
  using type = typename cpb::testing::TupleToGTestT<decltype(std::tuple_cat(
      std::declval<std::conditional_t<T::kDispatch == D, std::tuple<T>, std::tuple<>>>()...))>::
      type;
};
template <Dispatch D>
using WithDispatch = typename WithDispatchT<D>::type;

template <class P>
class WorkerPoolTest : public ::testing::Test {};
TYPED_TEST_SUITE(WorkerPoolTest, cpb::testing::ToGTest<Impls>, cpb::testing::ImplName);

static_assert(WorkerPool<ThreadWorkers<RoundRobin>> && WorkerPool<ThreadWorkers<LeastLoaded>> &&
              WorkerPool<ThreadWorkers<PriorityFirst>> && WorkerPool<ProcessWorkers<RoundRobin>> &&
              WorkerPool<ProcessWorkers<PriorityFirst>> && WorkerPool<AsioStrands<RoundRobin>> &&
              WorkerPool<AsioStrands<LeastLoaded>>);

TYPED_TEST(WorkerPoolTest, ZeroWorkersIsRejected) {
  EXPECT_THROW(TypeParam pool(0), std::invalid_argument);
}

TYPED_TEST(WorkerPoolTest, WaitIdleWithNothingSubmittedReturns) {
  TypeParam pool(2);
  pool.wait_idle();
  pool.wait_below(1);
  std::vector<Done> done;
  pool.collect(done);
  EXPECT_TRUE(done.empty());
}

TYPED_TEST(WorkerPoolTest, EveryTaskRunsOnceWithItsChecksum) {
  const auto tasks = random_tasks(2000, 0, 2000, 1);
  TypeParam pool(3);
  const auto done = run_all(pool, tasks);
  EXPECT_EQ(check_batch(tasks, 0, done, TypeParam::kDispatch, 3, true), "");
}

TYPED_TEST(WorkerPoolTest, RepeatedSubmitWaitCycles) {
  TypeParam pool(2);
  std::uint64_t next = 0;
  for (int cycle = 0; cycle < 100; ++cycle) {
    const auto tasks = random_tasks(static_cast<std::size_t>(cycle % 13), next, 500, cycle);
    const auto done = run_all(pool, tasks);
    ASSERT_EQ(check_batch(tasks, next, done, TypeParam::kDispatch, 2, true), "")
        << "cycle " << cycle;
    next += tasks.size();
  }
}

TYPED_TEST(WorkerPoolTest, ConcurrentSubmitters) {
  constexpr int kThreads = 3;
  constexpr std::size_t kEach = 400;
  const auto tasks = random_tasks(kThreads * kEach, 0, 1000, 2);
  TypeParam pool(2);
  std::vector<std::thread> submitters;
  for (int s = 0; s < kThreads; ++s) {
    submitters.emplace_back([&, s] {
      for (std::size_t i = 0; i < kEach; ++i) pool.submit(tasks[s * kEach + i]);
    });
  }
  for (auto& t : submitters) t.join();
  pool.wait_idle();
  std::vector<Done> done;
  pool.collect(done);
  // Several submitters: no turn order, and no priority order across threads.
  EXPECT_EQ(check_batch(tasks, 0, done,
                        TypeParam::kDispatch == Dispatch::kPriority ? Dispatch::kLeastLoaded
                                                                    : TypeParam::kDispatch,
                        2, false),
            "");
}

TYPED_TEST(WorkerPoolTest, WaitBelowLetsTheDriverKeepAWindow) {
  TypeParam pool(2);
  const auto tasks = random_tasks(300, 0, 3000, 3);
  for (const Task& t : tasks) {
    pool.wait_below(3);
    pool.submit(t);
  }
  pool.wait_idle();
  std::vector<Done> done;
  pool.collect(done);
  EXPECT_EQ(check_batch(tasks, 0, done, TypeParam::kDispatch, 2, true), "");
}

// Least-loaded: worker A is blocked on a long task; every short task submitted while A's task
// is outstanding (and the other worker is free again: the driver waits below 2 pending) must go
// to the other worker. Round-robin would send every second one behind the long task.
template <class P>
class LeastLoadedPoolTest : public ::testing::Test {};
TYPED_TEST_SUITE(LeastLoadedPoolTest, WithDispatch<Dispatch::kLeastLoaded>, cpb::testing::ImplName);

TYPED_TEST(LeastLoadedPoolTest, AvoidsABlockedWorker) {
  TypeParam pool(2);
  std::vector<Task> tasks{Task{300'000'000, 0, Priority::kLow}};  // 300 ms
  pool.submit(tasks[0]);
  for (std::uint64_t id = 1; id <= 20; ++id) {
    pool.wait_below(2);  // only the long task is outstanding
    tasks.push_back(Task{1000, id, Priority::kLow});
    pool.submit(tasks.back());
  }
  pool.wait_idle();
  std::vector<Done> done;
  pool.collect(done);
  ASSERT_EQ(check_batch(tasks, 0, done, TypeParam::kDispatch, 2, false), "");
  const Done* long_task = nullptr;
  for (const Done& d : done) {
    if (d.id == 0) long_task = &d;
  }
  ASSERT_NE(long_task, nullptr);
  int checked = 0;
  for (const Done& d : done) {
    if (d.id == 0 || d.submit_ns >= long_task->end_ns) continue;
    EXPECT_NE(d.worker, long_task->worker) << "task " << d.id << " was queued behind the "
                                           << "long task although the other worker was free";
    ++checked;
  }
  EXPECT_GE(checked, 3) << "the long task finished before the short ones were submitted";
}

// Priority: a high task queued before a low one is dispatched first (check_batch), and while
// the only worker is busy, every queued high task overtakes every queued low one.
template <class P>
class PriorityPoolTest : public ::testing::Test {};
TYPED_TEST_SUITE(PriorityPoolTest, WithDispatch<Dispatch::kPriority>, cpb::testing::ImplName);

TYPED_TEST(PriorityPoolTest, HighTasksOvertakeQueuedLowOnes) {
  TypeParam pool(1);
  std::vector<Task> tasks{Task{200'000'000, 0, Priority::kLow}};  // 200 ms
  pool.submit(tasks[0]);
  std::this_thread::sleep_for(30ms);  // usually the worker has taken it by now
  for (std::uint64_t id = 1; id <= 12; ++id) {
    tasks.push_back(Task{1000, id, id % 3 == 0 ? Priority::kHigh : Priority::kLow});
    pool.submit(tasks.back());
  }
  const auto done = [&] {
    pool.wait_idle();
    std::vector<Done> d;
    pool.collect(d);
    return d;
  }();
  ASSERT_EQ(check_batch(tasks, 0, done, TypeParam::kDispatch, 1, false), "");
  std::vector<const Done*> by_id(tasks.size());
  for (const Done& d : done) by_id[d.id] = &d;
  bool all_queued_while_busy = by_id[0]->seq == 0;
  for (std::size_t i = 1; i < tasks.size(); ++i)
    all_queued_while_busy &= by_id[i]->submit_ns < by_id[0]->end_ns;
  if (!all_queued_while_busy) GTEST_SKIP() << "the worker was not busy while tasks queued";
  for (std::size_t h = 1; h < tasks.size(); ++h) {
    if (tasks[h].priority != Priority::kHigh) continue;
    for (std::size_t l = 1; l < tasks.size(); ++l) {
      if (tasks[l].priority == Priority::kLow) {
        EXPECT_LT(by_id[h]->seq, by_id[l]->seq) << "high " << h << " vs low " << l;
      }
    }
  }
}

// -- the dispatcher on its own: deterministic, driven by hand --------------------------------

TEST(Dispatcher, ZeroWorkersIsRejected) {
  EXPECT_THROW(Dispatcher<RoundRobin> d(0), std::invalid_argument);
}

TEST(Dispatcher, RoundRobinAssignsInTurn) {
  Dispatcher<RoundRobin> d(3);
  for (std::uint64_t i = 0; i < 7; ++i) d.submit(Task{0, i, Priority::kLow});
  EXPECT_EQ(d.load(0), 3U);
  EXPECT_EQ(d.load(1), 2U);
  EXPECT_EQ(d.load(2), 2U);
  for (std::size_t w = 0; w < 3; ++w) {
    Slot s;
    ASSERT_TRUE(d.next(w, s));
    EXPECT_EQ(s.task.id, w);
  }
}

TEST(Dispatcher, LeastLoadedPicksALeastLoadedWorker) {
  Dispatcher<LeastLoaded> d(3);
  Slot s;
  d.submit(Task{0, 0, Priority::kLow});  // all idle: worker 0
  ASSERT_EQ(d.load(0), 1U);
  ASSERT_TRUE(d.next(0, s));  // worker 0 runs it and stays blocked: never finishes
  for (std::uint64_t id = 1; id <= 30; ++id) {
    const std::size_t before[3] = {d.load(0), d.load(1), d.load(2)};
    d.submit(Task{0, id, Priority::kLow});
    std::size_t chosen = 3;
    for (std::size_t w = 0; w < 3; ++w) {
      if (d.load(w) == before[w] + 1) chosen = w;
    }
    ASSERT_LT(chosen, 3U) << "task " << id;
    for (std::size_t w = 0; w < 3; ++w) {
      EXPECT_LE(before[chosen], before[w])
          << "task " << id << " went to worker " << chosen << ", not a least-loaded one";
    }
    EXPECT_NE(chosen, 0U) << "task " << id << " was queued behind the blocked worker";
    // The chosen worker runs and finishes its oldest task: the other two stay below worker 0.
    ASSERT_TRUE(d.next(chosen, s));
    d.finish(chosen, Done{.id = s.task.id});
  }
}

TEST(Dispatcher, LeastLoadedSpreadsTiesInTurn) {
  Dispatcher<LeastLoaded> d(3);
  for (std::uint64_t i = 0; i < 6; ++i) d.submit(Task{0, i, Priority::kLow});
  for (std::size_t w = 0; w < 3; ++w) EXPECT_EQ(d.load(w), 2U);
}

TEST(Dispatcher, PriorityHandsOutHighTasksFirstInFifoOrder) {
  Dispatcher<PriorityFirst> d(2);
  const Priority kinds[] = {Priority::kLow, Priority::kLow, Priority::kHigh, Priority::kLow,
                            Priority::kHigh};
  for (std::uint64_t i = 0; i < 5; ++i) d.submit(Task{0, i, kinds[i]});
  const std::uint64_t want[] = {2, 4, 0, 1, 3};
  for (std::uint64_t i = 0; i < 5; ++i) {
    Slot s;
    ASSERT_TRUE(d.next(i % 2, s));  // either worker: one shared queue
    EXPECT_EQ(s.task.id, want[i]);
    EXPECT_EQ(s.seq, i);
  }
}

TEST(Dispatcher, StopDrainsThenEnds) {
  Dispatcher<RoundRobin> d(1);
  d.submit(Task{0, 7, Priority::kLow});
  d.stop();
  Slot s;
  ASSERT_TRUE(d.next(0, s));
  EXPECT_EQ(s.task.id, 7U);
  d.finish(0, Done{.id = 7});
  EXPECT_FALSE(d.next(0, s));
}

// -- process workers: shutdown reaps every child -------------------------------------------

TEST(ProcessWorkers, DestructorReapsEveryChild) {
  std::vector<pid_t> pids;
  {
    ProcessWorkers<RoundRobin> pool(3);
    pids = pool.pids();
    ASSERT_EQ(pids.size(), 3U);
    const auto tasks = random_tasks(100, 0, 1000, 4);
    EXPECT_EQ(check_batch(tasks, 0, run_all(pool, tasks), Dispatch::kRoundRobin, 3, true), "");
    for (pid_t p : pids) EXPECT_FALSE(reaped(p)) << "child " << p << " ended early";
  }
  for (pid_t p : pids) EXPECT_TRUE(reaped(p)) << "child " << p << " left as a zombie";
}

TEST(ProcessWorkers, ChildrenAreReapedWhenAnExceptionUnwinds) {
  std::vector<pid_t> pids;
  try {
    ProcessWorkers<LeastLoaded> pool(2);
    pids = pool.pids();
    for (std::uint64_t i = 0; i < 50; ++i) pool.submit(Task{1000, i, Priority::kLow});
    throw std::runtime_error("a failing test");  // tasks still queued
  } catch (const std::runtime_error&) {
  }
  ASSERT_EQ(pids.size(), 2U);
  for (pid_t p : pids) EXPECT_TRUE(reaped(p)) << "child " << p << " left as a zombie";
}

TEST(ProcessWorkers, AKilledChildFailsItsTasksAndIsReaped) {
  std::vector<pid_t> pids;
  {
    ProcessWorkers<RoundRobin> pool(2);
    pids = pool.pids();
    ASSERT_EQ(::kill(pids[0], SIGKILL), 0);
    const auto tasks = random_tasks(20, 0, 1000, 5);
    const auto done = run_all(pool, tasks);  // returns: the dead worker's tasks fail
    ASSERT_EQ(done.size(), tasks.size());
    for (const Done& d : done) {
      if (d.worker == 0) {
        EXPECT_EQ(d.checksum, 0U) << "task " << d.id << " on the dead worker";
      } else {
        EXPECT_EQ(d.checksum, task_checksum(d.id, tasks[d.id].cost_ns));
      }
    }
    EXPECT_NE(check_batch(tasks, 0, done, Dispatch::kRoundRobin, 2, true), "");
  }
  for (pid_t p : pids) EXPECT_TRUE(reaped(p)) << "child " << p << " left as a zombie";
}

// Children of a later pool must not hold the earlier pool's sockets open, or the earlier
// pool's children never read end of file and its destructor hangs.
TEST(ProcessWorkers, PoolsEndIndependently) {
  auto first = std::make_unique<ProcessWorkers<RoundRobin>>(2);
  const auto first_pids = first->pids();
  ProcessWorkers<RoundRobin> second(2);
  std::atomic<bool> ended{false};
  std::thread ender([&] {
    first.reset();
    ended.store(true);
  });
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!ended.load() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  const bool hung = !ended.load();
  if (hung) {
    for (pid_t p : second.pids()) ::kill(p, SIGKILL);  // releases the inherited sockets
  }
  ender.join();
  EXPECT_FALSE(hung) << "the first pool's destructor waited for the second pool's children";
  for (pid_t p : first_pids) EXPECT_TRUE(reaped(p));
}

// -- the Pareto workload --------------------------------------------------------------------

TEST(Pareto, MeanIsExactForEveryShape) {
  for (const double alpha : {0.1, 0.5, 1.1, 1.5, 3.0}) {
    const auto c = pareto_costs(256, alpha, 20'000, 9);
    std::int64_t sum = 0;
    for (auto v : c) {
      EXPECT_GE(v, 0);
      sum += v;
    }
    EXPECT_EQ(sum, 256 * 20'000) << "alpha " << alpha;
  }
}

TEST(Pareto, SeededAndReproducible) {
  EXPECT_EQ(pareto_costs(64, 1.5, 1000, 1), pareto_costs(64, 1.5, 1000, 1));
  EXPECT_NE(pareto_costs(64, 1.5, 1000, 1), pareto_costs(64, 1.5, 1000, 2));
}

TEST(Pareto, AHeavierTailIsMoreSkewed) {
  // Same uniforms: a smaller alpha raises every ratio x_max / x_i, so the largest share grows.
  std::int64_t prev = 0;
  for (const double alpha : {5.0, 3.0, 1.5, 1.1, 0.5}) {
    const auto c = pareto_costs(256, alpha, 20'000, 3);
    const std::int64_t top = *std::max_element(c.begin(), c.end());
    EXPECT_GT(top, prev) << "alpha " << alpha;
    prev = top;
  }
}

TEST(Pareto, RejectsANonPositiveShape) {
  EXPECT_THROW(pareto_costs(4, 0.0, 100, 1), std::invalid_argument);
  EXPECT_THROW(pareto_costs(4, -1.0, 100, 1), std::invalid_argument);
}

// -- the verifier fails on broken records ---------------------------------------------------

std::vector<Done> good_records(const std::vector<Task>& tasks, std::size_t workers) {
  std::vector<Done> v;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    v.push_back(Done{tasks[i].id, task_checksum(tasks[i].id, tasks[i].cost_ns), i, 0, 0,
                     static_cast<std::uint32_t>(tasks[i].id % workers), tasks[i].priority});
  }
  return v;
}

TEST(CheckBatch, CatchesLostDuplicatedMixedUpAndOutOfTurnTasks) {
  const auto tasks = random_tasks(10, 0, 100, 6);
  auto ok = good_records(tasks, 2);
  EXPECT_EQ(check_batch(tasks, 0, ok, Dispatch::kRoundRobin, 2, true), "");
  auto lost = ok;
  lost.pop_back();
  EXPECT_NE(check_batch(tasks, 0, lost, Dispatch::kRoundRobin, 2, true), "");
  auto twice = ok;
  twice.back() = twice.front();
  EXPECT_NE(check_batch(tasks, 0, twice, Dispatch::kRoundRobin, 2, true), "");
  auto mixed = ok;
  mixed[3].checksum = task_checksum(4, tasks[4].cost_ns);
  EXPECT_NE(check_batch(tasks, 0, mixed, Dispatch::kRoundRobin, 2, true), "");
  auto turn = ok;
  turn[5].worker = 0;
  EXPECT_NE(check_batch(tasks, 0, turn, Dispatch::kRoundRobin, 2, true), "");
  EXPECT_EQ(check_batch(tasks, 0, turn, Dispatch::kLeastLoaded, 2, true), "");
}

TEST(CheckBatch, CatchesAPriorityInversion) {
  std::vector<Task> tasks{{0, 0, Priority::kHigh}, {0, 1, Priority::kLow}};
  auto done = good_records(tasks, 1);
  EXPECT_EQ(check_batch(tasks, 0, done, Dispatch::kPriority, 1, false), "");
  std::swap(done[0].seq, done[1].seq);  // the low task was dispatched first
  EXPECT_NE(check_batch(tasks, 0, done, Dispatch::kPriority, 1, false), "");
  tasks[0].priority = Priority::kLow;  // low then high: no promise
  tasks[1].priority = Priority::kHigh;
  EXPECT_EQ(check_batch(tasks, 0, done, Dispatch::kPriority, 1, false), "");
}

}  // namespace
}  // namespace cpb::patterns::worker_pool
