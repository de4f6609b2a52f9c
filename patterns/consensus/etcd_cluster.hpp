// SPDX-License-Identifier: Apache-2.0
/// @file
/// `etcd_cluster`: the family's reference, a real etcd cluster (3 members by default, Debian's
/// etcd-server 3.4.23) on 127.0.0.1, driven through its v3 JSON gateway.
///
/// `EtcdCluster` is the server fixture. Each member gets its own data directory (under one
/// temporary directory, $TMPDIR or /tmp) and its own client and peer port, picked free;
/// `--initial-cluster` lists all of them, with a cluster token unique to the process and ports.
/// Timing: heartbeat 50 ms, election timeout 500 ms (etcd's defaults are 100/1000 ms; etcd/raft
/// draws each election timeout at random in [T, 2T), so a follower notices a dead leader after
/// 500..1000 ms). The constructor returns once every member reports the same leader in
/// `/v3/maintenance/status` and a put through the leader is acknowledged (never a sleep); the
/// destructor SIGKILLs every member's process group (the data is thrown away with the
/// directory), so also when a test fails or throws, and the kernel's parent-death signal
/// (distributed_lock/process.hpp) covers a harness that dies first. Members are started from
/// the constructing thread and by restart(): call both from a thread that outlives the
/// cluster (the main thread).
///
/// Errors are one-line `distributed_lock::ServerError`s naming the member:
///   "etcd: member m2 exited before the cluster was ready (last log line: ...)",
///   "etcd: the 3-member cluster had no leader within 20000 ms (...)".
///
/// `EtcdConsensus` registers it in the `consensus` family (consensus.hpp dispatches on
/// `ServerConsensus`). Its scenarios:
///   commit       every benchmark thread is a client with `window` connections to the leader
///                (found before timing); an iteration puts one key on each connection at once
///                and waits for every acknowledgement (a put is acknowledged once a majority
///                has it in its log: etcd's writes are linearizable). One item = one
///                acknowledged put. verify(): revisions are distinct across all clients and
///                grow from one iteration to the next, and every member serves, with a
///                serializable (local) read, the last acknowledged value of every key at the
///                revision its put returned;
///   leader_kill  an iteration SIGKILLs the leader's process group and waits until a
///                surviving member reports a new leader and that leader acknowledges a put;
///                one item = one re-election; the latency (sampled every time) and the
///                counter `reelection_ms` are kill → acknowledged put, `election_ms` kill → a
///                new leader reported. Outside timing the killed member restarts on its
///                data directory and catches up;
///   leader_partition  the same with a partition for the crash: the peer proxies (below) hold
///                every link into and out of the leader, which keeps running (and may name
///                itself leader until it notices it has no quorum); the others' agreed new
///                leader and its acknowledged put end the item. Outside timing the partition
///                heals, and the old leader follows and catches up.
/// The check `faults` (stress, the own Raft's `faults` on the real servers, Jepsen style): two
/// client threads put fresh keys through random members while the fault thread SIGKILLs the
/// leader, waits for a new one, and restarts the killed member, again and again for the
/// budget; then calm: every acknowledged put must be on every member (serializable reads) at
/// the revision it was acknowledged with, each client's revisions must grow, and the members
/// must hold the same keys at the same revisions.
/// The check `partition_netns` (netns_faults.hpp): the cluster in a network namespace of its
/// own where iptables drops the leader's ports; verdict "skipped" with what is missing where
/// that path cannot run. With `EtcdClusterOptions::peer_proxies` the members reach each other
/// through a PeerProxy each (links(): hold, delay or cut one directed link).
/// Every scenario and check reports the label "etcd <version>" (as the running server reports it),
/// and the counters `engine_version` (major*10000 + minor*100 + patch) and `data_on_tmpfs` (1 when
/// the data directories are on tmpfs: then fsync is free; on a disk it dominates the write
/// latency).
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "patterns/distributed_lock/etcd_lock.hpp"
#include "patterns/distributed_lock/link_proxy.hpp"
#include "patterns/distributed_lock/process.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpb::patterns::consensus {

using distributed_lock::Millis;
using distributed_lock::ServerError;

struct EtcdClusterOptions {
  int members = 3;
  Millis heartbeat{50};
  Millis election{500};
  Millis ready_timeout{20000};  ///< for the cluster to elect a leader and take a write
  std::string binary;           ///< empty: distributed_lock::etcd_binary() (CPB_ETCD or `etcd`)
  /// Put a PeerProxy in front of each member's peer listener (EtcdCluster::links()): member i
  /// listens for peers on peer_port(i) and advertises links()->port(i), so that every byte
  /// between two members crosses a proxy that can hold, delay or cut each directed link.
  bool peer_proxies = false;
};

/// A keep-alive HTTP/1.1 connection to one member's JSON gateway whose request and response
/// are separate calls, so that a client can have requests in flight on several connections at
/// once. Any failure (refused, timed out, a non-200 answer, an `error` field) is a ServerError
/// and drops the connection; the next send reconnects.
class Gateway {
 public:
  Gateway(std::uint16_t port, Millis timeout) : port_(port), timeout_(timeout) {}
  void send(std::string_view path, const nlohmann::json& body);
  nlohmann::json receive();
  nlohmann::json post(std::string_view path, const nlohmann::json& body) {
    send(path, body);
    return receive();
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  nlohmann::json receive_unchecked();
  std::uint16_t port_;
  Millis timeout_;
  std::optional<distributed_lock::Conn> conn_;
  std::string buf_;   ///< bytes read past the previous response
  std::string path_;  ///< of the request in flight, for messages
};

using distributed_lock::json_i64;

/// One member's view, from `/v3/maintenance/status`.
struct MemberStatus {
  std::uint64_t id = 0;
  std::uint64_t leader = 0;  ///< 0: none known
  std::int64_t revision = 0;
  std::int64_t raft_term = 0;
  std::string version;
};

class EtcdCluster {
 public:
  explicit EtcdCluster(const EtcdClusterOptions& opt = {});
  ~EtcdCluster();  ///< SIGKILLs every member's process group; removes the data
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  /// Empty when etcd can run here, else why not (distributed_lock::EtcdServer::unavailable()).
  static std::string unavailable();

