// SPDX-License-Identifier: Apache-2.0
/// @file
/// The own actor runtime: typed actors (`Ref<M>`), each with a `Mailbox` (MPSC, scheduled at
/// most once at a time), run on the own `WorkStealingPool`; request/response (`request` gives a
/// `std::future`, the handler answers through the `Reply<R>` in the message, or replies to a
/// `Ref` carried in the message); and Erlang/OTP supervision (`Supervisor`: one-for-one,
/// one-for-all, rest-for-one, a restart intensity, escalation to the parent).
///
/// Scheduling: a message to an idle actor schedules it (one pool task); the task handles up to
/// `throughput` messages (the bound K), then gives the worker back: if messages remain it is
/// submitted again at the back of the pool's FIFO inboxes (`yield`), so every actor already
/// waiting runs first. A worker that sends to an idle actor queues it on its own deque: the
/// receiver of a ping-pong runs next on the same worker, cache-hot, and idle workers steal.
///
/// Failure and messages (the policy that bounds what is lost):
/// - An actor fails when its handler throws. The message it was handling is dropped and
///   counted (`Stats::dropped_failed`); nothing else is lost: its mailbox is kept, and the
///   restarted instance (built afresh by the actor's factory: its state is lost, as in Erlang)
///   handles the queued messages and everything sent later, in order. A `Reply` in the dropped
///   message is destroyed unanswered, so its requester's future throws `broken_promise`.
/// - The supervisor decides which children restart (its strategy), in start order, and logs
///   each (`restart_log`). A restart takes effect before the child handles its next message; a
///   child running a batch on another worker at that moment finishes the message in hand first.
///   Restarts requested twice before the child ran once are coalesced into one instantiation
///   (`Stats::restarts_coalesced`).
/// - A supervisor with more than `max_restarts` restarts within `period` fails: it restarts
///   nothing and escalates to its parent, which handles it as a failed child (restarting it
///   restarts its whole subtree and clears its history). The root supervisor failing stops its
///   whole tree: from then on every message a stopped actor holds or receives is dropped and
///   counted (`Stats::dropped_stopped`), and `failed()` is true.
/// - So, while the root holds: messages lost = failures, exactly (one per throw).
/// Actors live as long as their `ActorSystem`; its destructor lets queued messages run, then
/// joins the workers. An actor spawned with no supervisor is restarted on every failure, with no
/// limit (as under a one-for-one supervisor with infinite intensity).
///
/// Progress: blocking (the pool parks idle workers; the supervisor and the restart log take a
/// mutex on failures only). Sending is wait-free apart from the pool's submit when the receiver
/// was idle.
/// Memory ordering: the mailbox's (mailbox.hpp) and the pool's (work_stealing_pool.hpp). A
/// restart request (`wanted_gen_`) is a seq_cst increment, read with acquire by the child before
/// each message, and re-read after the child gives up its schedule (the same store-load pair as
/// a message's, so a request is never stranded); the relaxed statistics are counts read after
/// `wait_idle()` (each says so).
/// Reference: Hewitt et al. 1973; Erlang/OTP `supervisor` (restart strategies and intensity);
/// Akka's dispatcher `throughput`; CAF (Charousset et al., "Revisiting Actor Programming in
/// C++", 2016).
#pragma once

#include "harness/bench/histogram.hpp"
#include "harness/bench/meter.hpp"
#include "harness/core/sync.hpp"
#include "patterns/actor/mailbox.hpp"
#include "patterns/thread_pool/shutdown.hpp"
#include "patterns/thread_pool/task.hpp"
#include "patterns/thread_pool/work_stealing_pool.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpb::patterns::actor {

/// Which children a supervisor restarts when one fails (Erlang/OTP's strategies).
enum class Strategy {
  kOneForOne,   ///< the failed child only
  kOneForAll,   ///< every child, in start order
  kRestForOne,  ///< the failed child and those started after it, in start order
};

/// More than `max_restarts` restarts within `period` make a supervisor fail (OTP's intensity
/// and period; OTP's defaults are 1 in 5 s).
struct Intensity {
  std::size_t max_restarts = 1;
  std::chrono::nanoseconds period = std::chrono::seconds(5);
};

