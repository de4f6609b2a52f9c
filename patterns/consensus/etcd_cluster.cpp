// SPDX-License-Identifier: Apache-2.0
#include "patterns/consensus/etcd_cluster.hpp"

#include "patterns/consensus/netns_faults.hpp"
#include "patterns/distributed_lock/etcd_lock.hpp"
#include "patterns/distributed_lock/servers.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <linux/magic.h>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <sys/vfs.h>
#include <thread>
#include <unistd.h>
#include <utility>

namespace cpb::patterns::consensus {

namespace dl = distributed_lock;
using Clock = std::chrono::steady_clock;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::uint64_t u64(const nlohmann::json& j, std::string_view key) {
  const auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_string()) return std::strtoull(it->get<std::string>().c_str(), nullptr, 10);
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  return 0;
}

nlohmann::json put_body(std::string_view key, std::string_view value) {
  return {{"key", dl::base64_encode(key)}, {"value", dl::base64_encode(value)}};
}

/// A serializable (local) read of every key in [prefix, prefix with its last byte + 1).
nlohmann::json range_body(std::string_view prefix) {
  std::string end(prefix);
  end.back() = static_cast<char>(end.back() + 1);
  return {{"key", dl::base64_encode(prefix)},
          {"range_end", dl::base64_encode(end)},
          {"serializable", true}};
}

/// Reads `prefix` from member i's own endpoint (serializable) once its state reaches
/// `revision`, waiting up to 10 s; returns key → (value, mod_revision).
std::map<std::string, std::pair<std::string, std::int64_t>> read_member(const EtcdCluster& c, int i,
                                                                        std::string_view prefix,
                                                                        std::int64_t revision) {
  Gateway g(c.client_port(i), Millis(2000));
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    const nlohmann::json r = g.post("/v3/kv/range", range_body(prefix));
    const std::int64_t at = json_i64(r.value("header", nlohmann::json::object()), "revision");
    if (at >= revision) {
      std::map<std::string, std::pair<std::string, std::int64_t>> out;
      for (const auto& kv : r.value("kvs", nlohmann::json::array())) {
        out[dl::base64_decode(kv.value("key", ""))] = {dl::base64_decode(kv.value("value", "")),
                                                       json_i64(kv, "mod_revision")};
      }
      return out;
    }
    if (Clock::now() > deadline) {
      throw ServerError(fmt::format("etcd: member m{} is at revision {} after 10 s, not {}", i + 1,
                                    at, revision));
    }
    std::this_thread::sleep_for(Millis(5));
  }
}

std::string label_of(const EtcdCluster& c) { return "etcd " + c.version(); }

/// A benchmark's cluster: a member that cannot start (its port is taken, it never becomes
/// ready) is a SetupError, which stops `cpbench run` with exit code 2.
EtcdCluster started(int nodes, bool peer_proxies = false) {
  EtcdClusterOptions o;
  o.members = nodes;
  o.peer_proxies = peer_proxies;
  try {
    return EtcdCluster(o);
  } catch (const ServerError& e) {
    throw SetupError(e.what());
  }
}

}  // namespace

// --- Gateway ------------------------------------------------------------------------------------

void Gateway::send(std::string_view path, const nlohmann::json& body) {
  const std::string payload = body.dump();
  path_ = std::string(path);
  try {
    if (!conn_) {
      conn_.emplace(fmt::format("etcd 127.0.0.1:{}", port_), port_, timeout_);
      buf_.clear();
    }
    conn_->send_all(
        fmt::format("POST {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n"
                    "Content-Length: {}\r\n\r\n{}",
                    path, port_, payload.size(), payload));
  } catch (const ServerError&) {
    conn_.reset();
    throw;
  }
}

nlohmann::json Gateway::receive() {
  try {
    return receive_unchecked();
  } catch (const ServerError&) {
    conn_.reset();  // the next request reconnects
    throw;
  }
}

nlohmann::json Gateway::receive_unchecked() {
  if (!conn_) throw ServerError(fmt::format("etcd: {}: no request in flight", path_));
  const auto more = [&] {
    if (conn_->read_some(buf_) == 0) {
      throw ServerError(fmt::format("etcd 127.0.0.1:{}: {}: connection closed", port_, path_));
    }
  };
  std::size_t head_end;
  while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) more();
  const std::string head = lower(std::string_view(buf_).substr(0, head_end));
  buf_.erase(0, head_end + 4);
  const int status = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
  std::string content;
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    for (;;) {
      std::size_t eol;
      while ((eol = buf_.find("\r\n")) == std::string::npos) more();
      const std::size_t size = std::strtoul(buf_.c_str(), nullptr, 16);
      while (buf_.size() < eol + 2 + size + 2) more();
      content.append(buf_, eol + 2, size);
      buf_.erase(0, eol + 2 + size + 2);
      if (size == 0) break;
    }
  } else {
    const auto at = head.find("content-length:");
    if (at == std::string::npos) {
      throw ServerError(fmt::format("etcd 127.0.0.1:{}: {}: no Content-Length", port_, path_));
    }
    const std::size_t size = std::strtoul(head.c_str() + at + 15, nullptr, 10);
    while (buf_.size() < size) more();
    content = buf_.substr(0, size);
    buf_.erase(0, size);
  }
  if (head.find("connection: close") != std::string::npos) conn_.reset();
  nlohmann::json j = nlohmann::json::parse(content, nullptr, false);
  if (j.is_discarded()) {
    throw ServerError(fmt::format("etcd 127.0.0.1:{}: {}: unreadable JSON answer", port_, path_));
  }
  if (status != 200 || j.contains("error")) {
    const auto& e = j.contains("error") ? j["error"] : j;
    const std::string msg =
        e.is_object() ? e.value("message", e.dump()) : (e.is_string() ? e.get<std::string>() : "");
    throw ServerError(
        fmt::format("etcd 127.0.0.1:{}: {} answered {}: {}", port_, path_, status, msg));
  }
  return j;
}

