// SPDX-License-Identifier: Apache-2.0
/// @file
/// The memory-order audit (`cpbench check --audit-orders`): mutation testing of memory orders.
/// Every atomic operation and fence that an implementation's model checks execute is named by
/// where it is written; the audit weakens one at a time, one step (seq_cst -> acq_rel ->
/// release / acquire -> relaxed; a fence down to none), and runs the checks again:
///   needed                          every weaker order is caught (a kind, a replay string);
///   stronger than the checks need   some weaker order passes: it can be relaxed (a speed-up),
///                                   or the checks are too weak to see why it is needed. The
///                                   orders below one that passes are tried too, so the row
///                                   names the weakest order that passes.
///
/// ```cpp
/// AuditResult a = audit_orders({{"spsc", spsc_model_fn}}, config);
/// for (const AuditRow& row : a.rows) std::puts(format_row(row).c_str());
/// ```
#pragma once

#include "harness/check/model.hpp"
#include "harness/core/registry.hpp"
#include "harness/stress/result.hpp"

#include <nlohmann/json_fwd.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

namespace cpb::check {

/// While alive on this thread, the model checks that `model_mode` runs use `weaken` and report
/// every site they execute to `on_site`, and the scope keeps the replay string of their last
/// failure: the audit's way into registered checks, which take only a `CheckConfig`.
class AuditScope {
 public:
  using SiteFn = std::function<void(const std::source_location&, OpKind, std::memory_order)>;
  explicit AuditScope(std::vector<Weakening> weaken, SiteFn on_site = nullptr);
  ~AuditScope();
  AuditScope(const AuditScope&) = delete;
  AuditScope& operator=(const AuditScope&) = delete;

  /// The innermost scope of this thread, or null.
  static AuditScope* current();
  /// Puts the scope's weakenings and site callback into `cfg`.
  void apply(Config& cfg) const;
  /// Called with the replay string of each failure found while the scope is alive.
  void failed(std::string replay) { last_replay_ = std::move(replay); }
  [[nodiscard]] const std::string& last_replay() const { return last_replay_; }

 private:
  std::vector<Weakening> weaken_;
  SiteFn on_site_;
  std::string last_replay_;
  AuditScope* previous_ = nullptr;
};

/// A check the audit runs: its name and its `Check::model` function.
struct AuditCheck {
  std::string name;
  std::function<stress::CheckResult(const CheckConfig&)> model;
};

/// One weaker order tried at a site, and what the checks said.
struct AuditTrial {
  std::memory_order order = std::memory_order_relaxed;
  bool caught = false;
  std::string check;  ///< caught: the check that failed
  /// caught: its failure kind ("data-race", "assertion" ...), or "crash (<signal>)" when the
  /// code crashed outside the checker (each trial runs in a child process)
  std::string kind;
  std::string replay;  ///< caught: replays it, with the weakening (--weaken); empty for a crash
  std::uint64_t executions = 0;  ///< executions of every check that ran the site
  bool exhausted = false;        ///< not caught: a DFS search of every check ran to its end
};

/// One site and its trials, in the order of `weaker_orders`.
struct AuditRow {
  OrderSite site;
  std::vector<std::string> checks;  ///< the checks that execute the site
  /// One step weaker first, then the steps below each order that passed: empty for a relaxed
  /// site (nothing weaker to try).
  std::vector<AuditTrial> trials;

  /// Every weaker order is caught (so every trial is one step weaker).
  [[nodiscard]] bool needed() const;
  /// The weakest order tried that passes; none when needed.
  [[nodiscard]] std::optional<std::memory_order> weakest_passing() const;
  /// "needed", "stronger than the checks need" or "relaxed".
  [[nodiscard]] std::string_view verdict() const;
};

struct AuditResult {
  std::vector<AuditRow> rows;  ///< by file, line and column
  /// Operations with no written order of their own (`x = a`, `++a`): they run at the
  /// operator's site in the checked policy, shared by every caller, so they are not weakened.
  std::uint64_t implicit = 0;
};

/// Audits the sites of `checks` under `cfg` (tier, strategy, seed; `cfg.budget` per check and
/// trial). First runs every check unweakened, collecting the sites each executes; throws
/// std::runtime_error naming the check when one fails then. Each trial runs in a forked child
/// process. `on_row` sees each row when done.
AuditResult audit_orders(const std::vector<AuditCheck>& checks, const CheckConfig& cfg,
                         const std::function<void(const AuditRow&)>& on_row = nullptr);

/// The orders one step weaker than `order` for an operation of kind `op`.
std::vector<std::memory_order> weaker_orders(OpKind op, std::memory_order order);
/// `relaxed`, `acquire`, ... and `none` for a relaxed fence.
std::string_view order_name(OpKind op, std::memory_order order);
/// `file:line:column`, the file relative to the source tree it was built from when inside it.
std::string site_name(const OrderSite& s);
/// The `--weaken` argument for a site and an order: `site_name=order_name`.
std::string weaken_arg(const OrderSite& s, std::memory_order order);
/// Parses `FILE:LINE:COLUMN=ORDER` (ORDER: relaxed, acquire, release, acq_rel, seq_cst or none);
/// throws cpb::UsageError naming what is wrong.
Weakening parse_weakening(std::string_view arg);

/// A row as JSON: site, op, order, verdict, checks and trials.
void to_json(nlohmann::json& j, const AuditRow& row);

}  // namespace cpb::check
