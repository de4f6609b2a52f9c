// SPDX-License-Identifier: Apache-2.0
/// @file
/// `actor_server`: a request-serving server on the own actor runtime (runtime.hpp): one actor
/// per connection owns its socket, its protocol `Session` and its pending replies, and a poller
/// thread in `epoll_wait` turns readiness into messages. It satisfies `reactor::Server`
/// (patterns/reactor/server.hpp), so it runs the reactors' `echo`, `http`, `http_open`
/// scenarios and `churn` check.
///
/// The poller owns the listener: it accepts every pending connection (non-blocking) and sends
/// `Open{fd}` to an idle connection actor (one that served a closed connection, else a new
/// one: the runtime keeps actors for the life of the system, so they are recycled, and there
/// are never more than the most connections open at once). The actor registers its socket in
/// the poller's epoll set itself, one shot (EPOLLONESHOT) at a time, with its slot as the
/// event's data; the poller sends it `Ready` when the socket is ready. On `Open` and `Ready` the
/// actor sends what is pending, reads until EAGAIN (64 KiB at a time, feeding the `Session`),
/// sends the replies, and re-arms its socket for EPOLLIN, or EPOLLOUT while a reply waits for
/// room (then it does not read: backpressure). A peer that half-closes gets its pending
/// replies, then the close. One shot means at most one `Ready` is in flight per socket, so an
/// actor closes its fd only while the fd is not armed, and no event for the old connection can
/// reach the actor after it is recycled.
///
/// Stop: the destructor wakes the poller through an eventfd and joins it, sends `Stop` to every
/// connection actor (after any `Ready` already queued: a mailbox is FIFO), which closes its
/// socket, then destroys the actor system (it runs every queued message, then joins the
/// workers), and closes the epoll set and the listener.
///
/// Progress: blocking (epoll_wait; the pool parks idle workers; `free_m_` when a connection
/// opens or closes). A send to an actor is wait-free unless the actor was idle (the pool's
/// submit).
/// Memory ordering: the mailbox's (release link, acquire pop) hands each message, and so the fd
/// in `Open`, to the actor; the runtime runs one actor on one worker at a time, so the
/// connection's state needs no lock; the free list is guarded by `free_m_`; epoll orders an
/// actor's registration before the event the poller reads.
/// When to use: connections whose handling is a flow of messages between stateful entities
/// (a session actor that talks to other actors), with fault isolation per connection. When not:
/// a handler that blocks (it holds a worker) or the lowest latency per request (each request is
/// a message hand-off from the poller to a worker: one thread more than a reactor).
/// Reference: Hewitt et al., IJCAI 1973; Akka I/O (a selector actor per poller, a connection
/// actor per TCP connection); Erlang/OTP `gen_tcp` with `{active, once}` (one readiness message
/// at a time, re-armed by the owner).
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/actor/runtime.hpp"
#include "patterns/reactor/server.hpp"
#include "workloads/io/net.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

namespace cpb::patterns::actor {

class ActorServer {
 public:
  static constexpr std::string_view kName = "actor_server";
  static constexpr Progress kProgress = Progress::kBlocking;