  [[nodiscard]] int size() const { return static_cast<int>(members_.size()); }
  [[nodiscard]] std::uint16_t client_port(int i) const { return at(i).client; }
  /// Where member i listens for its peers (with peer proxies: behind links()->port(i)).
  [[nodiscard]] std::uint16_t peer_port(int i) const { return at(i).peer; }
  /// The directed links between the members (EtcdClusterOptions::peer_proxies); nullptr
  /// without proxies. Node i is member i; each member is named by its member ID in hex, the
  /// value of rafthttp's X-Server-From header, so its raft connections are attributed to it.
  [[nodiscard]] distributed_lock::PeerLinks* links() { return links_.get(); }
  [[nodiscard]] std::uint64_t member_id(int i) const { return at(i).id; }
  /// The member's process group leader; 0 while it is down.
  [[nodiscard]] pid_t pid(int i) const;
  [[nodiscard]] bool up(int i) const { return at(i).process != nullptr; }
  /// "3.4.23", as the members report it.
  [[nodiscard]] const std::string& version() const { return version_; }
  [[nodiscard]] std::int64_t version_number() const;
  [[nodiscard]] const std::string& data_dir() const { return dir_.path(); }
  /// True when the data directories are on tmpfs.
  [[nodiscard]] bool data_on_tmpfs() const;
  [[nodiscard]] Millis election_timeout() const { return opt_.election; }

  /// Member i's status; throws ServerError when it does not answer within `timeout`.
  [[nodiscard]] MemberStatus status(int i, Millis timeout = Millis(1000)) const;
  /// The member that every running member that answers names as leader (and that is up), or
  /// -1 when there is none or they disagree. Member `except` is left out, as if down (a
  /// partitioned leader that still names itself).
  [[nodiscard]] int leader(int except = -1) const;
  /// Waits up to `timeout` for leader() >= 0; returns it, or -1.
  int await_leader(Millis timeout);
  /// The index of the member with etcd member ID `id`; -1 if none.
  [[nodiscard]] int index_of(std::uint64_t id) const;

  /// SIGKILL to member i's process group (the crash fault).
  void kill(int i);
  /// Starts member i again on its ports and data directory and waits until it answers status
  /// and its state has caught up with the revision the cluster had when it came back.
  void restart(int i);

 private:
  struct Member {
    std::string name;
    std::uint16_t client = 0;
    std::uint16_t peer = 0;
    std::uint64_t id = 0;
    std::unique_ptr<distributed_lock::Process> process;
  };
  [[nodiscard]] const Member& at(int i) const;
  [[nodiscard]] std::vector<std::string> argv(int i) const;
  void launch(int i);
  /// True when the cluster came up; false when a member lost a port race (retry on new ports).
  bool start_all();
  void kill_all();
  [[noreturn]] void fail_member(int i, std::string_view what) const;

  EtcdClusterOptions opt_;
  std::string binary_;
  distributed_lock::TempDir dir_;
  std::string token_;
  std::vector<Member> members_;
  std::unique_ptr<distributed_lock::PeerLinks> links_;
  std::string version_;
};

/// The registered implementation: the scenarios above on an EtcdCluster of `nodes` members.
struct EtcdConsensus {
  static constexpr std::string_view kName = "etcd_cluster";
  /// A write commits once a majority of the members have it: with a minority down the rest
  /// goes on; with a majority down every write waits.
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static std::string unavailable() { return EtcdCluster::unavailable(); }
  static std::vector<Scenario> scenarios();
  /// `faults`: the family's fault check on etcd (etcd_cluster.cpp, faults_check()).
  static std::vector<Check> checks();
};

namespace detail {

/// The `faults` check (see the file comment); `budget` 0 means 3 s.
stress::CheckResult faults_check(const CheckConfig& cfg);
/// The `partition_netns` check (netns_faults.hpp): verdict kSkipped, with "skipped: <what is
/// missing>", where the privileged path cannot run; `budget` 0 means 2 s.
stress::CheckResult partition_netns_check(const CheckConfig& cfg);

/// The `commit` scenario's fixture, public for the tests: write_window(t) is one iteration of
/// client t, outside Google Benchmark.
class EtcdCommitBench final : public Fixture {
 public:
  EtcdCommitBench(int nodes, int window, int threads);
  ~EtcdCommitBench() override;
  void run(benchmark::State& state, bench::Meter& meter) override;
  std::string verify() override;

  /// Client t puts one key per connection, all in flight at once, and waits for every answer.
  void write_window(int t);
  [[nodiscard]] EtcdCluster& cluster() { return cluster_; }
  /// The key client t writes on its connection k.
  static std::string key(int t, int k);

 private:
  struct Client;
  EtcdCluster cluster_;
  const int window_;
  int leader_ = -1;
  std::vector<std::unique_ptr<Client>> clients_;
};

}  // namespace detail
}  // namespace cpb::patterns::consensus
