// SPDX-License-Identifier: Apache-2.0
#include "patterns/map_reduce/mpi/mpi_job.hpp"

#include "patterns/map_reduce/mpi/launch.hpp"
#include "patterns/map_reduce/mpi/wire.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

// Set by patterns/map_reduce/mpi/CMakeLists.txt on this file only.
#ifndef CPB_MAP_REDUCE_MPI_BUILT
#define CPB_MAP_REDUCE_MPI_BUILT 0
#endif
#ifndef CPB_MAP_REDUCE_MPI_BUILD_PATH
#define CPB_MAP_REDUCE_MPI_BUILD_PATH ""
#endif

namespace cpb::patterns::map_reduce::mpi {

namespace {

constexpr const char* kProgram = "cpb_map_reduce_mpi";

std::string self_dir() {
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return {};
  std::string s(exe, static_cast<std::size_t>(n));
  return s.substr(0, s.rfind('/'));
}

}  // namespace

std::string program_path() {
  if (const char* env = std::getenv("CPB_MAP_REDUCE_MPI"); env != nullptr && *env != '\0') {
    return find_executable(env);
  }
  if (std::string p = find_executable(self_dir() + "/" + kProgram); !p.empty()) return p;
  return find_executable(CPB_MAP_REDUCE_MPI_BUILD_PATH);
}

std::string unavailable_reason() {
  if (!CPB_MAP_REDUCE_MPI_BUILT) {
    return "built without MPI: CMake found no MPI (install libopenmpi-dev and reconfigure)";
  }
  if (std::string why = mpirun_missing(); !why.empty()) return why;
  if (program_path().empty()) {
    const char* env = std::getenv("CPB_MAP_REDUCE_MPI");
    return env != nullptr && *env != '\0'
               ? fmt::format("CPB_MAP_REDUCE_MPI={} is not executable", env)
               : fmt::format("{} not found next to this executable ({}) nor at {}", kProgram,
                             self_dir(), CPB_MAP_REDUCE_MPI_BUILD_PATH);
  }
  return {};
}

MpiJob::MpiJob(int ranks) : ranks_(ranks) {
  if (ranks < 1) throw JobError(fmt::format("mpi job: {} ranks (at least 1)", ranks));
  if (std::string why = unavailable_reason(); !why.empty()) throw JobError("mpi job: " + why);
  const std::vector<std::string> cmd =
      mpirun_command(mpirun_path(), ranks, "", program_path(), {"--serve"});
  std::vector<char*> argv;
  for (const std::string& c : cmd) argv.push_back(const_cast<char*>(c.c_str()));
  argv.push_back(nullptr);
  int to_child[2];
  int from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) fail(fmt::format("pipe: {}", std::strerror(errno)));
  if (::pipe2(from_child, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(to_child[0]);
    ::close(to_child[1]);
    fail(fmt::format("pipe: {}", std::strerror(err)));
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    // The child: only async-signal-safe calls until exec.
    ::setsid();
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(to_child[0], 0);
    ::dup2(from_child[1], 1);
    ::dup2(from_child[1], 2);
    ::execv(argv[0], argv.data());
    const char msg[] = "cpb: error cannot exec mpirun\n";
    [[maybe_unused]] const ssize_t w = ::write(1, msg, sizeof msg - 1);
    ::_exit(127);
  }
  const int err = errno;
  ::close(to_child[0]);
  ::close(from_child[1]);
  in_ = to_child[1];
  out_ = from_child[0];
  if (pid_ < 0) {
    ::close(in_);
    ::close(out_);
    in_ = out_ = -1;
    fail(fmt::format("fork: {}", std::strerror(err)));
  }
}

MpiJob::~MpiJob() { stop(); }

void MpiJob::note(const std::string& line) {
  // mpirun frames each message between rules of dashes; the line after a rule is its headline
  // ("mpirun detected that one or more processes exited with non-zero status, ..."), which
  // says more than the rule or the details after it.
  const bool blank = line.find_first_not_of(" \t\r") == std::string::npos;
  const bool rule = !blank && line.find_first_not_of("- \r") == std::string::npos;
  if (rule) {
    in_block_ = !in_block_;  // a rule opens a block or closes one
    after_rule_ = in_block_;
  } else if (!blank) {
    if (after_rule_ || !in_block_) last_other_ = line.substr(0, 200);
    after_rule_ = false;
  }
}

void MpiJob::fail(const std::string& what) {
  std::string msg = fmt::format("mpi job ({} ranks): {}", ranks_, what);
  if (!last_other_.empty()) msg += fmt::format(" (last output: {})", last_other_);
  throw JobError(msg);
}

namespace {

/// write(2) of all of `data` to a pipe whose reader may be gone: EPIPE instead of SIGPIPE (the
/// signal is blocked in this thread for the call, and a pending one consumed). Returns 0 or an
/// errno value.
int write_all_nosigpipe(int fd, std::string_view data) {
  sigset_t pipe_only;
  sigset_t old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  int err = 0;
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (err == EPIPE) {
    const timespec zero{0, 0};
    while (::sigtimedwait(&pipe_only, nullptr, &zero) == SIGPIPE) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return err;
}

}  // namespace

void MpiJob::send(std::string_view line) {
  std::string s(line);
  s += '\n';
  if (const int err = write_all_nosigpipe(in_, s); err != 0) {
    // mpirun is gone: say why, from what it printed last.
    if (err == EPIPE) {
      const auto until = std::chrono::steady_clock::now() + Millis(2000);
      try {
        for (;;) {
          note(next_line(until));
        }
      } catch (const JobError&) {  // end of output, or the deadline
      }
    }
    fail(fmt::format("writing '{}': {}", line, std::strerror(err)));
  }
}

std::string MpiJob::next_line(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (const std::size_t nl = buf_.find('\n'); nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return line;
    }
    const auto left =
        std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) fail("no reply in time");
    pollfd p{out_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1000)));
    if (r < 0 && errno != EINTR) fail(fmt::format("poll: {}", std::strerror(errno)));
    if (r <= 0) continue;
    char chunk[65536];
    const ssize_t n = ::read(out_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(fmt::format("read: {}", std::strerror(errno)));
    if (n == 0) fail("mpirun exited");
    buf_.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string MpiJob::next_reply(Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::string line = next_line(deadline);
    if (line.starts_with(kReplyPrefix)) {
      line.erase(0, kReplyPrefix.size());
      if (line.starts_with("error ")) fail(line.substr(6));
      return line;
    }
    note(line);
  }
}

