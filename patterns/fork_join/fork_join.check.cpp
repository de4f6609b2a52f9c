// SPDX-License-Identifier: Apache-2.0
// Stress: invariants that a fork-join runtime which loses a task, runs one twice, returns from
// a join early or drops an exception violates. Each round draws a random binary fork tree
// (shape, size and depth vary), runs it on a runtime of 1-4 workers from 1-2 outside threads at
// once, and every node marks its id in an array of atomic counters; a branch's result (its
// subtree's size, a plain variable) is read by the parent after the join. Every id must be
// marked exactly once and every subtree size must match. In some rounds one node throws: the
// exception must reach the caller of `run`, and no node may run twice. Rounds repeat for
// CPB_STRESS_MS (default 300 ms), seeded: a failure prints the seed, and CPB_SEED=<seed>
// replays the same rounds.
#include "patterns/fork_join/fork_join.hpp"

#include "harness/testing.hpp"
#include "patterns/fork_join/fork_join.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace cpb::patterns::fork_join {
namespace {

/// A random binary tree in preorder: node i forks into `left` and `right` (both or neither).
struct Tree {
  struct Node {
    std::uint32_t left = 0;
    std::uint32_t right = 0;
    std::uint32_t size = 1;  // nodes in this subtree, computed sequentially
    bool fork = false;
  };
  std::vector<Node> nodes;

  Tree(std::mt19937_64& rng, std::uint32_t max_nodes) {
    const double p = std::uniform_real_distribution<double>(0.3, 0.55)(rng);
    build(rng, p, max_nodes, 0);
  }

 private:
  std::uint32_t build(std::mt19937_64& rng, double p, std::uint32_t max_nodes, int depth) {
    const auto id = static_cast<std::uint32_t>(nodes.size());
    nodes.emplace_back();
    if (depth < 40 && nodes.size() + 2 <= max_nodes && std::bernoulli_distribution(p)(rng)) {
      const std::uint32_t l = build(rng, p, max_nodes, depth + 1);
      const std::uint32_t r = build(rng, p, max_nodes, depth + 1);
      nodes[id].fork = true;
      nodes[id].left = l;
      nodes[id].right = r;
      nodes[id].size = 1 + nodes[l].size + nodes[r].size;
    }
    return id;
  }
};

/// What one run of a tree left behind: the marks, and the first wrong subtree size.
struct Ledger {
  explicit Ledger(std::size_t n) : marks(std::make_unique<std::atomic<std::uint8_t>[]>(n)) {}
  std::unique_ptr<std::atomic<std::uint8_t>[]> marks;
  std::atomic<std::int64_t> bad_size{-1};
};

/// Visits subtree `id`: marks it, throws at `thrower`, forks into the children; returns the
/// subtree's size as counted (plain variables written by the branches, read after the join).
template <class R>
std::uint32_t visit(R& rt, const Tree& t, Ledger& ledger, std::uint32_t id, std::int64_t thrower) {
  ledger.marks[id].fetch_add(1);
  if (static_cast<std::int64_t>(id) == thrower) throw std::runtime_error(std::to_string(id));
  const Tree::Node& n = t.nodes[id];
  if (!n.fork) return 1;
  std::uint32_t l = 0;
  std::uint32_t r = 0;
  rt.invoke([&] { l = visit(rt, t, ledger, n.left, thrower); },
            [&] { r = visit(rt, t, ledger, n.right, thrower); });
  const std::uint32_t size = 1 + l + r;
  if (size != n.size) {
    std::int64_t none = -1;
    ledger.bad_size.compare_exchange_strong(none, id);
  }
  return size;
}

/// One caller's tree: "" when it ran right, else what went wrong.
template <class R>
std::string run_tree(R& rt, const Tree& t, std::int64_t thrower) {
  Ledger ledger(t.nodes.size());
  std::string caught;
  bool threw = false;
  try {
    rt.run([&] { (void)visit(rt, t, ledger, 0, thrower); });
  } catch (const std::runtime_error& e) {
    threw = true;
    caught = e.what();
  }
  if (thrower >= 0) {
    if (!threw) return "node " + std::to_string(thrower) + " threw, but run returned normally";
    if (caught != std::to_string(thrower)) return "run rethrew '" + caught + "', not the thrown";
  } else if (threw) {
    return "run threw '" + caught + "' though no node threw";
  }
  for (std::size_t id = 0; id < t.nodes.size(); ++id) {
    const int m = ledger.marks[id].load();
    if (m > 1) return "node " + std::to_string(id) + " ran " + std::to_string(m) + " times";
    if (thrower < 0 && m != 1) return "node " + std::to_string(id) + " never ran";
  }
  if (thrower < 0 && ledger.bad_size.load() >= 0) {
    return "the joined size of subtree " + std::to_string(ledger.bad_size.load()) +
           " is wrong: a join returned before its branch had finished";
  }
  return {};
}

template <class R>
class ForkJoinStress : public ::testing::Test {
 protected:
  void SetUp() override {
    if ((std::is_same_v<R, TbbTaskGroup> || std::is_same_v<R, OmpTasks>)&&cpb::testing::kTsan) {
      GTEST_SKIP() << "libtbb and libgomp are not instrumented for ThreadSanitizer";
    }
  }
};

TYPED_TEST_SUITE(ForkJoinStress, cpb::testing::ToGTest<Impls>, cpb::testing::ImplName);

TYPED_TEST(ForkJoinStress, RandomTreesRunEveryTaskOnceAndExceptionsReachTheCaller) {
  const std::uint64_t s = testing::stress_seed();
  SCOPED_TRACE("seed " + std::to_string(s) + " (replay: CPB_SEED=" + std::to_string(s) + ")");
  std::mt19937_64 rng(s);
  const auto deadline = std::chrono::steady_clock::now() + testing::stress_budget();
  int rounds = 0;
  do {
    const auto workers = std::uniform_int_distribution<std::size_t>(1, 4)(rng);
    const int callers = std::uniform_int_distribution<int>(1, 2)(rng);
    TypeParam rt(workers);
    std::vector<Tree> trees;
    std::vector<std::int64_t> throwers;
    for (int c = 0; c < callers; ++c) {
      trees.emplace_back(rng, std::uniform_int_distribution<std::uint32_t>(1, 4000)(rng));
      const bool fail = std::bernoulli_distribution(0.25)(rng);
      throwers.push_back(fail
                             ? std::uniform_int_distribution<std::int64_t>(
                                   0, static_cast<std::int64_t>(trees.back().nodes.size()) - 1)(rng)
                             : -1);
    }
    std::vector<std::string> wrong(static_cast<std::size_t>(callers));
    std::vector<std::thread> threads;
    for (int c = 1; c < callers; ++c) {
      threads.emplace_back([&, c] { wrong[c] = run_tree(rt, trees[c], throwers[c]); });
    }
    wrong[0] = run_tree(rt, trees[0], throwers[0]);
    for (auto& t : threads) t.join();
    for (int c = 0; c < callers; ++c) {
      ASSERT_TRUE(wrong[c].empty()) << "round " << rounds << ", " << workers << " workers, caller "
                                    << c << " of " << callers << ": " << wrong[c];
    }
    ++rounds;
  } while (std::chrono::steady_clock::now() < deadline);
}

}  // namespace
}  // namespace cpb::patterns::fork_join
