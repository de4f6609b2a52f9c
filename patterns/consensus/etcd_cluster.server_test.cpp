// SPDX-License-Identifier: Apache-2.0
// The etcd cluster fixture against the real binary: the members elect one leader; a write
// through the leader reaches every member (each read on its own endpoint, serializable, so it
// answers from its own state); after a SIGKILL of the leader the others elect a new one that
// commits a write, and the old leader, restarted on its data directory, rejoins and serves
// that write; the commit fixture's verify() passes after real writes and catches a write
// changed behind its back; the `faults` check passes with leader kills; a missing binary is one
// line naming the member; and a destroyed cluster leaves no member behind. One cluster serves the
// first tests (a start takes about a second); etcd_cluster_no_leftovers.sh checks that none
// outlives the binary. `EtcdLinks.*` (ctest consensus.server.etcd_links) run clusters behind
// peer proxies, each its own: every raft connection is attributed to its opener; the leader's
// outgoing links held → the followers elect another; a follower's one-way cut vs its partition;
// after each heal one leader and every acknowledged put on every member. `NetnsFaults.*`: the
// probe of the privileged path names what is missing, the check is skipped with it (not
// passed), and where the path is available it drops the leader's traffic and loses nothing.
#include "patterns/consensus/etcd_cluster.hpp"

#include "patterns/consensus/netns_faults.hpp"
#include "patterns/distributed_lock/etcd_lock.hpp"
#include "patterns/distributed_lock/fenced_store.hpp"
#include "patterns/distributed_lock/process.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
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

// --- directed-link faults through the peer proxies ----------------------------------------------

/// An acknowledged put: it must be on every member after the faults heal.
struct Acked {
  std::string key;
  std::string value;
  std::int64_t revision;
};

/// A put through member i with a short timeout; false when it was not acknowledged (refused,
/// timed out, an error answer: its outcome is unknown).
bool try_put(const EtcdCluster& c, int i, const std::string& key, const std::string& value,
             std::vector<Acked>& acked, milliseconds timeout = milliseconds(1000)) {
  try {
    Gateway g(c.client_port(i), timeout);
    const nlohmann::json r = g.post(
        "/v3/kv/put", {{"key", dl::base64_encode(key)}, {"value", dl::base64_encode(value)}});
    acked.push_back(
        {key, value, json_i64(r.value("header", nlohmann::json::object()), "revision")});
    return true;
  } catch (const ServerError&) {
    return false;
  }
}

/// A member's (id, leader, term), or an empty status when it does not answer.
MemberStatus status_or_none(const EtcdCluster& c, int i) {
  try {
    return c.status(i, milliseconds(300));
  } catch (const ServerError&) {
    return {};
  }
}

/// After the heal: the members agree on a leader, which commits a barrier put, and every member
/// serves every acknowledged put (serializable reads, each once it has applied the barrier).
void expect_healed_and_nothing_lost(EtcdCluster& c, const std::vector<Acked>& acked) {
  const int l = c.await_leader(milliseconds(10000));
  ASSERT_GE(l, 0) << "no leader within 10 s of the heal";
  std::vector<Acked> barrier;
  for (int tries = 0; tries < 20 && barrier.empty(); ++tries) {
    const int now = c.await_leader(milliseconds(5000));
    if (now >= 0) try_put(c, now, "links/barrier", "1", barrier, milliseconds(2000));
  }
  ASSERT_FALSE(barrier.empty()) << "no put was acknowledged after the heal";
  for (int i = 0; i < c.size(); ++i) {
    for (const Acked& a : acked) {
      EXPECT_EQ(local_value(c, i, a.key, barrier.front().revision), a.value)
          << "member m" << i + 1 << " lost " << a.key << " (acknowledged at revision " << a.revision
          << ")";
    }
  }
}

EtcdClusterOptions with_proxies() {
  EtcdClusterOptions o;
  o.peer_proxies = true;
  return o;
}

#define CPB_NEED_ETCD() \
  if (const std::string why = EtcdCluster::unavailable(); !why.empty()) GTEST_SKIP() << why;

