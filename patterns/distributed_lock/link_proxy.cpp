// SPDX-License-Identifier: Apache-2.0
#include "patterns/distributed_lock/link_proxy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>
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

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

/// One direction of a connection: bytes read, each chunk due at a time (read time + delay),
/// and the due bytes not yet written.
struct Direction {
  std::deque<std::pair<std::uint64_t, std::string>> waiting;  ///< in order of arrival
  std::string due;
  std::size_t bytes = 0;  ///< in `waiting` and `due`

  /// Moves the chunks due by `now` to `due`; returns when the next one is due (0: none).
  std::uint64_t ripen(std::uint64_t now) {
    while (!waiting.empty() && waiting.front().first <= now) {
      due += waiting.front().second;
      waiting.pop_front();
    }
    return waiting.empty() ? 0 : waiting.front().first;
  }
};

/// One proxied connection: `a` the client's side, `b` the target's.
struct Pair {
  int a = -1;
  int b = -1;
  Direction ab;  ///< read from a, for b
  Direction ba;
  bool closing = false;  ///< a side closed: deliver what waits, read no more, then close
  bool dead = false;
};

/// Moves what `from` has into `d`, due at `due_at`; false at end of stream or on an error.
bool pull(int from, Direction& d, std::uint64_t due_at) {
  char tmp[16384];
  for (;;) {
    const ssize_t n = recv(from, tmp, sizeof tmp, 0);
    if (n > 0) {
      d.waiting.emplace_back(due_at, std::string(tmp, static_cast<std::size_t>(n)));
      d.bytes += static_cast<std::size_t>(n);
      if (d.bytes >= kMaxPending) return true;
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

/// Writes what it can of `d`'s due bytes to `to`; false on an error.
bool push(int to, Direction& d) {
  const std::size_t before = d.due.size();
  const bool ok = push(to, d.due);
  d.bytes -= before - d.due.size();
  return ok;
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
  changed(lock);
}

void LinkProxy::set_delay(Millis d) {
  std::unique_lock lock(mutex_);
  delay_ = d;
  changed(lock);
}

void LinkProxy::changed(std::unique_lock<std::mutex>& lock) {
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
    std::uint64_t delay_ns;
    {
      std::lock_guard lock(mutex_);
      if (stop_) break;
      m = mode_;
      delay_ns = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(delay_).count());
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
    std::uint64_t now = now_ns();
    std::uint64_t next_due = 0;  // the earliest chunk still waiting for its time
    const auto earliest = [&](std::uint64_t t) {
      if (t != 0 && (next_due == 0 || t < next_due)) next_due = t;
    };
    std::vector<pollfd> fds{{wake_fd_, POLLIN, 0}, {listener_, POLLIN, 0}};
    for (auto& p : pairs) {
      earliest(p.ab.ripen(now));
      earliest(p.ba.ripen(now));
      // A closing pair is polled only to write (a hung-up socket would wake poll at once).
      const auto events = [&](bool room, const Direction& out) {
        return static_cast<short>((!p.closing && room ? POLLIN : 0) |
                                  (pass && !out.due.empty() ? POLLOUT : 0));
      };
      const short ea = events(p.ab.bytes < kMaxPending, p.ba);
      const short eb = events(p.ba.bytes < kMaxPending, p.ab);
      fds.push_back({ea != 0 ? p.a : -1, ea, 0});
      fds.push_back({eb != 0 ? p.b : -1, eb, 0});
    }
    int timeout_ms = 200;
    if (next_due != 0) {
      timeout_ms =
          static_cast<int>(std::min<std::uint64_t>(200, (next_due - now + 999'999) / 1'000'000));
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) break;
    now = now_ns();
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
        pairs.push_back({c, s, {}, {}, false, false});
      }
    }
    // fds[2 + 2i] and fds[3 + 2i] belong to pairs[i] (pairs accepted above come after).
    for (std::size_t i = 0; 2 + 2 * i + 1 < fds.size(); ++i) {
      Pair& p = pairs[i];
      const short ra = fds[2 + 2 * i].revents;
      const short rb = fds[3 + 2 * i].revents;
      bool open = !p.closing;
      if (!p.closing) {
        if (ra & (POLLIN | POLLHUP | POLLERR)) open = pull(p.a, p.ab, now + delay_ns) && open;
        if (rb & (POLLIN | POLLHUP | POLLERR)) open = pull(p.b, p.ba, now + delay_ns) && open;
      }
      p.ab.ripen(now);
      p.ba.ripen(now);
      const bool sent = !pass || (push(p.b, p.ab) && push(p.a, p.ba));
      // A side that closed ends the connection once what it sent was delivered; a failed
      // write ends it at once.
      p.closing = !open;
      if (!sent || (p.closing && p.ab.bytes == 0 && p.ba.bytes == 0)) close_pair(p);
    }
  }
  for (auto& p : pairs) close_pair(p);
}

}  // namespace cpb::patterns::distributed_lock
