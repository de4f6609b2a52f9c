// SPDX-License-Identifier: Apache-2.0
// The etcd cluster fixture against the real binary: the members elect one leader; a write
// through the leader reaches every member (each read on its own endpoint, serializable, so it
// answers from its own state); after a SIGKILL of the leader the others elect a new one that
// commits a write, and the old leader, restarted on its data directory, rejoins and serves
// that write; the commit fixture's verify() passes after real writes and catches a write
// changed behind its back; the `faults` check passes with leader kills; a missing binary is one
// line naming the member; and a destroyed cluster leaves no member behind. One cluster serves the
// first tests (a start takes about a second); etcd_cluster_no_leftovers.sh checks that none
// outlives the binary.
#include "patterns/consensus/etcd_cluster.hpp"

#include "patterns/distributed_lock/etcd_lock.hpp"
#include "patterns/distributed_lock/process.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace cpb::patterns::consensus {
namespace {

namespace dl = distributed_lock;
using std::chrono::milliseconds;

/// The binary's cluster; nullptr when etcd is not installed.
EtcdCluster* shared_cluster() {
  static std::unique_ptr<EtcdCluster> c = [] {
    return EtcdCluster::unavailable().empty() ? std::make_unique<EtcdCluster>() : nullptr;
  }();
  return c.get();
}

#define CPB_NEED_CLUSTER(c)          \
  EtcdCluster* c = shared_cluster(); \
  if ((c) == nullptr) GTEST_SKIP() << EtcdCluster::unavailable();

std::int64_t put(const EtcdCluster& c, int member, const std::string& key,
                 const std::string& value) {
  Gateway g(c.client_port(member), milliseconds(5000));
  const nlohmann::json r =
      g.post("/v3/kv/put", {{"key", dl::base64_encode(key)}, {"value", dl::base64_encode(value)}});
  return json_i64(r.value("header", nlohmann::json::object()), "revision");
}

/// Member i's own value of `key` (a serializable read), once it has applied `revision`;
/// "<missing>" when it does not have it within 5 s.
std::string local_value(const EtcdCluster& c, int i, const std::string& key,
                        std::int64_t revision) {
  Gateway g(c.client_port(i), milliseconds(2000));
  for (int tries = 0; tries < 1000; ++tries) {
    const nlohmann::json r =
        g.post("/v3/kv/range", {{"key", dl::base64_encode(key)}, {"serializable", true}});
    if (json_i64(r.value("header", nlohmann::json::object()), "revision") >= revision) {
      const auto kvs = r.value("kvs", nlohmann::json::array());
      return kvs.empty() ? "<none>" : dl::base64_decode(kvs[0].value("value", ""));
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  return "<missing>";
}

bool gone(pid_t pid) {
  for (int i = 0; i < 300 && dl::process_alive(pid); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  return !dl::process_alive(pid);
}

TEST(EtcdCluster, ElectsOneLeaderAndReplicatesAWriteToEveryMember) {
  CPB_NEED_CLUSTER(c);
  ASSERT_EQ(c->size(), 3);
  EXPECT_TRUE(c->version().starts_with("3.")) << c->version();
  EXPECT_GT(c->version_number(), 30000);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(dl::process_alive(c->pid(i))) << i;
    EXPECT_TRUE(dl::port_in_use(c->client_port(i))) << i;
    EXPECT_TRUE(dl::port_in_use(c->peer_port(i))) << i;
    EXPECT_NE(c->member_id(i), 0U) << i;
  }
  const int l = c->await_leader(milliseconds(10000));
  ASSERT_GE(l, 0);
  // Every member names that leader (a member that answers otherwise makes leader() -1).
  for (int i = 0; i < 3; ++i) EXPECT_NE(c->status(i).leader, 0U) << i;
  const std::int64_t rev = put(*c, l, "test/replicated", "hello");
  ASSERT_GT(rev, 0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(local_value(*c, i, "test/replicated", rev), "hello") << "member m" << i + 1;
  }
  // A write through a follower is forwarded to the leader and committed the same way.
  const int f = (l + 1) % 3;
  const std::int64_t rev2 = put(*c, f, "test/replicated", "via follower");
  EXPECT_GT(rev2, rev);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(local_value(*c, i, "test/replicated", rev2), "via follower");
}

TEST(EtcdCluster, SurvivesALeaderKillAndTheOldLeaderRejoins) {
  CPB_NEED_CLUSTER(c);
  const int old = c->await_leader(milliseconds(10000));
  ASSERT_GE(old, 0);
  const pid_t old_pid = c->pid(old);
  const std::uint64_t old_id = c->member_id(old);
  const std::int64_t term = c->status(old).raft_term;
  c->kill(old);
  EXPECT_FALSE(c->up(old));
  EXPECT_TRUE(gone(old_pid));
  const int now = c->await_leader(milliseconds(10000));
  ASSERT_GE(now, 0) << "no new leader within 10 s";
  EXPECT_NE(now, old);
  EXPECT_GT(c->status(now).raft_term, term);
  const std::int64_t rev = put(*c, now, "test/after_kill", "survived");
  ASSERT_GT(rev, 0);
  c->restart(old);
  ASSERT_TRUE(c->up(old));
  EXPECT_NE(c->pid(old), old_pid);
  EXPECT_EQ(c->member_id(old), old_id);
  // The restarted member has the write made while it was down, and follows a leader that
  // all members agree on (usually still `now`; a loaded machine may have elected another).
  EXPECT_EQ(local_value(*c, old, "test/after_kill", rev), "survived");
  const int after = c->await_leader(milliseconds(10000));
  ASSERT_GE(after, 0);
  EXPECT_EQ(c->status(old).leader, c->member_id(after));
}

TEST(EtcdCluster, MissingBinaryIsOneLineNamingTheMember) {
  EtcdClusterOptions o;
  o.binary = "/nonexistent/bin/etcd";
  try {
    EtcdCluster c(o);
    FAIL() << "started";
  } catch (const ServerError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_NE(m.find("etcd m1: cannot run /nonexistent/bin/etcd"), std::string::npos) << m;
  }
}

// The fault check on a cluster of its own: at least one leader kill, no acknowledged put lost.
TEST(EtcdFaults, LeaderKillsLoseNoAcknowledgedPut) {
  if (const std::string why = EtcdCluster::unavailable(); !why.empty()) GTEST_SKIP() << why;
  CheckConfig cfg;
  cfg.seed = 42;
  cfg.budget = milliseconds(1000);
  const stress::CheckResult r = detail::faults_check(cfg);
  EXPECT_EQ(r.verdict, stress::Verdict::kPass) << r.failure;
  EXPECT_GE(r.stat("kills"), 1) << r.details;
  EXPECT_GT(r.stat("acknowledged"), 0) << r.details;
  EXPECT_EQ(r.stat("engine_version") / 10000, 3);
}

// The commit fixture on a cluster of its own (also the destructor test: every member gone).
TEST(EtcdCommitBench, VerifyPassesAfterWritesAndCatchesAChangedWrite) {
  if (const std::string why = EtcdCluster::unavailable(); !why.empty()) GTEST_SKIP() << why;
  std::vector<pid_t> pids;
  {
    detail::EtcdCommitBench bench(3, 4, 2);
    for (int i = 0; i < 3; ++i) pids.push_back(bench.cluster().pid(i));
    for (int round = 0; round < 5; ++round) {
      bench.write_window(0);
      bench.write_window(1);
    }
    EXPECT_EQ(bench.verify(), "");
    // A put behind the clients' back: the last acknowledged value is no longer what members
    // serve, and verify() names the key.
    const EtcdCluster& c = bench.cluster();
    const std::string key = detail::EtcdCommitBench::key(1, 2);
    const std::int64_t rev = put(c, c.leader(), key, "tampered");
    for (int i = 0; i < 3; ++i) ASSERT_EQ(local_value(c, i, key, rev), "tampered");
    const std::string wrong = bench.verify();
    EXPECT_NE(wrong.find("cpb/commit/1/2 holds 'tampered'"), std::string::npos) << wrong;
  }
  for (const pid_t p : pids) EXPECT_TRUE(gone(p)) << p;
}

}  // namespace
}  // namespace cpb::patterns::consensus
