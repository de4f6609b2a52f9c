// SPDX-License-Identifier: Apache-2.0
/// @file
/// `coroutine_server`: a request-serving server on the own coroutine runtime, one coroutine per
/// connection, written as straight-line code: read until the socket has nothing, feed the bytes
/// to the connection's protocol `Session`, send the replies; where a call would block
/// (EAGAIN), `co_await sched.readable(fd)` / `writable(fd)` and the coroutine's worker runs
/// another coroutine meanwhile. It satisfies `reactor::Server` (patterns/reactor/server.hpp), so
/// it runs the reactors' `echo`, `http`, `http_open` scenarios and `churn` check.
///
/// Threads: the `Scheduler` (scheduler.hpp): `loops` pool workers (0: one per CPU) that run the
/// coroutines, and its driver thread in `epoll_wait`, which posts a coroutine back to the pool
/// when its descriptor is ready (EPOLLONESHOT, level-triggered). An acceptor coroutine accepts
/// every pending connection (non-blocking) and spawns a connection coroutine for each. While a
/// reply waits for room (EPOLLOUT) the connection is not read (backpressure); a peer that
/// half-closes (EOF) gets every reply first, since replies are sent before the next read.
///
/// Stop: the destructor sets `stopping_` and shuts down (SHUT_RDWR) the listener and every open
/// connection under `m_`, which makes each waiting descriptor ready: the acceptor's accept
/// fails (EINVAL) and it ends, each connection reads EOF (or a send fails) and closes its fd.
/// Then it waits until `live_` (the coroutines not yet ended) is 0, and the scheduler's
/// destructor joins its driver and drains and joins its workers. A connection closes its fd
/// under `m_` and the destructor shuts down only the fds registered under `m_`, so it never
/// touches a number the kernel has handed out again.
///
/// Progress: blocking (the scheduler's epoll_wait and pool; `m_` on connect and disconnect).
/// Memory ordering: the open-fd table and `stopping_` are guarded by `m_`; `live_` is seq_cst
/// (incremented under `m_`, decremented last by each coroutine, waited on by the destructor); a
/// coroutine's frame moves between workers through the scheduler's pool (its queues order the
/// hand-over) and epoll orders a registration before its event.
/// When to use: many connections that mostly wait, on few threads, with handler code that reads
/// top to bottom (and may await more I/O, timers or async locks in the middle). When not: a
/// handler that blocks or computes for long holds a worker (post it to a pool).
/// Reference: Tokio's I/O driver and per-connection tasks; cppcoro `io_service` and
/// `socket::recv`; Lewis Baker, "C++ Coroutines: Understanding operator co_await" (2017).
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/coroutine/scheduler.hpp"
#include "patterns/coroutine/task.hpp"
#include "patterns/reactor/server.hpp"
#include "workloads/io/net.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <unordered_set>

namespace cpb::patterns::coroutine {

class CoroutineServer {
 public:
  static constexpr std::string_view kName = "coroutine_server";
  static constexpr Progress kProgress = Progress::kBlocking;

