// SPDX-License-Identifier: Apache-2.0
#include "harness/stress/specs.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace cpb::stress {
namespace {

template <class C>
std::size_t hash_seq(const C& c) {
  std::uint64_t h = mix64(c.size());
  for (const std::int64_t v : c) h = mix64(h ^ static_cast<std::uint64_t>(v));
  return static_cast<std::size_t>(h);
}

std::string push_pop(const char* pop, const Op& op, const char* refused) {
  if (op.kind == 0) return fmt::format("push({}) -> {}", op.arg, op.ok ? "ok" : refused);
  return op.ok ? fmt::format("{}() -> {}", pop, op.value) : fmt::format("{}() -> empty", pop);
}

}  // namespace

// -- queue --------------------------------------------------------------------------------------

bool QueueSpec::step(State& s, const Op& op) const {
  const bool full = capacity != 0 && s.size() >= capacity;
  switch (op.kind) {
    case kPush:
      if (!op.ok) return full;  // a refusal is only right when the queue is full
      if (full) return false;
      s.push_back(op.arg);
      return true;
    case kPop:
      if (!op.ok) return s.empty();  // "empty" is only right when it is
      if (s.empty() || s.front() != op.value) return false;
      s.pop_front();
      return true;
    default:
      return false;
  }
}

std::size_t QueueSpec::hash(const State& s) const { return hash_seq(s); }

std::string QueueSpec::describe(const Op& op) const { return push_pop("pop", op, "full"); }

std::string QueueSpec::describe_state(const State& s) const {
  return fmt::format("queue [{}]", fmt::join(s, ", "));
}

// -- stack --------------------------------------------------------------------------------------

bool StackSpec::step(State& s, const Op& op) const {
  const bool full = capacity != 0 && s.size() >= capacity;
  switch (op.kind) {
    case kPush:
      if (!op.ok) return full;
      if (full) return false;
      s.push_back(op.arg);
      return true;
    case kPop:
      if (!op.ok) return s.empty();
      if (s.empty() || s.back() != op.value) return false;
      s.pop_back();
      return true;
    default:
      return false;
  }
}

std::size_t StackSpec::hash(const State& s) const { return hash_seq(s); }

std::string StackSpec::describe(const Op& op) const { return push_pop("pop", op, "full"); }

std::string StackSpec::describe_state(const State& s) const {
  return fmt::format("stack [{}] (top last)", fmt::join(s, ", "));
}

// -- counter ------------------------------------------------------------------------------------

bool CounterSpec::step(State& s, const Op& op) const {
  switch (op.kind) {
    case kFetchAdd:
      if (op.value != s) return false;
      s += op.arg;
      return true;
    case kLoad:
      return op.value == s;
    default:
      return false;
  }
}

std::size_t CounterSpec::hash(const State& s) const {
  return static_cast<std::size_t>(mix64(static_cast<std::uint64_t>(s)));
}

std::string CounterSpec::describe(const Op& op) const {
  if (op.kind == kFetchAdd) return fmt::format("fetch_add({}) -> {}", op.arg, op.value);
  return fmt::format("load() -> {}", op.value);
}

std::string CounterSpec::describe_state(const State& s) const {
  return fmt::format("counter {}", s);
}

// -- register -----------------------------------------------------------------------------------

bool RegisterSpec::step(State& s, const Op& op) const {
  switch (op.kind) {
    case kRead:
      return op.value == s;
    case kWrite:
      s = op.arg;
      return true;
    case kCas:
      if (op.ok) {
        if (s != op.arg) return false;
        s = op.arg2;
        return true;
      }
      return s != op.arg && op.value == s;  // a failed CAS saw a different value: this one
    default:
      return false;
  }
}

std::size_t RegisterSpec::hash(const State& s) const {
  return static_cast<std::size_t>(mix64(static_cast<std::uint64_t>(s)));
}

std::string RegisterSpec::describe(const Op& op) const {
  switch (op.kind) {
    case kRead:
      return fmt::format("read() -> {}", op.value);
    case kWrite:
      return fmt::format("write({})", op.arg);
    case kCas:
      return op.ok ? fmt::format("cas({}, {}) -> ok", op.arg, op.arg2)
                   : fmt::format("cas({}, {}) -> saw {}", op.arg, op.arg2, op.value);
    default:
      return fmt::format("op{}({})", op.kind, op.arg);
  }
}

std::string RegisterSpec::describe_state(const State& s) const {
  return fmt::format("register {}", s);
}

// -- set ----------------------------------------------------------------------------------------

bool SetSpec::step(State& s, const Op& op) const {
  switch (op.kind) {
    case kInsert:
      if (op.ok == s) return false;  // inserted iff absent
      s = true;
      return true;
    case kErase:
      if (op.ok != s) return false;  // erased iff present
      s = false;
      return true;
    case kContains:
      return op.ok == s;
    default:
      return false;
  }
}

std::string SetSpec::describe(const Op& op) const {
  static constexpr const char* kNames[] = {"insert", "erase", "contains"};
  const char* name = op.kind < 3 ? kNames[op.kind] : "op";
  return fmt::format("{}({}) -> {}", name, op.arg, op.ok ? "true" : "false");
}

std::string SetSpec::describe_state(const State& s) const { return s ? "present" : "absent"; }

// -- map ----------------------------------------------------------------------------------------

bool MapSpec::step(State& s, const Op& op) const {
  switch (op.kind) {
    case kPut:
      if (op.ok == s.present) return false;  // "inserted" iff the key was absent
      s = {true, op.arg2};
      return true;
    case kGet:
      if (op.ok != s.present) return false;
      return !op.ok || op.value == s.value;
    case kErase:
      if (op.ok != s.present) return false;
      s = {};
      return true;
    default:
      return false;
  }
}

std::size_t MapSpec::hash(const State& s) const {
  return s.present ? static_cast<std::size_t>(mix64(static_cast<std::uint64_t>(s.value))) : 0;
}

std::string MapSpec::describe(const Op& op) const {
  switch (op.kind) {
    case kPut:
      return fmt::format("put({}, {}) -> {}", op.arg, op.arg2, op.ok ? "inserted" : "assigned");
    case kGet:
      return op.ok ? fmt::format("get({}) -> {}", op.arg, op.value)
                   : fmt::format("get({}) -> none", op.arg);
    case kErase:
      return fmt::format("erase({}) -> {}", op.arg, op.ok ? "true" : "false");
    default:
      return fmt::format("op{}({})", op.kind, op.arg);
  }
}

std::string MapSpec::describe_state(const State& s) const {
  return s.present ? fmt::format("value {}", s.value) : std::string("absent");
}

}  // namespace cpb::stress
