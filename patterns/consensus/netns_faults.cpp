// SPDX-License-Identifier: Apache-2.0
#include "patterns/consensus/netns_faults.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sched.h>
#include <spawn.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace cpb::patterns::consensus {

namespace dl = distributed_lock;

namespace {

bool executable(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

/// The last non-empty line of `text`, for one-line reasons.
std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  }
  return last.empty() ? "no output" : last;
}

/// True when CAP_SYS_ADMIN is in this process's effective set.
bool cap_sys_admin() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      constexpr int kCapSysAdmin = 21;  // linux/capability.h
      return (std::strtoull(line.c_str() + 7, nullptr, 16) >> kCapSysAdmin & 1U) != 0;
    }
  }
  return false;
}

std::string ns_of(const std::string& proc) {
  char buf[64] = {};
  const ssize_t n = readlink((proc + "/ns/net").c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
}

}  // namespace

std::string find_binary(const std::string& name, const std::vector<std::string>& extra) {
  std::vector<std::string> dirs;
  const char* path = std::getenv("PATH");
  std::istringstream in(path != nullptr ? path : "");
  for (std::string d; std::getline(in, d, ':');) {
    if (!d.empty()) dirs.push_back(d);
  }
  dirs.insert(dirs.end(), extra.begin(), extra.end());
  for (const auto& d : dirs) {
    if (executable(d + "/" + name)) return d + "/" + name;
  }
  return "";
}

std::string iptables_binary() {
  if (const char* e = std::getenv("CPB_IPTABLES"); e != nullptr && *e != '\0') {
    return executable(e) ? e : "";
  }
  return find_binary("iptables", {"/usr/sbin", "/sbin"});
}

int run_command(const std::vector<std::string>& argv, std::string& output) {
  output.clear();
  int fds[2];
  if (argv.empty() || pipe2(fds, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    output = fmt::format("cannot run {}: {}", argv[0], std::strerror(rc));
    return -1;
  }
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      output.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string netns_faults_unavailable() {
  const std::string unshare = find_binary("unshare");
  if (unshare.empty()) return "no unshare binary on PATH (util-linux)";
  const std::string ip = find_binary("ip", {"/usr/sbin", "/sbin"});
  if (ip.empty()) return "no ip binary (iproute2)";
  const std::string sh = find_binary("sh");
  if (sh.empty()) return "no sh on PATH";
  if (const char* e = std::getenv("CPB_IPTABLES"); e != nullptr && *e != '\0' && !executable(e)) {
    return fmt::format("CPB_IPTABLES={} is not an executable file", e);
  }
  const std::string iptables = iptables_binary();
  if (iptables.empty()) return "no iptables binary (install iptables, or set CPB_IPTABLES)";
  if (!cap_sys_admin()) {
    return "no CAP_SYS_ADMIN (needed to move the harness into the namespace; run as root)";
  }
  std::string out;
  if (run_command({unshare, "-rn", sh, "-c", "\"$0\" link set lo up", ip}, out) != 0) {
    return fmt::format("unshare -rn with lo up failed (user or network namespaces are off?): {}",
                       last_line(out));
  }
  if (run_command(
          {unshare, "-rn", sh, "-c",
           "\"$0\" link set lo up && \"$1\" -A INPUT -p tcp --dport 1 -j DROP", ip, iptables},
          out) != 0) {
    return fmt::format("iptables in a fresh network namespace failed: {}", last_line(out));
  }
  return "";
}

std::string netem_unavailable() {
  const std::string unshare = find_binary("unshare");
  const std::string ip = find_binary("ip", {"/usr/sbin", "/sbin"});
  const std::string tc = find_binary("tc", {"/usr/sbin", "/sbin"});
  const std::string sh = find_binary("sh");
  if (unshare.empty() || ip.empty() || sh.empty()) return "no unshare, ip or sh binary";
  if (tc.empty()) return "no tc binary (iproute2)";
  std::string out;
  if (run_command({unshare, "-rn", sh, "-c",
                   "\"$0\" link set lo up && \"$1\" qdisc add dev lo root netem delay 1ms", ip, tc},
                  out) != 0) {
    return fmt::format("tc netem in a fresh network namespace failed: {}", last_line(out));
  }
  return "";
}

NetNamespace::NetNamespace() : dir_("cpb-netns") {
  const std::string unshare = find_binary("unshare");
  const std::string ip = find_binary("ip", {"/usr/sbin", "/sbin"});
  const std::string sh = find_binary("sh");
  if (unshare.empty() || ip.empty() || sh.empty()) {
    throw dl::ServerError("netns: no unshare, ip or sh binary");
  }
  const std::string log = dir_.path() + "/holder.log";
  holder_ = std::make_unique<dl::Process>(
      "netns",
      std::vector<std::string>{unshare, "-rn", sh, "-c", "\"$0\" link set lo up && exec sleep 3600",
                               ip},
      log);
  // Ready once it is in a namespace of its own and has exec'd sleep (lo is up by then).
  const std::string proc = fmt::format("/proc/{}", holder_->pid());
  const std::string ours = ns_of("/proc/self");
  for (int i = 0; i < 500; ++i) {
    if (!holder_->running()) {
      throw dl::ServerError(
          fmt::format("netns: unshare -rn exited (last log line: {})", dl::last_log_line(log)));
    }
    std::ifstream comm(proc + "/comm");
    std::string name;
    comm >> name;
    const std::string theirs = ns_of(proc);
    if (name == "sleep" && !theirs.empty() && theirs != ours) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw dl::ServerError("netns: the namespace holder was not ready within 5 s");
}

NetNamespace::~NetNamespace() {
  if (holder_) holder_->kill_group();
}

void NetNamespace::enter() const {
  const std::string path = fmt::format("/proc/{}/ns/net", holder_->pid());
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
    const int e = errno;
    if (fd >= 0) close(fd);
    throw dl::ServerError(fmt::format("netns: setns({}): {}", path, std::strerror(e)));
  }
  close(fd);
}

}  // namespace cpb::patterns::consensus
