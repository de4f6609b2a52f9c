// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `reactor` family: event-driven TCP servers on 127.0.0.1 that speak raw echo and a
/// minimal HTTP/1.1 keep-alive responder (workloads/io/net.hpp), driven by the loopback load
/// generator (workloads/io/loadgen.hpp) over real sockets. The concept is `Server`
/// (server.hpp); the fixtures here are shared with the `proactor` family.
///
/// Scenarios (one driver thread runs the load generator; the server owns its loop threads):
///   echo, http   closed loop at `connections` (1, 64, 1024): requests/s (= items/s) and the
///                request latency percentiles as counters;
///   http_open    open loop at `rate_rps` over 64 connections: latency from each request's
///                intended send time (no coordinated omission) in counters lat_p50_ns,
///                lat_p99_ns, lat_p999_ns, lat_max_ns, and `late_sends`.
/// `latency_ns` in the JSON is the time of one benchmark iteration (a batch of requests); the
/// per-request latencies are the lat_* counters. Every response is checked byte for byte.
/// No model check: the code under test is the kernel's I/O and the libraries' loops, which the
/// model checker cannot run (DESIGN §2); the checks are stress runs under TSan and ASan.
#pragma once

#include "harness/core/errors.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "patterns/reactor/server.hpp"
#include "patterns/reactor/server_testing.hpp"
#include "workloads/io/loadgen.hpp"
#include "workloads/io/net.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cpb::patterns::reactor {

namespace detail {

enum class Loop : std::uint8_t { kClosed, kOpen };

/// Closed-loop requests per iteration: every connection gets a few, at least 256 in all.
inline std::uint64_t closed_batch(std::int64_t connections) {
  return std::max<std::uint64_t>(256, 2 * static_cast<std::uint64_t>(connections));
}

/// A server of type S and a load generator connected to it, for the life of the benchmark
/// process. The server is stopped and every fd closed when the fixture dies.
template <Server S>
class Traffic final : public Fixture {
 public:
  Traffic(Protocol protocol, Loop loop, const Point& p)
      : loop_(loop),
        connections_(p.get("connections")),
        rate_(loop == Loop::kOpen ? p.get("rate_rps") : 0),
        per_iteration_(loop == Loop::kOpen
                           ? static_cast<std::uint64_t>(std::max<std::int64_t>(1, rate_ / 50))
                           : closed_batch(connections_)) {
    if (const std::string why = unavailable<S>(); !why.empty()) {
      throw std::runtime_error(fmt::format("{} is unavailable here: {}", S::kName, why));
    }
    // Both ends of every connection live in this process.
    workloads::io::ensure_fd_budget(2 * static_cast<std::size_t>(connections_) + 16,
                                    fmt::format("connections={}", connections_));
    server_.emplace(ServerOptions{protocol, 0, 0});
    workloads::io::LoadOptions lo;
    lo.port = server_->port();
    lo.protocol = protocol;
    lo.connections = static_cast<std::size_t>(connections_);
    lo.msg_bytes = protocol == Protocol::kEcho ? static_cast<std::size_t>(p.get("msg_bytes")) : 0;
    gen_.emplace(lo);
  }
  ~Traffic() override {
    gen_.reset();  // clients first, so the server sees EOFs, then the server
    server_.reset();
  }

  void run(benchmark::State& state, bench::Meter& meter) override {
    gen_->clear_latencies();
    workloads::io::LoadResult sum;
    meter.begin();
    for (auto _ : state) {
      meter.op(
          [&] {
            const auto r = loop_ == Loop::kClosed
                               ? gen_->closed(per_iteration_)
                               : gen_->open(per_iteration_, static_cast<double>(rate_));
            sum.requests += r.requests;
            sum.seconds += r.seconds;
            sum.late_sends += r.late_sends;
          },
          per_iteration_);
    }
    meter.end();
    const auto& h = gen_->latencies();
    state.counters["requests_per_s"] = sum.requests_per_s();
    state.counters["lat_p50_ns"] = static_cast<double>(h.quantile(0.5));
    state.counters["lat_p99_ns"] = static_cast<double>(h.quantile(0.99));
    state.counters["lat_p999_ns"] = static_cast<double>(h.quantile(0.999));
    state.counters["lat_max_ns"] = static_cast<double>(h.max());
    state.counters["connections"] = static_cast<double>(connections_);
    if (loop_ == Loop::kOpen) {
      state.counters["rate_rps"] = static_cast<double>(rate_);
      state.counters["late_sends"] = static_cast<double>(sum.late_sends);
    }
  }

