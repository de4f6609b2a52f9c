// SPDX-License-Identifier: Apache-2.0
#include "workloads/io/net.hpp"

#include "harness/core/errors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

namespace cpb::workloads::io {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

constexpr std::size_t kMaxHead = 8192;
constexpr std::int64_t kReservedFds = 64;

}  // namespace

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string_view to_string(Protocol p) { return p == Protocol::kEcho ? "echo" : "http"; }

bool Session::feed(const char* data, std::size_t n, std::string& out) {
  if (protocol_ == Protocol::kEcho) {
    out.append(data, n);
    requests_ += n > 0 ? 1 : 0;
    return true;
  }
  head_.append(data, n);
  std::size_t start = 0;
  for (;;) {
    // Resume the search 3 bytes back: the blank line may straddle two reads.
    const std::size_t from = std::max(start, scanned_ >= 3 ? scanned_ - 3 : 0);
    const std::size_t end = head_.find("\r\n\r\n", from);
    if (end == std::string::npos) break;
    out.append(kHttpResponse);
    ++requests_;
    start = end + 4;
    scanned_ = start;
  }
  head_.erase(0, start);
  scanned_ = head_.size();
  return head_.size() <= kMaxHead;
}

Fd listen_tcp(std::uint16_t port, bool reuse_port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    throw_errno("setsockopt(SO_REUSEPORT)");
  }
  const sockaddr_in a = loopback(port);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    if (errno == EADDRINUSE) {
      throw UsageError(fmt::format("port {} on 127.0.0.1 is in use", port));
    }
    throw_errno("bind");
  }
  if (::listen(fd.get(), SOMAXCONN) != 0) throw_errno("listen");
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) throw_errno("getsockname");
  return ntohs(a.sin_port);
}

Fd connect_tcp(std::uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  set_nodelay(fd.get());
  const sockaddr_in a = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 &&
      errno != EINPROGRESS) {
    throw_errno("connect");
  }
  return fd;
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw_errno("fcntl");
}

void set_nodelay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

std::size_t open_fds() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    if (n > 0) --n;  // the directory stream's own fd
  }
  return n;
}

void ensure_fd_budget(std::size_t fds, std::string_view what) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) throw_errno("getrlimit");
  const std::size_t need = open_fds() + fds + static_cast<std::size_t>(kReservedFds);
  if (need <= lim.rlim_cur) return;
  if (lim.rlim_max != RLIM_INFINITY && need > lim.rlim_max) {
    throw UsageError(fmt::format(
        "{} needs about {} file descriptors, above the fd limit (RLIMIT_NOFILE soft {}, hard {})",
        what, need, lim.rlim_cur, lim.rlim_max));
  }
  static std::atomic<bool> said{false};
  const rlim_t soft = lim.rlim_cur;
  lim.rlim_cur = lim.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) throw_errno("setrlimit");
  if (!said.exchange(true)) {
    std::fprintf(
        stderr, "cpbench: raised the soft fd limit from %llu to the hard limit %llu for %.*s\n",
        static_cast<unsigned long long>(soft), static_cast<unsigned long long>(lim.rlim_max),
        static_cast<int>(what.size()), what.data());
  }
}

std::int64_t max_loopback_connections() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1;
  const std::int64_t hard = lim.rlim_max == RLIM_INFINITY ? std::int64_t{1} << 20
                                                          : static_cast<std::int64_t>(lim.rlim_max);
  return std::max<std::int64_t>(1, (hard - kReservedFds) / 2);
}

}  // namespace cpb::workloads::io