// Every raft connection is attributed to the member that opened it, and a cluster behind its
// proxies elects a leader and replicates (the fixture's readiness test: a put through it).
TEST(EtcdLinks, ProxiesAttributeEveryMembersConnections) {
  CPB_NEED_ETCD();
  EtcdCluster c(with_proxies());
  dl::PeerLinks* links = c.links();
  ASSERT_NE(links, nullptr);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(dl::port_in_use(links->port(i)));
    for (int j = 0; j < 3; ++j) {
      if (j == i) continue;
      EXPECT_GE(links->proxy(i).attributed(j), 1U) << "m" << j + 1 << " at m" << i + 1;
    }
  }
  const int l = c.await_leader(milliseconds(10000));
  ASSERT_GE(l, 0);
  std::vector<Acked> acked;
  ASSERT_TRUE(try_put(c, l, "links/a", "1", acked));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(local_value(c, i, "links/a", acked[0].revision), "1");
}

// The leader's outgoing links held (leader → both followers), its incoming ones passing: the
// followers hear no heartbeat and elect a new leader among themselves, which commits. After
// the heal: one leader, and every acknowledged put on every member.
TEST(EtcdLinks, LeaderWithItsOutgoingLinksHeldIsReplaced) {
  CPB_NEED_ETCD();
  EtcdCluster c(with_proxies());
  dl::PeerLinks& links = *c.links();
  const int old = c.await_leader(milliseconds(10000));
  ASSERT_GE(old, 0);
  const int f1 = (old + 1) % 3;
  const int f2 = (old + 2) % 3;
  std::vector<Acked> acked;
  ASSERT_TRUE(try_put(c, old, "links/before", "1", acked));
  const std::int64_t term = c.status(old).raft_term;

  links.set(old, f1, dl::LinkMode::kHold);
  links.set(old, f2, dl::LinkMode::kHold);
  const auto t0 = std::chrono::steady_clock::now();
  int now = -1;
  while (now < 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10)) {
    const MemberStatus s1 = status_or_none(c, f1);
    const MemberStatus s2 = status_or_none(c, f2);
    if (s1.leader != 0 && s1.leader == s2.leader && s1.leader != c.member_id(old)) {
      now = c.index_of(s1.leader);
    } else {
      std::this_thread::sleep_for(milliseconds(10));
    }
  }
  ASSERT_GE(now, 0) << "the followers elected no new leader within 10 s";
  const auto elected_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(now, old);
  EXPECT_GT(c.status(now).raft_term, term);
  bool committed = false;
  for (int k = 0; k < 20 && !committed; ++k) {
    committed = try_put(c, now, fmt::format("links/during/{}", k), "2", acked);
  }
  EXPECT_TRUE(committed) << "the new leader committed nothing in 20 tries";
  // The old leader hears the new one (its incoming links pass) and follows it; a put through
  // it is forwarded over a held link, so it is not acknowledged before the heal (unknown).
  const MemberStatus was = status_or_none(c, old);
  const bool through_old = try_put(c, old, "links/through_old", "3", acked, milliseconds(500));
  std::printf(
      "[observed] new leader m%d after %lld ms; the old leader m%d names leader %s at term %lld "
      "(was %lld); a put through it %s\n",
      now + 1, static_cast<long long>(elected_ms), old + 1,
      was.leader == 0 ? "none" : fmt::format("m{}", c.index_of(was.leader) + 1).c_str(),
      static_cast<long long>(was.raft_term), static_cast<long long>(term),
      through_old ? "was acknowledged" : "was not acknowledged");

  links.heal();
  expect_healed_and_nothing_lost(c, acked);
}

