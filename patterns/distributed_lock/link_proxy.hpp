// SPDX-License-Identifier: Apache-2.0
/// @file
/// TCP proxies on loopback, the unprivileged way to cut nodes off (this kernel has no netem and
/// no iptables tool; distributed-anchors §6). Three classes:
///
/// `LinkProxy`, one link: clients connect to `port()`; the proxy connects each to `target` and
/// copies bytes both ways on its own thread. Modes:
///   pass  copy everything (the default);
///   hold  a partition: nothing is forwarded in either direction; bytes wait in the proxy (up to
///         1 MiB per direction, then the sender is back-pressured), and are delivered in order
///         when the link passes again, as TCP retransmission would after a healed partition;
///   cut   every open connection is closed and new ones are closed at once (a reset link).
/// Independently of the mode, `set_delay(d)` makes the link slow: each byte is forwarded no
/// earlier than `d` after the proxy read it, in order, each direction on its own (a WAN link,
/// or a lossy one whose drops TCP hides as retransmission delay). Changes take effect before
/// `set_mode` / `set_delay` return: the proxy thread acknowledges them; bytes already waiting
/// keep the time they were given.
///
/// `PeerProxy`, the same proxy with a fault per *source* and per *way*: it stands in front of
/// one node's peer listener (the node advertises the proxy's port to its peers), and attributes
/// every accepted connection to the peer that opened it by one header of the connection's first
/// HTTP request (etcd's rafthttp sends `X-Server-From: <member ID in hex>` on its stream GETs and
/// pipeline and snapshot POSTs). Until that head is read (8 KiB at most) nothing is forwarded.
/// A connection whose first request lacks the header (etcd's `/version`, `/members`, `/leases`
/// and probing requests), or whose value no `name()` maps, is `kUnknown`, a source of its own.
/// Way `kIn` is what the source sends to the node (the requests), `kOut` what the node sends
/// back (the responses: on an etcd stream GET, the node's raft messages to the source). A way's
/// mode: pass; hold (its bytes wait, as above); cut: a connection is closed as soon as a byte is
/// waiting to cross a cut way, so a connection that only reads through the other way lives on
/// (both ways cut: closed at once, as LinkProxy's cut).
///
/// `PeerLinks`, a PeerProxy per node, with the directed link as its unit: the link a→b is every
/// byte a sends to b, that is the requests of the connections a opened at b's proxy plus the
/// responses of the connections b opened at a's proxy. `set(a, b, kHold)` drops a→b (as TCP
/// sees a drop: the bytes come late), `kCut` resets it, `set_delay` slows it, `heal()` passes
/// everything again. Connections of unknown source are faulted only by `isolate()`.
/// Limits: a fault acts on bytes, not on messages (a held request's reply never comes, so the
/// sender also loses the other way on that connection, as with TCP); bytes a node sends on a
/// connection of unknown source (the replies to the version probes) are not attributable.
#pragma once

#include "patterns/distributed_lock/process.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cpb::patterns::distributed_lock {

enum class LinkMode : std::uint8_t { kPass, kHold, kCut };

/// One way of a link: its mode and its one-way delay.
struct LinkFault {
  LinkMode mode = LinkMode::kPass;
  Millis delay{0};
};

class PeerProxy {
 public:
  static constexpr int kUnknown = -1;  ///< the source of a connection no name() maps
  enum class Way : std::uint8_t { kIn, kOut };