// --- EtcdCluster --------------------------------------------------------------------------------

std::string EtcdCluster::unavailable() { return dl::EtcdServer::unavailable(); }

EtcdCluster::EtcdCluster(const EtcdClusterOptions& opt) : opt_(opt), dir_("cpb-etcd-cluster") {
  if (opt_.members < 1 || opt_.members > 9) {
    throw ServerError(fmt::format("etcd: a cluster of {} members (1..9 here)", opt_.members));
  }
  binary_ = opt_.binary.empty() ? dl::etcd_binary() : opt_.binary;
  constexpr int kAttempts = 3;  // a picked port taken by someone else before a member bound it
  for (int attempt = 1;; ++attempt) {
    if (start_all()) return;
    if (attempt == kAttempts) {
      throw ServerError(fmt::format(
          "etcd: {} attempts to start the cluster lost a port to another process", kAttempts));
    }
  }
}

EtcdCluster::~EtcdCluster() { kill_all(); }

void EtcdCluster::kill_all() {
  // SIGKILL, not SIGTERM: a member that stops gracefully first hands its leadership over,
  // which takes up to an election timeout per member; the data is thrown away anyway.
  for (auto& m : members_) {
    if (m.process) m.process->kill_group();
    m.process.reset();
  }
}

const EtcdCluster::Member& EtcdCluster::at(int i) const {
  if (i < 0 || i >= size()) {
    throw std::out_of_range(fmt::format("etcd cluster: no member {}", i));
  }
  return members_[static_cast<std::size_t>(i)];
}

pid_t EtcdCluster::pid(int i) const {
  const Member& m = at(i);
  return m.process ? m.process->pid() : 0;
}

std::int64_t EtcdCluster::version_number() const { return dl::version_number(version_); }

bool EtcdCluster::data_on_tmpfs() const {
  struct statfs s {};
  return statfs(dir_.path().c_str(), &s) == 0 && s.f_type == TMPFS_MAGIC;
}

std::vector<std::string> EtcdCluster::argv(int i) const {
  // With peer proxies a member listens on its own peer port and advertises its proxy's.
  const auto advertised = [&](int k) {
    return links_ ? links_->port(k) : members_[static_cast<std::size_t>(k)].peer;
  };
  std::string initial;
  for (int k = 0; k < size(); ++k) {
    if (!initial.empty()) initial += ',';
    initial += fmt::format("{}=http://127.0.0.1:{}", members_[static_cast<std::size_t>(k)].name,
                           advertised(k));
  }
  const Member& m = at(i);
  const std::string client = fmt::format("http://127.0.0.1:{}", m.client);
  const std::string peer = fmt::format("http://127.0.0.1:{}", m.peer);
  const std::string advertise_peer = fmt::format("http://127.0.0.1:{}", advertised(i));
  // The data directory is named after the client port: a retry on new ports starts fresh (the
  // initial-* flags are ignored once a data directory exists, distributed-anchors §2.4).
  return {binary_,
          "--name",
          m.name,
          "--data-dir",
          fmt::format("{}/{}-{}", dir_.path(), m.name, m.client),
          "--listen-client-urls",
          client,
          "--advertise-client-urls",
          client,
          "--listen-peer-urls",
          peer,
          "--initial-advertise-peer-urls",
          advertise_peer,
          "--initial-cluster",
          initial,
          "--initial-cluster-token",
          token_,
          "--initial-cluster-state",
          "new",
          "--heartbeat-interval",
          std::to_string(opt_.heartbeat.count()),
          "--election-timeout",
          std::to_string(opt_.election.count()),
          "--logger",
          "zap",
          "--log-outputs",
          "stderr"};
}

void EtcdCluster::launch(int i) {
  Member& m = members_[static_cast<std::size_t>(i)];
  m.process = std::make_unique<dl::Process>(fmt::format("etcd {}", m.name), argv(i),
                                            fmt::format("{}/{}.log", dir_.path(), m.name));
}

void EtcdCluster::fail_member(int i, std::string_view what) const {
  const std::string line = dl::last_log_line(fmt::format("{}/{}.log", dir_.path(), at(i).name));
  throw ServerError(fmt::format("etcd: member {} {} (last log line: {})", at(i).name, what,
                                line.empty() ? "none" : line));
}