  explicit CoroutineServer(const reactor::ServerOptions& o)
      : listener_(workloads::io::listen_tcp(o.port, false)),
        protocol_(o.protocol),
        port_(workloads::io::local_port(listener_.get())),
        sched_(o.loops != 0 ? o.loops : std::max(1U, std::thread::hardware_concurrency())) {
    live_.fetch_add(1);
    sched_.spawn(acceptor());
  }
  ~CoroutineServer() {
    {
      std::lock_guard lk(m_);
      stopping_ = true;
      ::shutdown(listener_.get(), SHUT_RDWR);  // the acceptor's wait ends, accept fails
      for (const int fd : open_) ::shutdown(fd, SHUT_RDWR);  // each reads EOF, or send fails
    }
    for (std::size_t n = live_.load(); n != 0; n = live_.load()) live_.wait(n);
    // sched_, the last member, is destroyed first: it joins the driver and the workers.
  }
  CoroutineServer(const CoroutineServer&) = delete;
  CoroutineServer& operator=(const CoroutineServer&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  /// The last thing a coroutine of this server does: after it, only its own frame is touched.
  void ended() {
    if (live_.fetch_sub(1) == 1) live_.notify_all();
  }

  Task<void> acceptor() {
    try {
      for (;;) {
        const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
          workloads::io::set_nodelay(fd);
          std::lock_guard lk(m_);
          if (stopping_) {
            ::close(fd);
            break;
          }
          open_.insert(fd);
          live_.fetch_add(1);
          sched_.spawn(connection(fd));
          continue;
        }
        const int err = errno;
        if (err == EINTR || err == ECONNABORTED) continue;
        {
          std::lock_guard lk(m_);
          if (stopping_) break;
        }
        if (err == EAGAIN || err == EWOULDBLOCK) {
          tsan_visible_rearm(listener_.get());
          co_await sched_.readable(listener_.get());
        } else if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
          // Out of fds: the peer waits in the backlog; retry later instead of spinning.
          co_await sched_.sleep_for(std::chrono::milliseconds(1));
        } else {
          break;  // the listener is broken
        }
      }
    } catch (...) {  // epoll refused the listener: stop accepting
    }
    ended();
  }

  Task<void> connection(int fd) {
    try {
      co_await serve(fd);
    } catch (...) {  // epoll refused the descriptor: drop the connection
    }
    {
      std::lock_guard lk(m_);
      open_.erase(fd);
      ::close(fd);
    }
    ended();
  }

  /// Under ThreadSanitizer only: takes `fd` out of the epoll set, so that the next wait adds it
  /// again (EPOLL_CTL_ADD) instead of re-arming it (EPOLL_CTL_MOD). The kernel orders a re-arm
  /// before its event either way, but TSan's epoll_ctl interceptor (GCC 12's libtsan) models
  /// only ADD as a release on the epoll fd, and epoll_wait as the acquire; without this it
  /// reports the frame's writes before a second wait on one fd (the suspension index, the
  /// buffers) as racing with the worker that resumes it. Two syscalls more per wait, in TSan
  /// builds only.
  void tsan_visible_rearm([[maybe_unused]] int fd) {
#if defined(__SANITIZE_THREAD__)
    sched_.forget(fd);
#endif
  }

  /// One connection until EOF, an error, a bad request or the server's stop.
  Task<void> serve(int fd) {
    workloads::io::Session session(protocol_);
    std::string out;
    std::array<char, 16 * 1024> buf;  // in the frame: a coroutine may resume on another worker
    for (;;) {
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) co_return;  // reset
        tsan_visible_rearm(fd);
        co_await sched_.readable(fd);
        continue;
      }
      if (n == 0) co_return;  // EOF (or the stop): every reply was sent before this read
      if (!session.feed(buf.data(), static_cast<std::size_t>(n), out)) co_return;
      std::size_t off = 0;
      while (off < out.size()) {
        const ssize_t s = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
        if (s > 0) {
          off += static_cast<std::size_t>(s);
        } else if (s < 0 && errno == EINTR) {
          continue;
        } else if (s < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          tsan_visible_rearm(fd);
          co_await sched_.writable(fd);  // not read meanwhile: backpressure
        } else {
          co_return;
        }
      }
      out.clear();
    }
  }

  workloads::io::Fd listener_;
  workloads::io::Protocol protocol_;
  std::uint16_t port_;
  std::mutex m_;
  bool stopping_ = false;             // guarded by m_
  std::unordered_set<int> open_;      // guarded by m_: the connections' fds not yet closed
  std::atomic<std::size_t> live_{0};  // coroutines not yet ended
  Scheduler sched_;                   // last: destroyed (driver and workers joined) first
};

}  // namespace cpb::patterns::coroutine
