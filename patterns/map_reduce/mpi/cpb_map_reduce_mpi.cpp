// SPDX-License-Identifier: Apache-2.0
/// @file
/// `cpb_map_reduce_mpi`: the word count of `patterns/map_reduce` over Open MPI ranks, with the
/// shuffle as `MPI_Alltoallv`.
///
/// Every rank builds the same seeded corpus (corpus.hpp; same words, docs and seed give the same
/// text as the in-process job) and runs one job in four steps:
/// 1. map: rank r maps the documents [D·r/N, D·(r+1)/N) through the same `MapSide` (with its
///    combining cache) as `shuffle_engine`, into N partitions, one per rank (`partition_of`);
/// 2. exchange: each partition is packed as records (wire.hpp); `MPI_Alltoall` swaps the byte
///    counts, then `MPI_Alltoallv` moves partition p of every rank to rank p;
/// 3. reduce: rank p merges what it received with the same `reduce_partition`;
/// 4. result: each rank sums the checksum of its keys; `MPI_Reduce` adds the sums and the key
///    counts on rank 0. The output stays distributed, as a MapReduce job's output files do;
///    `dump` (or `--print`) gathers it to rank 0 for a full comparison.
///
/// Usage:
///   cpb_map_reduce_mpi --ranks N [--hostfile F] [job options]   starts mpirun -np N on itself
///   mpirun -np N cpb_map_reduce_mpi [job options]                  the same, by hand
/// Job options: --words W (default 1048576), --docs D (1024), --seed S (the benchmark's),
/// --repeat R (1): run R jobs and print each one's time (the slowest rank's, from a barrier);
/// --print: also print every (word, count), sorted; --serve: run jobs on request (wire.hpp).
/// Bad options get a one-line error and exit code 2.
#include "patterns/map_reduce/corpus.hpp"
#include "patterns/map_reduce/flat_map.hpp"
#include "patterns/map_reduce/jobs.hpp"
#include "patterns/map_reduce/mpi/launch.hpp"
#include "patterns/map_reduce/mpi/wire.hpp"
#include "patterns/map_reduce/shuffle_engine.hpp"

#include <fmt/format.h>
#define OMPI_SKIP_MPICXX 1  // the C API only: the C++ bindings are deprecated and warn
#define MPICH_SKIP_MPICXX 1
#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <mpi.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/prctl.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace mr = cpb::patterns::map_reduce;
namespace mpi = cpb::patterns::map_reduce::mpi;

namespace {

constexpr const char* kProg = "cpb_map_reduce_mpi";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  long long ranks = -1;  // -1: not given
  std::string hostfile;
  std::uint64_t words = 1 << 20;
  std::uint64_t docs = 1024;
  std::uint64_t seed = mpi::kDefaultSeed;
  std::uint64_t repeat = 1;
  bool print = false;
  bool serve = false;
  std::vector<std::string> job_args;  // what the launcher passes on to the ranks
};

template <class T>
T number(std::string_view flag, std::string_view v) {
  T x{};
  int base = 10;
  if (v.starts_with("0x")) {
    v.remove_prefix(2);
    base = 16;
  }
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x, base);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty()) {
    throw UsageError(fmt::format("{}: not a number: '{}'", flag, v));
  }
  return x;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) throw UsageError(fmt::format("{} needs a value", a));
      return argv[++i];
    };
    const auto pass = [&](std::string_view v) {
      o.job_args.emplace_back(a);
      o.job_args.emplace_back(v);
      return v;
    };
    if (a == "--ranks") {
      o.ranks = number<long long>(a, value());
      if (o.ranks < 1)
        throw UsageError(fmt::format("--ranks must be at least 1 (got {})", o.ranks));
    } else if (a == "--hostfile") {
      o.hostfile = value();
    } else if (a == "--words") {
      o.words = number<std::uint64_t>(a, pass(value()));
    } else if (a == "--docs") {
      o.docs = number<std::uint64_t>(a, pass(value()));
      if (o.docs < 1) throw UsageError("--docs must be at least 1");
    } else if (a == "--seed") {
      o.seed = number<std::uint64_t>(a, pass(value()));
    } else if (a == "--repeat") {
      o.repeat = number<std::uint64_t>(a, pass(value()));
      if (o.repeat < 1) throw UsageError("--repeat must be at least 1");
    } else if (a == "--print") {
      o.print = true;
      o.job_args.emplace_back(a);
    } else if (a == "--serve") {
      o.serve = true;
      o.job_args.emplace_back(a);
    } else if (a == "--help" || a == "-h") {
      throw UsageError(
          "usage: cpb_map_reduce_mpi --ranks N [--hostfile F] [--words W] [--docs D] "
          "[--seed S] [--repeat R] [--print] [--serve]");
    } else {
      throw UsageError(fmt::format("unknown option '{}'", a));
    }
  }
  return o;
}

