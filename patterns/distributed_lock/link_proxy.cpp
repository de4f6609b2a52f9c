// SPDX-License-Identifier: Apache-2.0
#include "patterns/distributed_lock/link_proxy.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace cpb::patterns::distributed_lock {
namespace {

constexpr std::size_t kMaxPending = 1 << 20;  // per direction, then the sender waits

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/// One proxied connection: `a` the client's side, `b` the target's.
struct Pair {
  int a = -1;
  int b = -1;
  std::string ab;  ///< read from a, not yet written to b
  std::string ba;
  bool dead = false;
};

/// Moves what `from` has into `buf`; false at end of stream or on an error.
bool pull(int from, std::string& buf) {
  char tmp[16384];
  for (;;) {
    const ssize_t n = recv(from, tmp, sizeof tmp, 0);
    if (n > 0) {
      buf.append(tmp, static_cast<std::size_t>(n));
      if (buf.size() >= kMaxPending) return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

/// Writes what it can of `buf` to `to`; false on an error.
bool push(int to, std::string& buf) {
  while (!buf.empty()) {
    const ssize_t n = send(to, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (n > 0) {
      buf.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  return true;
}

}  // namespace

LinkProxy::LinkProxy(std::uint16_t target) : target_(target) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      listen(listener_, 128) != 0 ||
      getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const int e = errno;
    if (listener_ >= 0) close(listener_);
    throw ServerError(fmt::format("link proxy: listen on 127.0.0.1: {}", std::strerror(e)));
  }
  port_ = ntohs(a.sin_port);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    close(listener_);
    throw ServerError(fmt::format("link proxy: eventfd: {}", std::strerror(errno)));
  }
  thread_ = std::thread([this] { loop(); });
}

LinkProxy::~LinkProxy() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake();
  thread_.join();
  close(listener_);
  close(wake_fd_);
}

void LinkProxy::wake() const {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof one);
}

LinkProxy::Mode LinkProxy::mode() const {
  std::lock_guard lock(mutex_);
  return mode_;
}

void LinkProxy::set_mode(Mode m) {
  std::unique_lock lock(mutex_);
  mode_ = m;
  const std::uint64_t ticket = ++requested_;
  lock.unlock();
  wake();
  lock.lock();
  cv_.wait(lock, [&] { return seen_ >= ticket || stop_; });
}

void LinkProxy::loop() {
  std::vector<Pair> pairs;
  auto close_pair = [](Pair& p) {
    if (p.a >= 0) close(p.a);
    if (p.b >= 0) close(p.b);
    p.a = p.b = -1;
    p.dead = true;
  };
  for (;;) {
    Mode m;
    {
      std::lock_guard lock(mutex_);
      if (stop_) break;
      m = mode_;
      if (seen_ != requested_) {
        if (m == Mode::kCut) {
          for (auto& p : pairs) close_pair(p);
        }
        seen_ = requested_;
        cv_.notify_all();
      }
    }
    std::erase_if(pairs, [](const Pair& p) { return p.dead; });
    const bool pass = m == Mode::kPass;
    std::vector<pollfd> fds{{wake_fd_, POLLIN, 0}, {listener_, POLLIN, 0}};
    for (const auto& p : pairs) {
      fds.push_back({p.a,
                     static_cast<short>((p.ab.size() < kMaxPending ? POLLIN : 0) |
                                        (pass && !p.ba.empty() ? POLLOUT : 0)),
                     0});
      fds.push_back({p.b,
                     static_cast<short>((p.ba.size() < kMaxPending ? POLLIN : 0) |
                                        (pass && !p.ab.empty() ? POLLOUT : 0)),
                     0});
    }
    if (poll(fds.data(), fds.size(), 200) < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      std::uint64_t n;
      [[maybe_unused]] const ssize_t r = read(wake_fd_, &n, sizeof n);
    }
    if (fds[1].revents & POLLIN) {
      for (;;) {
        const int c = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c < 0) break;
        accepted_.fetch_add(1);
        if (m == Mode::kCut) {
          close(c);
          continue;
        }
        const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in t = loopback(target_);
        if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&t), sizeof t) != 0) {
          if (s >= 0) close(s);
          close(c);
          continue;
        }
        fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
        const int one = 1;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pairs.push_back({c, s, {}, {}, false});
      }
    }
    // fds[2 + 2i] and fds[3 + 2i] belong to pairs[i] (pairs accepted above come after).
    for (std::size_t i = 0; 2 + 2 * i + 1 < fds.size(); ++i) {
      Pair& p = pairs[i];
      const short ra = fds[2 + 2 * i].revents;
      const short rb = fds[3 + 2 * i].revents;
      bool ok = true;
      if (ra & (POLLIN | POLLHUP | POLLERR)) ok = pull(p.a, p.ab) && ok;
      if (rb & (POLLIN | POLLHUP | POLLERR)) ok = pull(p.b, p.ba) && ok;
      if (pass) {
        ok = push(p.b, p.ab) && ok;
        ok = push(p.a, p.ba) && ok;
      }
      // A side that closed or failed ends the connection (after what could be delivered).
      if (!ok) close_pair(p);
    }
  }
  for (auto& p : pairs) close_pair(p);
}

}  // namespace cpb::patterns::distributed_lock
