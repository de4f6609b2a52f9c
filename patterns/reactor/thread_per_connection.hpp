// SPDX-License-Identifier: Apache-2.0
/// @file
/// `thread_per_connection`: the model a reactor replaces. Blocking sockets; one acceptor thread
/// blocks in accept(2) and starts a thread per connection, which blocks in recv(2), feeds the
/// bytes to the connection's protocol `Session` and sends the replies with blocking send(2)
/// before it reads again (backpressure comes free: a peer that does not read blocks its own
/// thread only). A peer that half-closes (EOF) gets its pending replies, then the close.
///
/// Threads: 1024 connections are 1024 threads, so each gets a 256 KiB stack (pthread
/// attributes) instead of the default 8 MiB: 256 MiB of address space, touched only as used.
/// A connection thread that ends marks itself done; the acceptor joins the done ones before it
/// starts the next, so churn does not pile up unjoined threads. When a thread cannot be
/// created (EAGAIN: a thread or memory limit) the connection is closed at once.
///
/// Stop: the destructor sets `stopping_`, shuts the listener down (a blocked accept returns
/// EINVAL), joins the acceptor, then shuts down every open connection (SHUT_RDWR: a blocked
/// recv returns 0, a blocked send EPIPE) and joins every connection thread. A connection's fd
/// is closed by its own thread under `m_`, and the destructor shuts down only the fds still
/// registered under `m_`, so it never touches a number the kernel has handed out again.
///
/// Progress: blocking (accept, recv, send; `m_` on connect and disconnect only).
/// Memory ordering: `stopping_` and the connection table are guarded by `m_`; thread creation
/// and join order everything else.
/// When to use: few connections, or handlers that block (a database driver with no async API):
/// each connection's code is plain blocking code. When not: thousands of mostly idle
/// connections (a thread, a stack and a context switch per request each), or 2 cores and 1024
/// runnable threads.
/// Reference: Stevens, Fenner & Rudoff, "UNIX Network Programming" vol. 1, §30.11 ("TCP
/// Concurrent Server, One Thread per Client"); Kegel, "The C10K problem" (1999).
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/reactor/server.hpp"
#include "workloads/io/net.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fcntl.h>
#include <list>
#include <mutex>
#include <pthread.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

namespace cpb::patterns::reactor {

class ThreadPerConnection {
 public:
  static constexpr std::string_view kName = "thread_per_connection";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  /// The stack of each connection thread.
  static constexpr std::size_t kStackBytes = std::size_t{256} << 10;

  explicit ThreadPerConnection(const ServerOptions& o)
      : listener_(workloads::io::listen_tcp(o.port, false)), protocol_(o.protocol) {
    port_ = workloads::io::local_port(listener_.get());
    const int flags = ::fcntl(listener_.get(), F_GETFL);  // blocking accept
    if (flags < 0 || ::fcntl(listener_.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
      throw std::system_error(errno, std::generic_category(), "fcntl");
    }
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~ThreadPerConnection() {
    {
      std::lock_guard lk(m_);
      stopping_ = true;
    }
    ::shutdown(listener_.get(), SHUT_RDWR);  // wakes the blocked accept (EINVAL)
    acceptor_.join();
    std::vector<pthread_t> threads;
    {
      std::lock_guard lk(m_);
      for (Conn& c : conns_) {
        if (c.fd >= 0) ::shutdown(c.fd, SHUT_RDWR);  // wakes a blocked recv or send
        threads.push_back(c.thread);
      }
    }
    for (pthread_t t : threads) ::pthread_join(t, nullptr);
  }
  ThreadPerConnection(const ThreadPerConnection&) = delete;
  ThreadPerConnection& operator=(const ThreadPerConnection&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  struct Conn {
    ThreadPerConnection* server;
    int fd;  // guarded by m_ once the thread runs; -1 once closed
    pthread_t thread{};
    bool done = false;  // guarded by m_: the thread has closed its fd and is ending
  };

  void accept_loop() {
    for (;;) {
      const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        {
          std::lock_guard lk(m_);
          if (stopping_) return;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of fds: the peer waits in the backlog; back off instead of spinning.
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          continue;
        }
        return;  // the listener is broken
      }
      workloads::io::set_nodelay(fd);
      std::lock_guard lk(m_);
      reap();
      if (stopping_) {
        ::close(fd);
        return;
      }
      conns_.push_back(Conn{this, fd});
      Conn& c = conns_.back();
      pthread_attr_t attr;
      ::pthread_attr_init(&attr);
      ::pthread_attr_setstacksize(&attr, kStackBytes);
      const int err = ::pthread_create(&c.thread, &attr, &ThreadPerConnection::serve_thread, &c);
      ::pthread_attr_destroy(&attr);
      if (err != 0) {  // no thread for it: refuse the connection
        ::close(fd);
        conns_.pop_back();
      }
    }
  }

  /// Joins the connection threads that ended. Under m_.
  void reap() {
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (it->done) {
        ::pthread_join(it->thread, nullptr);  // it only returns after setting `done`
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }

  static void* serve_thread(void* arg) {
    auto* c = static_cast<Conn*>(arg);
    int fd = 0;
    {
      std::lock_guard lk(c->server->m_);  // the acceptor wrote c->fd before creating us
      fd = c->fd;
    }
    c->server->serve(fd);
    std::lock_guard lk(c->server->m_);
    ::close(fd);
    c->fd = -1;
    c->done = true;
    return nullptr;
  }

  void serve(int fd) const {
    workloads::io::Session session(protocol_);
    std::string out;
    char buf[16 * 1024];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;   // reset, or shut down by the destructor
      if (n == 0) return;  // EOF: every reply so far was sent before this read
      if (!session.feed(buf, static_cast<std::size_t>(n), out)) return;
      if (!send_all(fd, out)) return;
      out.clear();
    }
  }

  static bool send_all(int fd, std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  workloads::io::Fd listener_;
  workloads::io::Protocol protocol_;
  std::uint16_t port_ = 0;
  std::mutex m_;
  bool stopping_ = false;  // guarded by m_
  std::list<Conn> conns_;  // guarded by m_: stable addresses, each thread holds its own
  std::thread acceptor_;
};

}  // namespace cpb::patterns::reactor
