// SPDX-License-Identifier: Apache-2.0
/// @file
/// Loopback TCP plumbing shared by the I/O workloads and the event-driven families: an owning
/// fd, listeners on 127.0.0.1 (port 0: the OS picks), the fd budget that connection counts are
/// checked against up front, and the two wire protocols every server of `reactor` and
/// `proactor` speaks:
///   echo  every byte received is sent back;
///   http  a minimal HTTP/1.1 keep-alive responder: each request (up to its blank line) gets
///         `kHttpResponse` (200, a fixed body, Content-Length, keep-alive); pipelining works.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace cpb::workloads::io {

/// An owned file descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

enum class Protocol : std::uint8_t { kEcho, kHttp };
std::string_view to_string(Protocol p);

inline constexpr std::string_view kHttpBody = "Hello, world!\n";
inline constexpr std::string_view kHttpResponse =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
    "Connection: keep-alive\r\n\r\nHello, world!\n";
inline constexpr std::string_view kHttpRequest =
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: cpbench\r\n\r\n";

/// The server side of one connection: feed it what arrived, it appends what to send back.
/// `feed` returns false when the peer sent something the protocol cannot accept (an HTTP
/// request head over 8 KiB): the server closes the connection.
class Session {
 public:
  explicit Session(Protocol p) : protocol_(p) {}
  bool feed(const char* data, std::size_t n, std::string& out);
  [[nodiscard]] std::uint64_t requests() const { return requests_; }

 private:
  Protocol protocol_;
  std::string head_;         // http: the unfinished request head
  std::size_t scanned_ = 0;  // http: bytes of head_ already searched for the blank line
  std::uint64_t requests_ = 0;
};

/// A non-blocking TCP listener on 127.0.0.1:`port` (0: the OS picks). `reuse_port` sets
/// SO_REUSEPORT so several loops can listen on one port. Throws cpb::UsageError with one line
/// when the port is in use, std::system_error for other failures.
Fd listen_tcp(std::uint16_t port, bool reuse_port);
/// The port a bound socket got.
std::uint16_t local_port(int fd);
/// A non-blocking client socket connected (or connecting) to 127.0.0.1:`port`, TCP_NODELAY.
Fd connect_tcp(std::uint16_t port);
void set_nonblocking(int fd);
void set_nodelay(int fd);

/// Checks up front that `fds` more descriptors fit under RLIMIT_NOFILE. When they do not fit
/// under the soft limit but do under the hard one, raises the soft limit to the hard limit
/// (and says so on stderr once); otherwise throws cpb::UsageError with one line naming both.
/// `what` names the request in the message ("--param connections=5000").
void ensure_fd_budget(std::size_t fds, std::string_view what);
/// Descriptors open in this process now (counted in /proc/self/fd).
std::size_t open_fds();
/// The largest connection count one process can hold both ends of (client and server fd per
/// connection) under the hard RLIMIT_NOFILE, with 64 fds kept for everything else.
std::int64_t max_loopback_connections();

}  // namespace cpb::workloads::io
