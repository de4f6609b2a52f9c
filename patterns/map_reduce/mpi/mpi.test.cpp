// SPDX-License-Identifier: Apache-2.0
// The MPI word count against the in-process job: equal output at 1, 2 and 4 ranks (full
// comparison and checksum), the program's launcher and its bad input, and no process left
// behind, also after a rank is killed. Every test starts its own mpirun; without MPI each one
// reports "skipped: <reason>".
#include "patterns/map_reduce/corpus.hpp"
#include "patterns/map_reduce/jobs.hpp"
#include "patterns/map_reduce/mpi/mpi_job.hpp"
#include "patterns/map_reduce/mpi/wire.hpp"
#include "patterns/map_reduce/shuffle_engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace mr = cpb::patterns::map_reduce;
namespace mpi = cpb::patterns::map_reduce::mpi;

namespace {

using Pairs = std::vector<std::pair<std::string, std::uint64_t>>;

#define SKIP_WITHOUT_MPI()                                               \
  if (const std::string why = mpi::unavailable_reason(); !why.empty()) { \
    GTEST_SKIP() << "skipped: " << why;                                  \
  }

/// The in-process job: `shuffle_engine` on 2 threads and 4 partitions, sorted.
Pairs in_process(const mr::Corpus& c) {
  mr::ShuffleEngine<mr::Combiner> engine(2, 4);
  const mr::Output<mr::WordCount> out =
      mr::sorted<mr::WordCount>(engine.run(mr::WordCount{}, c.input()));
  EXPECT_EQ(mr::difference<mr::WordCount>(mr::run_sequential(mr::WordCount{}, c.input()), out), "");
  Pairs p;
  for (const auto& [w, n] : out) p.emplace_back(std::string(w), n);
  return p;
}

/// True when `pid` runs: exists and is not a zombie (a rank whose mpirun died is reparented to
/// PID 1, which may reap it late; it runs no code any more).
bool alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const std::size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z';
}

/// The children of this process that are still there (mpirun would be one).
std::string children() {
  std::string out;
  if (FILE* f = ::popen(("pgrep -a -P " + std::to_string(::getpid())).c_str(), "r")) {
    std::array<char, 512> line{};
    while (std::fgets(line.data(), line.size(), f) != nullptr) {
      // pgrep's own shell is a child too while it runs.
      if (std::string(line.data()).find("pgrep") == std::string::npos) out += line.data();
    }
    ::pclose(f);
  }
  return out;
}

/// Runs `cmd` through the shell; returns its exit code and fills `out` with stdout + stderr.
int shell(const std::string& cmd, std::string& out) {
  out.clear();
  FILE* f = ::popen((cmd + " 2>&1").c_str(), "r");
  if (f == nullptr) return -1;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), f) != nullptr) out += buf.data();
  const int st = ::pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

class MpiRanks : public ::testing::TestWithParam<int> {};

TEST_P(MpiRanks, OutputEqualsInProcess) {
  SKIP_WITHOUT_MPI();
  const int ranks = GetParam();
  std::vector<pid_t> pids;
  pid_t launcher = -1;
  {
    mpi::MpiJob job(ranks);
    launcher = job.pid();
    // Small corpora compared in full, a larger one by key count and checksum; corpora with
    // fewer documents than ranks, and with no words at all.
    struct Case {
      std::uint64_t words, docs, seed;
    };
    for (const Case c : {Case{20'000, 64, mpi::kDefaultSeed}, Case{3'000, 3, 7}, Case{0, 1, 1},
                         Case{1 << 17, 1024, mpi::kDefaultSeed}}) {
      SCOPED_TRACE(::testing::Message() << c.words << " words, " << c.docs << " docs");
      pids = job.load(c.words, c.docs, c.seed);
      ASSERT_EQ(pids.size(), static_cast<std::size_t>(ranks));
      const mr::Corpus corpus(c.words, c.docs, c.seed);
      const Pairs want = in_process(corpus);
      for (int round = 0; round < 2; ++round) {  // buffers are reused between jobs
        const mpi::MpiJob::Result r = job.run();
        EXPECT_EQ(r.keys, want.size());
        EXPECT_EQ(r.checksum, mpi::checksum(want));
      }
      if (c.words <= 20'000) {
        EXPECT_EQ(job.dump(), want);
      }
    }
  }
  // Stopped: mpirun is reaped and no rank is left.
  EXPECT_FALSE(alive(launcher));
  for (const pid_t p : pids) EXPECT_FALSE(alive(p)) << "rank pid " << p;
  EXPECT_EQ(children(), "");
}