bool EtcdCluster::start_all() {
  kill_all();
  members_.clear();
  std::set<std::uint16_t> ports;
  for (int i = 0; i < opt_.members; ++i) {
    Member m;
    m.name = fmt::format("m{}", i + 1);
    while (m.client == 0 || !ports.insert(m.client).second) m.client = dl::free_port();
    while (m.peer == 0 || !ports.insert(m.peer).second) m.peer = dl::free_port();
    members_.push_back(std::move(m));
  }
  token_ = fmt::format("cpb-{}-{}", getpid(), members_.front().peer);
  links_.reset();
  if (opt_.peer_proxies) {
    std::vector<std::uint16_t> peers;
    for (const auto& m : members_) peers.push_back(m.peer);
    links_ = std::make_unique<dl::PeerLinks>(peers, "X-Server-From");
  }
  for (int i = 0; i < size(); ++i) launch(i);

  const auto deadline = Clock::now() + opt_.ready_timeout;
  Millis backoff(5);
  std::string last;
  for (;;) {
    for (int i = 0; i < size(); ++i) {
      Member& m = members_[static_cast<std::size_t>(i)];
      if (m.process->running()) continue;
      const std::string line = dl::last_log_line(fmt::format("{}/{}.log", dir_.path(), m.name));
      if (lower(line).find("address already in use") != std::string::npos) {
        kill_all();
        return false;
      }
      kill_all();
      fail_member(i, "exited before the cluster was ready");
    }
    try {
      std::vector<MemberStatus> st;
      for (int i = 0; i < size(); ++i) st.push_back(status(i, Millis(500)));
      const std::uint64_t lead = st.front().leader;
      bool agree = lead != 0;
      for (const auto& s : st) agree = agree && s.leader == lead;
      int li = -1;
      for (int i = 0; i < size(); ++i) {
        if (st[static_cast<std::size_t>(i)].id == lead) li = i;
      }
      if (agree && li >= 0) {
        Gateway g(members_[static_cast<std::size_t>(li)].client, Millis(2000));
        (void)g.post("/v3/kv/put", put_body("cpb/ready", "1"));
        for (int i = 0; i < size(); ++i) {
          members_[static_cast<std::size_t>(i)].id = st[static_cast<std::size_t>(i)].id;
          // rafthttp's X-Server-From: the member ID as types.ID.String() writes it.
          if (links_) links_->name(i, fmt::format("{:x}", st[static_cast<std::size_t>(i)].id));
        }
        version_ = st.front().version;
        return true;
      }
      last = "the members do not agree on a leader yet";
    } catch (const ServerError& e) {
      last = e.what();
    }
    if (Clock::now() >= deadline) {
      kill_all();
      const std::string line = dl::last_log_line(fmt::format("{}/m1.log", dir_.path()));
      throw ServerError(fmt::format(
          "etcd: the {}-member cluster was not ready within {} ms (last probe: {}; m1's last "
          "log line: {})",
          size(), opt_.ready_timeout.count(), last, line.empty() ? "none" : line));
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, Millis(100));
  }
}

MemberStatus EtcdCluster::status(int i, Millis timeout) const {
  Gateway g(at(i).client, timeout);
  const nlohmann::json r = g.post("/v3/maintenance/status", nlohmann::json::object());
  const nlohmann::json header = r.value("header", nlohmann::json::object());
  MemberStatus s;
  s.id = u64(header, "member_id");
  s.leader = u64(r, "leader");
  s.revision = json_i64(header, "revision");
  s.raft_term = json_i64(r, "raftTerm");
  s.version = r.value("version", "");
  return s;
}

int EtcdCluster::index_of(std::uint64_t id) const {
  for (int i = 0; i < size(); ++i) {
    if (id != 0 && at(i).id == id) return i;
  }
  return -1;
}

int EtcdCluster::leader(int except) const {
  std::uint64_t lead = 0;
  int answered = 0;
  for (int i = 0; i < size(); ++i) {
    if (!up(i) || i == except) continue;
    try {
      const MemberStatus s = status(i, Millis(300));
      if (s.leader == 0 || (lead != 0 && s.leader != lead)) return -1;
      lead = s.leader;
      ++answered;
    } catch (const ServerError&) {
      // Not answering (restarting, or busy): the others decide.
    }
  }
  const int li = index_of(lead);
  return answered > size() / 2 && li >= 0 && li != except && up(li) ? li : -1;
}

int EtcdCluster::await_leader(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (const int l = leader(); l >= 0) return l;
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(Millis(2));
  }
}

void EtcdCluster::kill(int i) {
  Member& m = members_.at(static_cast<std::size_t>(i));
  if (m.process) m.process->kill_group();
  m.process.reset();
}

void EtcdCluster::restart(int i) {
  Member& m = members_.at(static_cast<std::size_t>(i));
  if (m.process) return;
  std::int64_t revision = 0;
  for (int k = 0; k < size(); ++k) {
    if (k == i || !up(k)) continue;
    try {
      revision = std::max(revision, status(k, Millis(1000)).revision);
    } catch (const ServerError&) {
      // A member that does not answer does not raise the bar.
    }
  }
  launch(i);
  const auto deadline = Clock::now() + opt_.ready_timeout;
  std::string last;
  for (;;) {
    if (!m.process->running()) {
      m.process.reset();
      fail_member(i, "exited while restarting");
    }
    try {
      const MemberStatus s = status(i, Millis(500));
      if (s.leader != 0 && s.revision >= revision) return;
      last = fmt::format("leader {:x}, revision {} of {}", s.leader, s.revision, revision);
    } catch (const ServerError& e) {
      last = e.what();
    }
    if (Clock::now() >= deadline) {
      m.process->kill_group();
      m.process.reset();
      fail_member(i, fmt::format("did not catch up within {} ms after its restart (last probe: {})",
                                 opt_.ready_timeout.count(), last));
    }
    std::this_thread::sleep_for(Millis(5));
  }
}

