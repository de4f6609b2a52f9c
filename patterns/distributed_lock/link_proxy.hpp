// SPDX-License-Identifier: Apache-2.0
/// @file
/// A TCP proxy for one link on loopback, the unprivileged way to cut a node off (this kernel
/// has no netem and no iptables tool; distributed-anchors §6). Clients connect to `port()`; the
/// proxy connects each to `target` and copies bytes both ways on its own thread. Modes:
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
#pragma once

#include "patterns/distributed_lock/process.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace cpb::patterns::distributed_lock {

class LinkProxy {
 public:
  enum class Mode : std::uint8_t { kPass, kHold, kCut };

  explicit LinkProxy(std::uint16_t target);
  ~LinkProxy();  ///< closes every connection and stops the thread
  LinkProxy(const LinkProxy&) = delete;
  LinkProxy& operator=(const LinkProxy&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  void set_mode(Mode m);
  [[nodiscard]] Mode mode() const;
  /// The one-way delay of each direction; 0 (the default) forwards at once.
  void set_delay(Millis d);
  /// Connections accepted so far.
  [[nodiscard]] std::uint64_t accepted() const { return accepted_.load(); }

 private:
  void loop();
  void wake() const;
  void changed(std::unique_lock<std::mutex>& lock);  ///< waits until the thread applied it

  std::uint16_t target_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  int wake_fd_ = -1;          ///< an eventfd: a mode change or stop interrupts poll()
  mutable std::mutex mutex_;  ///< guards mode_, stop_, seen_ (the handshake with the thread)
  std::condition_variable cv_;
  Mode mode_ = Mode::kPass;
  Millis delay_{0};
  bool stop_ = false;
  std::uint64_t requested_ = 0;  ///< mode changes asked for
  std::uint64_t seen_ = 0;       ///< mode changes the thread has applied
  std::atomic<std::uint64_t> accepted_{0};
  std::thread thread_;
};

}  // namespace cpb::patterns::distributed_lock
