// SPDX-License-Identifier: Apache-2.0
/// @file
/// `asio`: the baseline, Boost.Asio's proactor-style operations (async_read_some, async_write)
/// on its epoll backend: the completion model emulated over readiness, one io_context on one
/// thread. Each connection reads, replies with async_write, then reads again; a peer's EOF
/// closes it after the reply. `stop()`, join, and the io_context's destruction free every
/// connection.
///
/// Progress: blocking. Memory ordering: none of its own (io_context::stop is thread-safe).
/// When to use: portable completion-style code (the same code runs on IOCP on Windows).
/// Reference: Boost.Asio, "The Proactor Design Pattern: Concurrency Without Threads",
/// https://www.boost.org/doc/libs/1_74_0/doc/html/boost_asio/overview/core/async.html
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/reactor/server.hpp"

#include <boost/asio.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace cpb::patterns::proactor {

class AsioProactor {
 public:
  static constexpr std::string_view kName = "asio";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  explicit AsioProactor(const reactor::ServerOptions& o) : protocol_(o.protocol), acceptor_(ctx_) {
    workloads::io::Fd l = workloads::io::listen_tcp(o.port, false);
    port_ = workloads::io::local_port(l.get());
    acceptor_.assign(boost::asio::ip::tcp::v4(), l.release());
    accept();
    thread_ = std::thread([this] { ctx_.run(); });
  }
  ~AsioProactor() {
    ctx_.stop();
    thread_.join();
  }
  AsioProactor(const AsioProactor&) = delete;
  AsioProactor& operator=(const AsioProactor&) = delete;
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  using tcp = boost::asio::ip::tcp;

  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(tcp::socket s, workloads::io::Protocol p) : socket_(std::move(s)), session_(p) {
      socket_.set_option(tcp::no_delay(true));
    }
    void read() {
      socket_.async_read_some(boost::asio::buffer(buf_),
                              [self = shared_from_this()](const boost::system::error_code& ec,
                                                          std::size_t n) { self->on_read(ec, n); });
    }

   private:
    void on_read(const boost::system::error_code& ec, std::size_t n) {
      if (ec) return;  // EOF or reset; nothing is pending (a reply completes before a read)
      out_.clear();
      if (!session_.feed(buf_.data(), n, out_)) return;
      if (out_.empty()) return read();
      boost::asio::async_write(
          socket_, boost::asio::buffer(out_),
          [self = shared_from_this()](const boost::system::error_code& wec, std::size_t) {
            if (!wec) self->read();
          });
    }
    tcp::socket socket_;
    workloads::io::Session session_;
    std::array<char, 64 * 1024> buf_{};
    std::string out_;
  };

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
      if (!ec) std::make_shared<Session>(std::move(s), protocol_)->read();
      if (ec != boost::asio::error::operation_aborted) accept();
    });
  }

  workloads::io::Protocol protocol_;
  std::uint16_t port_ = 0;
  boost::asio::io_context ctx_{1};
  tcp::acceptor acceptor_;
  std::thread thread_;
};

}  // namespace cpb::patterns::proactor
