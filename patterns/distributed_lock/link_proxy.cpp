// SPDX-License-Identifier: Apache-2.0
#include "patterns/distributed_lock/link_proxy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <string_view>
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
  Direction ab;          ///< read from a, for b: way kIn
  Direction ba;          ///< way kOut
  bool closing = false;  ///< a side closed: deliver what waits, read no more, then close
  bool dead = false;
  bool identified = false;  ///< its source is known: the request head was read (or given up)
  std::string from;         ///< the identifying header's value; empty: none
  // This round's faults of its source (set before poll, and at identification).
  bool forward_ab = false;
  bool forward_ba = false;
  std::uint64_t delay_ab = 0;  ///< ns
  std::uint64_t delay_ba = 0;
};

constexpr std::size_t kMaxHead = 8192;  // a request head longer than this has no source

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// The bytes `d` holds, in order.
std::string contents(const Direction& d) {
  std::string s = d.due;
  for (const auto& chunk : d.waiting) s += chunk.second;
  return s;
}

/// When `bytes` (the start of a connection) hold a whole request head, or cannot (`ended`, or
/// kMaxHead bytes without one), sets `from` to the value of `header` (lower case, with its
/// colon) in it, or empty, and returns true; false while more bytes are needed.
bool identify(const std::string& bytes, const std::string& header, bool ended, std::string& from) {
  const std::size_t end = bytes.find("\r\n\r\n");
  if (end == std::string::npos && !ended && bytes.size() < kMaxHead) return false;
  from.clear();
  const std::string head = bytes.substr(0, std::min(end, bytes.size()));
  const std::size_t at = lower(head).find("\r\n" + header);
  if (at == std::string::npos) return true;
  std::size_t v = at + 2 + header.size();
  std::size_t e = head.find("\r\n", v);
  if (e == std::string::npos) e = head.size();
  while (v < e && (head[v] == ' ' || head[v] == '\t')) ++v;
  while (e > v && (head[e - 1] == ' ' || head[e - 1] == '\t')) --e;
  from = head.substr(v, e - v);
  return true;
}

std::uint64_t ns(Millis d) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

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

// --- PeerProxy ----------------------------------------------------------------------------------

PeerProxy::PeerProxy(std::uint16_t target, std::string header)
    : target_(target), header_(header.empty() ? "" : lower(header) + ":") {
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

PeerProxy::~PeerProxy() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake();
  thread_.join();
  close(listener_);
  close(wake_fd_);
}

void PeerProxy::wake() const {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof one);
}

PeerProxy::Faults& PeerProxy::faults_of(int source) {
  return faults_.try_emplace(source, all_).first->second;
}

void PeerProxy::name(const std::string& value, int source) {
  std::unique_lock lock(mutex_);
  names_[value] = source;
  changed(lock);
}

void PeerProxy::set_mode(int source, Way way, LinkMode m) {
  std::unique_lock lock(mutex_);
  Faults& f = faults_of(source);
  (way == Way::kIn ? f.in : f.out).mode = m;
  changed(lock);
}

void PeerProxy::set_delay(int source, Way way, Millis d) {
  std::unique_lock lock(mutex_);
  Faults& f = faults_of(source);
  (way == Way::kIn ? f.in : f.out).delay = d;
  changed(lock);
}

void PeerProxy::set_mode_all(LinkMode m) {
  std::unique_lock lock(mutex_);
  all_.in.mode = all_.out.mode = m;
  for (auto& [source, f] : faults_) f.in.mode = f.out.mode = m;
  changed(lock);
}

void PeerProxy::set_delay_all(Millis d) {
  std::unique_lock lock(mutex_);
  all_.in.delay = all_.out.delay = d;
  for (auto& [source, f] : faults_) f.in.delay = f.out.delay = d;
  changed(lock);
}

LinkFault PeerProxy::fault(int source, Way way) const {
  std::lock_guard lock(mutex_);
  const auto it = faults_.find(source);
  const Faults& f = it == faults_.end() ? all_ : it->second;
  return way == Way::kIn ? f.in : f.out;
}

