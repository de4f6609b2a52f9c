// SPDX-License-Identifier: Apache-2.0
/// @file
/// An own in-process Raft (Ongaro & Ousterhout, "In Search of an Understandable Consensus
/// Algorithm", https://raft.github.io/raft.pdf): leader election with the log up-to-date check
/// (§5.2, §5.4.1), log replication with the prevLogIndex/prevLogTerm consistency check and
/// conflict truncation (§5.3), commit of entries of the leader's current term only (§5.4.2),
/// and a state machine (the log of applied commands) on every node.
///
/// Everything is written on the sync policy `S`, so that the same code runs on real threads
/// (`sync::Real`, the benchmark) and under the model checker (`check::Sync`), where every send,
/// receive and node step is a scheduling point. Nothing here reads a clock: an election
/// timeout, a heartbeat, a crash and a restart are explicit steps (`campaign()`,
/// `heartbeat()`, `crash()`, `restart()`) that a test or a driver thread takes, so every
/// execution is finite and replays deterministically.
///
/// The seeded bug of the family is one switch, `CommitRule::kCountReplicas`: the leader commits
/// any entry that a majority holds, whatever its term, which is Figure 8's bug (a committed
/// entry can later be overwritten). `CommitRule::kCurrentTerm` is Raft's rule.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cpb::patterns::consensus {

using Term = std::uint64_t;
using Index = std::uint64_t;  ///< log indexes start at 1; 0 is "before the log"
using Command = std::uint64_t;

struct Entry {
  Term term = 0;
  Command cmd = 0;
  friend bool operator==(const Entry&, const Entry&) = default;
};

/// Which entries a leader may commit by counting the replicas of an index.
enum class CommitRule : std::uint8_t {
  kCurrentTerm,    ///< Raft §5.4.2: only entries of the leader's current term (older ones follow)
  kCountReplicas,  ///< the seeded bug (Figure 8): any entry a majority holds
};

enum class Role : std::uint8_t { kFollower, kCandidate, kLeader };

enum class MsgType : std::uint8_t { kRequestVote, kVoteReply, kAppend, kAppendReply };

/// One RPC or its reply. Fields that a type does not use stay zero.
struct Message {
  MsgType type = MsgType::kRequestVote;
  int from = 0;
  int to = 0;
  Term term = 0;
  Index last_log_index = 0;    ///< RequestVote
  Term last_log_term = 0;      ///< RequestVote
  bool ok = false;             ///< VoteReply: granted; AppendReply: success
  Index prev_index = 0;        ///< Append; AppendReply: the prev_index it answers
  Term prev_term = 0;          ///< Append
  std::vector<Entry> entries;  ///< Append
  Index leader_commit = 0;     ///< Append
  Index match_index = 0;       ///< AppendReply on success: the last index known to match
};

/// The network: one FIFO queue per directed link (from, to). The queues into one node share
/// that node's inbox mutex and condition variable (`S::mutex`, `S::condition_variable`), so a
/// send and a receive are scheduling points under the checker. Messages can be dropped
/// (`drop_oldest`, `clear`) and reordered (`reorder`: the oldest message of a link goes to its
/// back) by explicit steps; a receiver takes the links in turn, so the links into a node
/// interleave. After `stop()` every receive returns nothing: what is still in flight is lost,
/// as an asynchronous network may lose it.
template <class S>
class Network {
 public:
  explicit Network(int nodes) : n_(nodes) {
    for (int i = 0; i < nodes; ++i) inboxes_.push_back(std::make_unique<Inbox>(nodes));
  }

  [[nodiscard]] int size() const { return n_; }

  void send(Message m) {
    Inbox& in = *inboxes_[static_cast<std::size_t>(m.to)];
    {
      const std::lock_guard<typename S::mutex> lk(in.m);
      if (in.stopped) return;
      in.links[static_cast<std::size_t>(m.from)].push_back(std::move(m));
      ++in.count;
    }
    in.cv.notify_one();
  }

  /// The next message for `node` (the links in turn), waiting for one; nothing once stopped.
  std::optional<Message> receive(int node) {
    Inbox& in = *inboxes_[static_cast<std::size_t>(node)];
    std::unique_lock<typename S::mutex> lk(in.m);
    in.cv.wait(lk, [&] { return in.stopped || in.count > 0; });
    if (in.stopped) return std::nullopt;
    return take(in);
  }

