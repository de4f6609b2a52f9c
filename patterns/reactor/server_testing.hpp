// SPDX-License-Identifier: Apache-2.0
/// @file
/// Conformance tests and stress checks shared by the `reactor` and `proactor` families: any
/// `Server` must answer echo and HTTP/1.1 byte for byte, with pipelining, partial reads and
/// writes, half-closed peers and many connections coming and going, and must close every fd
/// when it is destroyed. Clients here are blocking sockets with a 10 s receive timeout, so a
/// broken server fails a test instead of hanging it. Because a timeout makes these calls
/// non-restartable, they retry EINTR themselves: on this kernel (6.18) io_uring activity in a
/// server thread interrupts a blocking recv in another thread of the process (seen in 6–13% of
/// runs under load, with no signal delivered), and a client must not take that for a failure.
#pragma once

#include "harness/core/errors.hpp"
#include "harness/stress/result.hpp"
#include "patterns/reactor/server.hpp"
#include "workloads/io/loadgen.hpp"
#include "workloads/io/net.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

namespace cpb::patterns::reactor::testing {

using workloads::io::Fd;
using workloads::io::kHttpRequest;
using workloads::io::kHttpResponse;

/// A blocking client connection with 10 s send and receive timeouts.
inline Fd dial(std::uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error("socket failed");
  timeval tv{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    // An interrupted connect goes on in the background: wait for it and read its outcome.
    int err = errno;
    if (err == EINTR) {
      pollfd p{fd.get(), POLLOUT, 0};
      while (::poll(&p, 1, 10'000) < 0 && errno == EINTR) {
      }
      socklen_t len = sizeof err;
      if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
    if (err != 0) {
      throw std::runtime_error(
          fmt::format("connect to port {} failed: {}", port, std::strerror(err)));
    }
  }
  workloads::io::set_nodelay(fd.get());
  return fd;
}

/// Sends all of `data`, in pieces of at most `chunk` bytes.
inline void send_all(int fd, std::string_view data, std::size_t chunk = 1 << 20) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), std::min(chunk, data.size()), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("send failed");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// Receives exactly `n` bytes (or fewer if the peer closes or the timeout passes).
inline std::string recv_n(int fd, std::size_t n, std::size_t chunk = 1 << 16) {
  std::string out;
  std::vector<char> buf(chunk);
  while (out.size() < n) {
    const ssize_t got = ::recv(fd, buf.data(), std::min(chunk, n - out.size()), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    out.append(buf.data(), static_cast<std::size_t>(got));
  }
  return out;
}

/// Receives until the peer closes (or the timeout passes); `closed` says whether it closed.
inline std::string recv_to_eof(int fd, bool& closed) {
  std::string out;
  char buf[4096];
  closed = false;
  for (;;) {
    const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got == 0) {
      closed = true;
      break;
    }
    if (got < 0) break;
    out.append(buf, static_cast<std::size_t>(got));
  }
  return out;
}

inline std::string repeat(std::string_view s, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out.append(s);
  return out;
}

inline std::string pattern(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& ch : s) ch = static_cast<char>(rng());
  return s;
}

/// The stress check: `clients` threads for `budget` each open connections at random, send
/// requests in random pieces (partial reads on the server), read the replies in random pieces
/// (partial writes), pipeline, half-close, or reset mid-request; every reply is checked. The
/// server must answer the last connection of each thread and close every fd when it dies.
template <Server S>
stress::CheckResult churn(std::uint64_t seed, std::chrono::milliseconds budget) {
  stress::CheckResult r;
  r.seed = seed;
  r.kind = "outcome";
  r.budget_ms = budget.count();
  const auto start = std::chrono::steady_clock::now();
  // A first server outside the count: libraries keep process-wide fds (libuv's signal pipe).
  { S warm(ServerOptions{Protocol::kEcho, 0, 1}); }
  const std::size_t fds_before = workloads::io::open_fds();
  std::uint64_t replies = 0;
  std::uint64_t conns = 0;
  std::string error;
  {
    std::optional<S> http;
    std::optional<S> echo;
    http.emplace(ServerOptions{Protocol::kHttp, 0, 2});
    echo.emplace(ServerOptions{Protocol::kEcho, 0, 2});
    std::mt19937_64 rng(seed);
    std::vector<Fd> idle;  // connections left open and unused, closed at random later
    while (error.empty() && std::chrono::steady_clock::now() - start < budget) {
      const bool use_http = rng() % 2 == 0;
      Fd c = dial(use_http ? http->port() : echo->port());
      ++conns;
      const std::size_t reqs = 1 + rng() % 8;
      std::string want;
      std::string sent;
      if (use_http) {
        sent = repeat(kHttpRequest, reqs);
        want = repeat(kHttpResponse, reqs);
      } else {
        // Up to 32 KiB where the whole request goes out before any reply is read (loopback
        // buffers hold that), up to 200 KB where the client reads while it writes.
        const bool interleaved = rng() % 2 == 0;
        sent = pattern(1 + rng() % (interleaved ? 200'000 : 32'768), rng());
        want = sent;
      }
      const std::size_t piece = 1 + rng() % 3000;
      const std::uint64_t how = use_http || sent.size() <= 32'768 ? rng() % 4 : 2;
      switch (how) {
        case 0: {  // reset mid-request: abortive close with a partial request sent
          linger lg{1, 0};
          ::setsockopt(c.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
          send_all(c.get(), std::string_view(sent).substr(0, sent.size() / 2), piece);
          c.reset();
          continue;
        }
        case 1: {  // half-closed peer: send everything, shut down writes, read to EOF
          send_all(c.get(), sent, piece);
          ::shutdown(c.get(), SHUT_WR);
          bool closed = false;
          const std::string got = recv_to_eof(c.get(), closed);
          if (got != want || !closed) {
            error = fmt::format("half-closed {} peer: {} of {} reply bytes{}, closed: {}",
                                use_http ? "http" : "echo", got.size(), want.size(),
                                got == want.substr(0, got.size()) ? "" : " (wrong)", closed);
          }
          break;
        }
        default: {  // pipelined in pieces; echo is written while it is read (no deadlock)
          std::string got;
          if (use_http) {
            send_all(c.get(), sent, piece);
            got = recv_n(c.get(), want.size(), 1 + rng() % 5000);
          } else {
            std::size_t off = 0;
            while (off < sent.size()) {
              const std::size_t n = std::min<std::size_t>(piece * 16, sent.size() - off);
              send_all(c.get(), std::string_view(sent).substr(off, n), piece);
              got += recv_n(c.get(), n, 1 + rng() % 5000);
              off += n;
            }
          }
          if (got != want) {
            error = fmt::format("{} connection: {} of {} reply bytes{}", use_http ? "http" : "echo",
                                got.size(), want.size(),
                                got == want.substr(0, got.size()) ? "" : " (wrong)");
          }
          if (rng() % 3 == 0) idle.push_back(std::move(c));
          break;
        }
      }
      replies += reqs;
      if (idle.size() > 64 || rng() % 8 == 0) idle.clear();
    }
    idle.clear();
  }  // both servers stop here
  r.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  r.samples = conns;
  r.stats = {{"connections", static_cast<std::int64_t>(conns)},
             {"requests", static_cast<std::int64_t>(replies)}};
  if (!error.empty()) {
    r.verdict = stress::Verdict::kFail;
    r.failure = error;
    return r;
  }
  const std::size_t fds_after = workloads::io::open_fds();
  if (fds_after > fds_before) {
    r.verdict = stress::Verdict::kFail;
    r.failure =
        fmt::format("{} fds were open before the servers and {} after them", fds_before, fds_after);
  }
  return r;
}

}  // namespace cpb::patterns::reactor::testing
