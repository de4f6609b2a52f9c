// SPDX-License-Identifier: Apache-2.0
/// @file
/// `cpb_reactor_serve`: runs one server of the reactor or proactor family standalone on
/// 127.0.0.1, so standard load generators (wrk) can drive it:
///   cpb_reactor_serve [--impl NAME] [--protocol http|echo] [--port N] [--connections N]
///                     [--seconds S]
/// It prints `listening on 127.0.0.1:PORT` once it serves, then serves until SIGTERM/SIGINT or
/// S seconds (default 60; bounded so a forgotten server does not live on). `--connections`
/// is checked up front against RLIMIT_NOFILE (one fd per connection). Bad input, a port in
/// use or too many connections: one line on stderr and exit 2, with nothing left running.
#include "harness/core/errors.hpp"
#include "patterns/proactor/proactor.impls.hpp"
#include "patterns/reactor/reactor.impls.hpp"
#include "workloads/io/net.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <limits>
#include <pthread.h>
#include <signal.h>
#include <string>
#include <string_view>

namespace {

using cpb::UsageError;
using cpb::patterns::reactor::ServerOptions;

std::int64_t parse_int(std::string_view flag, const std::string& text, std::int64_t min,
                       std::int64_t max) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || errno != 0 || *end != '\0' || v < min || v > max) {
    throw UsageError(fmt::format("{}: '{}' is not an integer from {} to {}", flag, text, min, max));
  }
  return v;
}

template <class S>
int serve_with(const ServerOptions& o, std::int64_t seconds) {
  if (const std::string why = cpb::patterns::reactor::unavailable<S>(); !why.empty()) {
    throw UsageError(fmt::format("{} is unavailable here: {}", S::kName, why));
  }
  S server(o);
  std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  timespec limit{static_cast<time_t>(seconds), 0};
  while (sigtimedwait(&stop, nullptr, &limit) < 0 && errno == EINTR) {
  }
  return 0;  // the server stops and closes every fd here
}

template <class... S>
int serve(std::string_view impl, const ServerOptions& o, std::int64_t seconds,
          cpb::TypeList<S...> /*list*/) {
  int rc = -1;
  ((rc == -1 && impl == S::kName ? (rc = serve_with<S>(o, seconds)) : 0), ...);
  return rc;
}

/// "a, b, c": the servers of a list, each name after `prefix`.
template <class... S>
std::string names(cpb::TypeList<S...> /*list*/, std::string_view prefix) {
  std::string out;
  ((out += fmt::format("{}{}{}", out.empty() ? "" : ", ", prefix, S::kName)), ...);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string impl = "epoll_reactor";
    ServerOptions o;
    std::int64_t seconds = 60;
    std::int64_t connections = 0;
    for (int i = 1; i < argc; ++i) {
      const std::string_view flag = argv[i];
      if (i + 1 >= argc) throw UsageError(fmt::format("{} needs a value", flag));
      const std::string value = argv[++i];
      if (flag == "--impl") {
        impl = value;
      } else if (flag == "--protocol") {
        if (value != "http" && value != "echo") {
          throw UsageError(fmt::format("--protocol: '{}' is not http or echo", value));
        }
        o.protocol = value == "http" ? cpb::workloads::io::Protocol::kHttp
                                     : cpb::workloads::io::Protocol::kEcho;
      } else if (flag == "--port") {
        o.port = static_cast<std::uint16_t>(parse_int(flag, value, 0, 65535));
      } else if (flag == "--connections") {
        connections = parse_int(flag, value, 1, std::numeric_limits<std::int32_t>::max());
      } else if (flag == "--seconds") {
        seconds = parse_int(flag, value, 1, 86400);
      } else {
        throw UsageError(fmt::format("unknown option '{}'", flag));
      }
    }
    if (connections > 0) {
      cpb::workloads::io::ensure_fd_budget(static_cast<std::size_t>(connections),
                                           fmt::format("--connections {}", connections));
    }
    // Block the stop signals in every thread the server starts; sigtimedwait takes them.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    // A name is looked up among the reactors, then the proactors; a `proactor/` or `reactor/`
    // prefix picks the family (both have an `asio`).
    std::string_view name = impl;
    const bool proactor_only = name.starts_with("proactor/");
    if (proactor_only) name.remove_prefix(9);
    if (name.starts_with("reactor/")) name.remove_prefix(8);
    int rc = proactor_only ? -1 : serve(name, o, seconds, cpb::patterns::reactor::Impls{});
    if (rc == -1) rc = serve(name, o, seconds, cpb::patterns::proactor::Impls{});
    if (rc == -1) {
      throw UsageError(fmt::format("--impl: unknown server '{}' (known: {}; {})", impl,
                                   names(cpb::patterns::reactor::Impls{}, ""),
                                   names(cpb::patterns::proactor::Impls{}, "proactor/")));
    }
    return rc;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "cpb_reactor_serve: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cpb_reactor_serve: error: %s\n", e.what());
    return 1;
  }
}
