// SPDX-License-Identifier: Apache-2.0
/// @file
/// The protected resource and the safety checker (Jepsen-style: record first, judge after).
///
/// `FencedStore` is the resource that lock holders write to. Fenced, it remembers the largest
/// token it has accepted and rejects a write with a smaller one (Kleppmann's storage-side
/// check); unfenced, it accepts every write. It also records the history: every grant (which
/// client, its token, when acquire was invoked, when it returned, when release returned and
/// whether release said the lock was still held) and every write (grant, token, the store's
/// sequence number, when, accepted or not).
///
/// `check(history)` judges a history without trusting the store:
///   - stale write accepted: an accepted write whose token is smaller than a token accepted
///     before it (fenced histories only; an unfenced store has no tokens to compare);
///   - overlap: two grants whose accepted writes interleave in the store's order (one wrote,
///     the other wrote, the first wrote again), i.e. both acted as the holder at once. The
///     result names the interval: the two grants, their clients and tokens, the times they
///     believed they held the lock, and the window of interleaved writes;
///   - token order: a grant acquired after another was released has a smaller token (fenced).
/// With fencing, the store's rule keeps every overlap out of the accepted writes; without it, a
/// holder that was paused past its lease writes after its successor and is caught.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

namespace cpb::patterns::distributed_lock {

inline std::uint64_t steady_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

struct GrantRecord {
  std::uint64_t id = 0;
  int client = 0;
  std::int64_t token = 0;
  std::uint64_t invoked_ns = 0;   ///< acquire called
  std::uint64_t granted_ns = 0;   ///< acquire returned
  std::uint64_t released_ns = 0;  ///< release returned; 0: not released (yet)
  bool release_ok = false;        ///< release said the lock was still ours
};

struct WriteRecord {
  std::uint64_t seq = 0;  ///< the store's order
  std::uint64_t grant = 0;
  std::int64_t token = 0;
  std::uint64_t at_ns = 0;
  bool accepted = false;
};

struct History {
  bool fenced = false;
  std::uint64_t origin_ns = 0;  ///< times in reports are seconds since this
  std::vector<GrantRecord> grants;
  std::vector<WriteRecord> writes;
  std::uint64_t dropped = 0;  ///< records not kept (over the cap); the verdict says so
};

struct Safety {
  std::uint64_t grants = 0;
  std::uint64_t writes = 0;
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t stale_accepted = 0;
  std::uint64_t overlaps = 0;
  std::uint64_t token_order = 0;
  std::vector<std::string> problems;  ///< one line each, the first few of every kind

  [[nodiscard]] std::uint64_t violations() const { return stale_accepted + overlaps + token_order; }
  [[nodiscard]] std::string first() const { return problems.empty() ? "" : problems.front(); }
};

class FencedStore {
 public:
  explicit FencedStore(bool fenced, std::size_t max_records = 2'000'000)
      : max_records_(max_records) {
    h_.fenced = fenced;
    h_.origin_ns = steady_ns();
  }

  /// Records a grant that `client` got with `token`; returns its id for write/released.
  std::uint64_t granted(int client, std::int64_t token, std::uint64_t invoked_ns,
                        std::uint64_t granted_ns) {
    std::lock_guard lock(mutex_);
    const std::uint64_t id = next_grant_++;
    if (h_.grants.size() < max_records_) {
      h_.grants.push_back({id, client, token, invoked_ns, granted_ns, 0, false});
    } else {
      ++h_.dropped;
    }
    return id;
  }

  /// A write by the holder of grant `grant`, presenting `token` (0 from an unfenced client).
  bool write(std::uint64_t grant, std::int64_t token) {
    std::lock_guard lock(mutex_);
    const bool accepted = !h_.fenced || token >= max_token_;
    if (accepted) max_token_ = std::max(max_token_, token);
    if (h_.writes.size() < max_records_) {
      h_.writes.push_back({next_seq_, grant, token, steady_ns(), accepted});
    } else {
      ++h_.dropped;
    }
    ++next_seq_;
    return accepted;
  }

  void released(std::uint64_t grant, bool ok, std::uint64_t at_ns) {
    std::lock_guard lock(mutex_);
    // Grants are appended in id order: the record is at index id - first id, if kept.
    if (!h_.grants.empty() && grant >= h_.grants.front().id) {
      const auto i = grant - h_.grants.front().id;
      if (i < h_.grants.size()) {
        h_.grants[i].released_ns = at_ns;
        h_.grants[i].release_ok = ok;
      }
    }
  }

  /// A copy of the history so far.
  [[nodiscard]] History history() const {
    std::lock_guard lock(mutex_);
    return h_;
  }