INSTANTIATE_TEST_SUITE_P(Ranks, MpiRanks, ::testing::Values(1, 2, 4),
                         [](const auto& p) { return std::to_string(p.param) + "_ranks"; });

TEST(MpiJob, KilledRankFailsTheRunAndLeavesNothing) {
  SKIP_WITHOUT_MPI();
  std::vector<pid_t> pids;
  pid_t launcher = -1;
  {
    mpi::MpiJob job(2);
    launcher = job.pid();
    pids = job.load(1000, 8, 1);
    ASSERT_EQ(pids.size(), 2u);
    ASSERT_EQ(::kill(pids[1], SIGKILL), 0);
    EXPECT_THROW(
        {
          job.run(std::chrono::milliseconds(30'000));
          job.run(std::chrono::milliseconds(30'000));
        },
        mpi::JobError);
  }
  EXPECT_FALSE(alive(launcher));
  for (const pid_t p : pids) EXPECT_FALSE(alive(p)) << "rank pid " << p;
  EXPECT_EQ(children(), "");
}

TEST(MpiJob, BadCommandsAnswerErrors) {
  SKIP_WITHOUT_MPI();
  mpi::MpiJob job(1);
  try {
    job.run();
    ADD_FAILURE() << "run without a corpus did not fail";
  } catch (const mpi::JobError& e) {
    EXPECT_NE(std::string(e.what()).find("no corpus"), std::string::npos) << e.what();
  }
  try {
    job.request("bogus 1");
    ADD_FAILURE() << "an unknown command did not fail";
  } catch (const mpi::JobError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown command 'bogus 1'"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(job.load(10, 0, 1), mpi::JobError);  // 0 documents
  EXPECT_EQ(job.load(10, 1, 1).size(), 1u);         // the job still serves
  EXPECT_EQ(job.run().keys,
            mr::run_sequential(mr::WordCount{}, mr::Corpus(10, 1, 1).input()).size());
}

TEST(MpiJob, ZeroRanksThrow) {
  EXPECT_THROW(mpi::MpiJob(0), mpi::JobError);
  EXPECT_THROW(mpi::MpiJob(-1), mpi::JobError);
}

TEST(Program, LauncherPrintsTheInProcessOutput) {
  SKIP_WITHOUT_MPI();
  std::string out;
  const int rc = shell(
      mpi::program_path() + " --ranks 2 --words 5000 --docs 16 --seed 3 --print " + "--repeat 2",
      out);
  ASSERT_EQ(rc, 0) << out;
  const mr::Corpus corpus(5000, 16, 3);
  const Pairs want = in_process(corpus);
  EXPECT_NE(out.find(fmt::format("cpb: ok {} {:016x}\n", want.size(), mpi::checksum(want))),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("cpb: summary ranks 2 words 5000 docs 16"), std::string::npos) << out;
  std::string dump;
  for (const auto& [w, n] : want) dump += fmt::format("{} {}\n", w, n);
  EXPECT_NE(out.find(fmt::format("cpb: dump {}\n{}cpb: end\n", want.size(), dump)),
            std::string::npos);
  EXPECT_EQ(children(), "");
}

TEST(Program, BadRankCountIsAOneLineErrorAndExit2) {
  if (mpi::program_path().empty()) GTEST_SKIP() << "skipped: " << mpi::unavailable_reason();
  for (const char* bad : {"0", "-1", "-4", "two", ""}) {
    SCOPED_TRACE(bad);
    std::string out;
    EXPECT_EQ(shell(mpi::program_path() + " --ranks '" + bad + "'", out), 2);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_TRUE(out.starts_with("cpb_map_reduce_mpi: --ranks")) << out;
  }
  std::string out;
  EXPECT_EQ(shell(mpi::program_path() + " --words 10", out), 2);  // neither --ranks nor mpirun
  EXPECT_EQ(out, "cpb_map_reduce_mpi: give --ranks N, or start it under mpirun\n");
  EXPECT_EQ(shell(mpi::program_path() + " --ranks 2 --frobnicate", out), 2);
  EXPECT_EQ(out, "cpb_map_reduce_mpi: unknown option '--frobnicate'\n");
  EXPECT_EQ(children(), "");
}

}  // namespace
