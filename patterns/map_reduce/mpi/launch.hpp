// SPDX-License-Identifier: Apache-2.0
/// @file
/// How the MPI word count is started, shared by `cpb_map_reduce_mpi --ranks N` (which execs
/// mpirun on itself) and the cpbench fixture (which runs mpirun as a child with pipes): the
/// mpirun command line, and where mpirun and the program are found. No MPI here.
///
/// The command is `mpirun [--allow-run-as-root] --oversubscribe --bind-to none
/// --mca mpi_yield_when_idle 1 -np N [--hostfile F] [$CPB_MPIRUN_ARGS...] PROGRAM ARGS...`:
/// - `--allow-run-as-root` only when the effective uid is 0 (containers, CI): Open MPI refuses
///   to start as root otherwise;
/// - `--oversubscribe`: more ranks than cores (this VM has 2; the scenarios go to 4);
/// - `--bind-to none`: ranks float like the threads of the in-process engines (Open MPI would
///   bind ranks to cores at N ≤ 2, and bind nothing at all once oversubscribed), so rank counts
///   compare with thread counts;
/// - `--mca mpi_yield_when_idle 1`: a rank that waits in a collective yields the CPU between
///   polls instead of spinning (Open MPI turns this on by itself only once `-np` exceeds the
///   slots, not at N = 2 on 2 shared cores, where a waiting rank would spin on the core that a
///   still-mapping rank or the cpbench driver needs);
/// - `CPB_MPIRUN_ARGS` (split at spaces) adds anything else, e.g. `--mca btl self,tcp` or
///   `--mca btl_vader_single_copy_mechanism none` where a container forbids the cross-memory
///   attach that shared-memory transfers use.
/// `CPB_MPIRUN` names the mpirun to use (default: `mpirun` in PATH).
#pragma once

#include <cerrno>
#include <cstdlib>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace cpb::patterns::map_reduce::mpi {

/// `name` if it contains a slash, else its first executable match in PATH; "" when none.
inline std::string find_executable(const std::string& name) {
  const auto runnable = [](const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) return runnable(name) ? name : std::string();
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const std::size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (dir.empty()) dir = ".";
    if (std::string p = dir + "/" + name; runnable(p)) return p;
    if (colon == std::string_view::npos) return {};
    rest.remove_prefix(colon + 1);
  }
}

/// The mpirun to use: $CPB_MPIRUN or `mpirun`, resolved in PATH; "" when missing.
inline std::string mpirun_path() {
  const char* env = std::getenv("CPB_MPIRUN");
  return find_executable(env != nullptr && *env != '\0' ? env : "mpirun");
}

/// Why mpirun cannot be used here, or "".
inline std::string mpirun_missing() {
  if (!mpirun_path().empty()) return {};
  const char* env = std::getenv("CPB_MPIRUN");
  if (env != nullptr && *env != '\0')
    return std::string("CPB_MPIRUN=") + env + " is not executable";
  return "mpirun not found in PATH (install openmpi-bin)";
}

/// The full mpirun command line that runs `program args...` on `ranks` ranks.
inline std::vector<std::string> mpirun_command(const std::string& mpirun, int ranks,
                                               const std::string& hostfile,
                                               const std::string& program,
                                               const std::vector<std::string>& args) {
  std::vector<std::string> cmd{mpirun};
  if (::geteuid() == 0) cmd.emplace_back("--allow-run-as-root");
  cmd.insert(cmd.end(), {"--oversubscribe", "--bind-to", "none", "--mca", "mpi_yield_when_idle",
                         "1", "-np", std::to_string(ranks)});
  if (!hostfile.empty()) cmd.insert(cmd.end(), {"--hostfile", hostfile});
  if (const char* extra = std::getenv("CPB_MPIRUN_ARGS"); extra != nullptr) {
    std::string_view rest = extra;
    while (!rest.empty()) {
      const std::size_t sp = rest.find(' ');
      if (sp != 0) cmd.emplace_back(rest.substr(0, sp));
      if (sp == std::string_view::npos) break;
      rest.remove_prefix(sp + 1);
    }
  }
  cmd.push_back(program);
  cmd.insert(cmd.end(), args.begin(), args.end());
  return cmd;
}

}  // namespace cpb::patterns::map_reduce::mpi