/// The runtime's counts (all monotonic).
struct Stats {
  std::uint64_t handled = 0;             ///< messages whose handler returned
  std::uint64_t batches = 0;             ///< schedulings (runs of up to `throughput` messages)
  std::uint64_t failures = 0;            ///< handlers that threw
  std::uint64_t dropped_failed = 0;      ///< messages dropped because their handler threw
  std::uint64_t dropped_stopped = 0;     ///< messages dropped by actors stopped for good
  std::uint64_t mid_run_kills = 0;       ///< failures with more messages waiting in the mailbox
  std::uint64_t restarts_requested = 0;  ///< per child, by supervisors (the restart log's size)
  std::uint64_t restarts = 0;            ///< instances actually rebuilt
  std::uint64_t restarts_coalesced = 0;  ///< requests merged into a later one
  std::uint64_t escalations = 0;         ///< supervisors that exceeded their intensity
};

/// One restart decided by a supervisor: the child (by name), and which failure caused it.
struct RestartRecord {
  std::uint64_t decision = 0;  ///< numbers the decisions, in the order they were taken
  std::string child;
};

template <class S>
class ActorSystem;
template <class S>
class Supervisor;

namespace detail {

/// A node of a supervision tree: an actor or a supervisor.
template <class S>
class Node {
 public:
  virtual ~Node() = default;
  /// Restarts this node (an actor: at its next message; a supervisor: its whole subtree).
  virtual void restart_tree(std::uint64_t decision, std::uint64_t now_ns) = 0;
  /// Stops this node for good.
  virtual void stop_tree() = 0;
  Supervisor<S>* parent_ = nullptr;
  std::size_t index_ = 0;  // in the parent's start order
  std::string name_;
};

/// What a pool task runs: one scheduling of an actor.
template <class S>
class Runnable : public Node<S> {
 public:
  virtual void run() = 0;

  /// Counts kept per actor, so that counting costs no shared cache line: written by the holder
  /// of the schedule only (a relaxed load and store, no read-modify-write), read by stats().
  void count(std::uint64_t handled) {
    // Relaxed: only the holder writes; stats() reads after wait_idle(), which orders them.
    handled_.store(handled_.load(std::memory_order_relaxed) + handled, std::memory_order_relaxed);
    batches_.store(batches_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  typename S::template atomic<std::uint64_t> handled_{0};
  typename S::template atomic<std::uint64_t> batches_{0};
};

}  // namespace detail

/// Answers one request: call it once with the result (from the handler).
template <class R>
class Reply {
 public:
  Reply() = default;
  explicit Reply(std::shared_ptr<std::promise<R>> p) : p_(std::move(p)) {}
  void operator()(R v) const { p_->set_value(std::move(v)); }

 private:
  std::shared_ptr<std::promise<R>> p_;
};

/// The part of an actor that senders see: its mailbox, typed by its message.
template <class M, class S>
class MailboxCell : public detail::Runnable<S> {
 public:
  explicit MailboxCell(ActorSystem<S>* sys) : sys_(sys) {}

  void send(M m) {
    if (box_.push(std::move(m))) sys_->schedule(this);
  }

 protected:
  ActorSystem<S>* sys_;
  Mailbox<M, S> box_;
};

/// A handle to an actor that takes messages of type `M`. Copyable; valid while its system is.
template <class M, class S = sync::Real>
class Ref {
 public:
  Ref() = default;
  explicit Ref(MailboxCell<M, S>* c) : cell_(c) {}
  /// Queues `m` for the actor (from any thread, inside a handler or not).
  void send(M m) const { cell_->send(std::move(m)); }
  [[nodiscard]] explicit operator bool() const { return cell_ != nullptr; }
  friend bool operator==(const Ref&, const Ref&) = default;

 private:
  MailboxCell<M, S>* cell_ = nullptr;
};

/// Sends the message `make(Reply<R>)` to `to` and returns the future of its answer.
template <class R, class M, class S, class Make>
std::future<R> request(const Ref<M, S>& to, Make&& make) {
  auto p = std::make_shared<std::promise<R>>();
  std::future<R> f = p->get_future();
  to.send(std::forward<Make>(make)(Reply<R>(std::move(p))));
  return f;
}

namespace detail {

/// An actor: its mailbox, its current instance (a handler `F` built by `factory`), and the
/// restart and stop requests of its supervisor.
template <class M, class Factory, class S>
class Cell final : public MailboxCell<M, S> {
  using F = std::invoke_result_t<Factory&>;

 public:
  Cell(ActorSystem<S>* sys, Factory factory)
      : MailboxCell<M, S>(sys), factory_(std::move(factory)) {
    handler_.emplace(factory_());
  }

