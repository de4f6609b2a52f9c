// SPDX-License-Identifier: Apache-2.0
// Stress: invariants that a runtime which loses, duplicates or reorders messages, runs an actor
// on two workers at once, or restarts the wrong children violates. Rounds repeat for
// CPB_STRESS_MS (default 300 ms) from a seed (CPB_SEED=<seed> replays).
// - Every runtime: 2-4 sender threads send random numbers of messages to random actors (some
//   from inside handlers, which forward); per sender and actor the order is kept, every message
//   arrives once, and no actor is ever inside two handlers at once.
// - The own runtime under fault injection: a random tree (a root and a nested supervisor, each
//   with a random strategy), children that throw at a random rate while 2-3 threads send to
//   them; checked after the runtime is idle: handled + dropped == sent (the only loss is the
//   message each failure drops), per-sender order holds across restarts, every restart decision
//   names the children its strategy says in start order, restarts done + coalesced == asked,
//   and each child's instances == 1 + the restarts it had.
#include "patterns/actor/actor.hpp"

#include "harness/testing.hpp"
#include "patterns/actor/actor.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cpb::patterns::actor {
namespace {

using namespace std::chrono_literals;

template <class R>
class ActorStress : public ::testing::Test {};
TYPED_TEST_SUITE(ActorStress, testing::ToGTest<Tested>, testing::ImplName);

/// Per actor: the last sequence number seen from each sender, and the counts.
struct Slot {
  std::vector<std::uint64_t> last;
  std::uint64_t got = 0;
  bool order = true;
  std::atomic<int> inside{0};
  std::atomic<bool> overlap{false};
};

TYPED_TEST(ActorStress, PerSenderOrderNoLossNoOverlap) {
  testing::repeat_rounds([](std::mt19937_64& rng) -> std::string {
    const int senders = 2 + static_cast<int>(rng() % 3);
    const std::size_t actors = 1 + rng() % 4;
    const int workers = 1 + static_cast<int>(rng() % 3);
    std::vector<std::vector<std::uint64_t>> plan(static_cast<std::size_t>(senders));
    std::uint64_t total = 0;
    for (auto& p : plan) {
      p.resize(actors);
      for (auto& n : p) total += n = rng() % 500;
    }
    std::vector<std::unique_ptr<Slot>> slots;
    for (std::size_t k = 0; k < actors; ++k) {
      slots.push_back(std::make_unique<Slot>());
      slots.back()->last.assign(static_cast<std::size_t>(senders), 0);
    }
    std::atomic<std::uint64_t> done{0};
    {
      TypeParam rt(static_cast<std::size_t>(workers));
      std::vector<typename TypeParam::ref_type> refs;
      for (std::size_t k = 0; k < actors; ++k) {
        refs.push_back(rt.spawn([&, k](typename TypeParam::context&, const Msg& m) {
          Slot& s = *slots[k];
          if (s.inside.fetch_add(1) != 0) s.overlap = true;
          if (m.b <= s.last[m.a]) s.order = false;
          s.last[m.a] = m.b;
          ++s.got;
          s.inside.fetch_sub(1);
          done.fetch_add(1);
        }));
      }
      std::vector<std::thread> threads;
      for (int t = 0; t < senders; ++t) {
        threads.emplace_back([&, t, seed = rng()] {
          std::mt19937_64 r(seed);
          std::vector<std::uint64_t> sent(actors, 0);
          const auto& p = plan[static_cast<std::size_t>(t)];
          for (;;) {
            std::size_t k = r() % actors;
            std::size_t tries = 0;
            while (sent[k] == p[k] && tries++ < actors) k = (k + 1) % actors;
            if (sent[k] == p[k]) break;
            rt.send(refs[k], {kWork, static_cast<std::uint64_t>(t), ++sent[k]});
          }
        });
      }
      for (auto& th : threads) th.join();
      while (done.load() < total) std::this_thread::sleep_for(100us);
    }
    for (std::size_t k = 0; k < actors; ++k) {
      const Slot& s = *slots[k];
      std::uint64_t want = 0;
      for (const auto& p : plan) want += p[k];
      if (s.overlap) return "actor " + std::to_string(k) + " ran two handlers at once";
      if (!s.order) return "actor " + std::to_string(k) + " got a sender's messages out of order";
      if (s.got != want) {
        return "actor " + std::to_string(k) + " got " + std::to_string(s.got) + " of " +
               std::to_string(want);
      }
    }
    return {};
  });
}

/// A supervised child in the fault stress test.
struct Child {
  std::string name;
  std::vector<std::uint64_t> last;  // per sender; the child only (survives its restarts)
  std::uint64_t handled = 0;        // the child only
  bool order = true;                // the child only
  std::atomic<int> instances{0};
};

struct FaultMsg2 {
  std::uint64_t sender;
  std::uint64_t seq;
  bool fail;
};

/// The children a decision of `strategy` restarts when child `k` of `n` fails, in start order.
std::vector<std::size_t> targets(Strategy strategy, std::size_t k, std::size_t n) {
  std::vector<std::size_t> out;
  const std::size_t first = strategy == Strategy::kOneForAll ? 0 : k;
  const std::size_t last = strategy == Strategy::kOneForOne ? k + 1 : n;
  for (std::size_t i = first; i < last; ++i) out.push_back(i);
  return out;
}

TEST(ActorFaultStress, FailuresLoseOnlyTheirMessageAndRestartWhatTheStrategySays) {
  testing::repeat_rounds([](std::mt19937_64& rng) -> std::string {
    const auto strategy = static_cast<Strategy>(rng() % 3);
    const std::size_t n = 2 + rng() % 4;
    const int senders = 2 + static_cast<int>(rng() % 2);
    const std::uint64_t per_mille = 1 + rng() % 100;
    std::vector<std::unique_ptr<Child>> kids;
    for (std::size_t k = 0; k < n; ++k) {
      kids.push_back(std::make_unique<Child>());
      kids.back()->name = "c" + std::to_string(k);
      kids.back()->last.assign(static_cast<std::size_t>(senders), 0);
    }
    std::uint64_t sent = 0;
    std::uint64_t faults = 0;
    Stats s;
    std::vector<RestartRecord> log;
    {
      ActorSystem<> sys(1 + rng() % 3, 1 + rng() % 16);
      auto& sup = sys.supervisor(strategy, {std::size_t{1} << 40, 1s});
      std::vector<Ref<FaultMsg2>> refs;
      for (std::size_t k = 0; k < n; ++k) {
        Child* c = kids[k].get();
        refs.push_back(sup.spawn<FaultMsg2>(c->name, [c] {
          c->instances.fetch_add(1);
          return [c](FaultMsg2& m) {
            if (m.seq <= c->last[m.sender]) c->order = false;
            c->last[m.sender] = m.seq;
            if (m.fail) throw std::runtime_error("injected");
            ++c->handled;
          };
        }));
      }
      std::vector<std::thread> threads;
      std::vector<std::uint64_t> sent_by(static_cast<std::size_t>(senders), 0);
      std::vector<std::uint64_t> faults_by(static_cast<std::size_t>(senders), 0);
      for (int t = 0; t < senders; ++t) {
        threads.emplace_back([&, t, seed = rng(), count = 200 + rng() % 800] {
          std::mt19937_64 r(seed);
          std::vector<std::uint64_t> seq(n, 0);
          for (std::uint64_t i = 0; i < count; ++i) {
            const std::size_t k = r() % n;
            const bool fail = r() % 1000 < per_mille;
            refs[k].send({static_cast<std::uint64_t>(t), ++seq[k], fail});
            faults_by[static_cast<std::size_t>(t)] += fail ? 1 : 0;
          }
          sent_by[static_cast<std::size_t>(t)] = count;
        });
      }
      for (auto& th : threads) th.join();
      sys.wait_idle();
      for (auto x : sent_by) sent += x;
      for (auto x : faults_by) faults += x;
      s = sys.stats();
      log = sys.restart_log();
    }
    std::uint64_t handled = 0;
    for (const auto& c : kids) {
      if (!c->order) return c->name + " got a sender's messages out of order";
      handled += c->handled;
    }
    if (s.failures != faults || s.dropped_failed != faults || s.handled != handled ||
        handled + s.dropped_failed != sent || s.dropped_stopped != 0) {
      return "sent " + std::to_string(sent) + " with " + std::to_string(faults) +
             " faults: handled " + std::to_string(s.handled) + ", dropped " +
             std::to_string(s.dropped_failed) + ", failures " + std::to_string(s.failures);
    }
    // Group the log by decision; each must be the strategy's set for some child, in order.
    std::map<std::uint64_t, std::vector<std::string>> decisions;
    for (const auto& r : log) decisions[r.decision].push_back(r.child);
    if (decisions.size() != faults) {
      return std::to_string(decisions.size()) + " decisions for " + std::to_string(faults) +
             " failures";
    }
    std::vector<std::uint64_t> asked(n, 0);
    for (const auto& [d, names] : decisions) {
      bool matched = false;
      for (std::size_t k = 0; k < n && !matched; ++k) {
        std::vector<std::string> want;
        for (std::size_t i : targets(strategy, k, n)) want.push_back(kids[i]->name);
        matched = want == names;
      }
      if (!matched) return "decision " + std::to_string(d) + " restarted the wrong children";
      for (const auto& name : names) ++asked[std::stoul(name.substr(1))];
    }
    if (s.restarts + s.restarts_coalesced != s.restarts_requested ||
        s.restarts_requested != log.size()) {
      return "restarts: asked " + std::to_string(s.restarts_requested) + ", done " +
             std::to_string(s.restarts) + ", coalesced " + std::to_string(s.restarts_coalesced);
    }
    std::uint64_t rebuilt = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const auto inst = static_cast<std::uint64_t>(kids[k]->instances.load());
      if (inst < 1 || inst - 1 > asked[k]) {
        return kids[k]->name + " has " + std::to_string(inst) + " instances for " +
               std::to_string(asked[k]) + " restarts asked";
      }
      rebuilt += inst - 1;
    }
    if (rebuilt != s.restarts) return "instances rebuilt differ from the restarts counted";
    if (strategy == Strategy::kOneForOne && s.restarts != faults) {
      return "one-for-one coalesced a restart";
    }
    return {};
  });
}

