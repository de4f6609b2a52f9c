// SPDX-License-Identifier: Apache-2.0
/// @file
/// File reads and writes: a scratch file of `bytes`, written and read back in `block`-byte
/// blocks, through the page cache or with O_DIRECT (aligned buffers, bypassing the cache).
/// Where the file system refuses O_DIRECT (tmpfs, overlayfs: open() fails with EINVAL), `open`
/// says so in `FileIo::unsupported()` and nothing crashes; the caller skips that mode.
#pragma once

#include "workloads/io/net.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace cpb::workloads::io {

enum class FileMode : std::uint8_t { kPageCache, kDirect };

class FileIo {
 public:
  /// Creates `dir`/cpbench-io-XXXXXX (deleted on destruction) of `bytes` (a multiple of
  /// `block`, which is a multiple of 4096 for kDirect). Throws std::invalid_argument on bad
  /// sizes, std::system_error when the file cannot be created; a refused O_DIRECT is not an
  /// error: see unsupported().
  FileIo(std::string dir, FileMode mode, std::size_t bytes, std::size_t block);
  ~FileIo();
  FileIo(const FileIo&) = delete;
  FileIo& operator=(const FileIo&) = delete;

  /// Empty when the mode works here, else why not ("O_DIRECT: Invalid argument on /tmp").
  [[nodiscard]] const std::string& unsupported() const { return unsupported_; }
  /// Writes every block (block i holds the byte pattern of i) then fsyncs when `sync`.
  /// Returns the bytes written.
  std::uint64_t write_all(bool sync);
  /// Reads every block back and checks the pattern. Returns the bytes read; throws
  /// std::runtime_error on a mismatch.
  std::uint64_t read_all();
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string unsupported_;
  FileMode mode_;
  std::size_t bytes_;
  std::size_t block_;
  Fd fd_;
  std::unique_ptr<char, void (*)(void*)> buf_;
};

}  // namespace cpb::workloads::io
