// SPDX-License-Identifier: Apache-2.0
// Stress: invariants that a pool which loses, duplicates or mixes up tasks, or breaks its
// priority promise, violates. Random rounds (workers, submitters, tasks per submitter, costs,
// priorities, back-pressure windows) race submitters against each other, the workers and
// wait_below; every round ends with wait_idle, and every id must have exactly one record with
// the checksum of its own task. Priority pools: a high task queued by a submitter before one of
// its low tasks is dispatched first. Process pools: after each round, every child is reaped.
// Each test repeats rounds for CPB_STRESS_MS (default 300 ms), seeded: a failure prints the
// seed, and CPB_SEED=<seed> replays the same rounds.
#include "patterns/worker_pool/worker_pool.hpp"

#include "harness/testing.hpp"
#include "patterns/worker_pool/worker_pool.impls.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <vector>

namespace cpb::patterns::worker_pool {
namespace {

using testing::repeat_rounds;

template <class P>
std::vector<pid_t> children(const P& pool) {
  if constexpr (requires { pool.pids(); }) {
    return pool.pids();
  } else {
    return {};
  }
}

template <class P>
class WorkerPoolStress : public ::testing::Test {};
TYPED_TEST_SUITE(WorkerPoolStress, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(WorkerPoolStress, EveryTaskRunsExactlyOnceInPriorityOrder) {
  repeat_rounds([](std::mt19937_64& rng) -> std::string {
    const int workers = std::uniform_int_distribution<int>(1, 4)(rng);
    const int submitters = std::uniform_int_distribution<int>(1, 3)(rng);
    const int per = std::uniform_int_distribution<int>(1, 400)(rng);
    const std::int64_t max_cost = std::uniform_int_distribution<std::int64_t>(0, 5000)(rng);
    const int window = std::uniform_int_distribution<int>(0, 6)(rng);  // 0: none
    std::vector<Task> tasks;
    std::bernoulli_distribution high(0.3);
    std::uniform_int_distribution<std::int64_t> cost(0, max_cost);
    for (int i = 0; i < submitters * per; ++i) {
      tasks.push_back(Task{cost(rng), static_cast<std::uint64_t>(i),
                           high(rng) ? Priority::kHigh : Priority::kLow});
    }
    std::vector<Done> done;
    std::vector<pid_t> pids;
    {
      TypeParam pool(static_cast<std::size_t>(workers));
      pids = children(pool);
      std::vector<std::thread> threads;
      for (int s = 0; s < submitters; ++s) {
        threads.emplace_back([&, s] {
          for (int i = 0; i < per; ++i) {
            if (window > 0) pool.wait_below(static_cast<std::size_t>(window));
            pool.submit(tasks[static_cast<std::size_t>(s * per + i)]);
          }
        });
      }
      for (auto& t : threads) t.join();
      pool.wait_idle();
      pool.collect(done);
    }
    const std::string where = " (" + std::to_string(workers) + " workers, " +
                              std::to_string(submitters) + " submitters x " + std::to_string(per) +
                              " tasks, window " + std::to_string(window) + ")";
    // Exactly once, with the right checksum; round-robin turns only with one submitter.
    const Dispatch exact =
        TypeParam::kDispatch == Dispatch::kPriority ? Dispatch::kLeastLoaded : TypeParam::kDispatch;
    std::string w =
        check_batch(tasks, 0, done, exact, static_cast<std::size_t>(workers), submitters == 1);
    if (!w.empty()) return w + where;
    if (TypeParam::kDispatch == Dispatch::kPriority) {
      // Per submitter, in its submission order.
      std::vector<Done> by_id(tasks.size());
      for (const Done& d : done) by_id[d.id] = d;
      for (int s = 0; s < submitters; ++s) {
        std::vector<Task> mine(tasks.begin() + s * per, tasks.begin() + (s + 1) * per);
        std::vector<Done> records(by_id.begin() + s * per, by_id.begin() + (s + 1) * per);
        w = check_batch(mine, static_cast<std::uint64_t>(s * per), records, Dispatch::kPriority,
                        static_cast<std::size_t>(workers), false);
        if (!w.empty()) return "submitter " + std::to_string(s) + ": " + w + where;
      }
    }
    for (pid_t p : pids) {
      int status = 0;
      if (!(::waitpid(p, &status, WNOHANG) < 0 && errno == ECHILD)) {
        return "child " + std::to_string(p) + " was not reaped by the destructor" + where;
      }
    }
    return {};
  });
}

}  // namespace
}  // namespace cpb::patterns::worker_pool
