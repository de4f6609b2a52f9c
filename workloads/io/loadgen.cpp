// SPDX-License-Identifier: Apache-2.0
#include "workloads/io/loadgen.hpp"

#include "harness/bench/meter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <system_error>
#include <unistd.h>

namespace cpb::workloads::io {
namespace {

constexpr std::uint64_t kTimerTag = ~std::uint64_t{0};
constexpr std::uint64_t kLateNs = 1'000'000;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::uint64_t deadline_after(std::chrono::milliseconds t) {
  return bench::now_ns() + static_cast<std::uint64_t>(t.count()) * 1'000'000;
}

}  // namespace

LoadGen::LoadGen(const LoadOptions& o, std::chrono::milliseconds timeout)
    : o_(o),
      req_len_(o.protocol == Protocol::kHttp ? kHttpRequest.size() : o.msg_bytes),
      resp_len_(o.protocol == Protocol::kHttp ? kHttpResponse.size() : o.msg_bytes),
      buf_(64 * 1024) {
  if (o.connections == 0) throw std::invalid_argument("LoadGen: 0 connections");
  if (req_len_ == 0) throw std::invalid_argument("LoadGen: 0-byte echo requests");
  ensure_fd_budget(o.connections + 2, fmt::format("{} client connections", o.connections));
  ep_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!ep_) throw_errno("epoll_create1");
  timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer_) throw_errno("timerfd_create");
  epoll_event tev{};
  tev.events = EPOLLIN;
  tev.data.u64 = kTimerTag;
  if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, timer_.get(), &tev) != 0) throw_errno("epoll_ctl");
  conns_.resize(o.connections);
  for (std::size_t c = 0; c < conns_.size(); ++c) {
    conns_[c].fd = connect_tcp(o.port);
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u64 = c;
    if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, conns_[c].fd.get(), &ev) != 0) {
      throw_errno("epoll_ctl");
    }
  }
  // Wait until every connection is established (writable with no pending error).
  std::vector<bool> up(conns_.size(), false);
  std::size_t n_up = 0;
  const std::uint64_t deadline = deadline_after(timeout);
  std::vector<epoll_event> evs(256);
  while (n_up < conns_.size()) {
    if (bench::now_ns() > deadline) {
      throw std::runtime_error(fmt::format("LoadGen: only {} of {} connections to port {} came up",
                                           n_up, conns_.size(), o.port));
    }
    const int n = ::epoll_wait(ep_.get(), evs.data(), static_cast<int>(evs.size()), 100);
    if (n < 0 && errno != EINTR) throw_errno("epoll_wait");
    for (int i = 0; i < n; ++i) {
      const std::uint64_t c = evs[static_cast<std::size_t>(i)].data.u64;
      if (c == kTimerTag || up[c]) continue;
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(conns_[c].fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        throw std::system_error(err, std::generic_category(),
                                fmt::format("LoadGen: connecting to port {}", o.port));
      }
      up[c] = true;
      ++n_up;
      watch(c, false);
    }
  }
}

LoadGen::~LoadGen() = default;

void LoadGen::watch(std::size_t c, bool out) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0U);
  ev.data.u64 = c;
  if (::epoll_ctl(ep_.get(), EPOLL_CTL_MOD, conns_[c].fd.get(), &ev) != 0) throw_errno("epoll_ctl");
  conns_[c].watching_out = out;
}

char LoadGen::request_byte(std::size_t c, std::uint64_t pos) const {
  if (o_.protocol == Protocol::kHttp) return kHttpRequest[pos % req_len_];
  const std::uint64_t k = pos / req_len_;
  const std::uint64_t i = pos % req_len_;
  return static_cast<char>('a' + (c * 7 + k * 13 + i) % 26);
}

char LoadGen::response_byte(std::size_t c, std::uint64_t pos) const {
  if (o_.protocol == Protocol::kHttp) return kHttpResponse[pos % resp_len_];
  return request_byte(c, pos);
}

void LoadGen::send_request(std::size_t c, std::uint64_t intended_ns) {
  Conn& k = conns_[c];
  if (k.out_off == k.out.size()) {
    k.out.clear();
    k.out_off = 0;
  }
  const std::uint64_t base = k.sent * req_len_;
  if (o_.protocol == Protocol::kHttp) {
    k.out.append(kHttpRequest);
  } else {
    for (std::size_t i = 0; i < req_len_; ++i) k.out.push_back(request_byte(c, base + i));
  }
  ++k.sent;
  k.intended.push_back(intended_ns);
  flush(c);
}

void LoadGen::flush(std::size_t c) {
  Conn& k = conns_[c];
  while (k.out_off < k.out.size()) {
    const ssize_t n =
        ::send(k.fd.get(), k.out.data() + k.out_off, k.out.size() - k.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      k.out_off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!k.watching_out) watch(c, true);
      return;
    }
    throw std::system_error(errno, std::generic_category(),
                            fmt::format("LoadGen: sending on connection {}", c));
  }
  if (k.watching_out) watch(c, false);
}

