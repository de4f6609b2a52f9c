// SPDX-License-Identifier: Apache-2.0
/// @file
/// The own actor runtime (runtime.hpp) as the family sees it: actors of the scenarios' `Msg`,
/// each handler a function of its message; mailboxes are MPSC queues scheduled at most once at a
/// time on the own work-stealing pool, up to 64 messages per scheduling (the throughput bound),
/// with supervision (`system()`) for the fault scenario.
///
/// Progress: blocking (idle workers park; see work_stealing_pool.hpp). A send is wait-free apart
/// from the pool's submit when the receiver was idle.
/// Memory ordering: the mailbox's (release link / acquire pop; the schedule flag's store-load
/// pair in seq_cst, mailbox.hpp) and the pool's (chase_lev_deque.hpp, work_stealing_pool.hpp).
/// When to use: many small actors and short handlers, where the per-message cost is the hand-off
/// itself; supervised restarts. When not to: a handler that blocks holds a pool worker (there is
/// no preemption), and one actor is a serial bottleneck however many workers there are.
/// Reference: Hewitt et al., IJCAI 1973; Erlang/OTP `supervisor`; Savina (Imam & Sarkar,
/// AGERE! 2014).
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/actor/message.hpp"
#include "patterns/actor/runtime.hpp"

#include <cstddef>
#include <string_view>
#include <utility>

namespace cpb::patterns::actor {

template <class S = sync::Real>
class WsActors {
 public:
  static constexpr std::string_view kName = "ws_actor";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kSupervision = true;

  using ref_type = Ref<Msg, S>;
  /// What a handler sends through: in this runtime a send is the same from everywhere.
  struct context {
    void send(const ref_type& to, const Msg& m) const { to.send(m); }
  };

  explicit WsActors(std::size_t workers, std::size_t throughput = 64) : sys_(workers, throughput) {}

  /// An unsupervised actor running `h(ctx, msg)` per message (a restart copies `h` afresh).
  template <class H>
  ref_type spawn(H h) {
    return sys_.template spawn<Msg>([h = std::move(h)] {
      return [h](Msg& m) mutable {
        context ctx;
        h(ctx, m);
      };
    });
  }

  void send(const ref_type& to, const Msg& m) { to.send(m); }

  ActorSystem<S>& system() { return sys_; }

 private:
  ActorSystem<S> sys_;
};

}  // namespace cpb::patterns::actor
