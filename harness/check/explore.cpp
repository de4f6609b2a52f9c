// SPDX-License-Identifier: Apache-2.0
#include "harness/check/explore.hpp"

#include "harness/check/chooser.hpp"
#include "harness/check/engine.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

namespace cpb::check {

std::string_view to_string(FailureKind k) {
  switch (k) {
    case FailureKind::kNone:
      return "none";
    case FailureKind::kDataRace:
      return "data-race";
    case FailureKind::kDeadlock:
      return "deadlock";
    case FailureKind::kLivelock:
      return "livelock";
    case FailureKind::kAssertion:
      return "assertion";
    case FailureKind::kException:
      return "exception";
    case FailureKind::kMisuse:
      return "misuse";
    case FailureKind::kNondeterminism:
      return "nondeterminism";
    case FailureKind::kUseAfterFree:
      return "use-after-free";
    case FailureKind::kDoubleFree:
      return "double-free";
    case FailureKind::kLeak:
      return "leak";
    case FailureKind::kUninstrumented:
      return "uninstrumented";
  }
  return "?";
}

std::string_view to_string(Tier t) {
  switch (t) {
    case Tier::kTso:
      return "tso";
    case Tier::kC11:
      return "c11";
    case Tier::kSc:
      break;
  }
  return "sc";
}

std::string_view to_string(Strategy s) {
  switch (s) {
    case Strategy::kRandom:
      return "random";
    case Strategy::kPct:
      return "pct";
    case Strategy::kDfs:
      return "dfs";
  }
  return "?";
}

namespace {

constexpr std::string_view kReplayVersion = "cpb2";
/// The first format: one base-32 digit per decision, flushes as 16 + thread (16 threads).
constexpr std::string_view kReplayVersion1 = "cpb1";
constexpr std::string_view kDigits = "0123456789abcdefghijklmnopqrstuv";

std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261U;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619U;
  }
  return h;
}

}  // namespace

std::string_view to_string(std::memory_order mo) {
  switch (mo) {
    case std::memory_order_relaxed:
      return "relaxed";
    case std::memory_order_consume:
      return "consume";
    case std::memory_order_acquire:
      return "acquire";
    case std::memory_order_release:
      return "release";
    case std::memory_order_acq_rel:
      return "acq_rel";
    case std::memory_order_seq_cst:
      return "seq_cst";
  }
  return "?";
}