// --- commit -------------------------------------------------------------------------------------

namespace detail {

struct EtcdCommitBench::Client {
  std::vector<Gateway> conns;
  std::vector<std::string> keys;
  std::vector<std::int64_t> sent;      ///< the value in flight on connection k
  std::vector<std::int64_t> value;     ///< the last acknowledged value per connection's key
  std::vector<std::int64_t> revision;  ///< the revision that acknowledgement returned
  std::vector<std::int64_t> all;       ///< every acknowledged revision
  std::int64_t seq = 0;
  std::int64_t prev_max = 0;  ///< the highest revision of the previous window
  std::string error;          ///< the first ordering violation seen
};

EtcdCommitBench::EtcdCommitBench(int nodes, int window, int threads)
    : cluster_(started(nodes)), window_(window) {
  leader_ = cluster_.await_leader(Millis(10000));
  if (leader_ < 0) throw ServerError("etcd: the cluster lost its leader before the benchmark");
  for (int t = 0; t < threads; ++t) {
    auto c = std::make_unique<Client>();
    for (int k = 0; k < window; ++k) {
      c->conns.emplace_back(cluster_.client_port(leader_), Millis(10000));
      c->keys.push_back(key(t, k));
    }
    c->sent.assign(static_cast<std::size_t>(window), 0);
    c->value.assign(static_cast<std::size_t>(window), 0);
    c->revision.assign(static_cast<std::size_t>(window), 0);
    clients_.push_back(std::move(c));
  }
}

EtcdCommitBench::~EtcdCommitBench() = default;

std::string EtcdCommitBench::key(int t, int k) { return fmt::format("cpb/commit/{}/{}", t, k); }

void EtcdCommitBench::write_window(int t) {
  Client& c = *clients_.at(static_cast<std::size_t>(t));
  for (std::size_t k = 0; k < c.conns.size(); ++k) {
    c.sent[k] = ++c.seq;
    c.conns[k].send("/v3/kv/put", put_body(c.keys[k], std::to_string(c.sent[k])));
  }
  std::int64_t lo = 0;
  std::int64_t hi = 0;
  for (std::size_t k = 0; k < c.conns.size(); ++k) {
    const nlohmann::json r = c.conns[k].receive();
    const std::int64_t rev = json_i64(r.value("header", nlohmann::json::object()), "revision");
    if (rev <= 0) throw ServerError("etcd: a put was acknowledged without a revision");
    c.value[k] = c.sent[k];
    c.revision[k] = rev;
    c.all.push_back(rev);
    lo = k == 0 ? rev : std::min(lo, rev);
    hi = std::max(hi, rev);
  }
  // Linearizability: these puts were sent after every put of the previous window was
  // acknowledged, so each must take effect later, at a higher revision.
  if (lo <= c.prev_max && c.error.empty()) {
    c.error = fmt::format(
        "client {}: a put acknowledged at revision {} was sent after one acknowledged at {}", t, lo,
        c.prev_max);
  }
  c.prev_max = hi;
}

void EtcdCommitBench::run(benchmark::State& state, bench::Meter& meter) {
  const int t = state.thread_index();
  meter.begin();
  for (auto _ : state) {
    meter.op([&] { write_window(t); }, static_cast<std::uint64_t>(window_));
  }
  meter.end();
  if (t == 0) {
    state.SetLabel(label_of(cluster_));
    state.counters["engine_version"] = static_cast<double>(cluster_.version_number());
    state.counters["data_on_tmpfs"] = cluster_.data_on_tmpfs() ? 1 : 0;
  }
}

std::string EtcdCommitBench::verify() {
  std::vector<std::int64_t> all;
  for (const auto& c : clients_) {
    if (!c->error.empty()) return c->error;
    all.insert(all.end(), c->all.begin(), c->all.end());
  }
  if (all.empty()) return "no put was acknowledged";
  std::sort(all.begin(), all.end());
  if (const auto d = std::adjacent_find(all.begin(), all.end()); d != all.end()) {
    return fmt::format("revision {} was acknowledged to two puts", *d);
  }
  for (int i = 0; i < cluster_.size(); ++i) {
    if (!cluster_.up(i)) continue;
    const auto kv = read_member(cluster_, i, "cpb/commit/", all.back());
    for (const auto& c : clients_) {
      for (std::size_t k = 0; k < c->keys.size(); ++k) {
        if (c->revision[k] == 0) continue;
        const auto it = kv.find(c->keys[k]);
        const std::string want = std::to_string(c->value[k]);
        if (it == kv.end()) {
          return fmt::format("member m{} lacks {}, acknowledged at revision {}", i + 1, c->keys[k],
                             c->revision[k]);
        }
        if (it->second.first != want || it->second.second != c->revision[k]) {
          return fmt::format(
              "member m{}: {} holds '{}' of revision {}; the last acknowledged put wrote '{}' at "
              "revision {}",
              i + 1, c->keys[k], it->second.first, it->second.second, want, c->revision[k]);
        }
      }
    }
  }
  return {};
}

// --- leader_kill, leader_partition -------------------------------------------------------------

namespace {

/// The leader lost, by a crash or by a partition; one timed item is one re-election.
enum class LeaderFault { kKill, kPartition };

class EtcdLeaderFault final : public Fixture {
 public:
  EtcdLeaderFault(int nodes, LeaderFault fault)
      : fault_(fault), cluster_(started(nodes, fault == LeaderFault::kPartition)) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    // The counters are of this trial's faults, as the latency histogram is.
    faults_ = 0;
    election_ns_ = 0;
    reelection_ns_ = 0;
    meter.begin();
    for (auto _ : state) {
      meter.op([&] { lose_leader_and_write(); });
      state.PauseTiming();
      recover();
      state.ResumeTiming();
    }
    meter.end();
    state.SetLabel(label_of(cluster_));
    state.counters["engine_version"] = static_cast<double>(cluster_.version_number());
    state.counters["data_on_tmpfs"] = cluster_.data_on_tmpfs() ? 1 : 0;
    state.counters["election_timeout_ms"] =
        static_cast<double>(cluster_.election_timeout().count());
    if (faults_ > 0) {
      state.counters["reelection_ms"] = static_cast<double>(reelection_ns_) / 1e6 / faults_;
      state.counters["election_ms"] = static_cast<double>(election_ns_) / 1e6 / faults_;
    }
  }

