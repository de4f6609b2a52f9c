// SPDX-License-Identifier: Apache-2.0
/// @file
/// `MpiJob`: one persistent `mpirun -np N cpb_map_reduce_mpi --serve` job, driven through the
/// stdin and stdout of its rank 0 (the protocol is in wire.hpp). The cpbench fixture of
/// `mpi_alltoallv` starts one before timing, so that each timed operation is one whole job and
/// mpirun's start-up (about half a second) is not timed.
///
/// mpirun runs as the leader of a new session and process group, with stdout and stderr on one
/// pipe; it gets SIGKILL if the thread that started it dies (PR_SET_PDEATHSIG), and so do the
/// ranks if mpirun dies (the program sets the same on itself). `stop()` (also the destructor)
/// sends `quit`, waits for mpirun to exit, then SIGTERMs and SIGKILLs the whole group: no
/// process is left behind, also when a run fails.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace cpb::patterns::map_reduce::mpi {

/// The job failed: mpirun cannot start, a rank died, a reply is late or malformed. One line.
class JobError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Where `cpb_map_reduce_mpi` is: $CPB_MAP_REDUCE_MPI, else next to the running executable
/// (the build puts it beside cpbench), else the path the build recorded; "" when none exists.
std::string program_path();

/// Why the MPI job cannot run here ("" when it can): no MPI at build time, no mpirun, or no
/// program.
std::string unavailable_reason();

class MpiJob {
 public:
  using Millis = std::chrono::milliseconds;

  /// Starts `ranks` ranks serving jobs. @throws JobError when mpirun cannot be started.
  explicit MpiJob(int ranks);
  ~MpiJob();  ///< stop()
  MpiJob(const MpiJob&) = delete;
  MpiJob& operator=(const MpiJob&) = delete;

  /// Builds the corpus on every rank; returns the ranks' pids. Waits up to `timeout`.
  std::vector<pid_t> load(std::uint64_t words, std::uint64_t docs, std::uint64_t seed,
                          Millis timeout = Millis(120'000));

  struct Result {
    std::uint64_t keys = 0;
    std::uint64_t checksum = 0;
  };
  /// Runs one word-count job over the loaded corpus.
  Result run(Millis timeout = Millis(120'000));

  /// The last job's whole output, sorted by word.
  std::vector<std::pair<std::string, std::uint64_t>> dump(Millis timeout = Millis(120'000));

  /// Sends `line` and returns the first reply line after the `cpb: ` prefix. For tests.
  std::string request(std::string_view line, Millis timeout = Millis(120'000));

  [[nodiscard]] pid_t pid() const { return pid_; }
  /// Quits the job, then terminates its process group; reaps mpirun. Idempotent.
  void stop();

 private:
  void send(std::string_view line);
  /// The next protocol line (prefix removed); other lines are kept as context for errors.
  std::string next_reply(Millis timeout);
  /// The next line of output, whatever it is.
  std::string next_line(std::chrono::steady_clock::time_point deadline);
  [[noreturn]] void fail(const std::string& what);

  int ranks_;
  pid_t pid_ = -1;
  int in_ = -1;   // mpirun's stdin (rank 0's)
  int out_ = -1;  // mpirun's stdout and stderr
  std::string buf_;
  /// Keeps `line` (not a reply) as context for errors.
  void note(const std::string& line);
  std::string last_other_;  // the latest informative line that was not a reply
  bool after_rule_ = false;
  bool in_block_ = false;
};

}  // namespace cpb::patterns::map_reduce::mpi