std::uint64_t PeerProxy::attributed(int source) const {
  std::lock_guard lock(mutex_);
  std::uint64_t n = 0;
  for (const auto& [value, count] : from_counts_) {
    const auto it = names_.find(value);
    n += (it == names_.end() ? kUnknown : it->second) == source ? count : 0;
  }
  return n;
}

void PeerProxy::changed(std::unique_lock<std::mutex>& lock) {
  const std::uint64_t ticket = ++requested_;
  lock.unlock();
  wake();
  lock.lock();
  cv_.wait(lock, [&] { return seen_ >= ticket || stop_; });
}

void PeerProxy::loop() {
  std::vector<Pair> pairs;
  // The thread's copy of the configuration, taken when a change is asked for.
  Faults all;
  std::map<int, Faults> faults;
  std::map<std::string, int> names;
  const auto faults_for = [&](const Pair& p) -> const Faults& {
    const auto n = p.from.empty() ? names.end() : names.find(p.from);
    const auto it = faults.find(n == names.end() ? kUnknown : n->second);
    return it == faults.end() ? all : it->second;
  };
  // Sets p's forwarding for this round from its source's faults.
  const auto apply = [&](Pair& p) {
    const Faults& f = faults_for(p);
    p.forward_ab = f.in.mode == LinkMode::kPass;
    p.forward_ba = f.out.mode == LinkMode::kPass;
    p.delay_ab = ns(f.in.delay);
    p.delay_ba = ns(f.out.delay);
    return f;
  };
  const auto close_pair = [](Pair& p) {
    if (p.a >= 0) close(p.a);
    if (p.b >= 0) close(p.b);
    p.a = p.b = -1;
    p.dead = true;
  };
  // A connection with a byte waiting to cross a cut way is reset (both ways cut: at once).
  const auto enforce_cut = [&](Pair& p) {
    const Faults f = apply(p);
    const bool cut_in = f.in.mode == LinkMode::kCut;
    const bool cut_out = f.out.mode == LinkMode::kCut;
    if ((cut_in && cut_out) || (cut_in && p.ab.bytes > 0) || (cut_out && p.ba.bytes > 0)) {
      close_pair(p);
    }
  };
  for (;;) {
    std::uint64_t ticket = 0;
    {
      std::lock_guard lock(mutex_);
      if (stop_) break;
      if (seen_ != requested_) {
        ticket = requested_;
        all = all_;
        faults = faults_;
        names = names_;
      }
    }
    for (auto& p : pairs) {
      if (p.identified && !p.dead) enforce_cut(p);
    }
    std::erase_if(pairs, [](const Pair& p) { return p.dead; });
    if (ticket != 0) {  // applied: every connection now follows the change
      std::lock_guard lock(mutex_);
      seen_ = ticket;
      cv_.notify_all();
    }
    std::uint64_t now = now_ns();
    std::uint64_t next_due = 0;  // the earliest chunk still waiting for its time
    const auto earliest = [&](std::uint64_t t) {
      if (t != 0 && (next_due == 0 || t < next_due)) next_due = t;
    };
    std::vector<pollfd> fds{{wake_fd_, POLLIN, 0}, {listener_, POLLIN, 0}};
    for (auto& p : pairs) {
      // A connection not yet identified keeps its bytes unripe: its delay is not known yet.
      if (p.identified) {
        earliest(p.ab.ripen(now));
        earliest(p.ba.ripen(now));
      }
      // A closing pair is polled only to write (a hung-up socket would wake poll at once).
      const auto events = [&](bool room, bool forward, const Direction& out) {
        return static_cast<short>((!p.closing && room ? POLLIN : 0) |
                                  (forward && !out.due.empty() ? POLLOUT : 0));
      };
      const short ea = events(p.ab.bytes < kMaxPending, p.forward_ba, p.ba);
      const short eb = events(p.ba.bytes < kMaxPending, p.forward_ab, p.ab);
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
    const auto count_from = [this](const std::string& from) {
      std::lock_guard lock(mutex_);
      ++from_counts_[from];
    };
    if (fds[1].revents & POLLIN) {
      for (;;) {
        const int c = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c < 0) break;
        accepted_.fetch_add(1);
        Pair p;
        p.a = c;
        if (header_.empty()) {  // no peeking: its source is kUnknown from the start
          p.identified = true;
          count_from("");
          enforce_cut(p);
          if (p.dead) continue;
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
        p.b = s;
        pairs.push_back(std::move(p));
      }
    }
    // fds[2 + 2i] and fds[3 + 2i] belong to pairs[i] (pairs accepted above come after).
    for (std::size_t i = 0; 2 + 2 * i + 1 < fds.size(); ++i) {
      Pair& p = pairs[i];
      const short ra = fds[2 + 2 * i].revents;
      const short rb = fds[3 + 2 * i].revents;
      bool open = !p.closing;
      if (!p.closing) {
        if (ra & (POLLIN | POLLHUP | POLLERR)) open = pull(p.a, p.ab, now + p.delay_ab) && open;
        if (rb & (POLLIN | POLLHUP | POLLERR)) open = pull(p.b, p.ba, now + p.delay_ba) && open;
      }
      if (!p.identified && identify(contents(p.ab), header_, !open, p.from)) {
        p.identified = true;
        count_from(p.from);
        apply(p);
        // The bytes read so far were given no delay: they get their source's now.
        for (auto& chunk : p.ab.waiting) chunk.first += p.delay_ab;
        for (auto& chunk : p.ba.waiting) chunk.first += p.delay_ba;
      }
      if (p.identified) {
        p.ab.ripen(now);
        p.ba.ripen(now);
      }
      const bool sent = (!p.forward_ab || push(p.b, p.ab)) && (!p.forward_ba || push(p.a, p.ba));
      // A side that closed ends the connection once what it sent was delivered; a failed
      // write ends it at once.
      p.closing = !open;
      if (!sent || (p.closing && p.ab.bytes == 0 && p.ba.bytes == 0)) close_pair(p);
    }
  }
  for (auto& p : pairs) close_pair(p);
}

// --- LinkProxy ----------------------------------------------------------------------------------

void LinkProxy::set_mode(Mode m) {
  proxy_.set_mode_all(m);
  mode_.store(m);
}

// --- PeerLinks ----------------------------------------------------------------------------------

PeerLinks::PeerLinks(const std::vector<std::uint16_t>& targets, const std::string& header) {
  for (const std::uint16_t t : targets) proxies_.push_back(std::make_unique<PeerProxy>(t, header));
}

PeerProxy& PeerLinks::at(int i) const {
  if (i < 0 || i >= size()) throw std::out_of_range(fmt::format("peer links: no node {}", i));
  return *proxies_[static_cast<std::size_t>(i)];
}

void PeerLinks::name(int i, const std::string& value) {
  for (auto& p : proxies_) p->name(value, i);
}

void PeerLinks::set(int from, int to, LinkMode m) {
  at(to).set_mode(from, PeerProxy::Way::kIn, m);
  at(from).set_mode(to, PeerProxy::Way::kOut, m);
}

void PeerLinks::set_delay(int from, int to, Millis d) {
  at(to).set_delay(from, PeerProxy::Way::kIn, d);
  at(from).set_delay(to, PeerProxy::Way::kOut, d);
}

LinkFault PeerLinks::fault(int from, int to) const {
  return at(to).fault(from, PeerProxy::Way::kIn);
}

void PeerLinks::isolate(int i, LinkMode m) {
  for (int j = 0; j < size(); ++j) {
    if (j == i) continue;
    set(i, j, m);
    set(j, i, m);
  }
  at(i).set_mode(PeerProxy::kUnknown, PeerProxy::Way::kIn, m);
  at(i).set_mode(PeerProxy::kUnknown, PeerProxy::Way::kOut, m);
}

void PeerLinks::heal() {
  for (auto& p : proxies_) {
    p->set_mode_all(LinkMode::kPass);
    p->set_delay_all(Millis(0));
  }
}

}  // namespace cpb::patterns::distributed_lock
