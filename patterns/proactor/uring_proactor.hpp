// SPDX-License-Identifier: Apache-2.0
/// @file
/// `io_uring`: the own proactor on io_uring (liburing). One ring, one thread. Operations are
/// *started* (accept, read, send) and their completions dispatched: each connection keeps one
/// read in flight, into a registered buffer (io_uring_register_buffers, IORING_OP_READ_FIXED:
/// the kernel maps the pages once instead of per call), and at most one send; everything a
/// batch of completions asks for is submitted with one io_uring_submit_and_wait (batched
/// submission: one syscall per loop turn for all connections). A peer's EOF closes the
/// connection after its replies are sent. Stop: a read on an eventfd completes; every
/// connection is shut down, the loop drains what is in flight, then the ring is torn down.
/// When the kernel refuses io_uring (ENOSYS, EPERM under seccomp, kernel.io_uring_disabled), or
/// CPB_DISABLE_IO_URING is set, `unavailable()` says why and the scenarios skip it. When
/// registering the buffers fails (RLIMIT_MEMLOCK), reads fall back to plain IORING_OP_RECV
/// into heap buffers (counted in `fixed_reads()`).
///
/// Progress: blocking (io_uring_submit_and_wait). Memory ordering: the SQ/CQ rings' acquire/
/// release protocol is liburing's; none of its own (one thread; eventfd and join to stop).
/// When to use: many connections or high request rates on Linux >= 5.6, where fewer syscalls
/// per request pay; files and sockets through one interface. When not: portability, old
/// kernels, sandboxes that block it.
/// Reference: Axboe, "Efficient IO with io_uring" (2019), https://kernel.dk/io_uring.pdf;
/// Pyarali et al., "Proactor" (PLoP 1997).
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/reactor/server.hpp"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <liburing.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <unordered_set>
#include <vector>

namespace cpb::patterns::proactor {

using reactor::Protocol;
using reactor::ServerOptions;

class UringProactor {
 public:
  static constexpr std::string_view kName = "io_uring";
  static constexpr Progress kProgress = Progress::kBlocking;

  /// Empty when io_uring works here, else why not (probed once per process).
  static std::string unavailable() {
    if (const char* e = std::getenv("CPB_DISABLE_IO_URING"); e != nullptr && *e != '\0') {
      return "disabled by CPB_DISABLE_IO_URING";
    }
    static const std::string why = probe();
    return why;
  }

  explicit UringProactor(const ServerOptions& o) : protocol_(o.protocol) {
    if (const std::string why = unavailable(); !why.empty()) {
      throw std::runtime_error("io_uring is unavailable here: " + why);
    }
    listener_ = workloads::io::listen_tcp(o.port, false);
    port_ = workloads::io::local_port(listener_.get());
    stop_fd_.reset(::eventfd(0, EFD_CLOEXEC));
    if (!stop_fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
    io_uring_params p{};
    if (const int rc = io_uring_queue_init_params(kEntries, &ring_, &p); rc < 0) {
      throw std::system_error(-rc, std::generic_category(), "io_uring_queue_init");
    }
    slots_.reset(static_cast<char*>(std::aligned_alloc(4096, kSlots * kSlotBytes)));
    std::vector<iovec> iov(kSlots);
    for (std::size_t i = 0; i < kSlots; ++i) {
      iov[i] = {slots_.get() + i * kSlotBytes, kSlotBytes};
    }
    fixed_ = io_uring_register_buffers(&ring_, iov.data(), kSlots) == 0;
    if (fixed_) {
      for (std::size_t i = kSlots; i-- > 0;) free_slots_.push_back(static_cast<int>(i));
    }
    arm_accept();
    arm_stop();
    thread_ = std::thread([this] { loop(); });
  }
  ~UringProactor() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);
    thread_.join();
    io_uring_queue_exit(&ring_);
    for (Conn* c : conns_) delete c;  // their fds were closed when the loop drained
  }
  UringProactor(const UringProactor&) = delete;
  UringProactor& operator=(const UringProactor&) = delete;
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  static constexpr unsigned kEntries = 1024;
  static constexpr std::size_t kSlots = 1024;  // 4 MiB registered, under an 8 MiB memlock
  static constexpr std::size_t kSlotBytes = 4096;
  enum class Kind : std::uint8_t { kAccept, kStop, kCancel, kRead, kWrite };
  struct Conn;
  struct Op {
    Kind kind;
    Conn* conn;
  };
  struct Conn {
    Conn(int socket, Protocol p)
        : fd(socket), session(p), read_op{Kind::kRead, this}, write_op{Kind::kWrite, this} {}
    int fd;
    workloads::io::Session session;
    Op read_op;
    Op write_op;
    int slot = -1;                 // registered buffer, or -1: `heap`
    std::unique_ptr<char[]> heap;  // when no slot is free
    std::string sending;           // the bytes of the send in flight
    std::size_t sent = 0;
    std::string pending;  // replies produced while a send was in flight
    bool reading = false;
    bool writing = false;
    bool closing = false;
  };