  /// The next message for `node` if one is there.
  std::optional<Message> try_receive(int node) {
    Inbox& in = *inboxes_[static_cast<std::size_t>(node)];
    const std::lock_guard<typename S::mutex> lk(in.m);
    if (in.stopped || in.count == 0) return std::nullopt;
    return take(in);
  }

  /// Drops the oldest message of link from -> to; false if it was empty.
  bool drop_oldest(int from, int to) {
    Inbox& in = *inboxes_[static_cast<std::size_t>(to)];
    const std::lock_guard<typename S::mutex> lk(in.m);
    auto& q = in.links[static_cast<std::size_t>(from)];
    if (q.empty()) return false;
    q.pop_front();
    --in.count;
    return true;
  }

  /// Drops the oldest message into `to` from the first non-empty link (from 0 up); false if
  /// none was in flight.
  bool drop_any(int to) {
    for (int from = 0; from < n_; ++from) {
      if (drop_oldest(from, to)) return true;
    }
    return false;
  }

  /// Moves the oldest message of link from -> to behind the others; false if fewer than two.
  bool reorder(int from, int to) {
    Inbox& in = *inboxes_[static_cast<std::size_t>(to)];
    const std::lock_guard<typename S::mutex> lk(in.m);
    auto& q = in.links[static_cast<std::size_t>(from)];
    if (q.size() < 2) return false;
    q.push_back(std::move(q.front()));
    q.pop_front();
    return true;
  }

  /// Reorders the first link into `to` that holds two messages or more.
  bool reorder_any(int to) {
    for (int from = 0; from < n_; ++from) {
      if (reorder(from, to)) return true;
    }
    return false;
  }

  /// Drops every message in flight to `to`.
  void clear_to(int to) {
    Inbox& in = *inboxes_[static_cast<std::size_t>(to)];
    const std::lock_guard<typename S::mutex> lk(in.m);
    for (auto& q : in.links) q.clear();
    in.count = 0;
  }

  /// Drops every message in flight.
  void clear() {
    for (auto& in : inboxes_) {
      const std::lock_guard<typename S::mutex> lk(in->m);
      for (auto& q : in->links) q.clear();
      in->count = 0;
    }
  }

  /// Wakes every receiver; from now on nothing is delivered.
  void stop() {
    for (auto& in : inboxes_) {
      {
        const std::lock_guard<typename S::mutex> lk(in->m);
        in->stopped = true;
      }
      in->cv.notify_all();
    }
  }

 private:
  struct Inbox {
    explicit Inbox(int nodes) : links(static_cast<std::size_t>(nodes)) {}
    typename S::mutex m;
    typename S::condition_variable cv;
    std::vector<std::deque<Message>> links;  // by sender; guarded by m
    std::size_t count = 0;                   // messages in all links; guarded by m
    std::size_t next = 0;                    // the link to look at first; guarded by m
    bool stopped = false;                    // guarded by m
  };

  // Called with in.m held and in.count > 0.
  static Message take(Inbox& in) {
    const std::size_t n = in.links.size();
    for (std::size_t k = 0; k < n; ++k) {
      auto& q = in.links[(in.next + k) % n];
      if (q.empty()) continue;
      in.next = (in.next + k + 1) % n;
      Message m = std::move(q.front());
      q.pop_front();
      --in.count;
      return m;
    }
    return {};  // unreachable while count is right
  }

  int n_;
  std::vector<std::unique_ptr<Inbox>> inboxes_;
};

/// The safety oracle, outside the model: every node reports to it, and it keeps the first
/// violation of
/// - Election Safety: at most one leader per term;
/// - Leader Completeness: an entry that any node reported committed in term T is in the log of
///   every leader of a term after T (checked both when the leader is elected and when the
///   commit is reported);
/// - State Machine Safety: no two nodes apply different entries at the same index.
/// Its lock is a plain std::mutex and its critical sections hold no checked operation, so it
/// adds no scheduling point: under the checker all logical threads are fibers of one OS
/// thread, and the lock is never held across a switch.
class Oracle {
 public:
  void on_leader(int node, Term term, const std::vector<Entry>& log) {
    const std::lock_guard<std::mutex> lk(m_);
    const auto [it, fresh] = leaders_.try_emplace(term, Leader{node, log});
    if (!fresh && it->second.node != node) {
      fail(fmt::format("election safety: S{} and S{} both lead term {}", it->second.node + 1,
                       node + 1, term));
    }
    for (const auto& [index, c] : committed_) {
      if (c.term < term) check_has(node, term, log, index, c);
    }
  }