std::string MpiJob::request(std::string_view line, Millis timeout) {
  send(line);
  return next_reply(timeout);
}

namespace {

std::uint64_t parse_u64(std::string_view s, int base, bool& ok) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  ok = ok && ec == std::errc() && p == s.data() + s.size() && !s.empty();
  return v;
}

}  // namespace

std::vector<pid_t> MpiJob::load(std::uint64_t words, std::uint64_t docs, std::uint64_t seed,
                                Millis timeout) {
  const std::string r = request(fmt::format("load {} {} {}", words, docs, seed), timeout);
  if (!r.starts_with("loaded ")) fail(fmt::format("unexpected reply to load: '{}'", r));
  std::vector<pid_t> pids;
  bool ok = true;
  std::string_view rest = std::string_view(r).substr(7);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    pids.push_back(static_cast<pid_t>(parse_u64(rest.substr(0, comma), 10, ok)));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (!ok || pids.size() != static_cast<std::size_t>(ranks_)) {
    fail(fmt::format("unexpected reply to load: '{}'", r));
  }
  return pids;
}

MpiJob::Result MpiJob::run(Millis timeout) {
  const std::string r = request("run", timeout);
  // "ok <keys> <checksum hex>"
  const std::size_t sp = r.find(' ', 3);
  bool ok = r.starts_with("ok ") && sp != std::string::npos;
  Result res;
  if (ok) {
    res.keys = parse_u64(std::string_view(r).substr(3, sp - 3), 10, ok);
    res.checksum = parse_u64(std::string_view(r).substr(sp + 1), 16, ok);
  }
  if (!ok) fail(fmt::format("unexpected reply to run: '{}'", r));
  return res;
}

std::vector<std::pair<std::string, std::uint64_t>> MpiJob::dump(Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string head = request("dump", timeout);
  bool ok = head.starts_with("dump ");
  const std::uint64_t n = ok ? parse_u64(std::string_view(head).substr(5), 10, ok) : 0;
  if (!ok) fail(fmt::format("unexpected reply to dump: '{}'", head));
  std::vector<std::pair<std::string, std::uint64_t>> out;
  out.reserve(n);
  for (;;) {
    const std::string line = next_line(deadline);
    if (line.starts_with(kReplyPrefix)) {
      if (line.substr(kReplyPrefix.size()) != "end") fail(fmt::format("dump ended by '{}'", line));
      break;
    }
    const std::size_t sp = line.find(' ');
    if (sp == std::string::npos) {
      note(line);
      continue;  // not a pair: MPI's own output
    }
    const std::uint64_t c = parse_u64(std::string_view(line).substr(sp + 1), 10, ok);
    if (!ok) fail(fmt::format("bad dump line '{}'", line));
    out.emplace_back(line.substr(0, sp), c);
  }
  if (out.size() != n) fail(fmt::format("dump announced {} keys and sent {}", n, out.size()));
  return out;
}

void MpiJob::stop() {
  if (pid_ <= 0) return;
  if (in_ >= 0) {
    write_all_nosigpipe(in_, "quit\n");
    ::close(in_);  // end of input: rank 0 quits too
    in_ = -1;
  }
  const auto wait_for = [&](Millis grace) {
    const auto until = std::chrono::steady_clock::now() + grace;
    while (true) {
      // WNOWAIT: mpirun stays a zombie, so its pid (the group's id) cannot be reused before
      // the group is signalled below.
      siginfo_t info{};
      const int r = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
      if ((r == 0 && info.si_pid == pid_) || (r < 0 && errno == ECHILD)) return true;
      if (std::chrono::steady_clock::now() >= until) return false;
      // Drain the output so that mpirun never blocks on a full pipe while it exits.
      char sink[4096];
      pollfd p{out_, POLLIN, 0};
      if (out_ >= 0 && ::poll(&p, 1, 20) > 0) {
        if (::read(out_, sink, sizeof sink) == 0) {
          std::this_thread::sleep_for(Millis(5));
        }
      } else {
        std::this_thread::sleep_for(Millis(5));
      }
    }
  };
  bool gone = wait_for(Millis(5000));
  // The group may still hold ranks (or mpirun, if it hung): terminate, then kill, all of it.
  ::kill(-pid_, SIGTERM);
  if (!gone) gone = wait_for(Millis(2000));
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  if (out_ >= 0) ::close(out_);
  out_ = -1;
  pid_ = -1;
}

}  // namespace cpb::patterns::map_reduce::mpi
