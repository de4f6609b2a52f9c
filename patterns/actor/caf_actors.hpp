// SPDX-License-Identifier: Apache-2.0
/// @file
/// The baseline: CAF 0.17 (the C++ Actor Framework, `libcaf-dev`), thin. Each actor is an
/// `event_based_actor` whose behaviour takes the scenarios' `Msg`; a handler sends with
/// `self->send` (CAF's local path: an idle receiver goes on the current worker's queue), the
/// driver with `anon_send`. Its work-stealing scheduler gets exactly the benchmark's worker
/// count (`scheduler.max-threads`); nothing else is tuned (CAF's default `max-throughput` is
/// unbounded). The destructor sends every actor an exit and lets the system await them.
/// No supervision: CAF 0.17 has links and monitors, not OTP supervisors, so it runs no `fault`
/// scenario.
///
/// Progress: blocking (CAF's mailboxes are lock-free LIFO stacks drained by the owner; idle
/// workers sleep).
/// Memory ordering: CAF's own (not visible here).
/// When to use: a mature actor runtime with typed interfaces, network transparency and tooling.
/// Reference: Charousset, Hiesgen, Schmidt, "Revisiting Actor Programming in C++", Computer
/// Languages, Systems & Structures 2016; actor-framework.org, CAF 0.17 manual.
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/actor/message.hpp"

#include <caf/all.hpp>
#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cpb::patterns::actor::Msg)

namespace cpb::patterns::actor {

namespace detail {
inline caf::actor_system_config& caf_config(caf::actor_system_config& cfg, std::size_t workers) {
  cfg.set("scheduler.max-threads", workers > 0 ? workers : 1);
  return cfg;
}
}  // namespace detail

class CafActors {
 public:
  static constexpr std::string_view kName = "caf_actor";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  using ref_type = caf::actor;
  struct context {
    caf::event_based_actor* self;
    void send(const ref_type& to, const Msg& m) const { self->send(to, m); }
  };

  explicit CafActors(std::size_t workers) : sys_(detail::caf_config(cfg_, workers)) {}

  ~CafActors() {
    for (auto& a : actors_) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    actors_.clear();
  }

  CafActors(const CafActors&) = delete;
  CafActors& operator=(const CafActors&) = delete;

  /// A class-based actor: CAF 0.17's function-based spawn with no extra arguments dereferences
  /// an empty `shared_ptr<tuple<>>` in `init_fun_factory.hpp` (UBSan: reference binding to a null
  /// pointer); the class-based path does the same without it.
  template <class H>
  ref_type spawn(H h) {
    caf::actor a = sys_.spawn<Actor<H>>(std::move(h));
    actors_.push_back(a);
    return a;
  }

  void send(const ref_type& to, const Msg& m) { caf::anon_send(to, m); }

  [[nodiscard]] std::size_t workers() { return sys_.scheduler().num_workers(); }

 private:
  template <class H>
  class Actor final : public caf::event_based_actor {
   public:
    Actor(caf::actor_config& cfg, H h) : caf::event_based_actor(cfg), h_(std::move(h)) {}
    caf::behavior make_behavior() override {
      return {[this](const Msg& m) {
        CafActors::context ctx{this};
        h_(ctx, m);
      }};
    }

   private:
    H h_;
  };

  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  std::vector<caf::actor> actors_;  // to stop them at the end
};

}  // namespace cpb::patterns::actor
