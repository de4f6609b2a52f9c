// SPDX-License-Identifier: Apache-2.0
/// @file
/// The happens-before order of one execution's trace, as dynamic partial-order reduction sees it:
/// program order, spawn and join, and every pair of dependent operations (same object, at least
/// one writes) in the order they ran. Two dependent events of different threads that this order
/// relates only directly are a race: running them the other way round may lead to a different
/// execution. For each race the search must try, at the point before the first event, one of the
/// threads that can start the reversed order (the initials, Abdulla et al., "Source Sets",
/// JACM'17).
#pragma once

#include "harness/check/model.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

namespace cpb::check::detail {

class TraceOrder {
 public:
  /// Called for each race found: the earlier event, and the threads (bit mask) that may run
  /// first at the point before it so that the later event comes first.
  using OnRace = std::function<void(std::uint32_t event, std::uint32_t initials)>;

  /// Forgets the previous execution.
  void reset();
  /// Thread `child` was created by the latest event, of thread `parent`.
  void spawned(unsigned child, unsigned parent);
  /// The latest event, of thread `waker` (a notify), woke thread `woken`: it happens before
  /// the woken thread's next event.
  void woke(unsigned waker, unsigned woken);
  /// Thread `tid` runs `op` (a join of thread `joined` when that is >= 0); `tag` is kept with the
  /// event (the DFS keeps its decision index there). Reports the races of the new event.
  void ran(unsigned tid, const Op& op, int joined, int tag, const OnRace& on_race);
  /// The transition of thread `tid`'s latest event, which is the latest event of all, also wrote
  /// every object at [lo, hi) (the checker heap freed or handed out a block there) and, when
  /// `key` is not null, `key`. Reports the races that this adds.
  void wrote(unsigned tid, const void* lo, const void* hi, const void* key, const OnRace& on_race);
  /// The latest event before `event` that another thread ran than the event before it (a
  /// context switch) and that carries a tag >= 0; -1 when there is none.
  [[nodiscard]] int last_switch_before(std::uint32_t event) const;
  [[nodiscard]] int tag(std::uint32_t event) const { return events_[event].tag; }

 private:
  struct Event {
    std::uint8_t tid = 0;
    std::uint32_t local = 0;  ///< 1 + the number of earlier events of the same thread
    int tag = -1;
    VectorClock clock;
  };
  /// What the order knows of one object: per thread the events that last wrote and accessed it
  /// (and accessed it other than by releasing a lock), and the clocks that a later conflicting
  /// access joins.
  struct Object {
    const void* key = nullptr;
    VectorClock written;  ///< clock of the latest write
    VectorClock read;     ///< join of the reads since (and the latest write)
    std::array<std::int32_t, kMaxThreads> last_write{};
    std::array<std::int32_t, kMaxThreads> last_access{};
    std::array<std::int32_t, kMaxThreads> last_not_release{};
  };
  Object& get(const void* key);
  /// Adds to `out` the latest event of each other thread on `o` that conflicts with an access
  /// by `tid` (`write`; `acquire`: a blocking lock, which no unlock can race with) and does not
  /// happen before `tid`'s latest event.
  void conflicts(const Object& o, bool write, bool acquire, unsigned tid,
                 std::vector<std::uint32_t>& out) const;
  /// Records an access by `tid`'s event (`release`: an unlock, which later blocking
  /// acquisitions do not race with).
  void access(Object& o, bool write, bool release, unsigned tid, std::int32_t event);
  /// The threads that can start the reversal of the race of `e` with the later `later`: the
  /// first events, per thread, of the events after `e` that do not happen after it (and
  /// `later`), which nothing in that sequence happens before.
  [[nodiscard]] std::uint32_t initials(std::uint32_t e, std::uint32_t later) const;
  void report(const std::vector<std::uint32_t>& races, std::uint32_t later,
              const OnRace& on_race) const;

  std::vector<Event> events_;
  std::array<std::vector<std::uint32_t>, kMaxThreads> by_thread_{};
  std::vector<Object> objects_;
  std::array<VectorClock, kMaxThreads> clocks_{};
  std::array<VectorClock, kMaxThreads> wake_{};  ///< per woken thread: its waker's clock
  std::vector<std::uint32_t> races_;             ///< scratch
};

}  // namespace cpb::check::detail
