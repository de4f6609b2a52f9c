// SPDX-License-Identifier: Apache-2.0
/// @file
/// The happens-before order of one execution's trace, as dynamic partial-order reduction sees it:
/// program order, spawn and join, and every pair of dependent operations (same object, at least
/// one writes) in the order they ran. Two dependent events of different processes that this order
/// relates only directly are a race: running them the other way round may lead to a different
/// execution. For each race the search must try, at the point before the first event, one of the
/// processes that can start the reversed order (the initials, Abdulla et al., "Source Sets",
/// JACM'17).
///
/// A process is a choice index (chooser.hpp): a logical thread, or the store buffer of one
/// (TSO tier), whose flushes are its events. Processes get dense slots in the order they
/// first appear, so the clocks of a test with few threads stay small.
#pragma once

#include "harness/check/model.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

namespace cpb::check::detail {

/// How an operation touches one object, as the happens-before order sees it.
enum class Role : std::uint8_t {
  kRead,
  kWrite,
  /// An exclusive lock, which blocks while the lock is held: no unlock of the same lock can
  /// run beside it, so the two are never reversed; the race is with the holder's own
  /// acquisition.
  kAcquire,
  /// A shared lock: blocked only by a writer, so it races with the writer's acquisition, but
  /// with the other readers' unlock_shared like a plain write.
  kAcquireShared,
  /// An exclusive unlock, or the unlock inside a condition-variable wait: a write that
  /// blocking acquisitions do not race with.
  kRelease,
  /// An unlock_shared: a write that exclusive acquisitions do not race with.
  kReleaseShared,
};

class TraceOrder {
 public:
  /// Called for each race found, with the earlier event; during the call, `initial(p)` says
  /// whether process p may run first at the point before it so that the later event comes
  /// first (the initials of the reversal).
  using OnRace = std::function<void(std::uint32_t event)>;

  /// Forgets the previous execution. `bounded`: the search has a preemption bound.
  void reset(bool bounded);
  /// Thread `child` was created by the latest event, of thread `parent`.
  void spawned(unsigned child, unsigned parent);
  /// The latest event, of thread `waker` (a notify), woke thread `woken`: it happens before
  /// the woken thread's next event.
  void woke(unsigned waker, unsigned woken);
  /// Process `pid` runs `op` (a join of thread `joined` when that is >= 0); `tag` is kept with
  /// the event (the DFS keeps its decision index there). Reports the races of the new event.
  void ran(unsigned pid, const Op& op, int joined, int tag, const OnRace& on_race);
  /// The transition of process `pid`'s latest event, which is the latest event of all, also
  /// wrote every object at [lo, hi) (the checker heap freed or handed out a block there) and,
  /// when `key` is not null, `key`. Reports the races that this adds.
  void wrote(unsigned pid, const void* lo, const void* hi, const void* key, const OnRace& on_race);
  /// The transition of process `pid`'s latest event, which is the latest event of all, also
  /// read or wrote `key` (a plain `cell`: not a scheduling point of its own). Reports the
  /// races that this adds.
  void accessed(unsigned pid, const void* key, bool write, const OnRace& on_race);
  /// The latest event before `event` that another process ran than the event before it (a
  /// context switch) and that carries a tag >= 0; -1 when there is none.
  [[nodiscard]] int last_switch_before(std::uint32_t event) const;
  [[nodiscard]] int tag(std::uint32_t event) const { return events_[event].tag; }
  /// Inside OnRace: process `pid` can start the reversal of the race being reported: its first
  /// event after the earlier one does not happen after it (or is the later one), and no other
  /// such event happens before it. `before_later`: and that event is one the later event
  /// needs (it happens before it, or is it): under a preemption bound, starting with another
  /// initial may need a preemption more to reach the later event.
  [[nodiscard]] bool initial(unsigned pid, bool before_later = false) const;

 private:
  using Clock = BasicClock<kChoices>;  ///< indexed by slot
  struct Event {
    std::uint16_t slot = 0;
    std::uint32_t local = 0;  ///< 1 + the number of earlier events of the same process
    int tag = -1;
    Clock clock;
  };
  /// Per process (by slot), the events that last wrote and accessed an object (and accessed it
  /// other than by releasing a lock, and other than by releasing it exclusively); -1: none.
  struct Last {
    std::int32_t write = -1;
    std::int32_t access = -1;
    std::int32_t not_release = -1;
    std::int32_t not_exclusive_release = -1;
  };
  /// What the order knows of one object: its latest accesses per process, and the clocks that a
  /// later conflicting access joins.
  struct Object {
    const void* key = nullptr;
    Clock written;  ///< clock of the latest write
    Clock read;     ///< join of the reads since (and the latest write)
    std::vector<Last> last;
  };
  /// The slot of process `pid`, assigned on its first event.
  unsigned slot(unsigned pid);
  Object& get(const void* key);
  /// Adds to `out` the latest event of each other process on `o` that conflicts with an access
  /// by slot `s` in `role` and does not happen before `s`'s latest event.
  void conflicts(const Object& o, Role role, unsigned s, std::vector<std::uint32_t>& out) const;
  /// Adds to races_ the races of slot `s`'s next event, `op`, with fair yields.
  void yield_races(const Op& op, unsigned s);
  /// Records an access by slot `s`'s event.
  void access(Object& o, Role role, unsigned s, std::int32_t event);
  /// Prepares initial(): per process, its first event after `e` if that does not happen after
  /// `e` (the racing process's first event counts even where it is `later`, which happens
  /// after `e` only through the race itself); only events up to `later` count.
  void prepare(std::uint32_t e, std::uint32_t later) const;
  /// Reports the direct races among `races` (earlier events conflicting with `later`).
  void report(std::vector<std::uint32_t>& races, std::uint32_t later, const OnRace& on_race) const;

  /// A block the checker heap freed or handed out again: a write of every object in it, also
  /// of those the order meets only later.
  struct BlockWrite {
    const void* lo = nullptr;
    const void* hi = nullptr;
    std::uint32_t event = 0;
  };

  std::vector<Event> events_;
  std::vector<Object> objects_;
  std::vector<BlockWrite> block_writes_;
  std::array<std::int16_t, kChoices> slot_of_{};     ///< per process: its slot + 1 (0: none yet)
  std::vector<unsigned> pid_of_;                     ///< per slot: its process
  std::vector<std::vector<std::uint32_t>> by_slot_;  ///< per slot: its events
  std::vector<Clock> clocks_;                        ///< per slot: its latest event's clock
  std::vector<Clock> wake_;                          ///< per slot: its waker's clock
  std::vector<std::uint32_t> yields_;                ///< the fair yields so far
  std::vector<std::size_t> yield_seen_;              ///< per slot: the yields its events raced with
  std::vector<std::vector<std::uint32_t>> stores_;   ///< per slot: its buffered stores (TSO)
  std::vector<std::size_t> flushed_;                 ///< per slot: how many of those flushed
  std::vector<std::uint32_t> races_;                 ///< scratch
  std::vector<std::uint32_t> acquired_;              ///< scratch: races of an acquisition
  bool bounded_ = false;                             ///< the search has a preemption bound
  mutable Clock covered_;                            ///< scratch of report()
  mutable std::uint32_t later_ = 0;  ///< from prepare(): the later event of the race
  /// Per slot, from prepare(): its first event in the reversal, and that event's local number
  /// (kNone: no event there).
  mutable std::vector<std::uint32_t> first_;
  mutable std::vector<std::uint32_t> first_local_;
};

}  // namespace cpb::check::detail
