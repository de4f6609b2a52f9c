// SPDX-License-Identifier: Apache-2.0
/// @file
/// The plumbing under the server fixtures (servers.hpp): a child process in its own process
/// group that dies with its parent, a temporary directory, free loopback ports, and a blocking
/// TCP connection with a deadline. Nothing here is timed; none of it is on a hot path except
/// `Conn`, which the lock clients use for their requests.
#pragma once

#include "workloads/io/net.hpp"

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace cpb::patterns::distributed_lock {

using Millis = std::chrono::milliseconds;

/// A server (or the client of one) failed: the message is one line that names the server and
/// the cause, e.g. "etcd: never became ready within 20000 ms (last log line: ...)".
class ServerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// A child process running `argv` (argv[0] is looked up in PATH) with stdout and stderr
/// appended to `log_path`. It is the leader of a new session and process group (setsid), so
/// `stop()` reaches everything it spawned, and it is SIGKILLed by the kernel if the thread that
/// started it dies (PR_SET_PDEATHSIG), so a crashed or killed harness leaves no server behind.
/// Start processes from a thread that outlives them (the main thread).
class Process {
 public:
  /// Throws ServerError("<name>: cannot run <argv[0]>: <errno text>") when exec fails.
  Process(std::string name, const std::vector<std::string>& argv, const std::string& log_path);
  ~Process();  ///< stop()
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  /// False once it has exited (reaped here).
  [[nodiscard]] bool running();
  /// SIGCONT (a stopped group ignores SIGTERM) and SIGTERM to the whole group, up to `grace`
  /// for the leader to exit, then SIGKILL to the group; reaps the leader. Idempotent.
  void stop(Millis grace = Millis(3000));
  /// SIGKILL to the whole group at once (the crash fault); reaps the leader.
  void kill_group();
  /// Sends `sig` to the whole process group (SIGSTOP/SIGCONT for the pause fault).
  void signal_group(int sig) const;

 private:
  std::string name_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

/// True when `pid` names a live process that is not a zombie.
bool process_alive(pid_t pid);

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0 and released). Another
/// process can still take it before the server binds it: the fixtures retry on a new port.
std::uint16_t free_port();

/// True when nothing can bind 127.0.0.1:`port` right now (EADDRINUSE).
bool port_in_use(std::uint16_t port);

/// A blocking TCP connection to 127.0.0.1 with one deadline per call. Throws ServerError
/// ("<what>: ...") on a refused connection, a reset, an early close or a timeout.
class Conn {
 public:
  Conn(std::string what, std::uint16_t port, Millis timeout);

  void send_all(std::string_view bytes);
  /// Reads what is there (at least one byte) into `buf`; returns 0 at end of stream.
  std::size_t read_some(std::string& buf);
  /// Reads until end of stream (4-letter words answer and close).
  std::string read_to_eof();
  void set_timeout(Millis t) { timeout_ = t; }
  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  [[noreturn]] void fail(std::string_view doing, int err) const;
  std::string what_;
  workloads::io::Fd fd_;
  Millis timeout_;
};

/// The last non-empty line of a log file (for error messages), at most 160 characters.
std::string last_log_line(const std::string& path);

}  // namespace cpb::patterns::distributed_lock
