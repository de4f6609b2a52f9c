// SPDX-License-Identifier: Apache-2.0
/// @file
/// The own event loop: one epoll instance, one thread, level-triggered. It accepts on its
/// listener, reads every readable connection until EAGAIN (64 KiB at a time), feeds the bytes
/// to the connection's protocol `Session`, and writes the replies at once; what the socket does
/// not take waits for EPOLLOUT, and while a reply is pending the connection is not read
/// (backpressure: a peer that does not read cannot grow the server's memory). A peer that
/// half-closes (EOF) gets its pending replies, then the close. An eventfd stops the loop.
///
/// Progress: blocking (epoll_wait). Memory ordering: none of its own; the stop eventfd and
/// thread join are the only cross-thread edges.
/// Reference: Schmidt, "Reactor: An Object Behavioral Pattern for Demultiplexing and
/// Dispatching Handles for Synchronous Events" (PLoP 1995); epoll(7).
#pragma once

#include "workloads/io/net.hpp"

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace cpb::patterns::reactor {

class EpollLoop {
 public:
  /// Takes a listening non-blocking socket; starts the loop thread.
  EpollLoop(workloads::io::Fd listener, workloads::io::Protocol protocol)
      : listener_(std::move(listener)),
        protocol_(protocol),
        ep_(::epoll_create1(EPOLL_CLOEXEC)),
        stop_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!ep_ || !stop_) throw std::system_error(errno, std::generic_category(), "EpollLoop");
    add(listener_.get(), EPOLLIN, &listener_);
    add(stop_.get(), EPOLLIN, &stop_);
    thread_ = std::thread([this] { loop(); });
  }
  ~EpollLoop() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(stop_.get(), &one, sizeof one);
    thread_.join();
  }
  EpollLoop(const EpollLoop&) = delete;
  EpollLoop& operator=(const EpollLoop&) = delete;

 private:
  struct Conn {
    Conn(int socket, workloads::io::Protocol p) : fd(socket), session(p) {}
    workloads::io::Fd fd;
    workloads::io::Session session;
    std::string out;
    std::size_t out_off = 0;
    bool writing = false;  // watching EPOLLOUT instead of EPOLLIN
    bool eof = false;      // the peer half-closed: close once `out` is sent
  };

  void add(int fd, std::uint32_t events, void* tag) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = tag;
    if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      throw std::system_error(errno, std::generic_category(), "epoll_ctl");
    }
  }
  void mod(Conn& c, bool writing) {
    epoll_event ev{};
    ev.events = writing ? EPOLLOUT : EPOLLIN;
    ev.data.ptr = &c;
    ::epoll_ctl(ep_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
    c.writing = writing;
  }

  void loop() {
    std::vector<epoll_event> evs(512);
    for (;;) {
      const int n = ::epoll_wait(ep_.get(), evs.data(), static_cast<int>(evs.size()), -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < n; ++i) {
        void* tag = evs[static_cast<std::size_t>(i)].data.ptr;
        if (tag == &stop_) {
          conns_.clear();  // closes every connection
          return;
        }
        if (tag == &listener_) {
          accept_all();
          continue;
        }
        auto* c = static_cast<Conn*>(tag);
        if (c->writing) {
          write(*c);
        } else {
          read(*c);
        }
      }
    }
    conns_.clear();
  }

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or out of fds (EMFILE): the peer waits in the backlog
      workloads::io::set_nodelay(fd);
      auto c = std::make_unique<Conn>(fd, protocol_);
      Conn* raw = c.get();
      conns_.emplace(raw, std::move(c));
      add(fd, EPOLLIN, raw);
    }
  }

  void close(Conn& c) { conns_.erase(&c); }  // the fd's close removes it from epoll

  void read(Conn& c) {
    for (;;) {
      const ssize_t n = ::recv(c.fd.get(), buf_, sizeof buf_, 0);
      if (n > 0) {
        if (!c.session.feed(buf_, static_cast<std::size_t>(n), c.out)) return close(c);
        if (static_cast<std::size_t>(n) < sizeof buf_) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0) return close(c);  // reset
      c.eof = true;                // half-closed: send what is pending, then close
      break;
    }
    write(c);
  }

  void write(Conn& c) {
    while (c.out_off < c.out.size()) {
      const ssize_t n =
          ::send(c.fd.get(), c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!c.writing) mod(c, true);
        return;
      }
      return close(c);
    }
    c.out.clear();
    c.out_off = 0;
    if (c.eof) return close(c);
    if (c.writing) mod(c, false);
  }

  workloads::io::Fd listener_;
  workloads::io::Protocol protocol_;
  workloads::io::Fd ep_;
  workloads::io::Fd stop_;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns_;  // loop thread only
  char buf_[64 * 1024];                                     // loop thread only
  std::thread thread_;
};

}  // namespace cpb::patterns::reactor