  void run() override {
    ActorSystem<S>& sys = *this->sys_;
    std::uint64_t handled = 0;
    std::size_t i = 0;
    for (; i < sys.throughput_; ++i) {
      // Acquire: pairs with the release increment in restart_tree (the request's time).
      const std::uint64_t wanted = wanted_gen_.load(std::memory_order_acquire);
      if (wanted != gen_) restart(wanted);
      if (stopped_.load()) {
        drain();
        break;
      }
      std::optional<M> m = this->box_.pop();
      if (!m) break;
      try {
        (*handler_)(*m);
        ++handled;
      } catch (...) {
        fail();
      }
    }
    this->count(handled);
    const std::uint64_t gen = gen_;  // gen_ is the holder's: read it before giving the schedule up
    if (this->box_.release()) {
      // A full batch yields: to the back of the pool's FIFO lane, behind the actors already
      // waiting there. Otherwise (a message came in as we finished) it goes on this worker's
      // deque, like a send to an idle actor.
      if (i == sys.throughput_) {
        sys.yield(this);
      } else {
        sys.schedule(this);
      }
    } else if (wanted_gen_.load() != gen && this->box_.wake()) {
      // A restart was asked after our last look: the store-load pair with restart_tree (its
      // increment, then wake()'s read of the flag; our release's store, then this read), all
      // seq_cst, so one of us sees the other and the request is not stranded.
      sys.schedule(this);
    }
  }

  void restart_tree(std::uint64_t decision, std::uint64_t now_ns) override {
    this->sys_->log_restart(decision, this->name_);
    // Relaxed: published by the release increment below.
    requested_ns_.store(now_ns, std::memory_order_relaxed);
    // seq_cst: pairs with the acquire load in run() (the request's time), and is the store
    // side of a store-load pair with the holder's release() then re-read of wanted_gen_.
    wanted_gen_.fetch_add(1);
    if (this->box_.wake()) this->sys_->schedule(this);
  }

  void stop_tree() override {
    stopped_.store(true);
    if (this->box_.wake()) this->sys_->schedule(this);
  }

 private:
  void restart(std::uint64_t wanted) {
    handler_.reset();
    handler_.emplace(factory_());
    ActorSystem<S>& sys = *this->sys_;
    sys.add(sys.restarts_, 1);
    if (wanted - gen_ > 1) sys.add(sys.coalesced_, wanted - gen_ - 1);
    gen_ = wanted;
    // Relaxed: ordered by the acquire load of wanted_gen_ in run().
    const std::uint64_t asked = requested_ns_.load(std::memory_order_relaxed);
    const std::uint64_t now = bench::now_ns();
    sys.record_restart_latency(now > asked ? now - asked : 0);
  }

  void fail() {
    ActorSystem<S>& sys = *this->sys_;
    sys.add(sys.failures_, 1);
    sys.add(sys.dropped_failed_, 1);
    if (!this->box_.empty()) sys.add(sys.mid_run_kills_, 1);
    if (this->parent_ != nullptr) {
      this->parent_->child_failed(this->index_);
    } else {
      sys.restart_unsupervised(*this);
    }
  }

  void drain() {
    std::uint64_t n = 0;
    while (this->box_.pop()) ++n;
    if (n > 0) this->sys_->add(this->sys_->dropped_stopped_, n);
  }

  Factory factory_;
  std::optional<F> handler_;
  std::uint64_t gen_ = 0;  // the holder of the schedule only
  typename S::template atomic<std::uint64_t> wanted_gen_{0};
  typename S::template atomic<std::uint64_t> requested_ns_{0};
  typename S::template atomic<bool> stopped_{false};
};

}  // namespace detail

/// A supervisor: a node of the tree that owns no thread; it acts on the worker whose actor
/// failed, under its own mutex.
template <class S = sync::Real>
class Supervisor final : public detail::Node<S> {
 public:
  Supervisor(ActorSystem<S>* sys, Strategy strategy, Intensity intensity)
      : sys_(sys), strategy_(strategy), intensity_(intensity) {}

  /// Spawns an actor as this supervisor's next child (start order = call order). `factory()`
  /// builds an instance: a callable taking `M&`; it runs at spawn and at every restart.
  template <class M, class Factory>
  Ref<M, S> spawn(std::string name, Factory factory) {
    auto* cell = sys_->template make_cell<M>(std::move(factory));
    adopt(*cell, std::move(name));
    return Ref<M, S>(cell);
  }

