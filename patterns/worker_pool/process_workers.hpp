// SPDX-License-Identifier: Apache-2.0
/// @file
/// Workers as processes on the same machine: the constructor forks `n` children, each joined to
/// the parent by a Unix socket pair (a bidirectional pipe), before it starts any thread. A child
/// runs one simple loop and nothing else: read a 16-byte task (cost, id), spin for the cost,
/// write back the id and a checksum of (id, cost); at end of file it `_exit`s. It allocates
/// nothing, takes no lock and calls only `read`, `send` and `_exit`, so forking from a process
/// that has other threads is safe. The parent holds the queues (the same `Dispatcher` as the
/// threads) and one feeder thread per child: `next(w)`, send, wait for the reply, `finish`. A
/// child thus has one task in flight, and the dispatch policy (priority included) still decides
/// the order. The checksum proves that the child ran the task it was sent; a child that dies
/// fails its tasks (checksum 0) instead of hanging the pool.
///
/// Shutdown: the destructor lets the feeders drain the queues, closes the sockets (each child
/// reads end of file and exits) and reaps every child with `waitpid`: no zombies, also when the
/// pool is destroyed by an exception or a failed test unwinding. A child closes every inherited
/// descriptor but its own socket, so the children of one pool never keep another pool's (or the
/// harness's) pipes open.
///
/// Progress: blocking (the dispatcher's mutex; feeders block in `recv`).
/// Memory ordering: shared state is the dispatcher's (one mutex); a child shares no memory.
/// When to use: isolation (a crashing or leaking task takes down one worker process, not the
/// service), tasks that are coarse against the ~10–30 µs of an IPC round trip.
/// When not to use: fine-grained tasks; tasks that need the caller's memory (only data crosses).
/// Reference: Stevens and Rago, "Advanced Programming in the UNIX Environment", 3rd ed. (2013),
/// §8.3 (fork), §15.2 (pipes), §17.2 (socketpair); the Apache prefork MPM.
#pragma once

#include "harness/bench/meter.hpp"
#include "harness/core/progress.hpp"
#include "patterns/worker_pool/dispatcher.hpp"
#include "patterns/worker_pool/task.hpp"
#include "workloads/workload.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

namespace cpb::patterns::worker_pool {

namespace detail {

/// What crosses the socket: the task as data, and the child's answer.
struct Request {
  std::int64_t cost_ns;
  std::uint64_t id;
};
struct Reply {
  std::uint64_t id;
  std::uint64_t checksum;
};

/// Reads exactly `n` bytes; false at end of file or on an error.
inline bool read_full(int fd, void* buf, std::size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

/// Writes exactly `n` bytes, without SIGPIPE when the other end is gone; false on an error.
inline bool send_full(int fd, const void* buf, std::size_t n) {
  const auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    const ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

/// The child: keeps `fd` as descriptor 3, closes every other inherited descriptor from 4 up
/// (`max_fd` was read by the parent), then serves tasks until end of file.
[[noreturn]] inline void child_main(int fd, long max_fd) {
  constexpr int kFd = 3;
  if (fd != kFd && ::dup2(fd, kFd) < 0) ::_exit(3);
  bool closed = false;
#if defined(SYS_close_range)
  closed = ::syscall(SYS_close_range, kFd + 1, ~0U, 0) == 0;
#endif
  for (long i = kFd + 1; !closed && i < max_fd; ++i) ::close(static_cast<int>(i));
  for (;;) {
    Request r{};
    if (!read_full(kFd, &r, sizeof r)) ::_exit(0);
    workloads::spin_ns(r.cost_ns);
    const Reply rep{r.id, task_checksum(r.id, r.cost_ns)};
    if (!send_full(kFd, &rep, sizeof rep)) ::_exit(1);
  }
}

}  // namespace detail

template <class Policy>
class ProcessWorkers {
 public:
  static constexpr std::string_view kName = Policy::kProcesses;
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr Dispatch kDispatch = Policy::kDispatch;

  /// Forks `workers` children, then starts one feeder thread per child.
  /// @throws std::invalid_argument if `workers` is 0; std::system_error if a fork fails (the
  /// children already forked are reaped first).
  explicit ProcessWorkers(std::size_t workers) : d_(workers) {
    (void)workloads::spin_rate();  // calibrated here, before fork: the children only read it
    children_.reserve(workers);
    try {
      for (std::size_t w = 0; w < workers; ++w) spawn();
      feeders_.reserve(workers);
      for (std::size_t w = 0; w < workers; ++w) {
        feeders_.emplace_back([this, w, fd = children_[w].fd] { feed(w, fd); });
      }
    } catch (...) {
      shutdown();
      throw;
    }
  }

  /// Runs every queued task, ends the children and reaps them.
  ~ProcessWorkers() { shutdown(); }

  ProcessWorkers(const ProcessWorkers&) = delete;
  ProcessWorkers& operator=(const ProcessWorkers&) = delete;

  void submit(const Task& t) { d_.submit(t); }
  void wait_below(std::size_t n) { d_.wait_below(n); }
  void wait_idle() { d_.wait_below(1); }
  void collect(std::vector<Done>& out) { d_.collect(out); }

  /// The children's process ids, worker by worker (for tests: kill one, check the reaping).
  [[nodiscard]] std::vector<pid_t> pids() const {
    std::vector<pid_t> v;
    for (const auto& c : children_) v.push_back(c.pid);
    return v;
  }

 private:
  struct Child {
    pid_t pid = -1;
    int fd = -1;  // the parent's end of the socket pair
  };

  void spawn() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      throw std::system_error(errno, std::generic_category(), "socketpair");
    }
    const long max_fd = ::sysconf(_SC_OPEN_MAX) > 0 ? ::sysconf(_SC_OPEN_MAX) : 1024;
    const pid_t pid = ::fork();
    if (pid == 0) detail::child_main(sv[1], max_fd);
    const int err = errno;
    ::close(sv[1]);
    if (pid < 0) {
      ::close(sv[0]);
      throw std::system_error(err, std::generic_category(), "fork");
    }
    children_.push_back({pid, sv[0]});
  }

  void feed(std::size_t w, int fd) {
    bool alive = true;
    Slot s;
    while (d_.next(w, s)) {
      std::uint64_t sum = 0;
      if (alive) {
        const detail::Request req{s.task.cost_ns, s.task.id};
        detail::Reply rep{};
        alive = detail::send_full(fd, &req, sizeof req) &&
                detail::read_full(fd, &rep, sizeof rep) && rep.id == req.id;
        if (alive) sum = rep.checksum;
      }
      d_.finish(w, Done{s.task.id, sum, s.seq, s.submit_ns, bench::now_ns(),
                        static_cast<std::uint32_t>(w), s.task.priority});
    }
  }

  void shutdown() noexcept {
    d_.stop();
    for (auto& t : feeders_) t.join();
    feeders_.clear();
    for (auto& c : children_) ::close(c.fd);  // the child reads end of file and exits
    for (auto& c : children_) {
      int status = 0;
      while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    children_.clear();
  }

  Dispatcher<Policy> d_;
  std::vector<Child> children_;
  std::vector<std::thread> feeders_;  // last: started after the children exist
};

}  // namespace cpb::patterns::worker_pool
