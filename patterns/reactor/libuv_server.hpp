// SPDX-License-Identifier: Apache-2.0
/// @file
/// `libuv`: the baseline (Node.js's loop). A thin adapter: one uv_loop on one thread, a
/// uv_tcp listener on our listening socket (uv_tcp_open), uv_read_start with a loop-wide
/// 64 KiB buffer, replies by uv_try_write and uv_write for the rest, uv_shutdown after a
/// peer's EOF. Stop: uv_async_send, then every handle is closed and the loop runs dry.
///
/// Progress: blocking. Memory ordering: none of its own (uv_async_send is libuv's one
/// thread-safe call).
/// When to use: a portable event loop with timers, DNS, files and processes in one library.
/// Reference: libuv design overview, https://docs.libuv.org/en/v1.x/design.html
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/reactor/server.hpp"

#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <uv.h>

namespace cpb::patterns::reactor {

class LibuvServer {
 public:
  static constexpr std::string_view kName = "libuv";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  explicit LibuvServer(const ServerOptions& o) : protocol_(o.protocol) {
    workloads::io::Fd l = workloads::io::listen_tcp(o.port, false);
    port_ = workloads::io::local_port(l.get());
    check(uv_loop_init(&loop_), "uv_loop_init");
    loop_.data = this;
    check(uv_tcp_init(&loop_, &server_), "uv_tcp_init");
    server_.data = this;
    check(uv_tcp_open(&server_, l.release()), "uv_tcp_open");
    check(uv_listen(reinterpret_cast<uv_stream_t*>(&server_), SOMAXCONN, on_connection),
          "uv_listen");
    check(uv_async_init(&loop_, &stop_, on_stop), "uv_async_init");
    stop_.data = this;
    thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  }
  ~LibuvServer() {
    uv_async_send(&stop_);
    thread_.join();
    uv_loop_close(&loop_);
  }
  LibuvServer(const LibuvServer&) = delete;
  LibuvServer& operator=(const LibuvServer&) = delete;
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  struct Conn {
    uv_tcp_t h;
    workloads::io::Session session;
    explicit Conn(workloads::io::Protocol p) : h{}, session(p) {}
  };
  struct Write {
    uv_write_t req;
    std::string data;
  };

  static void check(int rc, const char* what) {
    if (rc != 0) throw std::runtime_error(std::string(what) + ": " + uv_strerror(rc));
  }
  static LibuvServer* self(uv_handle_t* h) { return static_cast<LibuvServer*>(h->loop->data); }

  static void on_connection(uv_stream_t* server, int status) {
    if (status < 0) return;
    auto* s = static_cast<LibuvServer*>(server->data);
    auto* c = new Conn(s->protocol_);
    uv_tcp_init(&s->loop_, &c->h);
    c->h.data = c;
    if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->h)) != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&c->h), on_closed);
      return;
    }
    uv_tcp_nodelay(&c->h, 1);
    uv_read_start(reinterpret_cast<uv_stream_t*>(&c->h), on_alloc, on_read);
  }
  static void on_alloc(uv_handle_t* h, std::size_t /*hint*/, uv_buf_t* buf) {
    LibuvServer* s = self(h);
    *buf = uv_buf_init(s->buf_, sizeof s->buf_);
  }
  static void on_read(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
    auto* c = static_cast<Conn*>(stream->data);
    if (n > 0) {
      LibuvServer* s = self(reinterpret_cast<uv_handle_t*>(stream));
      s->out_.clear();
      if (!c->session.feed(buf->base, static_cast<std::size_t>(n), s->out_)) {
        uv_close(reinterpret_cast<uv_handle_t*>(stream), on_closed);
        return;
      }
      if (s->out_.empty()) return;
      uv_buf_t b = uv_buf_init(s->out_.data(), static_cast<unsigned>(s->out_.size()));
      const int done = uv_try_write(stream, &b, 1);
      const std::size_t sent = done > 0 ? static_cast<std::size_t>(done) : 0;
      if (sent == s->out_.size()) return;
      if (done < 0 && done != UV_EAGAIN) {
        uv_close(reinterpret_cast<uv_handle_t*>(stream), on_closed);
        return;
      }
      auto* w = new Write{{}, s->out_.substr(sent)};
      uv_buf_t rest = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
      w->req.data = w;
      uv_write(&w->req, stream, &rest, 1,
               [](uv_write_t* req, int /*status*/) { delete static_cast<Write*>(req->data); });
      return;
    }
    if (n == 0) return;  // EAGAIN
    if (n == UV_EOF) {
      // Half-closed peer: queued writes go out first, then the close.
      auto* req = new uv_shutdown_t;
      if (uv_shutdown(req, stream, [](uv_shutdown_t* r, int /*status*/) {
            auto* h = reinterpret_cast<uv_handle_t*>(r->handle);
            if (uv_is_closing(h) == 0) uv_close(h, on_closed);  // else on_stop closed it
            delete r;
          }) == 0) {
        return;
      }
      delete req;
    }
    uv_close(reinterpret_cast<uv_handle_t*>(stream), on_closed);
  }
  static void on_closed(uv_handle_t* h) {
    if (h->data != nullptr) delete static_cast<Conn*>(h->data);
  }
  static void on_stop(uv_async_t* a) {
    uv_walk(
        a->loop,
        [](uv_handle_t* h, void* /*arg*/) {
          if (uv_is_closing(h) == 0) {
            const bool conn = h->type == UV_TCP && h->data != h->loop->data;
            uv_close(h, conn ? on_closed : nullptr);
          }
        },
        nullptr);
  }

  workloads::io::Protocol protocol_;
  std::uint16_t port_ = 0;
  uv_loop_t loop_{};
  uv_tcp_t server_{};
  uv_async_t stop_{};
  char buf_[64 * 1024];  // loop thread only
  std::string out_;      // loop thread only
  std::thread thread_;
};

}  // namespace cpb::patterns::reactor
