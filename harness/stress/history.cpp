// SPDX-License-Identifier: Apache-2.0
#include "harness/stress/history.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace cpb::stress {

std::string format_history(std::span<const Op> ops, const Describe& describe,
                           std::span<const std::size_t> highlight) {
  std::vector<std::size_t> order(ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return ops[a].invoke < ops[b].invoke; });
  std::map<std::uint32_t, std::size_t> column;  // thread -> column
  for (const Op& op : ops) column.emplace(op.thread, 0);
  std::size_t c = 0;
  for (auto& [t, col] : column) col = c++;

  std::vector<std::string> cells(ops.size());
  std::vector<std::size_t> width(column.size(), 0);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const bool hot = std::find(highlight.begin(), highlight.end(), i) != highlight.end();
    cells[i] = fmt::format("{}{} [{},{}]", hot ? "*" : "", describe(ops[i]), ops[i].invoke,
                           ops[i].response);
  }
  for (const auto& [t, col] : column) width[col] = fmt::format("thread {}", t).size();
  for (std::size_t i = 0; i < ops.size(); ++i) {
    auto& w = width[column[ops[i].thread]];
    w = std::max(w, cells[i].size());
  }
  std::string out;
  std::string rule;
  for (const auto& [t, col] : column) {
    out += fmt::format("| {:<{}} ", fmt::format("thread {}", t), width[col]);
    rule += "|" + std::string(width[col] + 2, '-');
  }
  out += "|\n" + rule + "|\n";
  for (const std::size_t i : order) {
    const std::size_t col = column[ops[i].thread];
    for (std::size_t k = 0; k < column.size(); ++k) {
      out += fmt::format("| {:<{}} ", k == col ? cells[i] : std::string(), width[k]);
    }
    out += "|\n";
  }
  return out;
}

namespace {

struct RecordShared {
  RecordShared(const RecordOptions& o, Body b, std::uint64_t seed)
      : options(o), body(std::move(b)), ops(o.threads) {
    for (std::size_t t = 0; t < o.threads; ++t) {
      rngs.emplace_back(mix64(seed ^ mix64(0x5eed0000ULL + t)));
      ops[t].reserve(o.operations / std::max<std::size_t>(1, o.threads) + o.ops_per_round);
    }
  }
  const RecordOptions options;
  const Body body;
  Clock clock;
  std::vector<Rng> rngs;             // rngs[t] is used by thread t only
  std::vector<std::vector<Op>> ops;  // ops[t] is written by thread t only
};

}  // namespace

Recording record(const RecordOptions& options, Body body) {
  Recording rec;
  rec.seed = resolve_seed(options.seed);
  const std::size_t threads = std::max<std::size_t>(1, options.threads);
  const std::size_t per_round = std::max<std::size_t>(1, options.ops_per_round);
  RecordOptions o = options;
  o.threads = threads;
  o.ops_per_round = per_round;
  auto shared = std::make_shared<RecordShared>(o, std::move(body), rec.seed);

  auto hooks = std::make_shared<EngineHooks>();
  hooks->run_actor = [shared, per_round](std::size_t t, std::uint64_t) {
    Recorder r(shared->clock, static_cast<std::uint32_t>(t), shared->ops[t]);
    for (std::size_t k = 0; k < per_round; ++k) shared->body(t, shared->rngs[t], r);
  };
  hooks->end_stride = [](std::uint64_t) { return false; };  // stop by round count or time cap

  EngineOptions eo;
  for (std::size_t t = 0; t < threads; ++t) eo.actor_names.push_back(fmt::format("thread {}", t));
  eo.seed = rec.seed;
  eo.min_time = std::chrono::milliseconds(0);
  eo.max_time = options.time_cap;
  eo.max_strides = (options.operations + threads * per_round - 1) / (threads * per_round);
  eo.grace = options.grace;
  eo.pin = options.pin;
  eo.jitter = true;
  rec.engine = run_strides(eo, hooks);
  rec.rounds = rec.engine.strides;
  rec.elapsed_ms = rec.engine.elapsed_ms;
  if (!rec.engine.ok()) return rec;  // a hung thread may still write its vector: leave them
  std::size_t total = 0;
  for (const auto& v : shared->ops) total += v.size();
  rec.history.reserve(total);
  for (const auto& v : shared->ops) rec.history.insert(rec.history.end(), v.begin(), v.end());
  std::sort(rec.history.begin(), rec.history.end(),
            [](const Op& a, const Op& b) { return a.invoke < b.invoke; });
  return rec;
}

}  // namespace cpb::stress
