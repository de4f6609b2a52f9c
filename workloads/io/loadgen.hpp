// SPDX-License-Identifier: Apache-2.0
/// @file
/// A loopback TCP load generator (wrk2's method): `connections` client connections to
/// 127.0.0.1:`port`, driven by one epoll loop on the calling thread.
///   closed loop  every connection keeps one request outstanding; a response sends the next.
///   open loop    requests go out at a fixed arrival rate, request i at start + i / rate,
///                round-robin over the connections, pipelined when a connection is still busy.
///                Latency runs from each request's *intended* send time, not from when it went
///                out, so a stalled server is charged for the requests it held back (no
///                coordinated omission; Tene, "How NOT to measure latency"; wrk2).
/// Every response is checked byte for byte (echo: the bytes sent; http: `kHttpResponse`).
/// Every call is bounded in requests and in time (it throws when the deadline passes).
#pragma once

#include "harness/bench/histogram.hpp"
#include "workloads/io/net.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace cpb::workloads::io {

struct LoadOptions {
  std::uint16_t port = 0;
  Protocol protocol = Protocol::kHttp;
  std::size_t connections = 1;
  std::size_t msg_bytes = 64;  ///< echo: bytes per request
};

struct LoadResult {
  std::uint64_t requests = 0;  ///< responses received and verified
  double seconds = 0;
  std::uint64_t late_sends = 0;  ///< open loop: requests sent more than 1 ms after their time
  [[nodiscard]] double requests_per_s() const { return seconds > 0 ? requests / seconds : 0; }
};

class LoadGen {
 public:
  /// Connects every connection (checking the fd budget up front) and waits until all are
  /// established. Throws cpb::UsageError when the fd limit cannot hold them.
  explicit LoadGen(const LoadOptions& o,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~LoadGen();
  LoadGen(const LoadGen&) = delete;
  LoadGen& operator=(const LoadGen&) = delete;

  /// Closed loop until `requests` responses arrived. Throws on a wrong response, a closed
  /// connection or the timeout.
  LoadResult closed(std::uint64_t requests,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Open loop: `requests` requests at `rate_rps` in all; returns when all are answered.
  LoadResult open(std::uint64_t requests, double rate_rps,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// Request latencies (ns) since the last clear.
  [[nodiscard]] const bench::Histogram& latencies() const { return hist_; }
  void clear_latencies() { hist_.clear(); }
  [[nodiscard]] std::uint64_t total_requests() const { return total_; }
  [[nodiscard]] std::uint64_t bytes_verified() const { return bytes_verified_; }
  [[nodiscard]] std::size_t connections() const { return conns_.size(); }

 private:
  struct Conn {
    Fd fd;
    std::string out;  // bytes still to send
    std::size_t out_off = 0;
    bool watching_out = false;
    std::uint64_t sent = 0;              // requests sent
    std::uint64_t recv_bytes = 0;        // response bytes matched
    std::deque<std::uint64_t> intended;  // intended send times of outstanding requests
  };
  void send_request(std::size_t c, std::uint64_t intended_ns);
  void flush(std::size_t c);
  void on_readable(std::size_t c, std::uint64_t now);
  std::size_t poll(int timeout_ms, std::uint64_t now_hint);
  void watch(std::size_t c, bool out);
  [[nodiscard]] char request_byte(std::size_t c, std::uint64_t pos) const;
  [[nodiscard]] char response_byte(std::size_t c, std::uint64_t pos) const;

  LoadOptions o_;
  std::size_t req_len_;
  std::size_t resp_len_;
  Fd ep_;
  Fd timer_;
  std::vector<Conn> conns_;
  std::vector<char> buf_;
  bench::Histogram hist_;
  std::uint64_t completed_ = 0;  // responses in the current call
  std::uint64_t total_ = 0;
  std::uint64_t bytes_verified_ = 0;
  // closed loop: requests still to send in this call (0 in open loop)
  std::uint64_t closed_left_ = 0;
};

}  // namespace cpb::workloads::io