  void on_commit(int node, Term term, Index index, const Entry& e) {
    const std::lock_guard<std::mutex> lk(m_);
    auto [it, fresh] = committed_.try_emplace(index, Committed{e, term, node});
    if (!fresh) {
      if (it->second.entry != e) {
        fail(fmt::format("S{} committed index {} as (term {}, cmd {}), S{} as (term {}, cmd {})",
                         node + 1, index, e.term, e.cmd, it->second.node + 1, it->second.entry.term,
                         it->second.entry.cmd));
      }
      return;
    }
    for (const auto& [t, l] : leaders_) {
      if (t > term) check_has(l.node, t, l.log, index, it->second);
    }
  }

  void on_apply(int node, Index index, const Entry& e) {
    const std::lock_guard<std::mutex> lk(m_);
    const auto [it, fresh] = applied_.try_emplace(index, std::make_pair(e, node));
    if (!fresh && it->second.first != e) {
      fail(fmt::format(
          "state machine safety: S{} applied (term {}, cmd {}) at index {}, S{} applied (term "
          "{}, cmd {})",
          node + 1, e.term, e.cmd, index, it->second.second + 1, it->second.first.term,
          it->second.first.cmd));
    }
  }

  /// The first violation, or an empty string.
  [[nodiscard]] std::string violation() const {
    const std::lock_guard<std::mutex> lk(m_);
    return violation_;
  }
  /// Highest index any node reported committed.
  [[nodiscard]] Index max_committed() const {
    const std::lock_guard<std::mutex> lk(m_);
    return committed_.empty() ? 0 : committed_.rbegin()->first;
  }
  [[nodiscard]] std::size_t leaders() const {
    const std::lock_guard<std::mutex> lk(m_);
    return leaders_.size();
  }

 private:
  struct Leader {
    int node;
    std::vector<Entry> log;  // at its election; a leader never rewrites its own log
  };
  struct Committed {
    Entry entry;
    Term term;  // the term of the node that reported it
    int node;
  };
  void check_has(int node, Term term, const std::vector<Entry>& log, Index index,
                 const Committed& c) {
    if (index <= log.size() && log[index - 1] == c.entry) return;
    fail(fmt::format(
        "leader completeness: S{} reported index {} (term {}, cmd {}) committed in term {}, "
        "but S{} leads term {} without it",
        c.node + 1, index, c.entry.term, c.entry.cmd, c.term, node + 1, term));
  }
  void fail(std::string what) {
    if (violation_.empty()) violation_ = std::move(what);
  }

  mutable std::mutex m_;
  std::map<Term, Leader> leaders_;
  std::map<Index, Committed> committed_;
  std::map<Index, std::pair<Entry, int>> applied_;
  std::string violation_;
};

/// What a test may look at of a node (a copy, taken under its lock).
struct NodeView {
  bool up = true;
  Role role = Role::kFollower;
  Term term = 0;
  int voted_for = -1;
  std::vector<Entry> log;
  Index commit = 0;
  std::vector<Command> applied;  ///< the state machine: the commands applied, in order
};

/// One Raft server. Each public step runs under the node's mutex. Persistent state (term,
/// vote, log) survives crash(); volatile state (role, commit index, the state machine, the
/// leader's next/match indexes, the votes) is lost and rebuilt.
template <class S>
class RaftNode {
 public:
  RaftNode(int id, Network<S>& net, CommitRule rule, Oracle* oracle)
      : id_(id),
        n_(net.size()),
        net_(net),
        rule_(rule),
        oracle_(oracle),
        next_(static_cast<std::size_t>(n_), 1),
        match_(static_cast<std::size_t>(n_), 0),
        granted_(static_cast<std::size_t>(n_), false) {}

  [[nodiscard]] int id() const { return id_; }