  /// A child supervisor, started after the children spawned so far.
  Supervisor& supervisor(std::string name, Strategy strategy, Intensity intensity) {
    Supervisor& s = sys_->make_supervisor(strategy, intensity);
    adopt(s, std::move(name));
    return s;
  }

  /// A child of this supervisor failed (called on the worker that ran it).
  void child_failed(std::size_t index) {
    std::vector<detail::Node<S>*> targets;
    const std::uint64_t now = bench::now_ns();
    std::uint64_t decision = 0;
    {
      std::lock_guard lk(m_);
      if (failed_) return;  // this supervisor escalated already; its parent decides
      const auto period = static_cast<std::uint64_t>(intensity_.period.count());
      while (!history_.empty() && now - history_.front() > period) history_.pop_front();
      if (history_.size() >= intensity_.max_restarts) {
        failed_ = true;
      } else {
        history_.push_back(now);
        decision = sys_->next_decision();
        const std::size_t first = strategy_ == Strategy::kOneForAll ? 0 : index;
        const std::size_t last = strategy_ == Strategy::kOneForOne ? index + 1 : children_.size();
        for (std::size_t i = first; i < last; ++i) targets.push_back(children_[i]);
      }
    }
    if (targets.empty()) {
      escalate();
      return;
    }
    for (detail::Node<S>* t : targets) t->restart_tree(decision, now);
  }

  /// Restarts its whole subtree (its parent restarts it): clears its history first.
  void restart_tree(std::uint64_t decision, std::uint64_t now_ns) override {
    {
      std::lock_guard lk(m_);
      history_.clear();
      failed_ = false;
    }
    for (detail::Node<S>* c : children_) c->restart_tree(decision, now_ns);
  }

  void stop_tree() override {
    for (detail::Node<S>* c : children_) c->stop_tree();
  }

 private:
  void adopt(detail::Node<S>& child, std::string name) {
    child.parent_ = this;
    child.index_ = children_.size();
    child.name_ = std::move(name);
    children_.push_back(&child);
  }

  void escalate() {
    sys_->add(sys_->escalations_, 1);
    if (this->parent_ != nullptr) {
      this->parent_->child_failed(this->index_);
    } else {
      sys_->root_failed(*this);
    }
  }

  ActorSystem<S>* sys_;
  const Strategy strategy_;
  const Intensity intensity_;
  std::vector<detail::Node<S>*> children_;  // start order; set up before the first message
  std::mutex m_;
  std::deque<std::uint64_t> history_;  // guarded by m_: the times of the recent restarts
  bool failed_ = false;                // guarded by m_
};

/// Owns the workers, the actors and the supervisors.
template <class S = sync::Real>
class ActorSystem {
 public:
  static constexpr std::size_t kDefaultThroughput = 64;

  /// `workers` pool threads (0 means 1); an actor handles at most `throughput` messages (0
  /// means 1) per scheduling before it gives the worker back.
  explicit ActorSystem(std::size_t workers, std::size_t throughput = kDefaultThroughput)
      : throughput_(throughput > 0 ? throughput : 1), pool_(workers) {}

  /// Lets every queued message run, then joins the workers.
  ~ActorSystem() { pool_.shutdown(thread_pool::Shutdown::kDrain); }

  ActorSystem(const ActorSystem&) = delete;
  ActorSystem& operator=(const ActorSystem&) = delete;

  /// An unsupervised actor (restarted on every failure, with no limit).
  template <class M, class Factory>
  Ref<M, S> spawn(Factory factory) {
    return Ref<M, S>(make_cell<M>(std::move(factory)));
  }

  /// A root supervisor; spawn its children through it.
  Supervisor<S>& supervisor(Strategy strategy, Intensity intensity) {
    return make_supervisor(strategy, intensity);
  }

  /// Blocks until no actor has work (every message sent so far was handled or dropped). Not
  /// from a handler.
  void wait_idle() { pool_.wait_idle(); }

  /// True once a root supervisor gave up.
  [[nodiscard]] bool failed() const { return root_failed_.load(); }