  std::string verify() override {
    if (written_ == 0) return "no leader was lost";
    for (int i = 0; i < cluster_.size(); ++i) {
      if (!cluster_.up(i)) return fmt::format("member m{} is down after the run", i + 1);
      const auto kv = read_member(cluster_, i, kKey, last_revision_);
      const auto it = kv.find(std::string(kKey));
      if (it == kv.end() || it->second.first != std::to_string(written_)) {
        return fmt::format(
            "member m{} (the lost leader or not) does not hold the last acknowledged write '{}'",
            i + 1, written_);
      }
    }
    return {};
  }

 private:
  static constexpr std::string_view kKey = "cpb/leader_fault";

  /// One timed item: SIGKILL the leader, or hold every peer link into and out of it, then wait
  /// until the other members agree on a new leader (election) and it acknowledges a put
  /// (re-election complete).
  void lose_leader_and_write() {
    const int old = cluster_.await_leader(Millis(10000));
    if (old < 0) throw ServerError("etcd: no leader to lose within 10 s");
    const auto t0 = Clock::now();
    if (fault_ == LeaderFault::kKill) {
      cluster_.kill(old);
    } else {
      cluster_.links()->isolate(old, distributed_lock::LinkMode::kHold);
    }
    lost_ = old;
    bool elected = false;
    const auto deadline = t0 + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      const int l = cluster_.leader(old);  // the partitioned leader may still name itself
      if (l < 0) {
        std::this_thread::sleep_for(Millis(2));
        continue;
      }
      if (!elected) {
        elected = true;
        election_ns_ +=
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
      }
      try {
        Gateway g(cluster_.client_port(l), Millis(2000));
        const nlohmann::json r = g.post("/v3/kv/put", put_body(kKey, std::to_string(written_ + 1)));
        reelection_ns_ +=
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
        ++written_;
        last_revision_ = json_i64(r.value("header", nlohmann::json::object()), "revision");
        ++faults_;
        return;
      } catch (const ServerError&) {
        // Deposed again before it committed: wait for the next leader.
      }
    }
    throw ServerError(
        fmt::format("etcd: no new leader committed a write within 20 s of {} "
                    "member m{}",
                    fault_ == LeaderFault::kKill ? "killing" : "partitioning", old + 1));
  }

  /// Outside timing: the killed member restarts on its data directory (restart() returns once
  /// it has caught up), or the partition heals and the old leader must catch up: its own state
  /// reaches the last write within 10 s (read_member throws otherwise). The next item waits
  /// for the members to agree on a leader.
  void recover() {
    if (fault_ == LeaderFault::kKill) {
      cluster_.restart(lost_);
      return;
    }
    cluster_.links()->heal();
    read_member(cluster_, lost_, kKey, last_revision_);
  }

  LeaderFault fault_;
  EtcdCluster cluster_;
  int lost_ = 0;
  std::int64_t faults_ = 0;
  std::int64_t election_ns_ = 0;
  std::int64_t reelection_ns_ = 0;
  std::int64_t written_ = 0;
  std::int64_t last_revision_ = 0;
};

ParamAxis nodes_axis(std::vector<std::int64_t> values, std::vector<std::int64_t> quick,
                     std::int64_t min) {
  return {"nodes", "members of the etcd cluster", std::move(values), std::move(quick), min, 9};
}

/// The result of one of the cluster's invariant checks, before it runs: its name, the seed
/// (the config's, else a fresh one) and the budget (the config's, else `fallback`).
stress::CheckResult invariant_result(std::string name, const CheckConfig& cfg, Millis fallback) {
  stress::CheckResult r;
  r.name = std::move(name);
  r.kind = "invariant";
  r.seed = cfg.seed != 0 ? cfg.seed : std::random_device{}();
  r.budget_ms = (cfg.budget.count() > 0 ? cfg.budget : fallback).count();
  return r;
}

}  // namespace
}  // namespace detail

