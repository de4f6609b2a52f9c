// SPDX-License-Identifier: Apache-2.0
#include "workloads/io/file_io.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace cpb::workloads::io {
namespace {

constexpr std::size_t kAlign = 4096;

char pattern(std::size_t block, std::size_t i) {
  return static_cast<char>((block * 31 + i * 7) & 0xff);
}

}  // namespace

FileIo::FileIo(std::string dir, FileMode mode, std::size_t bytes, std::size_t block)
    : mode_(mode), bytes_(bytes), block_(block), buf_(nullptr, std::free) {
  if (block == 0 || bytes == 0 || bytes % block != 0) {
    throw std::invalid_argument("FileIo: bytes must be a positive multiple of block");
  }
  if (mode == FileMode::kDirect && block % kAlign != 0) {
    throw std::invalid_argument("FileIo: O_DIRECT needs a block that is a multiple of 4096");
  }
  std::vector<char> tmpl(dir.begin(), dir.end());
  const std::string_view suffix = "/cpbench-io-XXXXXX";
  tmpl.insert(tmpl.end(), suffix.begin(), suffix.end());
  tmpl.push_back('\0');
  const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "FileIo: mkostemp in " + dir);
  path_ = tmpl.data();
  fd_.reset(fd);
  if (mode == FileMode::kDirect) {
    const int dfd = ::open(path_.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
    if (dfd < 0) {
      unsupported_ = fmt::format("O_DIRECT refused on {}: {}", dir, std::strerror(errno));
    } else {
      fd_.reset(dfd);
    }
  }
  void* p = nullptr;
  if (::posix_memalign(&p, kAlign, block) != 0) throw std::bad_alloc();
  buf_.reset(static_cast<char*>(p));
}

FileIo::~FileIo() {
  fd_.reset();
  if (!path_.empty()) ::unlink(path_.c_str());
}

std::uint64_t FileIo::write_all(bool sync) {
  if (!unsupported_.empty()) throw std::logic_error("FileIo: " + unsupported_);
  std::uint64_t done = 0;
  for (std::size_t b = 0; b < bytes_ / block_; ++b) {
    for (std::size_t i = 0; i < block_; ++i) buf_.get()[i] = pattern(b, i);
    std::size_t off = 0;
    while (off < block_) {
      const ssize_t n =
          ::pwrite(fd_.get(), buf_.get() + off, block_ - off, static_cast<off_t>(b * block_ + off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::system_error(errno, std::generic_category(), "FileIo: pwrite");
      off += static_cast<std::size_t>(n);
    }
    done += block_;
  }
  if (sync && ::fsync(fd_.get()) != 0) {
    throw std::system_error(errno, std::generic_category(), "FileIo: fsync");
  }
  return done;
}

std::uint64_t FileIo::read_all() {
  if (!unsupported_.empty()) throw std::logic_error("FileIo: " + unsupported_);
  std::uint64_t done = 0;
  for (std::size_t b = 0; b < bytes_ / block_; ++b) {
    std::size_t off = 0;
    while (off < block_) {
      const ssize_t n =
          ::pread(fd_.get(), buf_.get() + off, block_ - off, static_cast<off_t>(b * block_ + off));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::system_error(errno, std::generic_category(), "FileIo: pread");
      if (n == 0) throw std::runtime_error("FileIo: the file is shorter than written");
      off += static_cast<std::size_t>(n);
    }
    for (std::size_t i = 0; i < block_; ++i) {
      if (buf_.get()[i] != pattern(b, i)) {
        throw std::runtime_error(fmt::format("FileIo: block {} byte {} differs", b, i));
      }
    }
    done += block_;
  }
  return done;
}

}  // namespace cpb::workloads::io
