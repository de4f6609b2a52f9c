// SPDX-License-Identifier: Apache-2.0
#include "harness/check/audit.hpp"

#include "harness/core/errors.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

namespace cpb::check {
namespace {

thread_local AuditScope* g_scope = nullptr;

constexpr std::array<std::pair<std::string_view, std::memory_order>, 6> kOrders{{
    {"relaxed", std::memory_order_relaxed},
    {"acquire", std::memory_order_acquire},
    {"release", std::memory_order_release},
    {"acq_rel", std::memory_order_acq_rel},
    {"seq_cst", std::memory_order_seq_cst},
    {"none", std::memory_order_relaxed},  // a fence weakened away
}};

/// Operators of `check::Atomic` (`x = a`, `++a`) call the named operations from inside the
/// policy's header: those sites are shared by every caller.
bool implicit_site(std::string_view file) { return file.ends_with("harness/check/sync.hpp"); }

std::uint32_t parse_u32(std::string_view s, std::string_view what, std::string_view arg) {
  std::uint32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v == 0) {
    throw UsageError(
        fmt::format("--weaken '{}': the {} '{}' is not a positive integer", arg, what, s));
  }
  return v;
}

/// Runs the checks in `users` with the site weakened to `weaker`; `starting(i)` is called
/// before check i runs.
AuditTrial run_trial(const std::vector<AuditCheck>& checks, const std::set<std::size_t>& users,
                     const OrderSite& site, std::memory_order weaker, const CheckConfig& cfg,
                     const std::function<void(std::size_t)>& starting) {
  AuditTrial trial;
  trial.order = weaker;
  trial.exhausted = true;
  const AuditScope scope({Weakening{site.file, site.line, site.column, weaker}});
  for (const std::size_t i : users) {
    starting(i);
    const stress::CheckResult r = checks[i].model(cfg);
    trial.executions += r.samples;
    if (r.verdict == stress::Verdict::kError) {
      throw std::runtime_error(fmt::format("{} could not run with {}: {}", checks[i].name,
                                           weaken_arg(site, weaker), r.failure));
    }
    if (!r.passed()) {
      trial.caught = true;
      trial.check = checks[i].name;
      trial.kind = r.kind;
      trial.replay = scope.last_replay();
      trial.exhausted = false;
      break;
    }
    trial.exhausted = trial.exhausted && r.stat("exhausted") != 0;
  }
  return trial;
}

void write_all(int fd, const std::string& s) {
  for (std::size_t done = 0; done < s.size();) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

/// run_trial in a child process. With an order weakened, the code under test may follow a
/// pointer it read too early, outside anything the checker intercepts: a crash of the child
/// is then a caught trial (kind "crash (<signal>)", no replay string; the same search, with
/// the same seed, reproduces it), not the end of the audit.
AuditTrial trial_in_child(const std::vector<AuditCheck>& checks, const std::set<std::size_t>& users,
                          const OrderSite& site, std::memory_order weaker, const CheckConfig& cfg) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ::close(fds[0]);
    nlohmann::json last;
    try {
      const AuditTrial t = run_trial(checks, users, site, weaker, cfg, [&](std::size_t i) {
        write_all(fds[1], nlohmann::json{{"check", checks[i].name}}.dump() + "\n");
      });
      last = {{"trial",
               {{"caught", t.caught},
                {"check", t.check},
                {"kind", t.kind},
                {"replay", t.replay},
                {"executions", t.executions},
                {"exhausted", t.exhausted}}}};
    } catch (const std::exception& e) {
      last = {{"error", e.what()}};
    }
    write_all(fds[1], last.dump() + "\n");
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  AuditTrial trial;
  trial.order = weaker;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    const auto j = nlohmann::json::parse(text.substr(start, nl - start));
    if (j.contains("check")) trial.check = j["check"].get<std::string>();
    if (j.contains("error")) throw std::runtime_error(j["error"].get<std::string>());
    if (j.contains("trial")) {
      const auto& t = j["trial"];
      trial.caught = t["caught"].get<bool>();
      trial.check = t["check"].get<std::string>();
      trial.kind = t["kind"].get<std::string>();
      trial.replay = t["replay"].get<std::string>();
      trial.executions = t["executions"].get<std::uint64_t>();
      trial.exhausted = t["exhausted"].get<bool>();
      return trial;
    }
  }
  trial.caught = true;
  trial.kind = WIFSIGNALED(status) ? fmt::format("crash ({})", ::strsignal(WTERMSIG(status)))
                                   : fmt::format("crash (exit {})", WEXITSTATUS(status));
  return trial;
}

}  // namespace

AuditScope::AuditScope(std::vector<Weakening> weaken, SiteFn on_site)
    : weaken_(std::move(weaken)), on_site_(std::move(on_site)), previous_(g_scope) {
  g_scope = this;
}

AuditScope::~AuditScope() { g_scope = previous_; }

AuditScope* AuditScope::current() { return g_scope; }

void AuditScope::apply(Config& cfg) const {
  cfg.weaken.insert(cfg.weaken.end(), weaken_.begin(), weaken_.end());
  if (on_site_) cfg.on_site = on_site_;
}

bool AuditRow::needed() const {
  return !trials.empty() &&
         std::all_of(trials.begin(), trials.end(), [](const AuditTrial& t) { return t.caught; });
}

std::optional<std::memory_order> AuditRow::weakest_passing() const {
  std::optional<std::memory_order> out;
  for (const AuditTrial& t : trials) {
    if (!t.caught) out = t.order;  // trials go from stronger to weaker
  }
  return out;
}

std::string_view AuditRow::verdict() const {
  if (trials.empty()) return "relaxed";
  return needed() ? "needed" : "stronger than the checks need";
}