// --- faults -------------------------------------------------------------------------------------

stress::CheckResult detail::faults_check(const CheckConfig& cfg) {
  stress::CheckResult r = invariant_result("consensus/etcd_cluster/faults", cfg, Millis(3000));
  const Millis budget(r.budget_ms);
  const auto t0 = Clock::now();
  const auto fail = [&r](stress::Verdict v, std::string why) {
    r.verdict = v;
    r.failure = std::move(why);
  };
  EtcdCluster c = started(EtcdClusterOptions{}.members);  // cannot start: exit 2, not a failure
  try {
    struct Acked {
      std::string key;
      std::string value;
      std::int64_t revision;
    };
    struct Writer {
      std::vector<Acked> acked;
      std::int64_t unknown = 0;  ///< timed out or refused: may or may not have been applied
      std::string error;
    };
    constexpr int kWriters = 2;
    std::vector<Writer> writers(kWriters);
    std::atomic<bool> done{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kWriters; ++t) {
      threads.emplace_back([&, t] {
        Writer& w = writers[static_cast<std::size_t>(t)];
        std::mt19937_64 rng(r.seed + static_cast<std::uint64_t>(t));
        // Ports never change; only the fault thread starts and kills members.
        std::vector<Gateway> conns;
        for (int i = 0; i < c.size(); ++i) conns.emplace_back(c.client_port(i), Millis(1000));
        std::int64_t last = 0;
        for (std::int64_t seq = 1; !done.load(); ++seq) {
          Gateway& g = conns[rng() % conns.size()];
          const std::string key = fmt::format("cpb/faults/{}/{}", t, seq);
          const std::string value = std::to_string(seq);
          try {
            const nlohmann::json a = g.post("/v3/kv/put", put_body(key, value));
            const std::int64_t rev =
                json_i64(a.value("header", nlohmann::json::object()), "revision");
            if (rev <= last && w.error.empty()) {
              w.error = fmt::format("client {}: {} acknowledged at revision {} after {}", t, key,
                                    rev, last);
            }
            last = rev;
            w.acked.push_back({key, value, rev});
          } catch (const std::exception&) {  // refused, timed out, an error answer
            ++w.unknown;
            std::this_thread::sleep_for(Millis(5));
          }
        }
      });
    }
    std::mt19937_64 rng(r.seed);
    std::int64_t kills = 0;
    std::int64_t worst_ms = 0;
    std::string fault_error;
    try {
      do {
        const int old = c.await_leader(Millis(10000));
        if (old < 0) throw ServerError("etcd: no leader within 10 s");
        std::this_thread::sleep_for(Millis(50 + static_cast<std::int64_t>(rng() % 200)));
        const auto k0 = Clock::now();
        c.kill(old);
        if (c.await_leader(Millis(10000)) < 0) {
          throw ServerError(fmt::format("etcd: no new leader within 10 s of killing m{}", old + 1));
        }
        worst_ms = std::max<std::int64_t>(
            worst_ms,
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - k0).count());
        ++kills;
        std::this_thread::sleep_for(Millis(100));
        c.restart(old);
      } while (Clock::now() - t0 < budget);
      std::this_thread::sleep_for(Millis(100));
    } catch (const std::exception& e) {
      fault_error = e.what();
    }
    done.store(true);
    for (auto& th : threads) th.join();
    if (!fault_error.empty()) throw ServerError(fault_error);

    // Calm: a barrier put through the leader; everything acknowledged is below its revision.
    const int l = c.await_leader(Millis(10000));
    if (l < 0) throw ServerError("etcd: no leader after the faults");
    Gateway g(c.client_port(l), Millis(5000));
    const std::int64_t barrier = json_i64(g.post("/v3/kv/put", put_body("cpb/faults_barrier", "1"))
                                              .value("header", nlohmann::json::object()),
                                          "revision");
    std::int64_t acked = 0;
    std::int64_t unknown = 0;
    for (const auto& w : writers) {
      acked += static_cast<std::int64_t>(w.acked.size());
      unknown += w.unknown;
      if (!w.error.empty() && r.verdict == stress::Verdict::kPass)
        fail(stress::Verdict::kFail, w.error);
    }
    std::map<std::string, std::pair<std::string, std::int64_t>> first;
    for (int i = 0; i < c.size() && r.verdict == stress::Verdict::kPass; ++i) {
      auto kv = read_member(c, i, "cpb/faults/", barrier);
      std::erase_if(kv, [&](const auto& e) { return e.second.second > barrier; });
      for (const auto& w : writers) {
        for (const auto& a : w.acked) {
          const auto it = kv.find(a.key);
          if (it == kv.end() || it->second.first != a.value || it->second.second != a.revision) {
            fail(stress::Verdict::kFail,
                 fmt::format("member m{} lost {} (acknowledged with '{}' at revision {})", i + 1,
                             a.key, a.value, a.revision));
            break;
          }
        }
        if (r.verdict != stress::Verdict::kPass) break;
      }
      if (i == 0) {
        first = std::move(kv);
      } else if (r.verdict == stress::Verdict::kPass && kv != first) {
        fail(stress::Verdict::kFail,
             fmt::format("members m1 and m{} hold different keys below revision {}", i + 1,
                         barrier));
      }
    }
    r.samples = static_cast<std::uint64_t>(acked);
    r.stats = {{"engine_version", c.version_number()},
               {"kills", kills},
               {"acknowledged", acked},
               {"unknown", unknown},
               {"worst_election_ms", worst_ms}};
    r.details = fmt::format(
        "etcd {}; {} leader kills, {} puts acknowledged, {} timed out or "
        "refused (outcome unknown), the slowest election {} ms",
        c.version(), kills, acked, unknown, worst_ms);
    if (r.verdict == stress::Verdict::kPass && kills == 0) {
      fail(stress::Verdict::kError, "no leader was killed");
    }
  } catch (const std::exception& e) {
    fail(stress::Verdict::kError, e.what());
  }
  r.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  return r;
}

