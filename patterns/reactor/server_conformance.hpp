// SPDX-License-Identifier: Apache-2.0
/// @file
/// The typed conformance suite of a `Server` (reactor and proactor families): include it in a
/// family's test file and instantiate it with
/// `INSTANTIATE_TYPED_TEST_SUITE_P(Family, ServerConformance, <gtest types>, ImplName)`.
#pragma once

#include "harness/core/errors.hpp"
#include "harness/core/sync.hpp"
#include "patterns/reactor/server.hpp"
#include "patterns/reactor/server_testing.hpp"
#include "workloads/io/loadgen.hpp"

#include <gtest/gtest.h>

#include <string>
#include <sys/socket.h>
#include <vector>

namespace cpb::patterns::reactor::testing {

template <class S>
class ServerConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = unavailable<S>(); !why.empty()) GTEST_SKIP() << why;
  }
};
TYPED_TEST_SUITE_P(ServerConformance);

TYPED_TEST_P(ServerConformance, SatisfiesTheConcept) { static_assert(Server<TypeParam>); }

TYPED_TEST_P(ServerConformance, AnswersHttpByteForByte) {
  TypeParam s(ServerOptions{Protocol::kHttp, 0, 2});
  ASSERT_NE(s.port(), 0);
  Fd c = dial(s.port());
  send_all(c.get(), kHttpRequest);
  EXPECT_EQ(recv_n(c.get(), kHttpResponse.size()), kHttpResponse);
  send_all(c.get(), kHttpRequest);  // keep-alive: the same connection answers again
  EXPECT_EQ(recv_n(c.get(), kHttpResponse.size()), kHttpResponse);
}

TYPED_TEST_P(ServerConformance, AnswersPipelinedRequestsSplitAnywhere) {
  TypeParam s(ServerOptions{Protocol::kHttp, 0, 2});
  Fd c = dial(s.port());
  send_all(c.get(), repeat(kHttpRequest, 10), 3);  // heads split across reads, 3 bytes a send
  EXPECT_EQ(recv_n(c.get(), 10 * kHttpResponse.size(), 7), repeat(kHttpResponse, 10));
}

TYPED_TEST_P(ServerConformance, EchoesALargeMessage) {
  TypeParam s(ServerOptions{Protocol::kEcho, 0, 2});
  Fd c = dial(s.port());
  const std::string msg = pattern(1 << 20, 7);
  std::string got;
  for (std::size_t off = 0; off < msg.size(); off += 1 << 15) {
    send_all(c.get(), std::string_view(msg).substr(off, 1 << 15));
    got += recv_n(c.get(), 1 << 15, 1000);  // partial reads on this side
  }
  EXPECT_TRUE(got == msg) << got.size() << " of " << msg.size() << " bytes came back";
}

TYPED_TEST_P(ServerConformance, HalfClosedPeerGetsItsRepliesThenTheClose) {
  TypeParam s(ServerOptions{Protocol::kHttp, 0, 2});
  Fd c = dial(s.port());
  send_all(c.get(), repeat(kHttpRequest, 3));
  ASSERT_EQ(::shutdown(c.get(), SHUT_WR), 0);
  bool closed = false;
  EXPECT_EQ(recv_to_eof(c.get(), closed), repeat(kHttpResponse, 3));
  EXPECT_TRUE(closed);
}

TYPED_TEST_P(ServerConformance, APortInUseIsAUsageError) {
  TypeParam a(ServerOptions{Protocol::kHttp, 0, 2});
  EXPECT_THROW(TypeParam(ServerOptions{Protocol::kHttp, a.port(), 2}), UsageError);
}

TYPED_TEST_P(ServerConformance, ServesTheLoadGeneratorClosedAndOpenLoop) {
  TypeParam s(ServerOptions{Protocol::kHttp, 0, 2});
  workloads::io::LoadGen gen({s.port(), Protocol::kHttp, 64, 0});
  const auto closed = gen.closed(1000);
  EXPECT_EQ(closed.requests, 1000U);
  const auto open = gen.open(200, 20'000);
  EXPECT_EQ(open.requests, 200U);
  EXPECT_EQ(gen.latencies().count(), 1200U);
  EXPECT_EQ(gen.bytes_verified(), 1200 * kHttpResponse.size());
}

TYPED_TEST_P(ServerConformance, ServesManyConnectionsEcho) {
  // Under TSan (GCC 12) a new thread costs 5-15 ms of page faults on a 2-CPU VM, so a thread per
  // connection at 512 overruns the load generator's 10 s budget in a third of loaded runs.
  constexpr std::size_t kConnections = sync::kTsan ? 128 : 512;
  TypeParam s(ServerOptions{Protocol::kEcho, 0, 2});
  workloads::io::LoadGen gen({s.port(), Protocol::kEcho, kConnections, 100});
  EXPECT_EQ(gen.closed(4 * kConnections).requests, 4 * kConnections);
}

TYPED_TEST_P(ServerConformance, StopsAndClosesEveryFdWithClientsConnected) {
  // A first server outside the count: libraries keep process-wide fds (libuv's signal pipe).
  { TypeParam warm(ServerOptions{Protocol::kHttp, 0, 1}); }
  const std::size_t before = workloads::io::open_fds();
  std::vector<Fd> clients;
  {
    TypeParam s(ServerOptions{Protocol::kHttp, 0, 2});
    for (int i = 0; i < 20; ++i) {
      clients.push_back(dial(s.port()));
      send_all(clients.back().get(), kHttpRequest);
      ASSERT_EQ(recv_n(clients.back().get(), kHttpResponse.size()), kHttpResponse);
    }
  }
  // The server is gone: each client sees the close, and only the clients' fds remain.
  for (auto& c : clients) {
    bool closed = false;
    EXPECT_EQ(recv_to_eof(c.get(), closed), "");
    EXPECT_TRUE(closed);
  }
  EXPECT_EQ(workloads::io::open_fds(), before + clients.size());
}

REGISTER_TYPED_TEST_SUITE_P(ServerConformance, SatisfiesTheConcept, AnswersHttpByteForByte,
                            AnswersPipelinedRequestsSplitAnywhere, EchoesALargeMessage,
                            HalfClosedPeerGetsItsRepliesThenTheClose, APortInUseIsAUsageError,
                            ServesTheLoadGeneratorClosedAndOpenLoop, ServesManyConnectionsEcho,
                            StopsAndClosesEveryFdWithClientsConnected);

}  // namespace cpb::patterns::reactor::testing