bool under_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr ||
         std::getenv("PMI_RANK") != nullptr;
}

/// `--ranks N`: replaces this process with mpirun running N copies of this program.
int launch(const Options& o) {
  const std::string mpirun = mpi::mpirun_path();
  if (mpirun.empty()) {
    std::fprintf(stderr, "%s: %s\n", kProg, mpi::mpirun_missing().c_str());
    return 2;
  }
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    std::fprintf(stderr, "%s: cannot read /proc/self/exe: %s\n", kProg, std::strerror(errno));
    return 2;
  }
  self[n] = '\0';
  const std::vector<std::string> cmd =
      mpi::mpirun_command(mpirun, static_cast<int>(o.ranks), o.hostfile, self, o.job_args);
  std::string line;
  std::vector<char*> args;
  for (const std::string& c : cmd) {
    line += (line.empty() ? "" : " ") + c;
    args.push_back(const_cast<char*>(c.c_str()));
  }
  args.push_back(nullptr);
  std::fprintf(stderr, "%s: %s\n", kProg, line.c_str());
  ::execv(args[0], args.data());
  std::fprintf(stderr, "%s: cannot run %s: %s\n", kProg, mpirun.c_str(), std::strerror(errno));
  return 2;
}

using Part = mr::Partition<mr::WordCount, true>;

/// One rank's state: the corpus and every buffer of a job, kept (cleared, not freed) from job
/// to job.
class Rank {
 public:
  Rank(int rank, int size)
      : rank_(rank),
        size_(size),
        parts_(static_cast<std::size_t>(size)),
        inputs_(static_cast<std::size_t>(size)),
        scount_(static_cast<std::size_t>(size)),
        sdispl_(static_cast<std::size_t>(size)),
        rcount_(static_cast<std::size_t>(size)),
        rdispl_(static_cast<std::size_t>(size)) {}

  void load(std::uint64_t words, std::uint64_t docs, std::uint64_t seed) {
    out_.clear();
    corpus_.reset();
    corpus_ = std::make_unique<mr::Corpus>(words, docs, seed);
  }

  [[nodiscard]] bool loaded() const { return corpus_ != nullptr; }

