// SPDX-License-Identifier: Apache-2.0
#include "patterns/distributed_lock/process.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace cpb::patterns::distributed_lock {

TempDir::TempDir(std::string_view prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl =
      fmt::format("{}/{}-XXXXXX", tmp != nullptr && *tmp != 0 ? tmp : "/tmp", prefix);
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw ServerError(fmt::format("{}: cannot create a temporary directory {}: {}", prefix, tmpl,
                                  std::strerror(errno)));
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // best effort: nothing to report from a destructor
}

Process::Process(std::string name, const std::vector<std::string>& argv,
                 const std::string& log_path)
    : name_(std::move(name)) {
  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    throw ServerError(
        fmt::format("{}: cannot open its log {}: {}", name_, log_path, std::strerror(errno)));
  }
  const int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int err_pipe[2];  // the child writes its exec errno here; a successful exec closes it
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(log);
    if (devnull >= 0) close(devnull);
    throw ServerError(fmt::format("{}: pipe: {}", name_, std::strerror(errno)));
  }
  const pid_t parent = getpid();
  std::fflush(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    setsid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before the death signal was set
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(log, 1);
    dup2(log, 2);
    execvp(args[0], args.data());
    const int e = errno;
    [[maybe_unused]] const ssize_t n = write(err_pipe[1], &e, sizeof e);
    _exit(127);
  }
  const int fork_errno = errno;
  close(err_pipe[1]);
  close(log);
  if (devnull >= 0) close(devnull);
  if (pid_ < 0) {
    close(err_pipe[0]);
    throw ServerError(fmt::format("{}: fork: {}", name_, std::strerror(fork_errno)));
  }
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(err_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close(err_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    stop();
    throw ServerError(
        fmt::format("{}: cannot run {}: {}", name_, argv.at(0), std::strerror(child_errno)));
  }
}

Process::~Process() { stop(); }

bool Process::running() {
  if (reaped_) return false;
  const pid_t r = waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) reaped_ = true;
  return !reaped_;
}

void Process::signal_group(int sig) const {
  if (pid_ > 0) kill(-pid_, sig);
}

void Process::stop(Millis grace) {
  if (pid_ <= 0) return;
  // The group outlives its leader when the leader spawned children: signal it even when the
  // leader is gone already (ESRCH once the whole group is gone).
  kill(-pid_, SIGCONT);
  kill(-pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(5));
  }
  kill(-pid_, SIGKILL);
  if (!reaped_) {
    while (waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  pid_ = -1;
}

void Process::kill_group() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGKILL);
  if (!reaped_) {
    while (waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  pid_ = -1;
}

bool process_alive(pid_t pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(stat, line)) return false;
  // pid (comm) state ...: comm may hold spaces and parentheses, so look after the last ')'.
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace

std::uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ServerError(fmt::format("free port: socket: {}", std::strerror(errno)));
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const int e = errno;
    close(fd);
    throw ServerError(fmt::format("free port: bind 127.0.0.1:0: {}", std::strerror(e)));
  }
  close(fd);
  return ntohs(a.sin_port);
}

bool port_in_use(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;  // as servers bind: TIME_WAIT leftovers do not count as in use
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = loopback(port);
  const bool in_use =
      bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == EADDRINUSE;
  close(fd);
  return in_use;
}

Conn::Conn(std::string what, std::uint16_t port, Millis timeout)
    : what_(std::move(what)), timeout_(timeout) {
  fd_.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd_) fail("socket", errno);
  const int one = 1;
  setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a = loopback(port);
  if (connect(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (errno != EINPROGRESS) fail(fmt::format("connect to 127.0.0.1:{}", port), errno);
    pollfd p{fd_.get(), POLLOUT, 0};
    const int r = poll(&p, 1, static_cast<int>(timeout_.count()));
    if (r == 0) fail(fmt::format("connect to 127.0.0.1:{}", port), ETIMEDOUT);
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (r < 0 || err != 0) fail(fmt::format("connect to 127.0.0.1:{}", port), r < 0 ? errno : err);
  }
}

void Conn::fail(std::string_view doing, int err) const {
  throw ServerError(fmt::format("{}: {}: {}", what_, doing, std::strerror(err)));
}

void Conn::send_all(std::string_view bytes) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (!bytes.empty()) {
    const ssize_t n = send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto left =
          std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_.get(), POLLOUT, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) == 0) {
        fail("send", ETIMEDOUT);
      }
      continue;
    }
    fail("send", errno);
  }
}

std::size_t Conn::read_some(std::string& buf) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  char tmp[16384];
  for (;;) {
    const ssize_t n = recv(fd_.get(), tmp, sizeof tmp, 0);
    if (n >= 0) {
      buf.append(tmp, static_cast<std::size_t>(n));
      return static_cast<std::size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) fail("receive", errno);
    const auto left =
        std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_.get(), POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) == 0) {
      fail("receive", ETIMEDOUT);
    }
  }
}

std::string Conn::read_to_eof() {
  std::string out;
  while (read_some(out) > 0) {
  }
  return out;
}

std::string last_log_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) last = line;
  }
  if (last.size() > 160) last = last.substr(0, 157) + "...";
  return last;
}

}  // namespace cpb::patterns::distributed_lock