 private:
  mutable std::mutex mutex_;
  History h_;
  std::size_t max_records_;
  std::uint64_t next_grant_ = 1;
  std::uint64_t next_seq_ = 1;
  std::int64_t max_token_ = std::numeric_limits<std::int64_t>::min();
};

namespace detail {

inline double secs(const History& h, std::uint64_t ns) {
  return ns == 0 ? std::numeric_limits<double>::infinity()
                 : static_cast<double>(static_cast<std::int64_t>(ns - h.origin_ns)) * 1e-9;
}

inline std::string held(const History& h, const GrantRecord& g) {
  return g.released_ns == 0
             ? fmt::format("{:.3f} s..(never released)", secs(h, g.granted_ns))
             : fmt::format("{:.3f}..{:.3f} s", secs(h, g.granted_ns), secs(h, g.released_ns));
}

}  // namespace detail

/// Judges `h` (see the file comment). At most `max_named` problems of each kind are named.
inline Safety check(const History& h, std::size_t max_named = 3) {
  Safety v;
  v.grants = h.grants.size();
  v.writes = h.writes.size();
  std::vector<const GrantRecord*> by_id;  // grant id -> record
  std::uint64_t first_id = h.grants.empty() ? 0 : h.grants.front().id;
  by_id.reserve(h.grants.size());
  for (const auto& g : h.grants) by_id.push_back(&g);
  auto grant_of = [&](std::uint64_t id) -> const GrantRecord* {
    return id >= first_id && id - first_id < by_id.size() ? by_id[id - first_id] : nullptr;
  };

  // Stale writes accepted, and each grant's span of accepted writes in the store's order.
  struct Span {
    std::uint64_t first_seq = 0, last_seq = 0, first_ns = 0, last_ns = 0;
  };
  std::vector<Span> spans(by_id.size());
  std::int64_t max_token = std::numeric_limits<std::int64_t>::min();
  for (const auto& w : h.writes) {
    if (!w.accepted) {
      ++v.rejected;
      continue;
    }
    ++v.accepted;
    if (h.fenced && w.token < max_token) {
      if (v.stale_accepted++ < max_named) {
        v.problems.push_back(
            fmt::format("stale write accepted: write #{} with token {} after token {} at {:.3f} s",
                        w.seq, w.token, max_token, detail::secs(h, w.at_ns)));
      }
    }
    max_token = std::max(max_token, w.token);
    if (grant_of(w.grant) == nullptr) continue;
    auto& s = spans[w.grant - first_id];
    if (s.first_seq == 0) {
      s.first_seq = w.seq;
      s.first_ns = w.at_ns;
    }
    s.last_seq = w.seq;
    s.last_ns = w.at_ns;
  }

  // Overlaps: sweep the spans in order of their first accepted write; a span that starts before
  // the furthest-reaching earlier span ends interleaves with it.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    if (spans[i].first_seq != 0) order.push_back(i);
  }
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return spans[a].first_seq < spans[b].first_seq; });
  std::size_t reach = spans.size();  // index of the span that reaches furthest so far
  for (const std::size_t i : order) {
    if (reach != spans.size() && spans[i].first_seq < spans[reach].last_seq) {
      if (v.overlaps++ < max_named) {
        const auto& a = *by_id[reach];
        const auto& b = *by_id[i];
        // The interval: where the two believed they held the lock at once (acquire returned,
        // release not yet returned), and where their accepted writes interleaved.
        const std::uint64_t from = std::max(a.granted_ns, b.granted_ns);
        const std::uint64_t a_end = a.released_ns == 0 ? UINT64_MAX : a.released_ns;
        const std::uint64_t b_end = b.released_ns == 0 ? UINT64_MAX : b.released_ns;
        const std::uint64_t to = std::min(a_end, b_end);
        v.problems.push_back(fmt::format(
            "overlap: client {} (token {}, held {}) and client {} (token {}, held {}) both held "
            "the lock in {:.3f}..{:.3f} s and had writes accepted in {:.3f}..{:.3f} s",
            a.client, a.token, detail::held(h, a), b.client, b.token, detail::held(h, b),
            detail::secs(h, from), detail::secs(h, to == UINT64_MAX ? 0 : to),
            detail::secs(h, spans[i].first_ns), detail::secs(h, spans[reach].last_ns)));
      }
    }
    if (reach == spans.size() || spans[i].last_seq > spans[reach].last_seq) reach = i;
  }

  // Token order: a grant that began after another ended must have a larger token.
  if (h.fenced) {
    std::vector<const GrantRecord*> ended;
    for (const auto& g : h.grants) {
      if (g.released_ns != 0) ended.push_back(&g);
    }
    std::sort(ended.begin(), ended.end(),
              [](auto* a, auto* b) { return a->released_ns < b->released_ns; });
    std::vector<const GrantRecord*> started;
    for (const auto& g : h.grants) started.push_back(&g);
    std::sort(started.begin(), started.end(),
              [](auto* a, auto* b) { return a->invoked_ns < b->invoked_ns; });
    // For each grant, the largest token among grants released before it was invoked.
    std::size_t e = 0;
    const GrantRecord* best = nullptr;
    for (const auto* g : started) {
      while (e < ended.size() && ended[e]->released_ns < g->invoked_ns) {
        if (best == nullptr || ended[e]->token > best->token) best = ended[e];
        ++e;
      }
      if (best != nullptr && g->token <= best->token) {
        if (v.token_order++ < max_named) {
          v.problems.push_back(fmt::format(
              "token did not increase: client {} got token {} at {:.3f} s after client {} "
              "released token {} at {:.3f} s",
              g->client, g->token, detail::secs(h, g->granted_ns), best->client, best->token,
              detail::secs(h, best->released_ns)));
        }
      }
    }
  }
  if (h.dropped > 0) {
    v.problems.push_back(fmt::format("note: {} records over the cap were not kept", h.dropped));
  }
  return v;
}

}  // namespace cpb::patterns::distributed_lock
