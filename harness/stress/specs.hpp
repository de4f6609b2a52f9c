// SPDX-License-Identifier: Apache-2.0
/// @file
/// Sequential specifications for the linearizability checker: FIFO queue (unbounded or
/// bounded, with try-operations), LIFO stack, counter, register, set and map. Mutual exclusion
/// is a history property rather than a spec: see mutual_exclusion.hpp.
///
/// How to record each operation (fields of `Op`; `Ret` is what the recorder's lambda returns):
///
/// | spec     | kind        | arg   | arg2    | ok                      | value              |
/// |----------|-------------|-------|---------|-------------------------|--------------------|
/// | queue    | kPush       | v     |         | accepted (false: full)  |                    |
/// | queue    | kPop        |       |         | got one (false: empty)  | what it got        |
/// | stack    | kPush/kPop  | as queue                                                        |
/// | counter  | kFetchAdd   | delta |         |                         | the value before   |
/// | counter  | kLoad       |       |         |                         | the value read     |
/// | register | kRead       |       |         |                         | the value read     |
/// | register | kWrite      | v     |         |                         |                    |
/// | register | kCas        | exp   | desired | swapped                 | witness if !ok     |
/// | set      | kInsert     | key   |         | inserted (was absent)   |                    |
/// | set      | kErase      | key   |         | erased (was present)    |                    |
/// | set      | kContains   | key   |         | found                   |                    |
/// | map      | kPut        | key   | v       | inserted (was absent)   |                    |
/// | map      | kGet        | key   |         | found                   | its value          |
/// | map      | kErase      | key   |         | erased (was present)    |                    |
#pragma once

#include "harness/stress/history.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace cpb::stress {

/// A FIFO queue. `capacity` 0 is unbounded (a push is never refused); otherwise a push is
/// refused (ok = false) exactly when the queue holds `capacity` elements. A pop returns empty
/// (ok = false) exactly when the queue is empty.
struct QueueSpec {
  enum Kind : std::uint32_t { kPush, kPop };
  using State = std::deque<std::int64_t>;

  std::size_t capacity = 0;

  [[nodiscard]] State init() const { return {}; }
  bool step(State& s, const Op& op) const;
  [[nodiscard]] std::size_t hash(const State& s) const;
  [[nodiscard]] std::string describe(const Op& op) const;
  [[nodiscard]] std::string describe_state(const State& s) const;
};

/// A LIFO stack with try_pop (ok = false when empty) and an optional capacity, as QueueSpec.
struct StackSpec {
  enum Kind : std::uint32_t { kPush, kPop };
  using State = std::vector<std::int64_t>;

  std::size_t capacity = 0;

  [[nodiscard]] State init() const { return {}; }
  bool step(State& s, const Op& op) const;
  [[nodiscard]] std::size_t hash(const State& s) const;
  [[nodiscard]] std::string describe(const Op& op) const;
  [[nodiscard]] std::string describe_state(const State& s) const;
};

/// A counter: fetch_add(delta) returns the value before; load returns the value.
struct CounterSpec {
  enum Kind : std::uint32_t { kFetchAdd, kLoad };
  using State = std::int64_t;

  std::int64_t initial = 0;

  [[nodiscard]] State init() const { return initial; }
  bool step(State& s, const Op& op) const;
  [[nodiscard]] std::size_t hash(const State& s) const;
  [[nodiscard]] std::string describe(const Op& op) const;
  [[nodiscard]] std::string describe_state(const State& s) const;
};

/// A register: read, write, and compare-and-swap. A failed CAS records the value it saw
/// (compare_exchange's updated `expected`) in `value`; it must differ from `arg`.
struct RegisterSpec {
  enum Kind : std::uint32_t { kRead, kWrite, kCas };
  using State = std::int64_t;

  std::int64_t initial = 0;

  [[nodiscard]] State init() const { return initial; }
  bool step(State& s, const Op& op) const;
  [[nodiscard]] std::size_t hash(const State& s) const;
  [[nodiscard]] std::string describe(const Op& op) const;
  [[nodiscard]] std::string describe_state(const State& s) const;
};

/// A set of integer keys. Partitioned by key: each key is checked on its own.
struct SetSpec {
  enum Kind : std::uint32_t { kInsert, kErase, kContains };
  using State = bool;  ///< per key: present

  [[nodiscard]] State init() const { return false; }
  bool step(State& s, const Op& op) const;
  [[nodiscard]] std::size_t hash(const State& s) const { return s ? 1 : 0; }
  [[nodiscard]] std::string describe(const Op& op) const;
  [[nodiscard]] std::string describe_state(const State& s) const;
  [[nodiscard]] std::int64_t partition(const Op& op) const { return op.arg; }
};

/// A map from integer keys to integer values. Partitioned by key.
struct MapSpec {
  enum Kind : std::uint32_t { kPut, kGet, kErase };
  struct State {
    bool present = false;
    std::int64_t value = 0;
    bool operator==(const State&) const = default;
  };

  [[nodiscard]] State init() const { return {}; }
  bool step(State& s, const Op& op) const;
  [[nodiscard]] std::size_t hash(const State& s) const;
  [[nodiscard]] std::string describe(const Op& op) const;
  [[nodiscard]] std::string describe_state(const State& s) const;
  [[nodiscard]] std::int64_t partition(const Op& op) const { return op.arg; }
};

}  // namespace cpb::stress