std::vector<std::memory_order> weaker_orders(OpKind op, std::memory_order order) {
  using enum std::memory_order;
  const bool reads = op == OpKind::kLoad || op == OpKind::kWait;
  switch (order) {
    case seq_cst:
      if (reads) return {acquire};
      if (op == OpKind::kStore) return {release};
      return {acq_rel};  // read-modify-writes and fences
    case acq_rel:
      return {release, acquire};
    case acquire:
    case consume:
    case release:
      return {relaxed};
    case relaxed:
      break;
  }
  return {};
}

std::string_view order_name(OpKind op, std::memory_order order) {
  if (op == OpKind::kFence && order == std::memory_order_relaxed) return "none";
  if (order == std::memory_order_consume) return "consume";
  for (const auto& [name, mo] : kOrders) {
    if (mo == order) return name;
  }
  return "?";
}

std::string site_name(const OrderSite& s) {
  std::string_view file = s.file;
#ifdef CPB_SOURCE_DIR
  if (file.starts_with(CPB_SOURCE_DIR)) file.remove_prefix(std::string_view(CPB_SOURCE_DIR).size());
#endif
  // ccache's base_dir hands the compiler paths relative to the build folder.
  while (file.starts_with("../") || file.starts_with("./")) file.remove_prefix(file.find('/') + 1);
  return fmt::format("{}:{}:{}", file, s.line, s.column);
}

std::string weaken_arg(const OrderSite& s, std::memory_order order) {
  return fmt::format("{}={}", site_name(s), order_name(s.op, order));
}

Weakening parse_weakening(std::string_view arg) {
  const auto eq = arg.rfind('=');
  if (eq == std::string_view::npos) {
    throw UsageError(fmt::format("--weaken '{}': expected FILE:LINE:COLUMN=ORDER", arg));
  }
  const std::string_view site = arg.substr(0, eq);
  const std::string_view order = arg.substr(eq + 1);
  const auto c2 = site.rfind(':');
  const auto c1 = c2 == std::string_view::npos ? c2 : site.rfind(':', c2 - 1);
  if (c1 == std::string_view::npos || c1 == 0) {
    throw UsageError(fmt::format("--weaken '{}': expected FILE:LINE:COLUMN=ORDER", arg));
  }
  Weakening w;
  w.file = std::string(site.substr(0, c1));
  w.line = parse_u32(site.substr(c1 + 1, c2 - c1 - 1), "line", arg);
  w.column = parse_u32(site.substr(c2 + 1), "column", arg);
  const auto it =
      std::find_if(kOrders.begin(), kOrders.end(), [&](const auto& o) { return o.first == order; });
  if (it == kOrders.end()) {
    throw UsageError(fmt::format(
        "--weaken '{}': unknown order '{}' (known: relaxed, acquire, release, acq_rel, seq_cst, "
        "none)",
        arg, order));
  }
  w.order = it->second;
  return w;
}

AuditResult audit_orders(const std::vector<AuditCheck>& checks, const CheckConfig& cfg,
                         const std::function<void(const AuditRow&)>& on_row) {
  // Which sites each check executes, unweakened (it must pass so).
  std::map<OrderSite, std::set<std::size_t>> sites;
  AuditResult out;
  std::set<std::pair<std::string, std::uint32_t>> implicit;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const AuditScope scope(
        {}, [&](const std::source_location& loc, OpKind op, std::memory_order mo) {
          if (implicit_site(loc.file_name())) {
            implicit.emplace(loc.file_name(), loc.line());
            return;
          }
          sites[OrderSite{loc.file_name(), loc.line(), loc.column(), op, mo}].insert(i);
        });
    const stress::CheckResult r = checks[i].model(cfg);
    if (!r.passed()) {
      throw std::runtime_error(
          fmt::format("{} fails before any order is weakened: {}", checks[i].name, r.failure));
    }
  }
  out.implicit = implicit.size();

  for (const auto& [site, users] : sites) {
    AuditRow row;
    row.site = site;
    for (const std::size_t i : users) row.checks.push_back(checks[i].name);
    // One step weaker first; below an order that passes, the steps below it too (down to the
    // weakest order that passes, or relaxed).
    std::vector<std::memory_order> todo = weaker_orders(site.op, site.order);
    for (std::size_t k = 0; k < todo.size(); ++k) {
      const std::memory_order weaker = todo[k];
      AuditTrial trial = trial_in_child(checks, users, site, weaker, cfg);
      if (!trial.caught) {
        for (const std::memory_order w : weaker_orders(site.op, weaker)) {
          if (std::find(todo.begin(), todo.end(), w) == todo.end()) todo.push_back(w);
        }
      }
      row.trials.push_back(std::move(trial));
    }
    if (on_row) on_row(row);
    out.rows.push_back(std::move(row));
  }
  return out;
}

void to_json(nlohmann::json& j, const AuditRow& row) {
  j = nlohmann::json{{"site", site_name(row.site)},
                     {"op", to_string(row.site.op)},
                     {"order", order_name(row.site.op, row.site.order)},
                     {"verdict", row.verdict()},
                     {"checks", row.checks}};
  if (const auto w = row.weakest_passing()) j["weakest_passing"] = order_name(row.site.op, *w);
  auto& trials = j["trials"] = nlohmann::json::array();
  for (const AuditTrial& t : row.trials) {
    nlohmann::json tj{{"order", order_name(row.site.op, t.order)},
                      {"caught", t.caught},
                      {"executions", t.executions}};
    if (t.caught) {
      tj["check"] = t.check;
      tj["kind"] = t.kind;
      tj["replay"] = t.replay;
      tj["weaken"] = weaken_arg(row.site, t.order);
    } else {
      tj["exhausted"] = t.exhausted;
    }
    trials.push_back(std::move(tj));
  }
}

}  // namespace cpb::check