// A one-way cut differs from a partition. Follower f's link to the leader cut (f → leader
// only): f still hears the leader, so it never campaigns, and the leader commits with the other
// follower. Then f partitioned (every link of f held, both ways): f hears nobody, campaigns,
// and its term climbs. Asserted: commits go on through both faults (the leader and the other
// follower are a majority that is fully connected), and after each heal one leader and no
// acknowledged put lost. The terms are reported, not asserted.
TEST(EtcdLinks, OneWayCutOfAFollowerDiffersFromItsPartition) {
  CPB_NEED_ETCD();
  EtcdCluster c(with_proxies());
  dl::PeerLinks& links = *c.links();
  std::vector<Acked> acked;
  const milliseconds fault = c.election_timeout() * 3;
  // Puts through the leader for `fault`; returns how many were acknowledged.
  const auto write_for = [&](int l, const std::string& tag) {
    int ok = 0;
    const auto end = std::chrono::steady_clock::now() + fault;
    for (int k = 0; std::chrono::steady_clock::now() < end; ++k) {
      ok += try_put(c, l, fmt::format("links/{}/{}", tag, k), tag, acked) ? 1 : 0;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return ok;
  };
  struct Phase {
    const char* what;
    std::function<void(int, int)> apply;
  };
  const Phase phases[] = {
      {"one-way cut f->leader", [&](int l, int f) { links.set(f, l, dl::LinkMode::kCut); }},
      {"partition of f (held both ways)",
       [&](int, int f) { links.isolate(f, dl::LinkMode::kHold); }},
  };
  for (const Phase& ph : phases) {
    const int l = c.await_leader(milliseconds(10000));
    ASSERT_GE(l, 0);
    const int f = (l + 1) % 3;
    const std::int64_t f_term = c.status(f).raft_term;
    const std::int64_t l_term = c.status(l).raft_term;
    ph.apply(l, f);
    const int ok = write_for(l, ph.what[0] == 'o' ? "oneway" : "partition");
    const MemberStatus fs = status_or_none(c, f);
    const MemberStatus ls = status_or_none(c, l);
    links.heal();
    EXPECT_GT(ok, 0) << ph.what << ": the leader and the other follower committed nothing";
    const int after = c.await_leader(milliseconds(10000));
    std::printf(
        "[observed] %s for %lld ms: %d puts acknowledged through the leader m%d; f=m%d term "
        "%lld -> %lld, names leader %s; leader term %lld -> %lld; after the heal leader %s at "
        "term %lld\n",
        ph.what, static_cast<long long>(fault.count()), ok, l + 1, f + 1,
        static_cast<long long>(f_term), static_cast<long long>(fs.raft_term),
        fs.leader == 0 ? "none" : fmt::format("m{}", c.index_of(fs.leader) + 1).c_str(),
        static_cast<long long>(l_term), static_cast<long long>(ls.raft_term),
        after < 0 ? "none" : fmt::format("m{}", after + 1).c_str(),
        static_cast<long long>(after < 0 ? 0 : status_or_none(c, after).raft_term));
    expect_healed_and_nothing_lost(c, acked);
  }
}

// The etcd lock on a 3-member cluster, its holder's member partitioned. Holder A takes the lock
// through the leader with a 1 s lease and writes; the peer proxies then hold every link into
// and out of the leader. A's keep-alives reach only the cut-off member, so the other two elect
// a leader whose lessor lets A's lease run out; B, a client of another member, gets the lock and
// writes; then A, which still believes it holds the lock, writes with its old token. After the
// heal A's release says the lock was lost. Fenced: A's late write is rejected, no violation.
// Unfenced: the overlap is caught. The same Jepsen-style history check as the lock family's.
TEST(EtcdLinks, LockHolderOnAPartitionedLeaderIsFencedOff) {
  CPB_NEED_ETCD();
  EtcdCluster c(with_proxies());
  dl::PeerLinks& links = *c.links();
  for (const bool fenced : {true, false}) {
    SCOPED_TRACE(fenced ? "fenced" : "unfenced");
    const int l = c.await_leader(milliseconds(10000));
    ASSERT_GE(l, 0);
    const int other = (l + 1) % 3;
    dl::LockOptions o;
    o.ttl = milliseconds(1000);
    o.io_timeout = milliseconds(2000);
    o.acquire_timeout = milliseconds(20000);
    const std::string name = fenced ? "isolated-fenced" : "isolated-unfenced";
    dl::FencedStore store(fenced);
    std::optional<dl::EtcdLockClient> a(std::in_place, c.client_port(l), o, fenced);
    const std::uint64_t a_invoked = dl::steady_ns();
    const dl::Grant ga = a->acquire(name);
    const std::uint64_t a_id = store.granted(0, ga.token, a_invoked, dl::steady_ns());
    store.write(a_id, ga.token);

    links.isolate(l, dl::LinkMode::kHold);
    const std::uint64_t cut = dl::steady_ns();
    // B's lease needs a leader among the other two: retry its client until one answers.
    std::optional<dl::EtcdLockClient> b;
    for (int tries = 0; !b && tries < 20; ++tries) {
      try {
        b.emplace(c.client_port(other), o, fenced);
      } catch (const ServerError&) {
        std::this_thread::sleep_for(milliseconds(100));
      }
    }
    ASSERT_TRUE(b.has_value()) << "B got no lease from the majority";
    const std::uint64_t b_invoked = dl::steady_ns();
    const dl::Grant gb = b->acquire(name);
    const std::uint64_t b_granted = dl::steady_ns();
    const std::uint64_t b_id = store.granted(1, gb.token, b_invoked, b_granted);
    EXPECT_TRUE(store.write(b_id, gb.token));
    store.released(b_id, b->release(gb), dl::steady_ns());
    const bool late_accepted = store.write(a_id, ga.token);  // A still believes it holds it
    links.heal();
    bool a_ok = true;
    for (int tries = 0; tries < 5; ++tries) {  // its member catches up after the heal
      try {
        a_ok = a->release(ga);
        break;
      } catch (const ServerError&) {
        std::this_thread::sleep_for(milliseconds(200));
      }
    }
    store.released(a_id, a_ok, dl::steady_ns());
    a.reset();
    b.reset();

    const dl::Safety safety = dl::check(store.history());
    std::printf(
        "[observed] %s: B granted %.0f ms after the leader m%d was cut off; A's late "
        "write %s; A's release said %s; %s\n",
        fenced ? "fenced" : "unfenced", (b_granted - cut) / 1e6, l + 1,
        late_accepted ? "accepted" : "rejected", a_ok ? "still held" : "not held",
        safety.violations() == 0 ? "no violation" : safety.first().c_str());
    EXPECT_FALSE(a_ok);
    EXPECT_EQ(safety.grants, 2U);
    if (fenced) {
      EXPECT_FALSE(late_accepted);
      EXPECT_EQ(safety.violations(), 0U) << safety.first();
      EXPECT_EQ(safety.rejected, 1U);
    } else {
      EXPECT_TRUE(late_accepted);
      EXPECT_EQ(safety.overlaps, 1U);
      EXPECT_NE(safety.first().find("overlap: client 0"), std::string::npos) << safety.first();
    }
  }
}

// --- the privileged path: iptables in a network namespace ---------------------------------------

/// Sets an environment variable for one scope (the tests run on one thread).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name); old != nullptr) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(NetnsFaults, ProbeNamesTheMissingBinaryWithPathEmptied) {
  const ScopedEnv path("PATH", "");
  EXPECT_EQ(netns_faults_unavailable(), "no unshare binary on PATH (util-linux)");
}