TEST(ActorFaultStress, EscalationsMidRunLoseNothingButTheFailingMessages) {
  testing::repeat_rounds([](std::mt19937_64& rng) -> std::string {
    std::atomic<std::uint64_t> handled{0};
    std::uint64_t sent = 0;
    std::uint64_t faults = 0;
    Stats s;
    {
      ActorSystem<> sys(2, 1 + rng() % 8);
      auto& root = sys.supervisor(static_cast<Strategy>(rng() % 3), {std::size_t{1} << 40, 1s});
      auto& mid = root.supervisor("mid", static_cast<Strategy>(rng() % 3), {rng() % 3, 1h});
      std::vector<Ref<int>> refs;
      for (int k = 0; k < 4; ++k) {
        Supervisor<>& parent = k % 2 == 0 ? root : mid;
        refs.push_back(parent.spawn<int>("c" + std::to_string(k), [&handled] {
          return [&handled](int& m) {
            if (m < 0) throw std::runtime_error("injected");
            handled.fetch_add(1);
          };
        }));
      }
      std::vector<std::thread> threads;
      std::vector<std::uint64_t> f(2, 0);
      for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&, t, seed = rng()] {
          std::mt19937_64 r(seed);
          for (int i = 0; i < 500; ++i) {
            const bool fail = r() % 20 == 0;
            f[static_cast<std::size_t>(t)] += fail ? 1 : 0;
            refs[r() % refs.size()].send(fail ? -1 : 1);
          }
        });
      }
      for (auto& th : threads) th.join();
      sys.wait_idle();
      sent = 1000;
      faults = f[0] + f[1];
      s = sys.stats();
      if (sys.failed()) return "the root gave up although its intensity is unbounded";
    }
    if (handled.load() + s.dropped_failed != sent || s.dropped_failed != faults ||
        s.dropped_stopped != 0) {
      return "sent " + std::to_string(sent) + " with " + std::to_string(faults) +
             " faults: handled " + std::to_string(handled.load()) + ", dropped " +
             std::to_string(s.dropped_failed);
    }
    return {};
  });
}

}  // namespace
}  // namespace cpb::patterns::actor
