// SPDX-License-Identifier: Apache-2.0
/// @file
/// The own future/promise: one reference-counted shared state per promise, a single atomic word
/// of flags (claimed, ready, callback attached, waiter asleep, cancelled), and continuations that
/// live in the state they complete (`then` allocates one block: the next state with the
/// function inside it). `then` / `on_error` continuations, `when_all`, `when_any`, cancellation,
/// exceptions carried, and fulfilment exactly once: the first `set_value` / `set_exception`
/// claims the state with one `fetch_or`; a second one throws `FutureError(kAlreadySatisfied)`.
///
/// Attach against fulfil (the race the model check covers): the setter writes the result, then
/// `fetch_or(kReady)`; the attacher writes the callback pointer, then `fetch_or(kCallback)`. The
/// two read-modify-writes on one word are totally ordered, so exactly one of them sees the
/// other's bit and runs the continuation: the setter (on its thread, inside `set_value`) when
/// the callback came first, the attacher (inside `then`) when the value came first.
/// Continuations run inline there; a chain that completes inside a continuation is queued on a
/// per-thread trampoline instead of recursing, so a chain of any length runs in constant stack.
/// `get()` spins briefly, then sets kWaiter and sleeps in C++20 `atomic::wait`; the setter
/// calls `notify_all` only when it saw kWaiter.
///
/// Cancellation: `Future::cancel()` resolves the future at once with
/// `FutureError(kCancelled)` unless it was fulfilled already; the producer may poll
/// `Promise::cancelled()`, and its later `set_value` is ignored (returns without effect). A
/// continuation whose own future was cancelled does not run its function.
///
/// Progress: lock-free for set, attach and cancel (one RMW each; cancel's CAS loop retries only
/// when another flag changed); `get()` blocks until the value is there.
/// Memory ordering: the result (`value_`, `error_`) is published by the setter's acq_rel
/// `fetch_or(kReady)` and read after an acquire of kReady (`get`, `attach`). The callback
/// pointer is published by the attacher's acq_rel `fetch_or(kCallback)` and read after the
/// setter's acq_rel `fetch_or(kReady)` saw kCallback. Reference counts: relaxed increments
/// (made from a live reference), acq_rel decrements (the last one sees every other owner's
/// writes before it frees). `when_all`'s countdown is acq_rel: the last arrival reads every
/// other arrival's slot.
/// When to use: composing asynchronous results (a callback chain, fan-in) across threads, when
/// the continuation is short and may run on the completing thread. When not to use: when a
/// continuation must run on a particular executor (attach it to a pool yourself), or for a
/// single blocking hand-off of one value (a plain promise/future or a semaphore costs the same).
/// Reference: Liskov & Shrira, "Promises", PLDI 1988; folly::Future's Core (a state machine with
/// the callback stored in the core); P0443/P1054 (the `then` design space); Boost.Thread
/// futures (`then`, `when_all`, `when_any`).
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpb::patterns::future_promise {

enum class FutureErrc {
  kAlreadySatisfied,  ///< set_value / set_exception called a second time
  kAlreadyRetrieved,  ///< get_future called a second time
  kBrokenPromise,     ///< the promise died unfulfilled
  kNoState,           ///< a moved-from or consumed future or promise
  kCancelled,         ///< the future was cancelled
};

inline std::string_view to_string(FutureErrc c) {
  switch (c) {
    case FutureErrc::kAlreadySatisfied:
      return "promise already satisfied: set_value/set_exception called a second time "
             "(a promise is fulfilled exactly once)";
    case FutureErrc::kAlreadyRetrieved:
      return "future already retrieved: get_future called a second time";
    case FutureErrc::kBrokenPromise:
      return "broken promise: the promise was destroyed before it was fulfilled";
    case FutureErrc::kNoState:
      return "no state: the future or promise was moved from or already consumed";
    case FutureErrc::kCancelled:
      return "cancelled: the future was cancelled before it was fulfilled";
  }
  return "unknown future error";
}

class FutureError : public std::logic_error {
 public:
  explicit FutureError(FutureErrc c) : std::logic_error(std::string(to_string(c))), code_(c) {}
  [[nodiscard]] FutureErrc code() const noexcept { return code_; }

 private:
  FutureErrc code_;
};

namespace detail {

/// A continuation waiting for a state to become ready. `fire` runs it exactly once.
class Callback {
 public:
  virtual void fire() noexcept = 0;
  Callback* next_queued = nullptr;  // the trampoline's list; touched by the firing thread only

 protected:
  ~Callback() = default;
};

/// The per-thread trampoline: a continuation that becomes runnable while this thread is already
/// running one is queued and run after it, so chains use constant stack.
struct RunQueue {
  Callback* head = nullptr;
  Callback* tail = nullptr;
  bool draining = false;
};

template <class S>
void run_callback(Callback* c) {
  RunQueue& q = S::template thread_local_value<RunQueue>();
  if (q.draining) {
    c->next_queued = nullptr;
    (q.tail != nullptr ? q.tail->next_queued : q.head) = c;
    q.tail = c;
    return;
  }
  q.draining = true;
  c->fire();
  while (q.head != nullptr) {
    Callback* next = q.head;
    q.head = next->next_queued;
    if (q.head == nullptr) q.tail = nullptr;
    next->fire();
  }
  q.draining = false;
}

/// The seeded bug of the model check (future_promise.model.cpp): a sync policy deriving from
/// `LoseContinuation<S>` makes `attach` test "ready" with a load and then store the callback
/// bit with a plain store, not one read-modify-write: a `set_value` between the two sees no
/// callback, and the store wipes its ready bit, so the continuation never runs.
template <class S>
struct LoseContinuation : S {
  static constexpr bool kLoseContinuation = true;
};
template <class S>
constexpr bool loses_continuation() {
  if constexpr (requires { S::kLoseContinuation; }) {
    return S::kLoseContinuation;
  } else {
    return false;
  }
}

template <class T, class S>
class SharedState {
 public:
  static constexpr std::uint32_t kClaimed = 1;     // a setter (or cancel) owns the fulfilment
  static constexpr std::uint32_t kReady = 2;       // the result is published
  static constexpr std::uint32_t kCallback = 4;    // cb_ is published
  static constexpr std::uint32_t kWaiter = 8;      // a get() may sleep on flags_
  static constexpr std::uint32_t kCancelled = 16;  // the claim was cancel()'s

  explicit SharedState(std::uint32_t refs) : refs_(refs) {}
  virtual ~SharedState() = default;
  SharedState(const SharedState&) = delete;
  SharedState& operator=(const SharedState&) = delete;

  void add_ref() {
    // Relaxed: made from a live reference, which keeps the state alive meanwhile.
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void release() {
    // acq_rel: release orders this owner's accesses before the free; acquire (in the last
    // owner) pairs with every other owner's release decrement.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_self();
  }

  /// Claims the fulfilment. False when cancel() claimed it (the set is then ignored).
  /// @throws FutureError(kAlreadySatisfied) when a setter claimed it before.
  bool claim_or_throw() {
    // Relaxed: the claim only elects the one writer; what it writes is published by the
    // acq_rel fetch_or(kReady) in finish().
    const std::uint32_t prev = flags_.fetch_or(kClaimed, std::memory_order_relaxed);
    if ((prev & kClaimed) == 0) return true;
    if ((prev & kCancelled) != 0) return false;
    throw FutureError(FutureErrc::kAlreadySatisfied);
  }
  /// Claims the fulfilment; false when someone else has.
  bool try_claim() {
    // Relaxed: as in claim_or_throw.
    return (flags_.fetch_or(kClaimed, std::memory_order_relaxed) & kClaimed) == 0;
  }
  /// Claims the fulfilment for cancel(); false when a setter was first.
  bool claim_cancel() {
    // Relaxed: as in claim_or_throw; the CAS fails only when another bit changed.
    std::uint32_t f = flags_.load(std::memory_order_relaxed);
    while ((f & kClaimed) == 0) {
      if (flags_.compare_exchange_weak(f, f | kClaimed | kCancelled, std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  /// After a successful claim: publish the result and run the continuation, if attached.
  void publish_value(T v) {
    value_.store(std::optional<T>(std::move(v)));
    finish();
  }
  void publish_error(std::exception_ptr e) {
    error_.store(std::move(e));
    finish();
  }

  /// Attaches `c`, which takes over the caller's (the future's) reference; runs it now if the
  /// result is there already.
  void attach(Callback* c) {
    cb_.store(c);
    if constexpr (loses_continuation<S>()) {
      // The seeded bug (see LoseContinuation): check, then store; not one RMW.
      const std::uint32_t f = flags_.load(std::memory_order_acquire);
      if ((f & kReady) != 0) {
        run_callback<S>(c);
        return;
      }
      flags_.store(f | kCallback, std::memory_order_release);
      return;
    }
    // acq_rel: release publishes cb_ to finish()'s acquire; acquire pairs with finish()'s
    // release of kReady, so the callback run here sees the result.
    const std::uint32_t prev = flags_.fetch_or(kCallback, std::memory_order_acq_rel);
    if ((prev & kReady) != 0) run_callback<S>(c);
  }

  /// Blocks until the result is published.
  void wait() {
    // Acquire: pairs with finish()'s release of kReady (the result is visible after).
    std::uint32_t f = flags_.load(std::memory_order_acquire);
    sync::Backoff<S> backoff;
    for (int i = 0; i < kSpins && (f & kReady) == 0; ++i) {
      backoff();
      // Acquire: as above.
      f = flags_.load(std::memory_order_acquire);
    }
    if ((f & kReady) != 0) return;
    // acq_rel: acquire as above; the RMW orders kWaiter against finish()'s fetch_or, so
    // either it sees kWaiter and notifies or this sees kReady.
    f = flags_.fetch_or(kWaiter, std::memory_order_acq_rel) | kWaiter;
    while ((f & kReady) == 0) {
      // Acquire: as above.
      flags_.wait(f, std::memory_order_acquire);
      f = flags_.load(std::memory_order_acquire);
    }
  }

  [[nodiscard]] bool ready() const {
    // Acquire: pairs with finish()'s release of kReady.
    return (flags_.load(std::memory_order_acquire) & kReady) != 0;
  }
  [[nodiscard]] bool cancelled() const {
    // Relaxed: a hint for the producer; nothing is read on its strength.
    return (flags_.load(std::memory_order_relaxed) & kCancelled) != 0;
  }

  /// After wait() or from a callback: whether the result is a value, and taking it.
  [[nodiscard]] bool has_value() const { return value_.get().has_value(); }
  T take_value() { return std::move(*value_.get()); }
  std::exception_ptr take_error() { return error_.load(); }

 protected:
  /// Frees the most derived object through the policy's heap.
  virtual void destroy_self() { S::destroy(this); }

 private:
  void finish() {
    // acq_rel: release publishes value_/error_ to wait()/attach() (their acquire of kReady);
    // acquire pairs with attach()'s release of kCallback, so cb_ is visible.
    const std::uint32_t prev = flags_.fetch_or(kReady, std::memory_order_acq_rel);
    if ((prev & kCallback) != 0) run_callback<S>(cb_.load());
    if ((prev & kWaiter) != 0) flags_.notify_all();
  }

  static constexpr int kSpins = 16;
  typename S::template atomic<std::uint32_t> flags_{0};
  typename S::template atomic<std::uint32_t> refs_;
  typename S::template cell<std::optional<T>> value_;
  typename S::template cell<std::exception_ptr> error_;
  typename S::template cell<Callback*> cb_{nullptr};
};

}  // namespace detail

template <class T, class S>
class Future;

template <class T, class S = sync::Real>
class Promise {
 public:
  using State = detail::SharedState<T, S>;

  Promise() : st_(S::template create<State>(2)) {}  // the promise's and the future's
  Promise(Promise&& o) noexcept : st_(std::exchange(o.st_, nullptr)), retrieved_(o.retrieved_) {}
  Promise& operator=(Promise&& o) noexcept {
    if (this != &o) {
      abandon();
      st_ = std::exchange(o.st_, nullptr);
      retrieved_ = o.retrieved_;
    }
    return *this;
  }
  Promise(const Promise&) = delete;
  Promise& operator=(const Promise&) = delete;
  ~Promise() { abandon(); }

  /// @throws FutureError(kAlreadyRetrieved) on a second call.
  Future<T, S> get_future() {
    if (st_ == nullptr) throw FutureError(FutureErrc::kNoState);
    if (retrieved_) throw FutureError(FutureErrc::kAlreadyRetrieved);
    retrieved_ = true;
    return Future<T, S>(st_);
  }

  /// Fulfils the future with `v` (ignored if it was cancelled).
  /// @throws FutureError(kAlreadySatisfied) when the promise was fulfilled already.
  void set_value(T v) {
    if (state().claim_or_throw()) st_->publish_value(std::move(v));
  }
  void set_exception(std::exception_ptr e) {
    if (state().claim_or_throw()) st_->publish_error(std::move(e));
  }
  /// Fulfils unless someone did already (a setter or cancel); says whether this call did.
  bool try_set_value(T v) {
    if (!state().try_claim()) return false;
    st_->publish_value(std::move(v));
    return true;
  }
  /// Whether the future was cancelled: the producer may stop working on it.
  [[nodiscard]] bool cancelled() const { return st_ != nullptr && st_->cancelled(); }

 private:
  State& state() {
    if (st_ == nullptr) throw FutureError(FutureErrc::kNoState);
    return *st_;
  }
  void abandon() {
    if (st_ == nullptr) return;
    if (st_->try_claim()) {
      st_->publish_error(std::make_exception_ptr(FutureError(FutureErrc::kBrokenPromise)));
    }
    if (!retrieved_) st_->release();  // the future's reference, never handed out
    std::exchange(st_, nullptr)->release();
  }

  State* st_;
  bool retrieved_ = false;
};

namespace detail {

/// The state of `then` (kOnError false: `fn(T) -> U`, errors pass through) or `on_error`
/// (kOnError true: `fn(std::exception_ptr) -> T`, values pass through), attached to `src` as
/// its callback. Two references at birth: the future it returns, and the callback itself.
template <class T, class U, class F, bool kOnError, class S>
class ContinuationState final : public SharedState<U, S>, public Callback {
 public:
  ContinuationState(SharedState<T, S>* src, F fn)
      : SharedState<U, S>(2), src_(src), fn_(std::move(fn)) {}

  void fire() noexcept override {
    SharedState<T, S>* src = src_;
    if (this->try_claim()) {  // not cancelled meanwhile
      if (src->has_value()) {
        if constexpr (kOnError) {
          this->publish_value(src->take_value());
        } else {
          run([&] { return fn_(src->take_value()); });
        }
      } else {
        if constexpr (kOnError) {
          run([&] { return fn_(src->take_error()); });
        } else {
          this->publish_error(src->take_error());
        }
      }
    }
    src->release();   // the consumed future's reference
    this->release();  // the callback's reference
  }

 private:
  template <class G>
  void run(G g) {
    std::optional<U> out;
    try {
      out.emplace(g());
    } catch (...) {
      this->publish_error(std::current_exception());
      return;
    }
    this->publish_value(std::move(*out));
  }
  void destroy_self() override { S::destroy(this); }

  SharedState<T, S>* src_;
  F fn_;
};

/// when_all: one slot callback per input; the last arrival publishes the values in input
/// order, or the first error.
template <class T, class S>
class AllState final : public SharedState<std::vector<T>, S> {
 public:
  explicit AllState(std::size_t n)
      : SharedState<std::vector<T>, S>(static_cast<std::uint32_t>(n + 1)),
        n_(n),
        slots_(std::make_unique<Slot[]>(n)),
        values_(std::make_unique<typename S::template cell<std::optional<T>>[]>(n)),
        left_(n) {}

  void attach_all(std::vector<Future<T, S>>& in);

 private:
  struct Slot final : Callback {
    AllState* all = nullptr;
    SharedState<T, S>* src = nullptr;
    std::size_t index = 0;
    void fire() noexcept override { all->arrive(*this); }
  };

  void arrive(Slot& slot) {
    SharedState<T, S>* src = slot.src;
    if (src->has_value()) {
      values_[slot.index].store(std::optional<T>(src->take_value()));
    } else if (!failed_.exchange(true)) {  // the first error is kept
      error_.store(src->take_error());
    }
    src->release();
    // acq_rel: release publishes this slot's value; the last arrival's acquire pairs with every
    // earlier arrival's release.
    if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1) complete();
    this->release();  // the slot's reference
  }

  void complete() {
    if (!this->try_claim()) return;  // cancelled
    // Relaxed: ordered by left_'s acq_rel countdown above.
    if (failed_.load(std::memory_order_relaxed)) {
      this->publish_error(error_.load());
      return;
    }
    std::vector<T> out;
    out.reserve(n_);
    for (std::size_t i = 0; i < n_; ++i) out.push_back(std::move(*values_[i].get()));
    this->publish_value(std::move(out));
  }
  void destroy_self() override { S::destroy(this); }

  std::size_t n_;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<typename S::template cell<std::optional<T>>[]> values_;
  typename S::template atomic<std::size_t> left_;
  typename S::template atomic<bool> failed_{false};
  typename S::template cell<std::exception_ptr> error_;
};

/// when_any: the first input to complete (value or error) claims the state and publishes
/// (its index, its value) or its error.
template <class T, class S>
class AnyState final : public SharedState<std::pair<std::size_t, T>, S> {
 public:
  explicit AnyState(std::size_t n)
      : SharedState<std::pair<std::size_t, T>, S>(static_cast<std::uint32_t>(n + 1)),
        slots_(std::make_unique<Slot[]>(n)) {}

  void attach_all(std::vector<Future<T, S>>& in);

 private:
  struct Slot final : Callback {
    AnyState* any = nullptr;
    SharedState<T, S>* src = nullptr;
    std::size_t index = 0;
    void fire() noexcept override { any->arrive(*this); }
  };
  void arrive(Slot& slot) {
    SharedState<T, S>* src = slot.src;
    if (this->try_claim()) {
      if (src->has_value()) {
        this->publish_value({slot.index, src->take_value()});
      } else {
        this->publish_error(src->take_error());
      }
    }
    src->release();
    this->release();
  }
  void destroy_self() override { S::destroy(this); }

  std::unique_ptr<Slot[]> slots_;
};

}  // namespace detail

template <class T, class S = sync::Real>
class Future {
 public:
  using State = detail::SharedState<T, S>;

  Future() = default;
  Future(Future&& o) noexcept : st_(std::exchange(o.st_, nullptr)) {}
  Future& operator=(Future&& o) noexcept {
    if (this != &o) {
      if (st_ != nullptr) st_->release();
      st_ = std::exchange(o.st_, nullptr);
    }
    return *this;
  }
  Future(const Future&) = delete;
  Future& operator=(const Future&) = delete;
  ~Future() {
    if (st_ != nullptr) st_->release();
  }

  [[nodiscard]] bool valid() const { return st_ != nullptr; }
  [[nodiscard]] bool is_ready() const { return st_ != nullptr && st_->ready(); }

  /// Waits for the result and returns it (or throws the carried exception). Consumes the
  /// future.
  T get() {
    State* st = take();
    st->wait();
    struct Release {
      State* st;
      ~Release() { st->release(); }
    } rel{st};
    if (st->has_value()) return st->take_value();
    std::rethrow_exception(st->take_error());
  }

  /// `fn(T)` runs when the value arrives (on the setting thread, or here if it is there
  /// already); its result or exception completes the returned future. An error skips `fn` and
  /// passes on. Consumes this future.
  template <class F>
  auto then(F fn) && -> Future<std::invoke_result_t<F&, T>, S> {
    using U = std::invoke_result_t<F&, T>;
    using C = detail::ContinuationState<T, U, F, false, S>;
    State* src = take();
    C* next = S::template create<C>(src, std::move(fn));
    src->attach(next);
    return Future<U, S>(static_cast<detail::SharedState<U, S>*>(next));
  }

  /// `fn(std::exception_ptr) -> T` recovers from an error; a value passes through.
  template <class F>
  Future on_error(F fn) && {
    using C = detail::ContinuationState<T, T, F, true, S>;
    State* src = take();
    C* next = S::template create<C>(src, std::move(fn));
    src->attach(next);
    return Future(static_cast<State*>(next));
  }

  /// Resolves this future with FutureError(kCancelled) unless it was fulfilled already;
  /// returns whether it did. The producer sees Promise::cancelled().
  bool cancel() {
    if (st_ == nullptr || !st_->claim_cancel()) return false;
    st_->publish_error(std::make_exception_ptr(FutureError(FutureErrc::kCancelled)));
    return true;
  }

 private:
  explicit Future(State* st) : st_(st) {}
  State* take() {
    if (st_ == nullptr) throw FutureError(FutureErrc::kNoState);
    return std::exchange(st_, nullptr);
  }

  State* st_ = nullptr;

  template <class, class>
  friend class Promise;
  template <class, class>
  friend class Future;
  template <class, class>
  friend class detail::AllState;
  template <class, class>
  friend class detail::AnyState;
  template <class U, class S2>
  friend Future<std::vector<U>, S2> when_all(std::vector<Future<U, S2>> in);
  template <class U, class S2>
  friend Future<std::pair<std::size_t, U>, S2> when_any(std::vector<Future<U, S2>> in);
};

namespace detail {
template <class T, class S>
void AllState<T, S>::attach_all(std::vector<Future<T, S>>& in) {
  for (std::size_t i = 0; i < n_; ++i) {
    slots_[i].all = this;
    slots_[i].index = i;
    slots_[i].src = in[i].take();
  }
  for (std::size_t i = 0; i < n_; ++i) slots_[i].src->attach(&slots_[i]);
}
template <class T, class S>
void AnyState<T, S>::attach_all(std::vector<Future<T, S>>& in) {
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n; ++i) {
    slots_[i].any = this;
    slots_[i].index = i;
    slots_[i].src = in[i].take();
  }
  for (std::size_t i = 0; i < n; ++i) slots_[i].src->attach(&slots_[i]);
}
}  // namespace detail

/// A future of every input's value, in input order, once all are ready; the first error (in
/// completion order) if any failed. Consumes the inputs.
template <class T, class S>
Future<std::vector<T>, S> when_all(std::vector<Future<T, S>> in) {
  for (const auto& f : in) {
    if (!f.valid()) throw FutureError(FutureErrc::kNoState);
  }
  using A = detail::AllState<T, S>;
  A* all = S::template create<A>(in.size());
  Future<std::vector<T>, S> out(static_cast<detail::SharedState<std::vector<T>, S>*>(all));
  if (in.empty()) {
    all->try_claim();
    all->publish_value({});
    return out;
  }
  all->attach_all(in);
  return out;
}

/// A future of the first input to complete: (its index, its value), or its error. An empty
/// input is an error (FutureErrc::kNoState). Consumes the inputs.
template <class T, class S>
Future<std::pair<std::size_t, T>, S> when_any(std::vector<Future<T, S>> in) {
  if (in.empty()) throw FutureError(FutureErrc::kNoState);
  for (const auto& f : in) {
    if (!f.valid()) throw FutureError(FutureErrc::kNoState);
  }
  using A = detail::AnyState<T, S>;
  A* any = S::template create<A>(in.size());
  Future<std::pair<std::size_t, T>, S> out(
      static_cast<detail::SharedState<std::pair<std::size_t, T>, S>*>(any));
  any->attach_all(in);
  return out;
}

/// The family's adapter: the own future and promise, on sync policy `S`.
template <class S = sync::Real>
struct SharedStateFuture {
  static constexpr std::string_view kName = "shared_state_future";
  static constexpr Progress kProgress = Progress::kLockFree;

  template <class T>
  using promise = Promise<T, S>;
  template <class T>
  using future = Future<T, S>;

  template <class T, class F>
  static auto then(future<T>&& f, F fn) {
    return std::move(f).then(std::move(fn));
  }
  template <class T>
  static future<std::vector<T>> when_all(std::vector<future<T>> in) {
    return future_promise::when_all(std::move(in));
  }
};

}  // namespace cpb::patterns::future_promise
