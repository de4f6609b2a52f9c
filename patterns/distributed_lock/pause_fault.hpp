// SPDX-License-Identifier: Apache-2.0
/// @file
/// The pause fault (Kleppmann's GC-pause case, reproduced with SIGSTOP), decisive in one run
/// (distributed-anchors, implications §5):
///   1. holder A, in a forked child process with its own client, acquires the lock (token tA)
///      and writes once to the protected resource (the store lives in the parent; A's writes
///      travel over a pipe, as to a remote service);
///   2. the parent SIGSTOPs A: every thread of A stops, so its lease is not renewed;
///   3. client B in the parent acquires the lock (it must wait for A's lease to run out: that
///      wait is the unavailability), writes with tB > tA and releases;
///   4. the parent SIGCONTs A, which still believes it holds the lock: it writes with tA, then
///      releases (which reports that the lock was no longer held).
/// The fenced store rejects A's second write (tA < tB): 0 violations. The unfenced store
/// accepts it: A's accepted writes interleave with B's, and the checker names the overlap.
#pragma once

#include "patterns/distributed_lock/fenced_store.hpp"
#include "patterns/distributed_lock/lock.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cpb::patterns::distributed_lock {

struct PauseOptions {
  Millis ttl{1000};            ///< the holders' lease
  Millis step_timeout{20000};  ///< the longest any step may take before the run is an error
  std::string lock = "pause";  ///< the lock's name
};

struct PauseResult {
  History history;
  Safety safety;
  std::uint64_t unavailable_ns = 0;  ///< from A's pause to B's grant: no holder could progress
  bool a_release_ok = false;         ///< what A's release said after the pause
  bool a_second_write_accepted = false;
};

namespace detail {

/// Reads one '\n'-terminated line from `fd` within `timeout`; throws ServerError otherwise.
inline std::string read_line(int fd, std::string& buf, Millis timeout, std::string_view what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (const auto nl = buf.find('\n'); nl != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      return line;
    }
    const auto left =
        std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) == 0) {
      throw ServerError(
          fmt::format("pause fault: {}: no answer within {} ms", what, timeout.count()));
    }
    char tmp[512];
    const ssize_t n = read(fd, tmp, sizeof tmp);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw ServerError(fmt::format("pause fault: {}: the holder process died", what));
    buf.append(tmp, static_cast<std::size_t>(n));
  }
}

inline void write_line(int fd, const std::string& line) {
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent is gone: nothing to report to
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// The holder's side, in the child: acquire, write, wait for "go", write, release.
template <LockClient L>
[[noreturn]] void holder(const typename L::Server& server, const PauseOptions& opt, int out,
                         int in) {
  int code = 0;
  try {
    LockOptions lo;
    lo.ttl = opt.ttl;
    L client(server, lo);
    const std::uint64_t invoked = steady_ns();
    const Grant g = client.acquire(opt.lock);
    write_line(out, fmt::format("G {} {} {}\n", g.token, invoked, steady_ns()));
    write_line(out, fmt::format("W {}\n", g.token));
    char go = 0;
    while (read(in, &go, 1) < 0 && errno == EINTR) {
    }
    write_line(out, fmt::format("W {}\n", g.token));  // it still believes it holds the lock
    const bool ok = client.release(g);
    write_line(out, fmt::format("R {} {}\n", ok ? 1 : 0, steady_ns()));
  } catch (const std::exception& e) {
    write_line(out, fmt::format("E {}\n", e.what()));
    code = 1;
  }
  _exit(code);
}

}  // namespace detail

/// Runs the pause fault against `server` (see the file comment). Throws ServerError when a
/// step fails or hangs; the child is killed and reaped in every case.
template <LockClient L>
PauseResult pause_holder(const typename L::Server& server, const PauseOptions& opt = {}) {
  int up[2];    // child -> parent: G/W/R/E lines
  int down[2];  // parent -> child: the "go" byte
  if (pipe2(up, O_CLOEXEC) != 0)
    throw ServerError(fmt::format("pause fault: pipe: {}", std::strerror(errno)));
  if (pipe2(down, O_CLOEXEC) != 0) {
    close(up[0]);
    close(up[1]);
    throw ServerError(fmt::format("pause fault: pipe: {}", std::strerror(errno)));
  }
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // no holder outlives a killed harness
    close(up[0]);
    close(down[1]);
    detail::holder<L>(server, opt, up[1], down[0]);
  }
  close(up[1]);
  close(down[0]);
  struct Reaper {  // kills and reaps the child however this function leaves
    pid_t pid;
    int up, down;
    ~Reaper() {
      close(up);
      close(down);
      if (pid > 0) {
        kill(pid, SIGCONT);
        kill(pid, SIGKILL);
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
      }
    }
  } reaper{pid, up[0], down[1]};
  if (pid < 0) throw ServerError(fmt::format("pause fault: fork: {}", std::strerror(errno)));

  FencedStore store(L::kFenced);
  PauseResult res;
  std::string buf;
  auto expect = [&](char kind, std::string_view what) {
    std::string line = detail::read_line(up[0], buf, opt.step_timeout, what);
    if (!line.empty() && line[0] == 'E') {
      throw ServerError(fmt::format("pause fault: the holder failed: {}", line.substr(2)));
    }
    if (line.empty() || line[0] != kind) {
      throw ServerError(fmt::format("pause fault: {}: unexpected '{}'", what, line));
    }
    return line;
  };
  std::int64_t ta = 0;
  unsigned long long inv = 0, got = 0;
  long long tok = 0;
  std::sscanf(expect('G', "holder A acquires").c_str(), "G %lld %llu %llu", &tok, &inv, &got);
  ta = tok;
  const std::uint64_t grant_a = store.granted(0, ta, inv, got);
  expect('W', "holder A writes");
  store.write(grant_a, ta);

  // 2. Pause A past its lease.
  kill(pid, SIGSTOP);
  const std::uint64_t paused = steady_ns();

  // 3. B acquires (after A's lease ran out), writes and releases.
  {
    LockOptions lo;
    lo.ttl = opt.ttl;
    lo.acquire_timeout = opt.step_timeout;
    L b(server, lo);
    const std::uint64_t invoked = steady_ns();
    const Grant g = b.acquire(opt.lock);
    const std::uint64_t granted = steady_ns();
    res.unavailable_ns = granted - paused;
    const std::uint64_t grant_b = store.granted(1, g.token, invoked, granted);
    store.write(grant_b, g.token);
    store.released(grant_b, b.release(g), steady_ns());
  }

  // 4. A resumes and writes with its old token.
  kill(pid, SIGCONT);
  detail::write_line(down[1], "g");
  expect('W', "holder A writes after the pause");
  res.a_second_write_accepted = store.write(grant_a, ta);
  unsigned ok = 0;
  unsigned long long rel = 0;
  std::sscanf(expect('R', "holder A releases").c_str(), "R %u %llu", &ok, &rel);
  res.a_release_ok = ok != 0;
  store.released(grant_a, res.a_release_ok, rel);

  res.history = store.history();
  res.safety = check(res.history);
  return res;
}

}  // namespace cpb::patterns::distributed_lock
