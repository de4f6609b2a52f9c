// SPDX-License-Identifier: Apache-2.0
/// @file
/// Token pipeline: a pool of worker threads (as many as the stages' concurrency adds up to)
/// carries each item through the stages itself, oneTBB `parallel_pipeline`'s design. A worker
/// takes an item from the source (the source runs on the workers, one call at a time), runs
/// stage 0 on it, and goes straight on to stage 1 with the same item if that stage admits it
/// now, and so on; an item hands over between threads only where a stage makes it wait.
///
/// - Admission: an unordered stage admits an item while fewer than its `concurrency` items are
///   in it, else the item waits in the stage's FIFO; an in-order stage admits only the item
///   whose sequence number is next, and only when the stage is empty, else the item waits in the
///   stage's reorder buffer. When an item leaves a stage, the worker admits the next waiting
///   one (if any) and puts it on the ready list, from which idle workers take work.
/// - Tokens: at most `tokens()` = stages × capacity items are in flight. That bounds every
///   buffer (an in-order stage's buffer holds items `next .. next + tokens - 1`), and is the
///   number of tokens the oneTBB baseline gets. There are no queues between stages as such;
///   `capacity` only sets the tokens, so that both own pipelines and TBB admit the same number.
/// - End of stream: `run` returns when the source has run dry and no item is in flight (the last
///   one left the last stage); the workers stay for the next `run`; `close()` (or the
///   destructor) stops and joins them.
/// - Errors: as in `QueuePipeline`: a stage's `std::exception` marks the item failed, later
///   stages pass it on without running it (in-order stages still count it), and `run` reports
///   (seq, stage, what()).
///
/// Progress: blocking (one mutex guards the scheduling state; idle workers poll briefly with
/// `sync::Backoff`, then sleep on a condition variable).
/// Memory ordering: every hand-off of an item between threads goes through the mutex; the only
/// relaxed accesses are the `work_hint_` that pollers read before taking the lock (a hint only)
/// and the live-thread count.
/// When to use: many cheap stages on few cores, where a hand-off per stage (a queue pipeline)
/// costs more than the work: an item here changes threads only when a stage is busy or out of
/// order. When not to use: stages that block for long (a blocked worker holds a token and a
/// slot of the pool) or that need threads of their own; use `QueuePipeline` there.
/// Reference: McCool, Robison & Reinders, "Structured Parallel Programming" (2012), ch. 9
/// (pipelines, and how TBB's `parallel_pipeline` carries items through them).
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/pipeline/stage.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpb::patterns::pipeline {

template <class T, class S = sync::Real>
class TokenPipeline {
 public:
  using item_type = T;
  static constexpr std::string_view kName = "token_pipeline";
  static constexpr Progress kProgress = Progress::kBlocking;

  /// Builds the pipeline and starts its workers.
  /// @throws std::invalid_argument as `QueuePipeline`.
  TokenPipeline(std::vector<Stage<T>> stages, std::size_t capacity, unsigned spins = kSpins)
      : specs_((validate(stages, capacity), std::move(stages))),
        tokens_(tokens_for(specs_.size(), capacity)),
        spins_(spins) {
    State& st = state_.get();
    st.stages.resize(specs_.size());
    for (std::size_t k = 0; k < specs_.size(); ++k) {
      if (specs_[k].order == Order::kInOrder) {
        st.stages[k].held.resize(tokens_);
      } else {
        st.stages[k].parked = Ring<Envelope>(tokens_);
      }
    }
    st.ready = Ring<Job>(tokens_);
    const std::size_t n = stage_threads(specs_);
    threads_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      // Relaxed: a count for `live_threads`; the joins in close() order the decrements.
      live_.fetch_add(1, std::memory_order_relaxed);
      threads_.emplace_back([this] { work(); });
    }
  }

  ~TokenPipeline() { close(); }

  TokenPipeline(const TokenPipeline&) = delete;
  TokenPipeline& operator=(const TokenPipeline&) = delete;

  /// Runs one stream: the workers call `source()` (returning `std::optional<T>`; empty = end
  /// of stream), one call at a time, until it runs dry; returns when every item has left the
  /// last stage. One `run` at a time. If `source` throws, the items already taken still finish,
  /// and the exception is rethrown.
  /// @throws std::logic_error after `close()`.
  template <class Source>
  RunReport run(Source&& source) {
    using Src = std::remove_reference_t<Source>;
    std::lock_guard run_lock(run_m_);
    std::unique_lock lk(m_);
    State& st = state_.get();
    if (st.stop) throw std::logic_error("TokenPipeline::run after close");
    st.source_obj = static_cast<void*>(&source);
    st.source_call = [](void* p) -> std::optional<T> { return (*static_cast<Src*>(p))(); };
    st.source_open = true;
    st.seq = 0;
    for (StageState& s : st.stages) s.next = 0;  // the last stream left every stage empty
    update_hint(st);
    if (st.sleepers > 0) work_cv_.notify_all();
    done_cv_.wait(lk, [&] { return finished(st); });
    st.source_obj = nullptr;
    RunReport report;
    report.items = st.seq;
    report.completed = std::exchange(st.completed, 0);
    report.errors = std::move(st.errors);
    st.errors.clear();
    const std::exception_ptr failure = std::exchange(st.failure, nullptr);
    lk.unlock();
    if (failure) std::rethrow_exception(failure);
    sort_errors(report.errors);
    return report;
  }

  /// Stops and joins every worker. Idempotent; not during a `run`.
  void close() {
    std::lock_guard run_lock(run_m_);
    {
      std::lock_guard lk(m_);
      State& st = state_.get();
      if (st.stop) return;
      st.stop = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  /// Items in flight at most: stages × capacity.
  [[nodiscard]] std::size_t tokens() const { return tokens_; }

  /// Workers that have not exited yet (0 after `close`).
  [[nodiscard]] std::size_t live_threads() const {
    // Relaxed: a count; after close() the joins order every decrement before this read.
    return live_.load(std::memory_order_relaxed);
  }

 private:
  static constexpr unsigned kSpins = 10;

  struct Envelope {
    std::uint64_t seq = 0;
    T value{};
    bool failed = false;
  };

  /// An item admitted to stage `stage`: whoever holds it runs that stage on it.
  struct Job {
    std::size_t stage = 0;
    Envelope item;
  };

  /// A fixed-size FIFO (at most `tokens` entries: one per item in flight).
  template <class E>
  class Ring {
   public:
    Ring() = default;
    explicit Ring(std::size_t n) : buf_(n) {}
    [[nodiscard]] bool empty() const { return size_ == 0; }
    [[nodiscard]] std::size_t size() const { return size_; }
    void push(E e) {
      buf_[(head_ + size_) % buf_.size()] = std::move(e);
      ++size_;
    }
    E pop() {
      E e = std::move(buf_[head_]);
      head_ = (head_ + 1) % buf_.size();
      --size_;
      return e;
    }

   private:
    std::vector<E> buf_;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
  };

  struct StageState {
    std::size_t active = 0;                     // items in the stage now
    std::uint64_t next = 0;                     // in order: the sequence number it admits next
    Ring<Envelope> parked;                      // unordered: items waiting for a slot (FIFO)
    std::vector<std::optional<Envelope>> held;  // in order: the reorder buffer, slot seq % tokens
  };

  struct State {
    std::vector<StageState> stages;
    Ring<Job> ready;  // admitted items no worker holds yet
    void* source_obj = nullptr;
    std::optional<T> (*source_call)(void*) = nullptr;
    bool source_open = false;  // the current stream's source has not run dry
    bool source_busy = false;  // a worker is calling the source
    std::uint64_t seq = 0;     // items taken from the source in this stream
    std::size_t in_flight = 0;
    std::uint64_t completed = 0;
    std::vector<StageError> errors;
    std::exception_ptr failure;  // what the source threw
    std::size_t sleepers = 0;
    bool stop = false;
  };

  [[nodiscard]] bool source_ready(const State& st) const {
    return st.source_open && !st.source_busy && st.in_flight < tokens_;
  }

  [[nodiscard]] static bool finished(const State& st) {
    return !st.source_open && !st.source_busy && st.in_flight == 0;
  }

  void update_hint(const State& st) {
    // Relaxed: a hint for pollers, who then take the lock that decides.
    work_hint_.store(st.ready.size() + (source_ready(st) ? 1 : 0), std::memory_order_relaxed);
  }

  /// Under m_: admits `e` to stage `k` and returns true (the caller runs it), or parks it.
  bool admit(State& st, std::size_t k, Envelope& e) {
    StageState& s = st.stages[k];
    if (specs_[k].order == Order::kInOrder) {
      if (s.active == 0 && e.seq == s.next) {
        s.active = 1;
        return true;
      }
      s.held[e.seq % tokens_].emplace(std::move(e));
      return false;
    }
    if (s.active < specs_[k].concurrency) {
      ++s.active;
      return true;
    }
    s.parked.push(std::move(e));
    return false;
  }

  /// Under m_: item `e` left stage `k`. Admits the next waiting item of stage `k` (onto the
  /// ready list) and returns `e`'s next job, if its next stage admits it now.
  std::optional<Job> leave(State& st, std::size_t k, Envelope& e) {
    StageState& s = st.stages[k];
    --s.active;
    if (specs_[k].order == Order::kInOrder) {
      ++s.next;
      std::optional<Envelope>& slot = s.held[s.next % tokens_];
      if (slot) {
        s.active = 1;
        st.ready.push(Job{k, std::move(*slot)});
        slot.reset();
      }
    } else if (!s.parked.empty()) {
      ++s.active;
      st.ready.push(Job{k, s.parked.pop()});
    }
    if (k + 1 == specs_.size()) {
      --st.in_flight;
      if (!e.failed) ++st.completed;
      if (finished(st)) done_cv_.notify_all();
      return std::nullopt;
    }
    if (admit(st, k + 1, e)) return Job{k + 1, std::move(e)};
    return std::nullopt;
  }

  /// Under m_ (held on return): the next job for this worker, or nothing when stopped. Takes
  /// ready jobs first, then new items from the source; polls, then sleeps, when neither is there.
  std::optional<Job> find(std::unique_lock<typename S::mutex>& lk) {
    State& st = state_.get();
    for (;;) {
      if (st.stop) return std::nullopt;
      if (!st.ready.empty()) {
        Job j = st.ready.pop();
        update_hint(st);
        return j;
      }
      if (source_ready(st)) {
        st.source_busy = true;
        update_hint(st);
        auto* const call = st.source_call;
        void* const obj = st.source_obj;
        lk.unlock();
        std::optional<T> v;
        std::exception_ptr failure;
        try {
          v = call(obj);  // source_busy: one call at a time
        } catch (...) {
          failure = std::current_exception();
        }
        lk.lock();
        st.source_busy = false;
        if (!v) {
          st.source_open = false;
          if (failure) st.failure = failure;
          update_hint(st);
          if (finished(st)) done_cv_.notify_all();
          continue;
        }
        ++st.in_flight;
        Envelope e{st.seq++, std::move(*v), false};
        update_hint(st);
        if (source_ready(st) && st.sleepers > 0) work_cv_.notify_one();
        if (admit(st, 0, e)) return Job{0, std::move(e)};
        continue;
      }
      // Nothing to do: poll a little (a futex wake costs more than the stages' work), then
      // sleep until a job is ready or the source can be called.
      lk.unlock();
      sync::Backoff<S> backoff;
      for (unsigned i = 0; i < spins_; ++i) {
        // Relaxed: a hint only; the lock decides.
        if (work_hint_.load(std::memory_order_relaxed) > 0) break;
        backoff();
      }
      lk.lock();
      if (st.stop || !st.ready.empty() || source_ready(st)) continue;
      ++st.sleepers;
      work_cv_.wait(lk);
      --st.sleepers;
    }
  }

  /// Runs stage `k` on `e` (outside the lock).
  void apply(std::size_t k, Envelope& e) {
    if (e.failed) return;
    try {
      e.value = specs_[k].fn(std::move(e.value));
    } catch (const std::exception& ex) {
      e.failed = true;
      e.value = T{};
      std::lock_guard lk(m_);
      state_.get().errors.push_back(StageError{e.seq, k, ex.what()});
    }
  }

  // Not noexcept: under the model checker an abandoned execution unwinds the thread.
  void work() {
    std::unique_lock lk(m_);
    State& st = state_.get();
    for (;;) {
      std::optional<Job> job = find(lk);
      if (!job) break;
      while (job) {
        lk.unlock();
        apply(job->stage, job->item);
        lk.lock();
        job = leave(st, job->stage, job->item);
        update_hint(st);
        // Jobs that this worker will not take: wake a sleeper for them.
        if (st.sleepers > 0 && st.ready.size() + (source_ready(st) ? 1 : 0) > (job ? 0 : 1)) {
          work_cv_.notify_one();
        }
      }
    }
    lk.unlock();
    // Relaxed: a count; close() joins this thread before anyone relies on it.
    live_.fetch_sub(1, std::memory_order_relaxed);
  }

  const std::vector<Stage<T>> specs_;
  const std::size_t tokens_;
  const unsigned spins_;
  typename S::mutex m_;
  typename S::condition_variable work_cv_;  // workers: a job is ready, the source can run, stop
  typename S::condition_variable done_cv_;  // the driver: the stream finished
  typename S::template cell<State> state_;  // guarded by m_
  alignas(64) typename S::template atomic<std::size_t> work_hint_{0};
  typename S::template atomic<std::size_t> live_{0};
  typename S::mutex run_m_;                  // one run (or close) at a time
  std::vector<typename S::thread> threads_;  // last: started after everything above exists
};

}  // namespace cpb::patterns::pipeline