  std::string verify() override {
    // Every response was compared byte for byte as it arrived (a mismatch throws in run()).
    if (gen_->total_requests() == 0) return "no request was answered";
    return {};
  }

 private:
  Loop loop_;
  std::int64_t connections_;
  std::int64_t rate_;
  std::uint64_t per_iteration_;
  std::optional<S> server_;
  std::optional<workloads::io::LoadGen> gen_;
};

/// The connections axis: at most what the hard fd limit lets one process hold both ends of.
inline ParamAxis connections_axis(std::vector<std::int64_t> values,
                                  std::vector<std::int64_t> quick) {
  const std::int64_t max = workloads::io::max_loopback_connections();
  return {"connections",
          fmt::format("client connections, all open for the whole run (at most {}: both ends "
                      "of each live in this process under RLIMIT_NOFILE)",
                      max),
          std::move(values),
          std::move(quick),
          1,
          max};
}

template <Server S>
std::vector<Scenario> scenarios() {
  std::vector<Scenario> out;
  out.push_back(
      {"echo",
       "closed loop: each connection sends msg_bytes and waits for them to come back; one item "
       "= one request; counters requests_per_s, lat_p50/p99/p999_ns",
       {connections_axis({1, 64, 1024}, {64}),
        {"msg_bytes", "bytes per echo request", {64}, {}, 1, 65536}},
       ThreadAxis::fixed({1}),
       1,
       [](const Point& p) -> std::unique_ptr<Fixture> {
         return std::make_unique<Traffic<S>>(Protocol::kEcho, Loop::kClosed, p);
       }});
  out.push_back(
      {"http",
       "closed loop: each connection sends GET / (HTTP/1.1 keep-alive) and waits for the 200; "
       "one item = one request; counters requests_per_s, lat_p50/p99/p999_ns",
       {connections_axis({1, 64, 1024}, {64})},
       ThreadAxis::fixed({1}),
       1,
       [](const Point& p) -> std::unique_ptr<Fixture> {
         return std::make_unique<Traffic<S>>(Protocol::kHttp, Loop::kClosed, p);
       }});
  out.push_back(
      {"http_open",
       "open loop: GET / at rate_rps in all over the connections, pipelined when a connection "
       "is busy; latency from each request's intended send time (no coordinated omission) in "
       "counters lat_p50/p99/p999/max_ns; late_sends counts requests sent over 1 ms late",
       {connections_axis({64}, {}),
        {"rate_rps", "requests per second in all", {20000}, {5000}, 1, 10'000'000}},
       ThreadAxis::fixed({1}),
       1,
       [](const Point& p) -> std::unique_ptr<Fixture> {
         return std::make_unique<Traffic<S>>(Protocol::kHttp, Loop::kOpen, p);
       }});
  return out;
}

/// The stress check (server_testing.hpp): connections come and go, partial reads and writes,
/// pipelining, half-closed and reset peers; every reply checked; no fd left open.
template <Server S>
Check churn_check() {
  return {"churn",
          "many connections connect and disconnect; requests and replies in random pieces, "
          "pipelined; half-closed and reset peers; every reply checked byte for byte, and no fd "
          "left open after the servers stop",
          [](const CheckConfig& c) {  // `cpbench check` skips an unavailable S
            const auto budget = c.budget.count() > 0 ? c.budget : std::chrono::milliseconds(300);
            return testing::churn<S>(c.seed != 0 ? c.seed : std::random_device{}(), budget);
          },
          {}};
}

}  // namespace detail

template <Server S>
struct Family {
  static constexpr std::string_view kName = "reactor";
  static constexpr std::string_view kDescription =
      "event loops serving echo and HTTP/1.1 keep-alive on loopback TCP: an own epoll loop, a "
      "loop per core with SO_REUSEPORT, libuv, libevent and Asio";
  static constexpr std::string_view kReference = "libuv";
  static std::vector<Scenario> scenarios() { return detail::scenarios<S>(); }
  static std::vector<Check> checks() { return {detail::churn_check<S>()}; }
};

}  // namespace cpb::patterns::reactor