  explicit ActorServer(const reactor::ServerOptions& o)
      : listener_(workloads::io::listen_tcp(o.port, false)),
        protocol_(o.protocol),
        port_(workloads::io::local_port(listener_.get())),
        ep_(::epoll_create1(EPOLL_CLOEXEC)),
        stop_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!ep_ || !stop_) throw std::system_error(errno, std::generic_category(), "ActorServer");
    for (const workloads::io::Fd* fd : {&listener_, &stop_}) {
      epoll_event e{};
      e.events = EPOLLIN;
      e.data.ptr = const_cast<workloads::io::Fd*>(fd);  // tells the poller's own fds apart
      if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd->get(), &e) != 0) {
        throw std::system_error(errno, std::generic_category(), "epoll_ctl");
      }
    }
    sys_.emplace(o.loops != 0 ? o.loops : std::max(1U, std::thread::hardware_concurrency()));
    poller_ = std::thread([this] { poll(); });
  }
  ~ActorServer() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(stop_.get(), &one, sizeof one);
    poller_.join();
    for (const auto& s : slots_) s->ref.send(Event{Kind::kStop, -1});  // poller gone: ours now
    sys_.reset();  // runs every queued message (the stops), then joins the workers
  }
  ActorServer(const ActorServer&) = delete;
  ActorServer& operator=(const ActorServer&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// Connection actors spawned so far (recycled ones counted once); from the server's owner.
  [[nodiscard]] std::size_t actors() const {
    std::lock_guard lk(free_m_);
    return spawned_;
  }

 private:
  enum class Kind : std::uint8_t { kOpen, kReady, kStop };
  struct Event {
    Kind kind;
    int fd;  // kOpen: the accepted socket, now the actor's
  };
  /// The poller's handle on a connection actor; its address is the actor's epoll data.
  struct Slot {
    Ref<Event> ref;
  };

  /// A connection actor's handler: the state of the connection it serves now, if any.
  class Connection {
   public:
    Connection(ActorServer* server, Slot* slot) : server_(server), slot_(slot) {}

    void operator()(Event& e) {
      switch (e.kind) {
        case Kind::kOpen:
          fd_ = e.fd;
          session_.emplace(server_->protocol_);
          out_.clear();
          off_ = 0;
          armed_before_ = false;
          pump();  // bytes may be waiting already
          break;
        case Kind::kReady:
          if (fd_ >= 0) pump();
          break;
        case Kind::kStop:
          if (fd_ >= 0) ::close(std::exchange(fd_, -1));  // not recycled: the server is ending
          break;
      }
    }

   private:
    void pump() {
      if (!flush()) return;
      char* buf = buffer();
      for (;;) {
        const ssize_t n = ::recv(fd_, buf, kBufferBytes, 0);
        if (n > 0) {
          if (!session_->feed(buf, static_cast<std::size_t>(n), out_)) return close();
          if (!flush()) return;
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return arm(EPOLLIN | EPOLLRDHUP);
        if (n < 0) return close();  // reset
        return close();             // EOF: every reply so far was sent (flush() came first)
      }
    }

    /// Sends what is pending: true when all of it went, false when it waits for EPOLLOUT (the
    /// socket is armed for it) or the connection was closed.
    bool flush() {
      while (off_ < out_.size()) {
        const ssize_t n = ::send(fd_, out_.data() + off_, out_.size() - off_, MSG_NOSIGNAL);
        if (n > 0) {
          off_ += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
          continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          arm(EPOLLOUT);
          return false;
        } else {
          close();
          return false;
        }
      }
      out_.clear();
      off_ = 0;
      return true;
    }

    void arm(std::uint32_t events) {
      epoll_event e{};
      e.events = events | EPOLLONESHOT;
      e.data.ptr = slot_;
      const int op = armed_before_ ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
      if (::epoll_ctl(server_->ep_.get(), op, fd_, &e) != 0) return close();
      armed_before_ = true;
    }

    /// Closes the socket (not armed: no event for it is in flight) and offers this actor for
    /// the next connection.
    void close() {
      ::close(std::exchange(fd_, -1));
      session_.reset();
      std::string().swap(out_);  // an idle actor keeps no buffer
      off_ = 0;
      std::lock_guard lk(server_->free_m_);
      server_->free_.push_back(slot_);
    }

    static constexpr std::size_t kBufferBytes = 64 * 1024;
    /// One read buffer per worker: a handler runs to its end on one thread.
    static char* buffer() {
      static thread_local const std::unique_ptr<char[]> buf(new char[kBufferBytes]);
      return buf.get();
    }

    ActorServer* server_;
    Slot* slot_;
    int fd_ = -1;
    std::optional<workloads::io::Session> session_;
    std::string out_;
    std::size_t off_ = 0;
    bool armed_before_ = false;  // the fd is in the epoll set (MOD, not ADD)
  };

  void poll() {
    std::vector<epoll_event> evs(256);
    for (;;) {
      const int n = ::epoll_wait(ep_.get(), evs.data(), static_cast<int>(evs.size()), -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      for (int i = 0; i < n; ++i) {
        void* tag = evs[static_cast<std::size_t>(i)].data.ptr;
        if (tag == &stop_) return;
        if (tag == &listener_) {
          accept_all();
        } else {
          static_cast<Slot*>(tag)->ref.send(Event{Kind::kReady, -1});
        }
      }
    }
  }

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of fds: the peer waits in the backlog; back off instead of spinning.
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return;  // EAGAIN: all taken
      }
      workloads::io::set_nodelay(fd);
      idle_actor()->ref.send(Event{Kind::kOpen, fd});
    }
  }

  /// An actor with no connection: a recycled one, else a new one. Poller thread only.
  Slot* idle_actor() {
    {
      std::lock_guard lk(free_m_);
      if (!free_.empty()) {
        Slot* s = free_.back();
        free_.pop_back();
        return s;
      }
    }
    auto slot = std::make_unique<Slot>();
    Slot* raw = slot.get();
    raw->ref = sys_->spawn<Event>([this, raw] { return Connection(this, raw); });
    slots_.push_back(std::move(slot));
    std::lock_guard lk(free_m_);
    ++spawned_;
    return raw;
  }

  workloads::io::Fd listener_;
  workloads::io::Protocol protocol_;
  std::uint16_t port_;
  workloads::io::Fd ep_;
  workloads::io::Fd stop_;
  std::vector<std::unique_ptr<Slot>> slots_;  // the poller's, then the destructor's
  mutable std::mutex free_m_;
  std::vector<Slot*> free_;  // guarded by free_m_: actors with no connection
  std::size_t spawned_ = 0;  // guarded by free_m_
  std::optional<ActorSystem<>> sys_;
  std::thread poller_;
};

}  // namespace cpb::patterns::actor