  /// Runs one job; returns (keys, checksum) over all ranks on rank 0 (this rank's elsewhere).
  std::pair<std::uint64_t, std::uint64_t> run() {
    const mr::WordCount job;
    const auto np = static_cast<std::size_t>(size_);
    const double t0 = MPI_Wtime();
    // 1. map this rank's share of the documents into one partition per rank.
    for (Part& p : parts_) p.clear();
    const mr::Input in = corpus_->input();
    const std::size_t first = in.size() * static_cast<std::size_t>(rank_) / np;
    const std::size_t last = in.size() * static_cast<std::size_t>(rank_ + 1) / np;
    const auto part = [&](std::size_t p) -> Part& { return parts_[p]; };
    for (std::size_t d = first; d < last; ++d) mapper_.map(job, in[d], np, part);
    mapper_.flush(np, part);
    const double t1 = MPI_Wtime();
    // 2. pack, swap the byte counts, exchange the partitions.
    send_.clear();
    for (std::size_t p = 0; p < np; ++p) {
      const std::size_t at = send_.size();
      for (const auto& r : parts_[p]) mpi::put_record(send_, r.hash, r.value, r.key);
      sdispl_[p] = checked_int(at);
      scount_[p] = checked_int(send_.size() - at);
    }
    MPI_Alltoall(scount_.data(), 1, MPI_INT, rcount_.data(), 1, MPI_INT, MPI_COMM_WORLD);
    std::size_t total = 0;
    for (std::size_t p = 0; p < np; ++p) {
      rdispl_[p] = checked_int(total);
      total += static_cast<std::size_t>(rcount_[p]);
    }
    checked_int(total);
    recv_.resize(total);
    MPI_Alltoallv(send_.data(), scount_.data(), sdispl_.data(), MPI_BYTE, recv_.data(),
                  rcount_.data(), rdispl_.data(), MPI_BYTE, MPI_COMM_WORLD);
    const double t2 = MPI_Wtime();
    // 3. unpack (keys point into recv_) and reduce this rank's partition.
    for (std::size_t s = 0; s < np; ++s) {
      Part& from = inputs_[s];
      from.clear();
      mpi::for_each_record(std::string_view(recv_.data() + rdispl_[s], rcount_[s]),
                           [&](std::uint64_t h, std::uint64_t c, std::string_view w) {
                             from.push_back({w, c, h});
                           });
    }
    out_.clear();
    mr::reduce_partition<mr::WordCount, true>(
        job, np, [&](std::size_t s) -> Part& { return inputs_[s]; }, scratch_, out_);
    const double t3 = MPI_Wtime();
    phases_ = {(t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3,
               static_cast<double>(send_.size())};
    // 4. add up the checksums and key counts on rank 0.
    std::uint64_t local[2] = {out_.size(), mpi::checksum(out_)};
    std::uint64_t global[2] = {0, 0};
    MPI_Reduce(local, global, 2, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    return rank_ == 0 ? std::pair{global[0], global[1]} : std::pair{local[0], local[1]};
  }

  /// The last job's phases on this rank: map, exchange (pack, both all-to-alls), reduce (unpack
  /// and merge), in ms; and the bytes it sent.
  [[nodiscard]] const std::array<double, 4>& phases() const { return phases_; }

  /// Gathers the last job's output on rank 0, sorted by word (empty elsewhere).
  std::vector<std::pair<std::string, std::uint64_t>> gather() {
    std::vector<char> mine;
    for (const auto& [w, c] : out_) mpi::put_record(mine, 0, c, w);
    const int n = checked_int(mine.size());
    std::vector<int> counts(static_cast<std::size_t>(size_));
    MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
    std::vector<int> displs(static_cast<std::size_t>(size_));
    std::size_t total = 0;
    for (std::size_t i = 0; i < counts.size() && rank_ == 0; ++i) {
      displs[i] = checked_int(total);
      total += static_cast<std::size_t>(counts[i]);
    }
    std::vector<char> all(rank_ == 0 ? checked_int(total) : 0);
    MPI_Gatherv(mine.data(), n, MPI_BYTE, all.data(), counts.data(), displs.data(), MPI_BYTE, 0,
                MPI_COMM_WORLD);
    std::vector<std::pair<std::string, std::uint64_t>> out;
    mpi::for_each_record(std::string_view(all.data(), all.size()),
                         [&](std::uint64_t, std::uint64_t c, std::string_view w) {
                           out.emplace_back(std::string(w), c);
                         });
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  static int checked_int(std::size_t n) {
    if (n > static_cast<std::size_t>(INT_MAX)) {
      throw std::runtime_error(
          fmt::format("{} bytes in one exchange: over MPI's int count; use more ranks", n));
    }
    return static_cast<int>(n);
  }

  int rank_;
  int size_;
  std::unique_ptr<mr::Corpus> corpus_;
  mr::MapSide<mr::WordCount, true> mapper_;
  std::vector<Part> parts_;   // [destination rank]
  std::vector<Part> inputs_;  // [source rank], keys into recv_
  std::vector<char> send_, recv_;
  std::vector<int> scount_, sdispl_, rcount_, rdispl_;
  mr::FlatMap<std::string_view, std::uint64_t> scratch_;
  mr::Output<mr::WordCount> out_;  // this rank's partition, keys into recv_
  std::array<double, 4> phases_{};
};

void reply(const std::string& line) {
  std::fputs(std::string(mpi::kReplyPrefix).append(line).append("\n").c_str(), stdout);
  std::fflush(stdout);
}

void print_dump(const std::vector<std::pair<std::string, std::uint64_t>>& all) {
  std::string text = fmt::format("{}dump {}\n", mpi::kReplyPrefix, all.size());
  for (const auto& [w, c] : all) text += fmt::format("{} {}\n", w, c);
  text += fmt::format("{}end\n", mpi::kReplyPrefix);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

/// A command that rank 0 broadcasts.
struct Command {
  enum Op : std::int32_t { kNone, kLoad, kRun, kDump, kQuit } op = kNone;
  std::uint64_t words = 0;
  std::uint64_t docs = 0;
  std::uint64_t seed = 0;
};

/// Rank 0: the next command from stdin; kNone (after answering the error) on a bad one.
Command read_command() {
  std::string line;
  if (!std::getline(std::cin, line)) return {Command::kQuit};
  std::vector<std::string_view> w;
  for (std::string_view rest = line; !rest.empty();) {
    const std::size_t sp = rest.find(' ');
    if (sp != 0) w.push_back(rest.substr(0, sp));
    if (sp == std::string_view::npos) break;
    rest.remove_prefix(sp + 1);
  }
  try {
    if (w.size() == 1 && w[0] == "run") return {Command::kRun};
    if (w.size() == 1 && w[0] == "dump") return {Command::kDump};
    if (w.size() == 1 && w[0] == "quit") return {Command::kQuit};
    if (w.size() == 4 && w[0] == "load") {
      Command c{Command::kLoad, number<std::uint64_t>("words", w[1]),
                number<std::uint64_t>("docs", w[2]), number<std::uint64_t>("seed", w[3])};
      if (c.docs < 1) throw UsageError("docs must be at least 1");
      return c;
    }
    throw UsageError(fmt::format("unknown command '{}'", line));
  } catch (const UsageError& e) {
    reply(fmt::format("error {}", e.what()));
    return {Command::kNone};
  }
}

void serve(Rank& r, int rank, int size) {
  for (;;) {
    Command c;
    if (rank == 0) {
      c = read_command();
      if ((c.op == Command::kRun || c.op == Command::kDump) && !r.loaded()) {
        reply("error no corpus: send 'load <words> <docs> <seed>' first");
        c.op = Command::kNone;
      }
    }
    MPI_Bcast(&c, sizeof c, MPI_BYTE, 0, MPI_COMM_WORLD);
    switch (c.op) {
      case Command::kNone:
        break;
      case Command::kQuit:
        return;
      case Command::kLoad: {
        r.load(c.words, c.docs, c.seed);
        const long long me = ::getpid();
        std::vector<long long> pids(static_cast<std::size_t>(size));
        MPI_Gather(&me, 1, MPI_LONG_LONG, pids.data(), 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
        if (rank == 0) reply(fmt::format("loaded {}", fmt::join(pids, ",")));
        break;
      }
      case Command::kRun: {
        const auto [keys, sum] = r.run();
        if (rank == 0) reply(fmt::format("ok {} {:016x}", keys, sum));
        break;
      }
      case Command::kDump: {
        const auto all = r.gather();
        if (rank == 0) print_dump(all);
        break;
      }
    }
  }
}

void once(Rank& r, const Options& o, int rank, int size) {
  r.load(o.words, o.docs, o.seed);
  std::vector<double> ms;
  std::pair<std::uint64_t, std::uint64_t> result;
  for (std::uint64_t i = 0; i < o.repeat; ++i) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    result = r.run();
    const double mine = (MPI_Wtime() - t0) * 1e3;
    double slowest = 0;
    MPI_Reduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    ms.push_back(slowest);
    std::array<double, 3> phase_max{};
    double sent = 0;
    MPI_Reduce(r.phases().data(), phase_max.data(), 3, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Reduce(&r.phases()[3], &sent, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
      // The slowest rank's time in each phase (each from a different rank, possibly).
      reply(fmt::format("time_ms {:.3f} map {:.3f} exchange {:.3f} reduce {:.3f} bytes_sent {:.0f}",
                        slowest, phase_max[0], phase_max[1], phase_max[2], sent));
    }
  }
  if (rank == 0) {
    reply(fmt::format("ok {} {:016x}", result.first, result.second));
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2];
    reply(fmt::format("summary ranks {} words {} docs {} median_ms {:.3f} words_per_s {:.0f}", size,
                      o.words, o.docs, median, static_cast<double>(o.words) / median * 1e3));
  }
  if (o.print) {
    const auto all = r.gather();
    if (rank == 0) print_dump(all);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
    if (!under_mpirun()) {
      if (o.ranks < 0) throw UsageError("give --ranks N, or start it under mpirun");
      return launch(o);
    }
    if (o.ranks >= 0) throw UsageError("--ranks and --hostfile are for starting mpirun");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n", kProg, e.what());
    return 2;
  }
  // A rank dies with its launcher (mpirun or orted), so a killed job leaves no rank behind.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) return 1;
  MPI_Init(&argc, &argv);
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  try {
    Rank r(rank, size);
    if (o.serve) {
      serve(r, rank, size);
    } else {
      once(r, o, rank, size);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: rank %d: %s\n", kProg, rank, e.what());
    if (rank == 0) reply(fmt::format("error rank 0: {}", e.what()));
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
  return 0;
}
