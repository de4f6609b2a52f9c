// SPDX-License-Identifier: Apache-2.0
/// @file
/// What the built-in pools store and run: `Task`, a move-only `void()` callable with inline
/// storage; `TaskRing`, a growable ring buffer of tasks; and `current_worker`, which tells a
/// pool whether `submit` was called by one of its own workers.
///
/// `Task` keeps a callable of up to 48 bytes (that moves without throwing) inside itself, so the
/// usual task (a lambda capturing a few pointers) costs no heap allocation; larger callables go
/// to the heap. A `Task` is 64 bytes, one cache line. `TaskRing` doubles its buffer when full and
/// never shrinks, so a pool in steady state does not allocate per task either.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace cpb::patterns::thread_pool::detail {

/// A callable a `Task` can hold: invocable as `void()`, and not itself a `Task`.
template <class F, class TaskType>
concept TaskBody =
    !std::is_same_v<std::decay_t<F>, TaskType> && std::is_invocable_r_v<void, std::decay_t<F>&>;

/// A move-only `void()` callable with small-buffer storage (no allocation up to `kInlineSize`).
class Task {
 public:
  static constexpr std::size_t kInlineSize = 48;

  Task() noexcept = default;

  template <TaskBody<Task> F>
  explicit Task(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (kFitsInline<D>) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      ops_ = &InlineOps<D>::kOps;
    } else {
      ::new (static_cast<void*>(storage_)) D*(new D(std::forward<F>(f)));
      ops_ = &HeapOps<D>::kOps;
    }
  }

  Task(Task&& other) noexcept : ops_(other.ops_) {
    if (ops_ != nullptr) ops_->relocate(storage_, other.storage_);
    other.ops_ = nullptr;
  }

  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      ops_ = other.ops_;
      if (ops_ != nullptr) ops_->relocate(storage_, other.storage_);
      other.ops_ = nullptr;
    }
    return *this;
  }

  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  /// Runs the callable. @pre `*this` holds one.
  void operator()() { ops_->call(storage_); }

  [[nodiscard]] explicit operator bool() const noexcept { return ops_ != nullptr; }

  /// Destroys the callable (and what it captured), leaving the task empty.
  void reset() noexcept {
    if (ops_ != nullptr) {
      ops_->destroy(storage_);
      ops_ = nullptr;
    }
  }

 private:
  struct Ops {
    void (*call)(void* self);
    void (*relocate)(void* to, void* from) noexcept;  // move-constructs at `to`, destroys `from`
    void (*destroy)(void* self) noexcept;
  };

  template <class D>
  static constexpr bool kFitsInline =
      sizeof(D) <= kInlineSize &&
      alignof(D) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<D>;

  template <class D>
  struct InlineOps {
    static D* get(void* p) noexcept { return std::launder(static_cast<D*>(p)); }
    static void call(void* p) { (*get(p))(); }
    static void relocate(void* to, void* from) noexcept {
      ::new (to) D(std::move(*get(from)));
      get(from)->~D();
    }
    static void destroy(void* p) noexcept { get(p)->~D(); }
    static constexpr Ops kOps{&call, &relocate, &destroy};
  };

  template <class D>
  struct HeapOps {
    static D*& get(void* p) noexcept { return *std::launder(static_cast<D**>(p)); }
    static void call(void* p) { (*get(p))(); }
    static void relocate(void* to, void* from) noexcept { ::new (to) D*(get(from)); }
    static void destroy(void* p) noexcept { delete get(p); }
    static constexpr Ops kOps{&call, &relocate, &destroy};
  };

  alignas(std::max_align_t) std::byte storage_[kInlineSize];
  const Ops* ops_ = nullptr;
};

/// A ring buffer of tasks, used as a FIFO queue (`push_back` + `pop_front`) or a deque whose
/// owner pops the newest task (`pop_back`) while thieves take the oldest (`pop_front`). Not
/// synchronized: its owner guards it with a lock.
class TaskRing {
 public:
  static constexpr std::size_t kInitialCapacity = 64;

  TaskRing() : TaskRing(kInitialCapacity) {}
  explicit TaskRing(std::size_t initial_capacity) : cap_(round_up(initial_capacity)) {
    buf_ = std::make_unique<Task[]>(cap_);
  }

  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  void push_back(Task&& t) {
    if (size_ == cap_) grow();
    buf_[(head_ + size_) & (cap_ - 1)] = std::move(t);
    ++size_;
  }

  /// The oldest task. @pre `!empty()`.
  Task pop_front() noexcept {
    Task t = std::move(buf_[head_]);
    head_ = (head_ + 1) & (cap_ - 1);
    --size_;
    return t;
  }

  /// The newest task. @pre `!empty()`.
  Task pop_back() noexcept {
    --size_;
    return std::move(buf_[(head_ + size_) & (cap_ - 1)]);
  }

 private:
  static std::size_t round_up(std::size_t n) {
    std::size_t c = 1;
    while (c < n) c *= 2;
    return c;
  }

  void grow() {
    auto bigger = std::make_unique<Task[]>(cap_ * 2);
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move(buf_[(head_ + i) & (cap_ - 1)]);
    buf_ = std::move(bigger);
    head_ = 0;
    cap_ *= 2;
  }

  std::unique_ptr<Task[]> buf_;
  std::size_t cap_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

/// Which pool, if any, the calling thread is a worker of, and its index there. Pools use it to
/// keep a worker's own submissions local and to never block a worker in `submit`.
struct WorkerContext {
  const void* pool = nullptr;
  std::size_t index = 0;
};

/// The calling thread's context: a thread_local, through the sync policy so that each logical
/// thread of the model checker has its own.
template <class S>
WorkerContext& current_worker() {
  return S::template thread_local_value<WorkerContext>();
}

}  // namespace cpb::patterns::thread_pool::detail