  static std::string probe() {
    std::ifstream sysctl("/proc/sys/kernel/io_uring_disabled");
    int disabled = 0;
    if (sysctl >> disabled && disabled == 2) return "disabled by sysctl kernel.io_uring_disabled=2";
    io_uring r{};
    if (const int rc = io_uring_queue_init(8, &r, 0); rc < 0) {
      return std::string("io_uring_queue_init: ") + std::strerror(-rc);
    }
    io_uring_queue_exit(&r);
    return {};
  }

  io_uring_sqe* sqe() {
    io_uring_sqe* s = io_uring_get_sqe(&ring_);
    while (s == nullptr) {  // the SQ is full: submit what is there and take a fresh entry
      io_uring_submit(&ring_);
      s = io_uring_get_sqe(&ring_);
    }
    ++inflight_;
    return s;
  }
  void arm_accept() {
    io_uring_sqe* s = sqe();
    io_uring_prep_accept(s, listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data(s, &accept_op_);
  }
  void cancel_accept() {
    io_uring_sqe* s = sqe();
    io_uring_prep_cancel(s, &accept_op_, 0);
    io_uring_sqe_set_data(s, &cancel_op_);
  }
  void cancel_all(int fd) {
    io_uring_sqe* s = sqe();
    io_uring_prep_cancel_fd(s, fd, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data(s, &cancel_op_);
  }
  void arm_stop() {
    io_uring_sqe* s = sqe();
    io_uring_prep_read(s, stop_fd_.get(), &stop_value_, sizeof stop_value_, 0);
    io_uring_sqe_set_data(s, &stop_op_);
  }
  void arm_read(Conn& c) {
    io_uring_sqe* s = sqe();
    if (c.slot >= 0) {
      io_uring_prep_read_fixed(s, c.fd, buffer(c), kSlotBytes, 0, c.slot);
    } else {
      io_uring_prep_recv(s, c.fd, c.heap.get(), kSlotBytes, 0);
    }
    io_uring_sqe_set_data(s, &c.read_op);
    c.reading = true;
  }
  void arm_write(Conn& c) {
    io_uring_sqe* s = sqe();
    io_uring_prep_send(s, c.fd, c.sending.data() + c.sent, c.sending.size() - c.sent, MSG_NOSIGNAL);
    io_uring_sqe_set_data(s, &c.write_op);
    c.writing = true;
  }
  char* buffer(Conn& c) {
    return c.slot >= 0 ? slots_.get() + static_cast<std::size_t>(c.slot) * kSlotBytes
                       : c.heap.get();
  }

  void loop() {
    bool stopping = false;
    std::chrono::steady_clock::time_point drain_deadline{};
    while (inflight_ > 0) {
      if (stopping) {
        // Everything was shut down and cancelled. A send to a peer that already left can stay
        // in flight (seen in the churn check: a few sends per server, past 2 s); after 200 ms
        // it is left to io_uring_queue_exit, which cancels it.
        if (std::chrono::steady_clock::now() > drain_deadline) break;
        __kernel_timespec ts{0, 100'000'000};
        io_uring_cqe* first = nullptr;
        const int rc = io_uring_submit_and_wait_timeout(&ring_, &first, 1, &ts, nullptr);
        if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) break;
      } else {
        const int rc = io_uring_submit_and_wait(&ring_, 1);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) break;
      }
      io_uring_cqe* cqe = nullptr;
      unsigned head = 0;
      unsigned seen = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        --inflight_;
        auto* op = static_cast<Op*>(io_uring_cqe_get_data(cqe));
        const int res = cqe->res;
        switch (op->kind) {
          case Kind::kStop:
            stopping = true;
            drain_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
            cancel_accept();
            ::shutdown(listener_.get(), SHUT_RDWR);
            for (Conn* c : conns_) {
              c->closing = true;
              ::shutdown(c->fd, SHUT_RDWR);  // completes its pending read and send
              cancel_all(c->fd);
            }
            break;
          case Kind::kCancel:
            break;
          case Kind::kAccept:
            if (res >= 0) {
              if (stopping) {
                ::close(res);
              } else {
                on_accept(res);
              }
            }
            if (!stopping) arm_accept();
            break;
          case Kind::kRead:
            on_read(*op->conn, res, stopping);
            break;
          case Kind::kWrite:
            on_write(*op->conn, res);
            break;
        }
      }
      io_uring_cq_advance(&ring_, seen);
    }
    for (Conn* c : conns_) {
      if (c->fd >= 0) ::close(c->fd);
      c->fd = -1;
    }
  }

  void on_accept(int fd) {
    workloads::io::set_nodelay(fd);
    auto* c = new Conn(fd, protocol_);
    if (!free_slots_.empty()) {
      c->slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      c->heap = std::make_unique<char[]>(kSlotBytes);
    }
    conns_.insert(c);
    arm_read(*c);
  }

  void on_read(Conn& c, int res, bool stopping) {
    c.reading = false;
    if (transient(res) && !c.closing && !stopping) return arm_read(c);
    if (res <= 0 || c.closing || stopping) {
      c.closing = true;  // EOF (half-closed: pending replies still go out) or an error
      return maybe_close(c);
    }
    std::string& out = c.writing ? c.pending : c.sending;
    if (!c.session.feed(buffer(c), static_cast<std::size_t>(res), out)) {
      c.closing = true;
      return maybe_close(c);
    }
    if (!c.writing && !c.sending.empty()) arm_write(c);
    // Backpressure: read again only when no replies wait behind the send in flight.
    if (c.pending.empty()) arm_read(c);
  }

  void on_write(Conn& c, int res) {
    c.writing = false;
    if (transient(res)) return arm_write(c);
    if (res < 0) {  // the peer is gone (EPIPE, ECONNRESET): drop what it would have got
      c.closing = true;
      c.sending.clear();
      c.pending.clear();
      return maybe_close(c);
    }
    c.sent += static_cast<std::size_t>(res);
    if (c.sent < c.sending.size()) return arm_write(c);
    c.sending.clear();
    c.sent = 0;
    if (!c.pending.empty()) {
      c.sending.swap(c.pending);
      arm_write(c);
      if (!c.reading && !c.closing) arm_read(c);
      return;
    }
    if (c.closing) return maybe_close(c);
    if (!c.reading) arm_read(c);
  }

  /// An operation that did not happen and may be started again (not an error of the peer).
  static bool transient(int res) { return res == -EINTR || res == -EAGAIN; }

  void maybe_close(Conn& c) {
    if (c.reading || c.writing) return;
    if (!c.sending.empty() || !c.pending.empty()) {
      if (c.sending.empty()) c.sending.swap(c.pending);
      return arm_write(c);
    }
    ::close(c.fd);
    if (c.slot >= 0) free_slots_.push_back(c.slot);
    conns_.erase(&c);
    delete &c;
  }

  Protocol protocol_;
  std::uint16_t port_ = 0;
  workloads::io::Fd listener_;
  workloads::io::Fd stop_fd_;
  io_uring ring_{};
  bool fixed_ = false;
  std::unique_ptr<char, void (*)(void*)> slots_{nullptr, std::free};
  std::vector<int> free_slots_;      // loop thread only (after construction)
  std::unordered_set<Conn*> conns_;  // loop thread only
  std::uint64_t inflight_ = 0;       // loop thread only (after construction)
  std::uint64_t stop_value_ = 0;
  Op accept_op_{Kind::kAccept, nullptr};
  Op stop_op_{Kind::kStop, nullptr};
  Op cancel_op_{Kind::kCancel, nullptr};
  std::thread thread_;
};

}  // namespace cpb::patterns::proactor