  /// The election timeout fired: become a candidate of the next term and ask every peer for
  /// its vote. A leader and a crashed node ignore it.
  void campaign() {
    const std::lock_guard<typename S::mutex> lk(m_);
    if (!up_ || role_ == Role::kLeader) return;
    ++term_;
    voted_for_ = id_;
    role_ = Role::kCandidate;
    std::fill(granted_.begin(), granted_.end(), false);
    granted_[static_cast<std::size_t>(id_)] = true;
    if (majority(1)) {
      become_leader();
      return;
    }
    for (int p = 0; p < n_; ++p) {
      if (p == id_) continue;
      Message m;
      m.type = MsgType::kRequestVote;
      m.from = id_;
      m.to = p;
      m.term = term_;
      m.last_log_index = log_.size();
      m.last_log_term = last_term();
      net_.send(std::move(m));
    }
  }

  /// A client command: the leader appends it and replicates it. Returns its index, or 0 when
  /// this node is not the leader (or is down).
  Index propose(Command c) {
    const std::lock_guard<typename S::mutex> lk(m_);
    if (!up_ || role_ != Role::kLeader) return 0;
    log_.push_back({term_, c});
    const Index at = log_.size();
    match_[static_cast<std::size_t>(id_)] = at;
    advance_commit();  // a one-node cluster commits at once
    for (int p = 0; p < n_; ++p) {
      if (p != id_) send_append(p);
    }
    return at;
  }

  /// The heartbeat timeout fired: a leader sends AppendEntries to every peer from its next
  /// index (what was lost is sent again).
  void heartbeat() {
    const std::lock_guard<typename S::mutex> lk(m_);
    if (!up_ || role_ != Role::kLeader) return;
    for (int p = 0; p < n_; ++p) {
      if (p != id_) send_append(p, /*resend=*/true);
    }
  }

  /// Crashes: messages are lost until restart(), volatile state is gone.
  void crash() {
    const std::lock_guard<typename S::mutex> lk(m_);
    up_ = false;
    role_ = Role::kFollower;
    commit_ = 0;
    applied_.clear();
    std::fill(granted_.begin(), granted_.end(), false);
    std::fill(next_.begin(), next_.end(), 1);
    std::fill(match_.begin(), match_.end(), 0);
  }

  /// Restarts from the persistent state, as a follower that has applied nothing. What
  /// reached the node while it was down is lost with the crashed process.
  void restart() {
    const std::lock_guard<typename S::mutex> lk(m_);
    if (up_) return;
    net_.clear_to(id_);
    up_ = true;
  }

  /// Handles one message (lost if the node is down).
  void handle(const Message& m) {
    {
      const std::lock_guard<typename S::mutex> lk(m_);
      if (!up_) return;
      const std::size_t applied_before = applied_.size();
      if (m.term > term_) {  // §5.1: a newer term makes anyone a follower of it
        term_ = m.term;
        voted_for_ = -1;
        role_ = Role::kFollower;
      }
      switch (m.type) {
        case MsgType::kRequestVote:
          on_request_vote(m);
          break;
        case MsgType::kVoteReply:
          on_vote_reply(m);
          break;
        case MsgType::kAppend:
          on_append(m);
          break;
        case MsgType::kAppendReply:
          on_append_reply(m);
          break;
      }
      if (applied_.size() == applied_before) return;
    }
    applied_cv_.notify_all();  // wait_applied()
  }

  /// Waits until this node has applied `index` entries, or `give_up()` says to stop. Returns
  /// whether it has.
  template <class GiveUp>
  bool wait_applied(Index index, GiveUp give_up) {
    std::unique_lock<typename S::mutex> lk(m_);
    while (applied_.size() < index) {
      if (give_up()) return false;
      applied_cv_.wait_for(lk, std::chrono::milliseconds(1));
    }
    return true;
  }

  [[nodiscard]] bool is_leader() {
    const std::lock_guard<typename S::mutex> lk(m_);
    return up_ && role_ == Role::kLeader;
  }

  [[nodiscard]] NodeView view() {
    const std::lock_guard<typename S::mutex> lk(m_);
    return {up_, role_, term_, voted_for_, log_, commit_, applied_};
  }

 private:
  [[nodiscard]] Term last_term() const { return log_.empty() ? 0 : log_.back().term; }
  [[nodiscard]] Term term_at(Index i) const { return i == 0 ? 0 : log_[i - 1].term; }
  [[nodiscard]] bool majority(int count) const { return 2 * count > n_; }