  /// Listens on a free port of 127.0.0.1 and forwards to `target`. `header` names the request
  /// header that identifies the source; empty: no peeking, every connection is kUnknown.
  PeerProxy(std::uint16_t target, std::string header);
  ~PeerProxy();  ///< closes every connection and stops the thread
  PeerProxy(const PeerProxy&) = delete;
  PeerProxy& operator=(const PeerProxy&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// Connections whose header value is `value` come from `source` (>= 0), open ones included.
  void name(const std::string& value, int source);
  /// The mode of one way of `source`'s connections (kUnknown too).
  void set_mode(int source, Way way, LinkMode m);
  void set_delay(int source, Way way, Millis d);
  /// Both ways of every source, named or not, present or future: the whole link.
  void set_mode_all(LinkMode m);
  void set_delay_all(Millis d);
  [[nodiscard]] LinkFault fault(int source, Way way) const;
  /// Connections accepted so far.
  [[nodiscard]] std::uint64_t accepted() const { return accepted_.load(); }
  /// Connections attributed to `source` so far (by the names known now).
  [[nodiscard]] std::uint64_t attributed(int source) const;

 private:
  struct Faults {
    LinkFault in;
    LinkFault out;
  };
  void loop();
  void wake() const;
  void changed(std::unique_lock<std::mutex>& lock);  ///< waits until the thread applied it
  Faults& faults_of(int source);                     ///< under mutex_

  std::uint16_t target_;
  std::string header_;  ///< lower case, with its colon: "x-server-from:"
  std::uint16_t port_ = 0;
  int listener_ = -1;
  int wake_fd_ = -1;          ///< an eventfd: a change or stop interrupts poll()
  mutable std::mutex mutex_;  ///< guards what follows up to seen_ (the handshake with the thread)
  std::condition_variable cv_;
  Faults all_;                                        ///< for sources without an entry of their own
  std::map<int, Faults> faults_;                      ///< per source
  std::map<std::string, int> names_;                  ///< header value → source
  std::map<std::string, std::uint64_t> from_counts_;  ///< header value ("" none) → connections
  bool stop_ = false;
  std::uint64_t requested_ = 0;  ///< changes asked for
  std::uint64_t seen_ = 0;       ///< changes the thread has applied
  std::atomic<std::uint64_t> accepted_{0};
  std::thread thread_;
};

class LinkProxy {
 public:
  using Mode = LinkMode;

  explicit LinkProxy(std::uint16_t target) : proxy_(target, "") {}

  [[nodiscard]] std::uint16_t port() const { return proxy_.port(); }
  void set_mode(Mode m);
  [[nodiscard]] Mode mode() const { return mode_.load(); }
  /// The one-way delay of each direction; 0 (the default) forwards at once.
  void set_delay(Millis d) { proxy_.set_delay_all(d); }
  /// Connections accepted so far.
  [[nodiscard]] std::uint64_t accepted() const { return proxy_.accepted(); }

 private:
  PeerProxy proxy_;
  std::atomic<Mode> mode_{Mode::kPass};  ///< what set_mode last set (only for mode())
};

class PeerLinks {
 public:
  /// One PeerProxy per node, in front of `targets[i]` (node i's private peer port).
  PeerLinks(const std::vector<std::uint16_t>& targets, const std::string& header);

  [[nodiscard]] int size() const { return static_cast<int>(proxies_.size()); }
  /// Where node i's peers reach it (what node i advertises).
  [[nodiscard]] std::uint16_t port(int i) const { return at(i).port(); }
  [[nodiscard]] PeerProxy& proxy(int i) { return at(i); }
  [[nodiscard]] const PeerProxy& proxy(int i) const { return at(i); }
  /// Node i identifies itself with header value `value` (etcd: its member ID in hex).
  void name(int i, const std::string& value);
  /// The directed link from → to.
  void set(int from, int to, LinkMode m);
  void set_delay(int from, int to, Millis d);
  [[nodiscard]] LinkFault fault(int from, int to) const;
  /// Every link into and out of node i, and the connections of unknown source into it.
  void isolate(int i, LinkMode m);
  /// Every link passes again, without delay; held bytes are delivered.
  void heal();

 private:
  [[nodiscard]] PeerProxy& at(int i) const;
  std::vector<std::unique_ptr<PeerProxy>> proxies_;
};

}  // namespace cpb::patterns::distributed_lock