// A named iptables that is not there: the probe names it, and the check's verdict is
// "skipped" with that reason (not a pass, not a failure), without starting anything.
TEST(NetnsFaults, AMissingIptablesSkipsTheCheckWithTheReason) {
  if (find_binary("unshare").empty() || find_binary("ip", {"/usr/sbin", "/sbin"}).empty()) {
    GTEST_SKIP() << "no unshare or ip here: an earlier reason applies";
  }
  const ScopedEnv ipt("CPB_IPTABLES", "/nonexistent/iptables");
  const std::string why = netns_faults_unavailable();
  EXPECT_EQ(why, "CPB_IPTABLES=/nonexistent/iptables is not an executable file");
  CheckConfig cfg;
  cfg.budget = milliseconds(500);
  const stress::CheckResult r = detail::partition_netns_check(cfg);
  EXPECT_EQ(r.verdict, stress::Verdict::kSkipped);
  EXPECT_FALSE(r.passed());
  EXPECT_EQ(r.failure, "skipped: " + why);
  EXPECT_EQ(r.samples, 0U);
}

// Where the path is available (root, unshare, ip, and iptables installed or named by
// CPB_IPTABLES): the leader's ports are dropped, and no acknowledged put is lost. Elsewhere
// the check is skipped with the probe's reason.
TEST(NetnsFaults, DropsTrafficToTheLeaderOrIsSkippedWithTheReason) {
  CPB_NEED_ETCD();
  const std::string why = netns_faults_unavailable();
  CheckConfig cfg;
  cfg.seed = 7;
  cfg.budget = milliseconds(1500);
  const stress::CheckResult r = detail::partition_netns_check(cfg);
  std::printf("[observed] %s %s\n", r.failure.empty() ? "pass:" : r.failure.c_str(),
              r.details.c_str());
  if (!why.empty()) {
    EXPECT_EQ(r.verdict, stress::Verdict::kSkipped);
    EXPECT_EQ(r.failure, "skipped: " + why);
    return;
  }
  EXPECT_EQ(r.verdict, stress::Verdict::kPass) << r.failure;
  EXPECT_GT(r.stat("acknowledged"), 0) << r.details;
  EXPECT_EQ(r.stat("rules"), 4);
}

}  // namespace
}  // namespace cpb::patterns::consensus