  void reply(Message r) { net_.send(std::move(r)); }

  void on_request_vote(const Message& m) {
    // §5.4.1: grant only to a candidate whose log is at least as up to date as ours.
    const bool up_to_date = m.last_log_term > last_term() ||
                            (m.last_log_term == last_term() && m.last_log_index >= log_.size());
    const bool grant = m.term == term_ && (voted_for_ == -1 || voted_for_ == m.from) && up_to_date;
    if (grant) voted_for_ = m.from;
    Message r;
    r.type = MsgType::kVoteReply;
    r.from = id_;
    r.to = m.from;
    r.term = term_;
    r.ok = grant;
    reply(std::move(r));
  }

  void on_vote_reply(const Message& m) {
    if (role_ != Role::kCandidate || m.term != term_ || !m.ok) return;
    granted_[static_cast<std::size_t>(m.from)] = true;
    const auto votes = std::count(granted_.begin(), granted_.end(), true);
    if (majority(static_cast<int>(votes))) become_leader();
  }

  void become_leader() {
    role_ = Role::kLeader;
    std::fill(next_.begin(), next_.end(), log_.size() + 1);
    std::fill(match_.begin(), match_.end(), 0);
    match_[static_cast<std::size_t>(id_)] = log_.size();
    if (oracle_ != nullptr) oracle_->on_leader(id_, term_, log_);
    for (int p = 0; p < n_; ++p) {
      if (p != id_) send_append(p);
    }
  }

  /// AppendEntries to `p` with everything from next_[p]; next_[p] then moves past it
  /// (optimistic pipelining, as etcd's replicate state), and a rejection moves it back.
  /// `resend`: send from next_[p] even if that is past the log (a heartbeat).
  void send_append(int p, bool resend = false) {
    const auto pi = static_cast<std::size_t>(p);
    if (resend) next_[pi] = std::min<Index>(next_[pi], match_[pi] + 1);
    Message m;
    m.type = MsgType::kAppend;
    m.from = id_;
    m.to = p;
    m.term = term_;
    m.prev_index = next_[pi] - 1;
    m.prev_term = term_at(m.prev_index);
    for (Index i = next_[pi]; i <= log_.size(); ++i) m.entries.push_back(log_[i - 1]);
    m.leader_commit = commit_;
    next_[pi] = log_.size() + 1;
    net_.send(std::move(m));
  }

  void on_append(const Message& m) {
    Message r;
    r.type = MsgType::kAppendReply;
    r.from = id_;
    r.to = m.from;
    r.prev_index = m.prev_index;
    if (m.term < term_) {  // a stale leader
      r.term = term_;
      reply(std::move(r));
      return;
    }
    role_ = Role::kFollower;  // a candidate of this term steps down
    r.term = term_;
    // §5.3: the consistency check.
    if (m.prev_index > log_.size() || term_at(m.prev_index) != m.prev_term) {
      reply(std::move(r));
      return;
    }
    Index i = m.prev_index;
    for (const Entry& e : m.entries) {
      ++i;
      if (i <= log_.size() && log_[i - 1].term != e.term) {
        log_.resize(i - 1);  // a conflict: drop it and all that follows
      }
      if (i > log_.size()) log_.push_back(e);
    }
    const Index last_new = m.prev_index + m.entries.size();
    if (m.leader_commit > commit_) {
      commit_to(std::min(m.leader_commit, last_new));
    }
    r.ok = true;
    r.match_index = last_new;
    reply(std::move(r));
  }

  void on_append_reply(const Message& m) {
    if (role_ != Role::kLeader || m.term != term_) return;
    const auto pi = static_cast<std::size_t>(m.from);
    if (m.ok) {
      match_[pi] = std::max(match_[pi], m.match_index);
      next_[pi] = std::max(next_[pi], match_[pi] + 1);
      advance_commit();
      return;
    }
    // Rejected at prev_index: go back to it (never below what is known to match).
    if (m.prev_index == 0 || m.prev_index <= match_[pi]) return;  // stale
    next_[pi] = std::max<Index>(match_[pi] + 1, std::min(next_[pi], m.prev_index));
    send_append(m.from);
  }

