// SPDX-License-Identifier: Apache-2.0
/// @file
/// `libevent`: a baseline. A thin adapter: one event_base on one thread, an evconnlistener on
/// our listening socket, a bufferevent per connection (libevent's buffered reactor); replies go
/// into the bufferevent's output, which libevent writes when the socket takes them. After a
/// peer's EOF the connection closes once its output is drained. Stop: an eventfd event whose
/// callback breaks the loop; the loop thread then frees every connection.
///
/// Progress: blocking. Memory ordering: none of its own (no evthread locking: only the loop
/// thread touches the base; the stopping thread writes the eventfd).
/// When to use: a mature C event library with buffered I/O, HTTP and DNS.
/// Reference: Nick Mathewson, "Programming with Libevent",
/// http://www.wangafu.net/~nickm/libevent-book/
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/reactor/server.hpp"

#include <cstdint>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>
#include <unordered_set>

namespace cpb::patterns::reactor {

class LibeventServer {
 public:
  static constexpr std::string_view kName = "libevent";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  explicit LibeventServer(const ServerOptions& o)
      : protocol_(o.protocol), stop_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    workloads::io::Fd l = workloads::io::listen_tcp(o.port, false);
    port_ = workloads::io::local_port(l.get());
    base_ = event_base_new();
    if (base_ == nullptr || !stop_fd_) throw std::runtime_error("libevent: event_base_new failed");
    // backlog 0: the socket is already listening.
    listener_ = evconnlistener_new(base_, on_accept, this, LEV_OPT_CLOSE_ON_FREE, 0, l.get());
    if (listener_ == nullptr) {
      event_base_free(base_);
      throw std::runtime_error("libevent: evconnlistener_new failed");
    }
    l.release();
    stop_ = event_new(
        base_, stop_fd_.get(), EV_READ,
        [](evutil_socket_t, short, void* b) { event_base_loopbreak(static_cast<event_base*>(b)); },
        base_);
    event_add(stop_, nullptr);
    thread_ = std::thread([this] {
      event_base_dispatch(base_);
      for (Conn* c : conns_) free_conn(c);
      conns_.clear();
      event_free(stop_);
      evconnlistener_free(listener_);
      event_base_free(base_);
    });
  }
  ~LibeventServer() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);
    thread_.join();
  }
  LibeventServer(const LibeventServer&) = delete;
  LibeventServer& operator=(const LibeventServer&) = delete;
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  struct Conn {
    LibeventServer* server;
    bufferevent* bev;
    workloads::io::Session session;
  };

  static void free_conn(Conn* c) {
    bufferevent_free(c->bev);
    delete c;
  }
  static void close(Conn* c) {
    c->server->conns_.erase(c);
    free_conn(c);
  }

  static void on_accept(evconnlistener* /*l*/, evutil_socket_t fd, sockaddr* /*addr*/, int /*len*/,
                        void* arg) {
    auto* s = static_cast<LibeventServer*>(arg);
    workloads::io::set_nodelay(fd);
    bufferevent* bev = bufferevent_socket_new(s->base_, fd, BEV_OPT_CLOSE_ON_FREE);
    if (bev == nullptr) {
      ::close(fd);
      return;
    }
    auto* c = new Conn{s, bev, workloads::io::Session(s->protocol_)};
    s->conns_.insert(c);
    bufferevent_setcb(bev, on_read, nullptr, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
  }
  static void on_read(bufferevent* bev, void* arg) {
    auto* c = static_cast<Conn*>(arg);
    LibeventServer* s = c->server;
    evbuffer* in = bufferevent_get_input(bev);
    s->out_.clear();
    for (;;) {
      const int n = evbuffer_remove(in, s->buf_, sizeof s->buf_);
      if (n <= 0) break;
      if (!c->session.feed(s->buf_, static_cast<std::size_t>(n), s->out_)) return close(c);
    }
    if (!s->out_.empty()) bufferevent_write(bev, s->out_.data(), s->out_.size());
  }
  static void on_drained(bufferevent* /*bev*/, void* arg) { close(static_cast<Conn*>(arg)); }
  static void on_event(bufferevent* bev, short what, void* arg) {
    auto* c = static_cast<Conn*>(arg);
    if ((what & BEV_EVENT_EOF) != 0 && (what & BEV_EVENT_ERROR) == 0 &&
        evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
      // Half-closed peer: send what is queued, then close.
      bufferevent_disable(bev, EV_READ);
      bufferevent_setcb(bev, nullptr, on_drained, on_event, c);
      return;
    }
    if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) != 0) close(c);
  }

  workloads::io::Protocol protocol_;
  std::uint16_t port_ = 0;
  workloads::io::Fd stop_fd_;
  event_base* base_ = nullptr;
  evconnlistener* listener_ = nullptr;
  event* stop_ = nullptr;
  std::unordered_set<Conn*> conns_;  // loop thread only
  char buf_[64 * 1024];              // loop thread only
  std::string out_;                  // loop thread only
  std::thread thread_;
};

}  // namespace cpb::patterns::reactor
