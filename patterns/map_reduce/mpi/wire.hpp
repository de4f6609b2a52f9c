// SPDX-License-Identifier: Apache-2.0
/// @file
/// What the MPI word count (`cpb_map_reduce_mpi`) and its driver in cpbench share, without
/// MPI: the result checksum, the records that cross the shuffle as bytes, and the line
/// protocol of the serving job.
///
/// The checksum of an output is the sum, modulo 2^64, of one mixed 64-bit value per (word,
/// count) pair, so it does not depend on the order of the pairs nor on which rank holds them:
/// each rank sums its own partition and one `MPI_Reduce` adds the sums. Together with the
/// number of distinct keys it catches a lost, doubled or miscounted pair with probability
/// 1 − 2^-64 per pair; the tests and `verify()` still compare full outputs at least once.
///
/// A shuffled record is `[u64 hash][u64 count][u32 length][length bytes of the word]`, packed
/// with no padding (memcpy in and out): what `MPI_Alltoallv` carries as MPI_BYTE.
///
/// The serving protocol (`cpb_map_reduce_mpi --serve`): rank 0 reads one command per line on
/// its stdin (which mpirun forwards) and answers on its stdout with lines that start with
/// `cpb: ` (anything else on the stream is mpirun's or MPI's own output):
///   `load <words> <docs> <seed>` → every rank builds the corpus → `cpb: loaded <pids>`
///                                   (the pids of all ranks, comma-separated);
///   `run`  → one word-count job over the loaded corpus → `cpb: ok <keys> <checksum hex>`;
///   `dump` → rank 0 gathers the whole output → `cpb: dump <keys>`, then one `<word> <count>`
///            line per key, then `cpb: end`;
///   `quit` (or end of input) → every rank finalizes MPI and exits 0.
/// An error answers `cpb: error <one line>`.
#pragma once

#include "patterns/map_reduce/jobs.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::map_reduce::mpi {

/// The splitmix64 finalizer.
inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// One (word, count) pair's share of the checksum.
inline std::uint64_t checksum_term(std::string_view word, std::uint64_t count) {
  return mix64(hash_word(word) ^ mix64(count + 0x9e3779b97f4a7c15ULL));
}

/// The order-independent checksum of a word-count output.
template <class Pairs>
std::uint64_t checksum(const Pairs& out) {
  std::uint64_t sum = 0;
  for (const auto& [word, count] : out) sum += checksum_term(word, count);
  return sum;
}

inline constexpr std::size_t kRecordHeader = 8 + 8 + 4;

/// Appends one shuffled record to `buf`.
inline void put_record(std::vector<char>& buf, std::uint64_t hash, std::uint64_t count,
                       std::string_view word) {
  const auto len = static_cast<std::uint32_t>(word.size());
  const std::size_t at = buf.size();
  buf.resize(at + kRecordHeader + len);
  char* p = buf.data() + at;
  std::memcpy(p, &hash, 8);
  std::memcpy(p + 8, &count, 8);
  std::memcpy(p + 16, &len, 4);
  std::memcpy(p + kRecordHeader, word.data(), len);
}

/// Calls `f(hash, count, word)` for every record of `bytes` (the word points into `bytes`).
/// @throws std::runtime_error on a truncated record.
template <class F>
void for_each_record(std::string_view bytes, F&& f) {
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  while (p < end) {
    if (end - p < static_cast<std::ptrdiff_t>(kRecordHeader)) {
      throw std::runtime_error("a shuffled record is truncated (header)");
    }
    std::uint64_t hash = 0;
    std::uint64_t count = 0;
    std::uint32_t len = 0;
    std::memcpy(&hash, p, 8);
    std::memcpy(&count, p + 8, 8);
    std::memcpy(&len, p + 16, 4);
    p += kRecordHeader;
    if (end - p < static_cast<std::ptrdiff_t>(len)) {
      throw std::runtime_error("a shuffled record is truncated (word)");
    }
    f(hash, count, std::string_view(p, len));
    p += len;
  }
}

/// The corpus seed of the benchmark scenarios (`kCorpusSeed` in map_reduce.hpp, asserted equal
/// there): the program's default, so that its output matches the benchmark's.
inline constexpr std::uint64_t kDefaultSeed = 0x5eed'2004'0d5c'a1e5ULL;

/// The prefix of every protocol line rank 0 writes.
inline constexpr std::string_view kReplyPrefix = "cpb: ";

}  // namespace cpb::patterns::map_reduce::mpi