  /// Moves the commit index to the highest index a majority holds that the rule allows.
  void advance_commit() {
    for (Index n = log_.size(); n > commit_; --n) {
      if (rule_ == CommitRule::kCurrentTerm && term_at(n) != term_) {
        // §5.4.2: never by counting replicas for an older term's entry. Entries are in term
        // order, so no lower index has the current term either.
        if (term_at(n) < term_) return;
        continue;
      }
      int holders = 0;
      for (const Index mi : match_) holders += mi >= n ? 1 : 0;
      if (majority(holders)) {
        commit_to(n);
        return;
      }
    }
  }

  void commit_to(Index c) {
    for (Index i = commit_ + 1; i <= c; ++i) {
      if (oracle_ != nullptr) oracle_->on_commit(id_, term_, i, log_[i - 1]);
    }
    commit_ = c;
    while (applied_.size() < commit_) {
      const Index i = applied_.size() + 1;
      applied_.push_back(log_[i - 1].cmd);
      if (oracle_ != nullptr) oracle_->on_apply(id_, i, log_[i - 1]);
    }
  }

  const int id_;
  const int n_;
  Network<S>& net_;
  const CommitRule rule_;
  Oracle* const oracle_;

  typename S::mutex m_;
  typename S::condition_variable applied_cv_;
  bool up_ = true;
  // Persistent.
  Term term_ = 0;
  int voted_for_ = -1;
  std::vector<Entry> log_;
  // Volatile.
  Role role_ = Role::kFollower;
  Index commit_ = 0;
  std::vector<Command> applied_;  // the state machine
  std::vector<Index> next_;       // leader
  std::vector<Index> match_;      // leader (its own entry: its log length)
  std::vector<bool> granted_;     // candidate
};

/// `n` nodes on one network, sharing one oracle.
template <class S>
class RaftCluster {
 public:
  RaftCluster(int n, CommitRule rule) : net_(n) {
    for (int i = 0; i < n; ++i)
      nodes_.push_back(std::make_unique<RaftNode<S>>(i, net_, rule, &oracle_));
  }
  RaftCluster(const RaftCluster&) = delete;
  RaftCluster& operator=(const RaftCluster&) = delete;
  ~RaftCluster() { stop(); }

  [[nodiscard]] int size() const { return net_.size(); }
  RaftNode<S>& node(int i) { return *nodes_[static_cast<std::size_t>(i)]; }
  Network<S>& net() { return net_; }
  Oracle& oracle() { return oracle_; }

  /// Delivers one message to `node` if one is in flight.
  bool deliver_one(int node) {
    auto m = net_.try_receive(node);
    if (!m) return false;
    nodes_[static_cast<std::size_t>(node)]->handle(*m);
    return true;
  }

  /// Delivers messages, the nodes in turn, until none is in flight; returns how many.
  std::size_t deliver_all() {
    std::size_t n = 0;
    for (bool any = true; any;) {
      any = false;
      for (int i = 0; i < size(); ++i) {
        if (deliver_one(i)) {
          any = true;
          ++n;
        }
      }
    }
    return n;
  }

  /// Handles `node`'s messages as they arrive until the network stops or `max` are handled.
  void pump(int node, std::size_t max = SIZE_MAX) {
    for (std::size_t k = 0; k < max; ++k) {
      auto m = net_.receive(node);
      if (!m) return;
      nodes_[static_cast<std::size_t>(node)]->handle(*m);
    }
  }

  /// One thread per node, each pumping its messages, until stop().
  void start() {
    for (int i = 0; i < size(); ++i) threads_.emplace_back([this, i] { pump(i); });
  }
  void stop() {
    net_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  /// The node that is up and leads the highest term, or -1.
  int leader() {
    int best = -1;
    Term best_term = 0;
    for (int i = 0; i < size(); ++i) {
      const NodeView v = node(i).view();
      if (v.up && v.role == Role::kLeader && (best < 0 || v.term > best_term)) {
        best = i;
        best_term = v.term;
      }
    }
    return best;
  }

 private:
  Network<S> net_;
  Oracle oracle_;
  std::vector<std::unique_ptr<RaftNode<S>>> nodes_;
  std::vector<typename S::thread> threads_;
};

}  // namespace cpb::patterns::consensus