void LoadGen::on_readable(std::size_t c, std::uint64_t now) {
  Conn& k = conns_[c];
  for (;;) {
    const ssize_t n = ::recv(k.fd.get(), buf_.data(), buf_.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0) {
      throw std::system_error(errno, std::generic_category(),
                              fmt::format("LoadGen: receiving on connection {}", c));
    }
    if (n == 0) {
      throw std::runtime_error(
          fmt::format("LoadGen: the server closed connection {} with {} requests outstanding", c,
                      k.intended.size()));
    }
    const auto got = static_cast<std::size_t>(n);
    if (k.recv_bytes + got > k.sent * resp_len_) {
      throw std::runtime_error(
          fmt::format("LoadGen: connection {} received {} bytes more than it asked for", c,
                      k.recv_bytes + got - k.sent * resp_len_));
    }
    for (std::size_t i = 0; i < got; ++i) {
      const char want = response_byte(c, k.recv_bytes + i);
      if (buf_[i] != want) {
        throw std::runtime_error(fmt::format(
            "LoadGen: wrong response byte on connection {} at offset {}: {:#x}, expected {:#x}", c,
            k.recv_bytes + i, static_cast<unsigned char>(buf_[i]),
            static_cast<unsigned char>(want)));
      }
    }
    const std::uint64_t before = k.recv_bytes / resp_len_;
    k.recv_bytes += got;
    bytes_verified_ += got;
    const std::uint64_t done = k.recv_bytes / resp_len_ - before;
    for (std::uint64_t d = 0; d < done; ++d) {
      const std::uint64_t t = k.intended.front();
      k.intended.pop_front();
      hist_.add(now > t ? now - t : 0);
      ++completed_;
      ++total_;
      if (closed_left_ > 0) {
        --closed_left_;
        send_request(c, bench::now_ns());
      }
    }
    if (got < buf_.size()) return;
  }
}

std::size_t LoadGen::poll(int timeout_ms, std::uint64_t /*now_hint*/) {
  epoll_event evs[256];
  const int n = ::epoll_wait(ep_.get(), evs, 256, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return 0;
    throw_errno("epoll_wait");
  }
  const std::uint64_t now = bench::now_ns();
  for (int i = 0; i < n; ++i) {
    const std::uint64_t c = evs[i].data.u64;
    if (c == kTimerTag) {
      std::uint64_t ticks = 0;
      [[maybe_unused]] const ssize_t r = ::read(timer_.get(), &ticks, sizeof ticks);
      continue;
    }
    if ((evs[i].events & EPOLLOUT) != 0U) flush(c);
    if ((evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0U) on_readable(c, now);
  }
  return static_cast<std::size_t>(n);
}

LoadResult LoadGen::closed(std::uint64_t requests, std::chrono::milliseconds timeout) {
  completed_ = 0;
  const std::uint64_t deadline = deadline_after(timeout);
  const std::uint64_t start = bench::now_ns();
  const std::uint64_t first = std::min<std::uint64_t>(requests, conns_.size());
  closed_left_ = requests - first;
  for (std::size_t c = 0; c < first; ++c) send_request(c, bench::now_ns());
  while (completed_ < requests) {
    if (bench::now_ns() > deadline) {
      closed_left_ = 0;
      throw std::runtime_error(
          fmt::format("LoadGen: closed loop: {} of {} responses within {} ms (port {})", completed_,
                      requests, timeout.count(), o_.port));
    }
    poll(100, 0);
  }
  LoadResult r;
  r.requests = completed_;
  r.seconds = static_cast<double>(bench::now_ns() - start) * 1e-9;
  return r;
}

LoadResult LoadGen::open(std::uint64_t requests, double rate_rps,
                         std::chrono::milliseconds timeout) {
  if (!(rate_rps > 0)) throw std::invalid_argument("LoadGen: the rate must be positive");
  completed_ = 0;
  closed_left_ = 0;
  const std::uint64_t deadline = deadline_after(timeout);
  const double interval = 1e9 / rate_rps;
  const std::uint64_t start = bench::now_ns();
  std::uint64_t issued = 0;
  LoadResult r;
  std::size_t next_conn = 0;
  while (completed_ < requests) {
    std::uint64_t now = bench::now_ns();
    if (now > deadline) {
      throw std::runtime_error(
          fmt::format("LoadGen: open loop: {} of {} responses within {} ms (port {})", completed_,
                      requests, timeout.count(), o_.port));
    }
    // Send everything that is due, each stamped with its intended time.
    while (issued < requests) {
      const auto due =
          start + static_cast<std::uint64_t>(std::llround(static_cast<double>(issued) * interval));
      if (due > now) break;
      if (now - due > kLateNs) ++r.late_sends;
      send_request(next_conn, due);
      next_conn = next_conn + 1 == conns_.size() ? 0 : next_conn + 1;
      ++issued;
    }
    int wait_ms = 100;
    if (issued < requests) {
      const auto due =
          start + static_cast<std::uint64_t>(std::llround(static_cast<double>(issued) * interval));
      itimerspec its{};
      its.it_value.tv_sec = static_cast<time_t>(due / 1'000'000'000);
      its.it_value.tv_nsec = static_cast<long>(due % 1'000'000'000);
      // steady_clock is CLOCK_MONOTONIC on Linux: an absolute timer at the intended time.
      if (::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &its, nullptr) != 0) {
        throw_errno("timerfd_settime");
      }
    }
    poll(wait_ms, now);
  }
  r.requests = completed_;
  r.seconds = static_cast<double>(bench::now_ns() - start) * 1e-9;
  return r;
}

}  // namespace cpb::workloads::io