// --- partition_netns ---------------------------------------------------------------------------

stress::CheckResult detail::partition_netns_check(const CheckConfig& cfg) {
  stress::CheckResult r =
      invariant_result("consensus/etcd_cluster/partition_netns", cfg, Millis(2000));
  const Millis budget(r.budget_ms);
  const auto t0 = Clock::now();
  const auto elapsed = [&] {
    r.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };
  const auto fail = [&r](stress::Verdict v, std::string why) {
    r.verdict = v;
    r.failure = std::move(why);
  };
  if (const std::string why = netns_faults_unavailable(); !why.empty()) {
    fail(stress::Verdict::kSkipped, "skipped: " + why);
    elapsed();
    return r;
  }
  const std::string iptables = iptables_binary();
  // Runs iptables in the calling thread's namespace (a spawned child inherits it).
  const auto rule = [&](std::vector<std::string> args) {
    args.insert(args.begin(), iptables);
    std::string out;
    if (run_command(args, out) != 0) {
      throw ServerError(fmt::format("iptables {}: {}", args.at(1), out));
    }
  };
  std::exception_ptr setup;  // a cluster that cannot start: exit 2, as `faults`
  try {
    NetNamespace ns;
    // Everything from here runs on a thread inside the namespace: the members it starts, the
    // client sockets, the writer thread it spawns and the iptables it runs.
    std::thread inside([&] {
      try {
        ns.enter();
        EtcdCluster c = started(EtcdClusterOptions{}.members);
        struct Acked {
          std::string key;
          std::string value;
          Clock::time_point at;
        };
        std::vector<Acked> acked;
        std::int64_t unknown = 0;
        std::atomic<bool> done{false};
        std::thread writer([&] {
          std::mt19937_64 rng(r.seed);
          std::vector<Gateway> conns;
          for (int i = 0; i < c.size(); ++i) conns.emplace_back(c.client_port(i), Millis(1000));
          for (std::int64_t seq = 1; !done.load(); ++seq) {
            const std::string key = fmt::format("cpb/netns/{}", seq);
            try {
              (void)conns[rng() % conns.size()].post("/v3/kv/put", put_body(key, "1"));
              acked.push_back({key, "1", Clock::now()});
            } catch (const std::exception&) {  // refused, timed out: outcome unknown
              ++unknown;
              std::this_thread::sleep_for(Millis(5));
            }
          }
        });
        std::string fault_error;
        Clock::time_point fault_at;
        Clock::time_point heal_at;
        int old = -1;
        int next = -1;
        try {
          old = c.await_leader(Millis(10000));
          if (old < 0) throw ServerError("etcd: no leader within 10 s");
          std::this_thread::sleep_for(Millis(200));
          // Drop every packet to or from the leader's listening ports (peer and client). Its
          // own outgoing connections leave from ephemeral ports on the same 127.0.0.1 and are
          // not matched (that needs an address per member: distributed-anchors §6).
          fault_at = Clock::now();
          for (const std::uint16_t port : {c.peer_port(old), c.client_port(old)}) {
            for (const char* dir : {"--dport", "--sport"}) {
              rule({"-A", "INPUT", "-p", "tcp", dir, std::to_string(port), "-j", "DROP"});
            }
          }
          const auto until = fault_at + budget;
          while (Clock::now() < until) {
            const int l = c.leader();
            if (l >= 0 && l != old) next = l;
            std::this_thread::sleep_for(Millis(20));
          }
          rule({"-F", "INPUT"});
          heal_at = Clock::now();
        } catch (const std::exception& e) {
          fault_error = e.what();
        }
        done.store(true);
        writer.join();
        if (!fault_error.empty()) throw ServerError(fault_error);

        // Unavailability: the longest stretch of the fault without an acknowledgement (a put
        // in flight when the fault began may still be acknowledged at its start).
        std::int64_t unavailable_ms = 0;
        Clock::time_point last = fault_at;
        const auto gap = [&](Clock::time_point to) {
          unavailable_ms = std::max<std::int64_t>(
              unavailable_ms,
              std::chrono::duration_cast<std::chrono::milliseconds>(to - last).count());
          last = to;
        };
        for (const auto& a : acked) {
          if (a.at > fault_at && a.at < heal_at) gap(a.at);
        }
        gap(heal_at);
        // Calm: a barrier put through the leader, then every acknowledged put on every member.
        const int l = c.await_leader(Millis(10000));
        if (l < 0) throw ServerError("etcd: no leader after the partition healed");
        Gateway g(c.client_port(l), Millis(5000));
        const std::int64_t barrier =
            json_i64(g.post("/v3/kv/put", put_body("cpb/netns_barrier", "1"))
                         .value("header", nlohmann::json::object()),
                     "revision");
        for (int i = 0; i < c.size() && r.verdict == stress::Verdict::kPass; ++i) {
          const auto kv = read_member(c, i, "cpb/netns/", barrier);
          for (const auto& a : acked) {
            const auto it = kv.find(a.key);
            if (it == kv.end() || it->second.first != a.value) {
              fail(stress::Verdict::kFail,
                   fmt::format("member m{} lost {}, acknowledged during or before the partition "
                               "of m{}",
                               i + 1, a.key, old + 1));
              break;
            }
          }
        }
        const auto acked_n = static_cast<std::int64_t>(acked.size());
        r.samples = static_cast<std::uint64_t>(acked_n);
        r.stats = {{"engine_version", c.version_number()},
                   {"acknowledged", acked_n},
                   {"unknown", unknown},
                   {"unavailable_ms", unavailable_ms},
                   {"leader_replaced", next >= 0 ? 1 : 0},
                   {"rules", 4}};
        const std::string netem = netem_unavailable();
        r.details = fmt::format(
            "etcd {} in a network namespace of its own; iptables dropped the leader m{}'s ports "
            "for {} ms: {}; {} puts acknowledged, {} timed out or refused, at most {} ms "
            "without an acknowledgement during the fault; netem: {}",
            c.version(), old + 1, budget.count(),
            next >= 0 ? fmt::format("m{} became leader", next + 1) : "no other leader seen",
            acked_n, unknown, unavailable_ms, netem.empty() ? "available" : netem);
      } catch (const SetupError&) {
        setup = std::current_exception();
      } catch (const std::exception& e) {
        fail(stress::Verdict::kError, e.what());
      }
    });
    inside.join();
  } catch (const std::exception& e) {
    fail(stress::Verdict::kError, e.what());
  }
  if (setup) std::rethrow_exception(setup);
  elapsed();
  return r;
}