  [[nodiscard]] Stats stats() const {
    // Relaxed: counts; callers read them after wait_idle(), which orders every increment.
    auto get = [](const Counter& c) { return c.load(std::memory_order_relaxed); };
    Stats s;
    {
      std::lock_guard lk(nodes_m_);
      for (const detail::Runnable<S>* c : cells_) {
        s.handled += get(c->handled_);
        s.batches += get(c->batches_);
      }
    }
    s.failures = get(failures_);
    s.dropped_failed = get(dropped_failed_);
    s.dropped_stopped = get(dropped_stopped_);
    s.mid_run_kills = get(mid_run_kills_);
    s.restarts_requested = get(requested_);
    s.restarts = get(restarts_);
    s.restarts_coalesced = get(coalesced_);
    s.escalations = get(escalations_);
    return s;
  }

  [[nodiscard]] std::vector<RestartRecord> restart_log() const {
    std::lock_guard lk(log_m_);
    return log_;
  }

  /// The restart latencies (request to new instance), in ns.
  [[nodiscard]] bench::Histogram restart_latency() const {
    std::lock_guard lk(log_m_);
    return latency_;
  }

  void clear_restart_log() {
    std::lock_guard lk(log_m_);
    log_.clear();
    latency_.clear();
  }

 private:
  template <class M, class Factory, class S2>
  friend class detail::Cell;
  template <class M, class S2>
  friend class MailboxCell;
  template <class S2>
  friend class Supervisor;

  using Counter = typename S::template atomic<std::uint64_t>;

  void schedule(detail::Runnable<S>* r) {
    pool_.submit([r] { r->run(); });
  }

  /// Schedules `r` behind the tasks queued from outside the pool: the pool puts a task that a
  /// worker submits on that worker's deque (LIFO, taken next), so a yielding actor is submitted
  /// as if from outside (into an inbox, FIFO). After shutdown began the inboxes are closed; the
  /// local deque still drains, so it goes there.
  void yield(detail::Runnable<S>* r) {
    thread_pool::detail::WorkerContext& me = thread_pool::detail::current_worker<S>();
    const thread_pool::detail::WorkerContext saved = me;
    me = {};
    try {
      pool_.submit([r] { r->run(); });
      me = saved;
    } catch (const thread_pool::PoolClosed&) {
      me = saved;
      pool_.submit([r] { r->run(); });
    }
  }

  void add(Counter& c, std::uint64_t n) {
    // Relaxed: a count, read after wait_idle() (see stats()).
    c.fetch_add(n, std::memory_order_relaxed);
  }

  template <class M, class Factory>
  detail::Cell<M, Factory, S>* make_cell(Factory factory) {
    auto cell = std::make_unique<detail::Cell<M, Factory, S>>(this, std::move(factory));
    auto* raw = cell.get();
    std::lock_guard lk(nodes_m_);
    cells_.push_back(raw);
    nodes_.push_back(std::move(cell));
    return raw;
  }

  Supervisor<S>& make_supervisor(Strategy strategy, Intensity intensity) {
    auto s = std::make_unique<Supervisor<S>>(this, strategy, intensity);
    auto& raw = *s;
    std::lock_guard lk(nodes_m_);
    nodes_.push_back(std::move(s));
    return raw;
  }

  std::uint64_t next_decision() { return decisions_.fetch_add(1) + 1; }

  void log_restart(std::uint64_t decision, const std::string& child) {
    add(requested_, 1);
    std::lock_guard lk(log_m_);
    log_.push_back({decision, child});
  }

  void record_restart_latency(std::uint64_t ns) {
    std::lock_guard lk(log_m_);
    latency_.add(ns);
  }

  void restart_unsupervised(detail::Node<S>& n) { n.restart_tree(0, bench::now_ns()); }

  void root_failed(Supervisor<S>& root) {
    root_failed_.store(true);
    root.stop_tree();
  }

  const std::size_t throughput_;
  Counter failures_{0}, dropped_failed_{0}, dropped_stopped_{0}, mid_run_kills_{0}, requested_{0},
      restarts_{0}, coalesced_{0}, escalations_{0}, decisions_{0};
  typename S::template atomic<bool> root_failed_{false};
  mutable std::mutex log_m_;
  std::vector<RestartRecord> log_;  // guarded by log_m_
  bench::Histogram latency_;        // guarded by log_m_
  mutable std::mutex nodes_m_;
  std::vector<std::unique_ptr<detail::Node<S>>> nodes_;  // guarded by nodes_m_
  std::vector<detail::Runnable<S>*> cells_;              // guarded by nodes_m_: the actors
  thread_pool::WorkStealingPool<S> pool_;                // last: destroyed (drained, joined) first
};

}  // namespace cpb::patterns::actor
