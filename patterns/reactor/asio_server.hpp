// SPDX-License-Identifier: Apache-2.0
/// @file
/// `asio`: a baseline, Boost.Asio used as a reactor. One io_context on one thread; each
/// connection waits for readiness (`socket.async_wait(wait_read)`), then reads what is there
/// with non-blocking `read_some` and replies with `async_write`; a peer's EOF closes it after
/// the reply. `stop()` on the io_context, join, and its destruction frees every connection.
///
/// Progress: blocking. Memory ordering: none of its own (io_context::stop is thread-safe).
/// When to use: C++ code that wants Asio's portability and composition (timers, strands,
/// coroutines) on a readiness model.
/// Reference: Boost.Asio, "Reactor-Style Operations",
/// https://www.boost.org/doc/libs/1_74_0/doc/html/boost_asio/overview/core/reactor.html
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

namespace cpb::patterns::reactor {

class AsioServer {
 public:
  static constexpr std::string_view kName = "asio";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  explicit AsioServer(const ServerOptions& o) : protocol_(o.protocol), acceptor_(ctx_) {
    workloads::io::Fd l = workloads::io::listen_tcp(o.port, false);
    port_ = workloads::io::local_port(l.get());
    acceptor_.assign(boost::asio::ip::tcp::v4(), l.release());
    accept();
    thread_ = std::thread([this] { ctx_.run(); });
  }
  ~AsioServer() {
    ctx_.stop();
    thread_.join();
  }
  AsioServer(const AsioServer&) = delete;
  AsioServer& operator=(const AsioServer&) = delete;
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  using tcp = boost::asio::ip::tcp;

  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(tcp::socket s, workloads::io::Protocol p) : socket_(std::move(s)), session_(p) {
      socket_.non_blocking(true);
      socket_.set_option(tcp::no_delay(true));
    }
    void wait() {
      socket_.async_wait(tcp::socket::wait_read,
                         [self = shared_from_this()](const boost::system::error_code& ec) {
                           if (!ec) self->on_readable();
                         });
    }

   private:
    void on_readable() {
      out_.clear();
      bool eof = false;
      for (;;) {
        boost::system::error_code ec;
        const std::size_t n = socket_.read_some(boost::asio::buffer(buf_), ec);
        if (ec == boost::asio::error::would_block) break;
        if (ec) {
          eof = true;  // EOF or reset: reply to what came, then close
          break;
        }
        if (!session_.feed(buf_.data(), n, out_)) return;  // the last reference drops: closed
        if (n < buf_.size()) break;
      }
      if (out_.empty()) {
        if (!eof) wait();
        return;
      }
      boost::asio::async_write(
          socket_, boost::asio::buffer(out_),
          [self = shared_from_this(), eof](const boost::system::error_code& ec, std::size_t /*n*/) {
            if (!ec && !eof) self->wait();
          });
    }
    tcp::socket socket_;
    workloads::io::Session session_;
    std::array<char, 64 * 1024> buf_{};
    std::string out_;
  };

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
      if (!ec) std::make_shared<Session>(std::move(s), protocol_)->wait();
      if (ec != boost::asio::error::operation_aborted) accept();
    });
  }

  workloads::io::Protocol protocol_;
  std::uint16_t port_ = 0;
  boost::asio::io_context ctx_{1};
  tcp::acceptor acceptor_;
  std::thread thread_;
};

}  // namespace cpb::patterns::reactor