namespace {

/// Pointer values print as `ptr#N`, numbered by first appearance in the trace, so a trace is
/// the same in every run of the same schedule (heap addresses are not).
using PtrNames = std::vector<std::uint64_t>;

std::string value_str(detail::ValueKind k, std::uint64_t v, PtrNames& ptrs) {
  if (k == detail::ValueKind::kPointer && v != 0) {
    for (std::size_t i = 0; i < ptrs.size(); ++i) {
      if (ptrs[i] == v) return fmt::format("ptr#{}", i);
    }
    ptrs.push_back(v);
    return fmt::format("ptr#{}", ptrs.size() - 1);
  }
  switch (k) {
    case detail::ValueKind::kBool:
      return v != 0 ? "true" : "false";
    case detail::ValueKind::kSigned:
      return fmt::format("{}", static_cast<std::int64_t>(v));
    case detail::ValueKind::kUnsigned:
      return fmt::format("{}", v);
    case detail::ValueKind::kPointer:
      return v == 0 ? "null" : fmt::format("{:#x}", v);
    case detail::ValueKind::kOther:
      break;
  }
  return fmt::format("{:#x}", v);
}

std::string_view obj_prefix(detail::ObjKind k) {
  switch (k) {
    case detail::ObjKind::kAtomic:
      return "atomic";
    case detail::ObjKind::kCell:
      return "cell";
    case detail::ObjKind::kMutex:
      return "mutex";
    case detail::ObjKind::kSharedMutex:
      return "shared_mutex";
    case detail::ObjKind::kCondVar:
      return "condvar";
    case detail::ObjKind::kThread:
      return "t";
    case detail::ObjKind::kNone:
      break;
  }
  return "";
}

std::string format_event(const detail::Event& e, PtrNames& ptrs) {
  std::string op(to_string(e.kind));
  if (e.has_mo) op += fmt::format("({})", to_string(e.mo));
  std::string obj;
  if (e.okind == detail::ObjKind::kThread) {
    obj = fmt::format("t{}", e.oid);
  } else if (e.okind != detail::ObjKind::kNone) {
    obj = fmt::format("{}#{}", obj_prefix(e.okind), e.oid);
  }
  std::string val;
  if (e.nvalues == 1) {
    const bool writes = e.kind == detail::OpKind::kStore || e.kind == detail::OpKind::kFlush;
    val = (writes ? "= " : "-> ") + value_str(e.vkind, e.value, ptrs);
  } else if (e.nvalues == 2) {
    val = value_str(e.vkind, e.value, ptrs) + " -> " + value_str(e.vkind, e.value2, ptrs);
  }
  std::string line = fmt::format("#{:<4} t{:<2} {:<22} {:<14} {}", e.seq, e.tid, op, obj, val);
  if (e.note != nullptr) line += fmt::format(" [{}]", e.note);
  // C11 tier: which store a load read (stores are numbered per location as they ran).
  if (e.rf_mo >= 0 && e.rf_tid == -2) {
    line += fmt::format(" [store w{}]", e.rf_mo);
  } else if (e.rf_mo == 0) {
    line += " [reads w0, the initial value]";
  } else if (e.rf_mo > 0) {
    line += fmt::format(" [reads w{} of t{}]", e.rf_mo, e.rf_tid);
  }
  const std::string_view file = e.loc.file_name();
  if (!file.empty()) {
    const auto slash = file.rfind('/');
    line += fmt::format("  {}:{}", slash == std::string_view::npos ? file : file.substr(slash + 1),
                        e.loc.line());
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

std::vector<std::string> format_trace(const std::vector<detail::Event>& events) {
  std::vector<std::string> out;
  out.reserve(events.size());
  PtrNames ptrs;
  for (const auto& e : events) out.push_back(format_event(e, ptrs));
  return out;
}

struct Traced {
  detail::Outcome outcome;
  std::vector<std::string> trace;
  std::string divergence;
};

Traced run_traced(detail::Engine& engine, const TestCase& test,
                  const std::vector<std::uint16_t>& decisions) {
  ReplayChooser ch(decisions);
  ch.begin_execution(0);
  std::vector<detail::Event> events;
  Traced t;
  t.outcome = engine.run(test.body, ch, &events);
  t.trace = format_trace(events);
  t.divergence = ch.divergence();
  return t;
}

}  // namespace

std::string encode_replay(std::string_view test_name, const std::vector<std::uint16_t>& decisions) {
  // Each decision (a thread, kFlushBase + a thread, or 0/1 for a yes/no choice) in base 16,
  // most significant digit first; every digit but the last is written as 16 + digit
  // ('g'..'v'), so threads 0-15 and yes/no choices take one character.
  std::string payload;
  payload.reserve(decisions.size());
  for (const std::uint16_t d : decisions) {
    int shift = 12;
    while (shift > 0 && (d >> shift) == 0) shift -= 4;
    for (; shift > 0; shift -= 4) payload.push_back(kDigits[16U + ((d >> shift) & 15U)]);
    payload.push_back(kDigits[d & 15U]);
  }
  std::string head = fmt::format("{}:{:08x}:{}", kReplayVersion, fnv1a(test_name), payload);
  return fmt::format("{}:{:08x}", head, fnv1a(head));
}

std::vector<std::uint16_t> decode_replay(std::string_view test_name, std::string_view replay) {
  const auto bad = [&](std::string_view why) {
    return ReplayError(
        fmt::format("invalid replay string for test '{}': {} (expected "
                    "'{}:<test>:<schedule>:<checksum>' as printed by a failure)",
                    test_name, why, kReplayVersion));
  };
  const auto c1 = replay.find(':');
  if (c1 == std::string_view::npos) throw bad("no ':' separators");
  const std::string_view version = replay.substr(0, c1);
  if (version != kReplayVersion && version != kReplayVersion1) {
    throw bad(fmt::format("unknown version '{}'", version));
  }
  const auto c2 = replay.find(':', c1 + 1);
  const auto c3 = c2 == std::string_view::npos ? c2 : replay.find(':', c2 + 1);
  if (c3 == std::string_view::npos || replay.find(':', c3 + 1) != std::string_view::npos) {
    throw bad("it must have exactly four ':'-separated fields");
  }
  const std::string_view test_hash = replay.substr(c1 + 1, c2 - c1 - 1);
  const std::string_view payload = replay.substr(c2 + 1, c3 - c2 - 1);
  const std::string_view checksum = replay.substr(c3 + 1);
  if (checksum != fmt::format("{:08x}", fnv1a(replay.substr(0, c3)))) {
    throw bad("checksum mismatch (the string is truncated or altered)");
  }
  if (test_hash != fmt::format("{:08x}", fnv1a(test_name))) {
    throw ReplayError(
        fmt::format("replay string belongs to another test: its test hash is {}, "
                    "test '{}' has {:08x}",
                    test_hash, test_name, fnv1a(test_name)));
  }
  std::vector<std::uint16_t> out;
  out.reserve(payload.size());
  std::uint32_t value = 0;
  for (const char c : payload) {
    const auto digit = kDigits.find(c);
    if (digit == std::string_view::npos) {
      throw bad(fmt::format("unexpected character '{}' in the schedule", c));
    }
    if (version == kReplayVersion1) {  // 16 + t was the flush of thread t
      out.push_back(static_cast<std::uint16_t>(digit < 16 ? digit : kFlushBase + digit - 16));
      continue;
    }
    value = value * 16 + (digit & 15U);
    if (value >= kChoices) throw bad("a decision beyond every thread and flush");
    if (digit >= 16) continue;
    out.push_back(static_cast<std::uint16_t>(value));
    value = 0;
  }
  if (version == kReplayVersion && !payload.empty() && kDigits.find(payload.back()) >= 16) {
    throw bad("the schedule ends inside a decision");
  }
  return out;
}

namespace {

/// Watches an exploration from a thread of its own: when the engine reaches no scheduling point
/// for `seconds`, a logical thread is blocked in the kernel, where the checker cannot take it
/// back; the watchdog names the thread and the place it last entered the checker, and exits.
class Watchdog {
 public:
  Watchdog(const detail::Engine& e, std::string test, double seconds) {
    if (seconds <= 0) return;
    thread_ = std::thread([this, &e, test = std::move(test), seconds] {
      std::unique_lock lk(m_);
      std::uint64_t seen = e.progress_.load(std::memory_order_relaxed);
      auto since = std::chrono::steady_clock::now();
      while (!cv_.wait_for(lk, std::chrono::milliseconds(50), [this] { return stop_; })) {
        const std::uint64_t now = e.progress_.load(std::memory_order_relaxed);
        if (now != seen) {
          seen = now;
          since = std::chrono::steady_clock::now();
          continue;
        }
        if (std::chrono::steady_clock::now() - since < std::chrono::duration<double>(seconds)) {
          continue;
        }
        const char* file = e.last_file_.load(std::memory_order_relaxed);
        std::fprintf(stderr,
                     "CPB CHECK FAIL blocked test=%s: no scheduling point for %.1f s: logical "
                     "thread t%d is blocked outside the checker after its operation at %s:%u "
                     "(a system call, a real std::mutex or std::thread join, I/O or sleep); "
                     "checked code must block only through cpb::check::Sync\n",
                     test.c_str(), seconds, e.last_tid_.load(std::memory_order_relaxed),
                     file != nullptr && *file != '\0' ? file : "(start)",
                     e.last_line_.load(std::memory_order_relaxed));
        std::fflush(stderr);
        std::_Exit(1);
      }
    });
  }
  ~Watchdog() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lk(m_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

/// What a replay string is bound to: the test, and the memory model it ran under.
std::string replay_key(std::string_view test, Tier tier) {
  return tier == Tier::kSc ? std::string(test) : fmt::format("{}@{}", test, to_string(tier));
}

}  // namespace

Result explore(const Config& config, const TestCase& test) {
  if (!test.body) throw std::invalid_argument("cpb::check::explore: the test has no body");
  if (config.max_steps == 0) throw std::invalid_argument("cpb::check::explore: max_steps is 0");
  if (config.strategy == Strategy::kPct && config.pct_depth == 0 && config.pct_max_depth == 0) {
    throw std::invalid_argument("cpb::check::explore: pct_depth and pct_max_depth are both 0");
  }
  Result r;
  r.test = test.name;
  r.strategy = config.strategy;
  r.tier = config.tier;
  r.seed = config.seed;
  detail::Engine engine(config);
  const Watchdog watchdog(engine, test.name, config.stall_seconds);
  const auto t0 = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };

  const auto make_failure = [&](const detail::Outcome& o, std::uint64_t index,
                                const std::vector<std::uint16_t>& decisions) {
    Failure f;
    f.kind = o.kind;
    f.message = o.message;
    f.execution = index;
    f.replay = encode_replay(replay_key(test.name, config.tier), decisions);
    Traced first = run_traced(engine, test, decisions);
    f.trace = std::move(first.trace);
    if (config.check_determinism) {
      const Traced second = run_traced(engine, test, decisions);
      if (!first.divergence.empty() || first.outcome.kind != o.kind || second.trace != f.trace) {
        f.deterministic = false;
        f.kind = FailureKind::kNondeterminism;
        f.message = fmt::format(
            "the failing schedule does not reproduce ({}); the test has uncontrolled "
            "nondeterminism (real threads, time, randomness, state kept between executions). "
            "Original failure: {}: {}",
            first.divergence.empty() ? "different trace" : first.divergence, to_string(o.kind),
            o.message);
      }
    }
    return f;
  };

  if (!config.replay.empty()) {
    const std::vector<std::uint16_t> decisions = [&] {
      try {
        return decode_replay(replay_key(test.name, config.tier), config.replay);
      } catch (const ReplayError&) {
        Tier other = config.tier;
        for (const Tier t : {Tier::kSc, Tier::kTso, Tier::kC11}) {
          if (t == config.tier) continue;
          try {
            decode_replay(replay_key(test.name, t), config.replay);
            other = t;
            break;
          } catch (const ReplayError&) {
          }
        }
        if (other == config.tier) throw;
        throw ReplayError(
            fmt::format("replay string for test '{}' was recorded under tier {}; "
                        "replay it with that tier (--tier {})",
                        test.name, to_string(other), to_string(other)));
      }
    }();
    Traced t = run_traced(engine, test, decisions);
    if (!t.divergence.empty()) {
      throw ReplayError(
          fmt::format("replay string does not fit test '{}': {} (the test or "
                      "the checker changed since it was recorded)",
                      test.name, t.divergence));
    }
    r.replayed = true;
    r.executions = 1;
    r.max_steps = t.outcome.steps;
    r.max_threads = engine.max_threads_seen();
    if (t.outcome.kind != FailureKind::kNone) {
      Failure f;
      f.kind = t.outcome.kind;
      f.message = t.outcome.message;
      f.replay = config.replay;
      f.trace = std::move(t.trace);
      r.failure = std::move(f);
    }
    r.seconds = elapsed();
    return r;
  }

  std::unique_ptr<Chooser> chooser;
  switch (config.strategy) {
    case Strategy::kRandom:
      chooser = make_random_chooser(config.seed, config.spurious_probability);
      break;
    case Strategy::kPct:
      chooser = make_pct_chooser(config.seed, config.pct_depth, config.pct_max_depth,
                                 config.spurious_probability);
      break;
    case Strategy::kDfs:
      // Sleep sets prune a schedule because an explored sibling covered an equivalent one, but
      // under a preemption bound the sibling's version may cost more preemptions and have
      // been cut (Coons et al., OOPSLA'13): a bounded search runs without them.
      // The C11 tier runs without DPOR: its races are over reads-from and modification-order
      // choices as well as over the order of steps, which Source-DPOR does not reverse; sleep
      // sets stay sound (seq_cst operations are dependent with each other, README).
      chooser = make_dfs_chooser(config.preemption_bound, config.iterative,
                                 config.sleep_sets && config.preemption_bound < 0,
                                 config.dpor && config.tier != Tier::kC11);
      break;
  }

  std::uint64_t index = 0;
  for (;; ++index) {
    if (config.max_executions != 0 && r.executions >= config.max_executions) break;
    if ((index & 63U) == 0 && config.max_seconds > 0 && elapsed() > config.max_seconds) break;
    if (!chooser->begin_execution(index)) break;
    // The bound this execution runs under (its end may raise it for the next one).
    const int bound = config.strategy == Strategy::kDfs ? dfs_bound(*chooser) : -1;
    const detail::Outcome o = engine.run(test.body, *chooser, nullptr);
    if (o.pruned) {
      ++r.pruned;
      continue;
    }
    ++r.executions;
    r.max_steps = std::max(r.max_steps, o.steps);
    if (config.on_execution) {
      config.on_execution({index, o.kind, o.failures, o.preemptions, bound, o.truncated});
    }
    if (o.kind == FailureKind::kNone) continue;
    if (!config.stop_on_failure) {
      if (!r.failure) {
        Failure f;
        f.kind = o.kind;
        f.message = o.message;
        f.execution = index;
        f.replay = encode_replay(replay_key(test.name, config.tier), engine.decisions());
        r.failure = std::move(f);
      }
      continue;
    }
    const std::vector<std::uint16_t> decisions = engine.decisions();
    r.failure = make_failure(o, index, decisions);
    break;
  }
  r.max_threads = engine.max_threads_seen();
  if (config.strategy == Strategy::kPct) {
    const PctStats s = pct_stats(*chooser);
    r.pct_depth = s.depth;
    r.pct_per_run = s.per_run_bound;
    r.pct_confidence = 1.0 - std::pow(1.0 - s.per_run_bound, static_cast<double>(r.executions));
  }
  if (config.strategy == Strategy::kDfs) {
    const DfsStats s = dfs_stats(*chooser);
    // A failure ends the search: even where it was the tree's last execution, the verdict is
    // the failure, not a search that covered everything and found it fine.
    r.exhausted = s.complete && !r.failure;
    r.bound = s.bound;
    r.per_bound = s.per_bound;
  }
  r.seconds = elapsed();
  return r;
}

std::string Result::summary() const {
  if (failure) {
    return fmt::format("CPB CHECK FAIL {} test={} strategy={} tier={} seed={:#x} execution={}",
                       to_string(failure->kind), test, replayed ? "replay" : to_string(strategy),
                       to_string(tier), seed, failure->execution);
  }
  std::string extra;
  if (strategy == Strategy::kDfs && !replayed) {
    extra = fmt::format(" bound={} {}", bound, exhausted ? "exhausted" : "budget-limited");
  }
  if (strategy == Strategy::kPct && !replayed) {
    extra = fmt::format(" depth={} per-run-bound={:.3g} confidence={:.3g}", pct_depth, pct_per_run,
                        pct_confidence);
  }
  return fmt::format("CPB CHECK OK test={} strategy={} tier={} executions={}{} seconds={:.3f}",
                     test, replayed ? "replay" : to_string(strategy), to_string(tier), executions,
                     extra, seconds);
}

std::string Result::report() const {
  std::string out = summary() + "\n";
  if (!failure) return out;
  out += failure->message + "\n";
  out += "replay: " + failure->replay + "\n";
  if (!failure->deterministic) out += "(replay is NOT deterministic; trace of one re-run)\n";
  out += "trace:\n";
  for (const auto& l : failure->trace) out += "  " + l + "\n";
  return out;
}

void to_json(nlohmann::json& j, const Result& r) {
  j = nlohmann::json{
      {"test", r.test},
      {"strategy", r.replayed ? std::string("replay") : std::string(to_string(r.strategy))},
      {"tier", to_string(r.tier)},
      {"seed", fmt::format("{:#x}", r.seed)},
      {"executions", r.executions},
      {"pruned", r.pruned},
      {"max_steps", r.max_steps},
      {"max_threads", r.max_threads},
      {"seconds", r.seconds},
      {"ok", r.ok()}};
  if (r.strategy == Strategy::kDfs) {
    j["bound"] = r.bound;
    j["exhausted"] = r.exhausted;
    j["per_bound"] = r.per_bound;
  }
  if (r.strategy == Strategy::kPct) {
    j["pct_depth"] = r.pct_depth;
    j["pct_per_run_bound"] = r.pct_per_run;
    j["pct_confidence"] = r.pct_confidence;
  }
  if (r.failure) {
    j["failure"] =
        nlohmann::json{{"kind", to_string(r.failure->kind)},        {"message", r.failure->message},
                       {"execution", r.failure->execution},         {"replay", r.failure->replay},
                       {"deterministic", r.failure->deterministic}, {"trace", r.failure->trace}};
  }
}

}  // namespace cpb::check