std::vector<Check> EtcdConsensus::checks() {
  return {{"faults",
           "stress on a real etcd cluster: two clients put fresh keys through random members while "
           "the leader is SIGKILLed, a new one elected and the old one restarted, again and again; "
           "then every acknowledged put must be on every member at its revision, each client's "
           "revisions grow, and all members hold the same keys",
           [](const CheckConfig& c) { return detail::faults_check(c); },
           {}},
          {"partition_netns",
           "the privileged path: the cluster in a network namespace of its own, where iptables "
           "drops every packet to and from the leader's ports for the budget (default 2 s) "
           "while a client puts through random members; then every acknowledged put must be on "
           "every member. Reports the unavailability. Where the namespace, iptables or "
           "CAP_SYS_ADMIN is missing, the verdict is `skipped` with what is missing",
           [](const CheckConfig& c) { return detail::partition_netns_check(c); },
           {}}};
}

namespace {

/// A re-election scenario: 3 members, 1 thread, one item per lost leader.
Scenario leader_fault_scenario(std::string name, std::string description,
                               detail::LeaderFault fault) {
  return {std::move(name),
          std::move(description),
          {detail::nodes_axis({3}, {3}, 3)},
          ThreadAxis::fixed({1}),
          1,
          [fault](const Point& p) -> std::unique_ptr<Fixture> {
            return std::make_unique<detail::EtcdLeaderFault>(static_cast<int>(p.get("nodes")),
                                                             fault);
          }};
}

}  // namespace

std::vector<Scenario> EtcdConsensus::scenarios() {
  return {
      {"commit",
       "an etcd cluster of `nodes` members on loopback; each client thread has `window` "
       "connections to the leader and puts one key on each at once, then waits for every "
       "acknowledgement; one item = one acknowledged (committed) put. verify() checks that "
       "revisions grow and that every member serves every last acknowledged value",
       {detail::nodes_axis({3, 5}, {3}, 1),
        {"window", "puts in flight per client thread, one connection each", {1, 16}, {1}, 1, 256}},
       ThreadAxis::runners({1, 4, 16}, {1, 4}),
       1,
       [](const Point& p) -> std::unique_ptr<Fixture> {
         return std::make_unique<detail::EtcdCommitBench>(
             static_cast<int>(p.get("nodes")), static_cast<int>(p.get("window")), p.threads);
       }},
      leader_fault_scenario(
          "leader_kill",
          "SIGKILL the leader of an etcd cluster of `nodes` members, then wait until a new leader "
          "acknowledges a put; one item = one re-election (latency and `reelection_ms`: kill to "
          "acknowledged put; `election_ms`: kill to a new leader reported). The killed member "
          "restarts outside timing",
          detail::LeaderFault::kKill),
      leader_fault_scenario(
          "leader_partition",
          "partition the leader of an etcd cluster of `nodes` members from its peers (the peer "
          "proxies hold every link into and out of it; it keeps running and clients still reach "
          "it), then wait until the other members agree on a new leader that acknowledges a "
          "put; one item = one re-election (latency and `reelection_ms`: partition to "
          "acknowledged put; `election_ms`: partition to a new leader agreed). The partition "
          "heals outside timing, and the old leader follows and catches up",
          detail::LeaderFault::kPartition),
  };
}

}  // namespace cpb::patterns::consensus
