// SPDX-License-Identifier: Apache-2.0
/// @file
/// A cold source and the synchronous operators of the family: `range`, `map`, `filter`,
/// `buffer(n)` and `window(n)`, each honouring the credit protocol (streams.hpp): demand flows
/// upstream (map 1:1; filter replaces each item it drops with request(1); buffer and window ask
/// for n items per buffer or window), items flow downstream, and nothing is signalled beyond the
/// demand. They run on the thread that calls request (a re-entrant request from onNext adds
/// demand to the running emission loop instead of recursing: the trampoline of RxJava's
/// `FlowableRange`); use them on one side of an asynchronous boundary (credit_boundary.hpp).
///
/// Progress: not concurrent (single-threaded by design; the boundary carries thread hand-offs).
/// Reference: Reactive Streams 1.0.4 (https://github.com/reactive-streams/reactive-streams-jvm);
/// ReactiveX, "Buffer" and "Window" (https://reactivex.io/documentation/operators.html).
#pragma once

#include "patterns/reactive/streams.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::reactive {

/// Emits first, first + 1, ..., first + count - 1, then completes.
class Range final : public Publisher<std::uint64_t>, private Subscription {
 public:
  Range(std::uint64_t first, std::uint64_t count) : next_(first), end_(first + count) {}

  void subscribe(Subscriber<std::uint64_t>& s) override {
    down_ = &s;
    s.on_subscribe(*this);
    emit();
  }

 private:
  void request(std::uint64_t n) override {
    if (n == 0) {
      fail("request(0) (Reactive Streams §3.9)");
      return;
    }
    demand_ = add_demand(demand_, n);
    emit();
  }
  void cancel() override { cancelled_ = true; }

  void emit() {
    if (emitting_ || done_ || down_ == nullptr) return;
    emitting_ = true;
    while (!cancelled_ && demand_ > 0 && next_ < end_) {
      if (demand_ != kUnboundedDemand) --demand_;
      down_->on_next(next_++);
    }
    emitting_ = false;
    if (!cancelled_ && !done_ && next_ == end_) {
      done_ = true;
      down_->on_complete();
    }
  }
  void fail(std::string_view what) {
    if (done_ || cancelled_) return;
    done_ = true;
    down_->on_error(what);
  }

  std::uint64_t next_;
  const std::uint64_t end_;
  Subscriber<std::uint64_t>* down_ = nullptr;
  std::uint64_t demand_ = 0;
  bool emitting_ = false;
  bool cancelled_ = false;
  bool done_ = false;
};

namespace detail {

/// An operator's upstream-facing subscriber, forwarding demand and cancel to the upstream
/// subscription. Owned by its publisher.
template <class In, class Out>
class Stage : public Subscriber<In>, public Subscription {
 public:
  explicit Stage(Subscriber<Out>& down) : down_(down) {}
  void on_subscribe(Subscription& up) override {
    up_ = &up;
    down_.on_subscribe(*this);
  }
  void on_error(std::string_view what) override { down_.on_error(what); }
  void on_complete() override { down_.on_complete(); }
  void request(std::uint64_t n) override { up_->request(n); }
  void cancel() override { up_->cancel(); }

 protected:
  Subscriber<Out>& down_;
  Subscription* up_ = nullptr;
};

}  // namespace detail

/// Applies `f` to each item.
template <class In, class Out>
class Map final : public Publisher<Out> {
 public:
  Map(std::shared_ptr<Publisher<In>> up, std::function<Out(In)> f)
      : up_(std::move(up)), f_(std::move(f)) {}
  void subscribe(Subscriber<Out>& s) override {
    stage_ = std::make_unique<Stage>(s, f_);
    up_->subscribe(*stage_);
  }

 private:
  class Stage final : public detail::Stage<In, Out> {
   public:
    Stage(Subscriber<Out>& down, const std::function<Out(In)>& f)
        : detail::Stage<In, Out>(down), f_(f) {}
    void on_next(In v) override { this->down_.on_next(f_(std::move(v))); }

   private:
    const std::function<Out(In)>& f_;
  };
  std::shared_ptr<Publisher<In>> up_;
  std::function<Out(In)> f_;
  std::unique_ptr<Stage> stage_;
};

/// Passes the items for which `keep` is true; each item dropped is replaced by request(1).
template <class T>
class Filter final : public Publisher<T> {
 public:
  Filter(std::shared_ptr<Publisher<T>> up, std::function<bool(const T&)> keep)
      : up_(std::move(up)), keep_(std::move(keep)) {}
  void subscribe(Subscriber<T>& s) override {
    stage_ = std::make_unique<Stage>(s, keep_);
    up_->subscribe(*stage_);
  }

 private:
  class Stage final : public detail::Stage<T, T> {
   public:
    Stage(Subscriber<T>& down, const std::function<bool(const T&)>& keep)
        : detail::Stage<T, T>(down), keep_(keep) {}
    void on_next(T v) override {
      if (keep_(v)) {
        this->down_.on_next(std::move(v));
      } else {
        this->up_->request(1);
      }
    }

   private:
    const std::function<bool(const T&)>& keep_;
  };
  std::shared_ptr<Publisher<T>> up_;
  std::function<bool(const T&)> keep_;
  std::unique_ptr<Stage> stage_;
};

/// Groups the items into vectors of `n` (the last one may be shorter); a demand of k buffers
/// asks upstream for k x n items.
template <class T>
class Buffer final : public Publisher<std::vector<T>> {
 public:
  Buffer(std::shared_ptr<Publisher<T>> up, std::size_t n) : up_(std::move(up)), n_(n) {
    if (n == 0) throw std::invalid_argument("buffer(0)");
  }
  void subscribe(Subscriber<std::vector<T>>& s) override {
    stage_ = std::make_unique<Stage>(s, n_);
    up_->subscribe(*stage_);
  }

 private:
  class Stage final : public detail::Stage<T, std::vector<T>> {
   public:
    Stage(Subscriber<std::vector<T>>& down, std::size_t n)
        : detail::Stage<T, std::vector<T>>(down), n_(n) {}
    void request(std::uint64_t k) override {
      this->up_->request(k == 0 ? 0 : k >= kUnboundedDemand / n_ ? kUnboundedDemand : k * n_);
    }
    void on_next(T v) override {
      buf_.push_back(std::move(v));
      if (buf_.size() == n_) {
        std::vector<T> out;
        out.swap(buf_);
        this->down_.on_next(std::move(out));
      }
    }
    void on_complete() override {
      // The partial buffer's credit is still outstanding: k buffers asked for k x n items.
      if (!buf_.empty()) {
        std::vector<T> out;
        out.swap(buf_);
        this->down_.on_next(std::move(out));
      }
      this->down_.on_complete();
    }

   private:
    const std::size_t n_;
    std::vector<T> buf_;
  };
  std::shared_ptr<Publisher<T>> up_;
  const std::size_t n_;
  std::unique_ptr<Stage> stage_;
};

/// One window of `window(n)`: a unicast publisher of at most n items that holds what arrives
/// before its subscriber asks for it (never more than n).
template <class T>
class Window final : public Publisher<T>, private Subscription {
 public:
  void subscribe(Subscriber<T>& s) override {
    down_ = &s;
    s.on_subscribe(*this);
    drain();
  }
  [[nodiscard]] std::size_t held() const { return q_.size(); }

  // The operator's side.
  void push(T v) {
    q_.push_back(std::move(v));
    drain();
  }
  void finish(std::string error) {
    done_ = true;
    error_ = std::move(error);
    drain();
  }

 private:
  void request(std::uint64_t n) override {
    demand_ = add_demand(demand_, n);
    drain();
  }
  void cancel() override {
    cancelled_ = true;
    q_.clear();
  }
  void drain() {
    if (draining_ || down_ == nullptr || cancelled_) return;
    draining_ = true;
    while (!cancelled_ && demand_ > 0 && !q_.empty()) {
      if (demand_ != kUnboundedDemand) --demand_;
      T v = std::move(q_.front());
      q_.pop_front();
      down_->on_next(std::move(v));
    }
    if (!cancelled_ && done_ && q_.empty() && !terminated_) {
      terminated_ = true;
      if (error_.empty()) {
        down_->on_complete();
      } else {
        down_->on_error(error_);
      }
    }
    draining_ = false;
  }

  std::deque<T> q_;
  Subscriber<T>* down_ = nullptr;
  std::uint64_t demand_ = 0;
  bool draining_ = false;
  bool cancelled_ = false;
  bool done_ = false;
  bool terminated_ = false;
  std::string error_;
};

/// Splits the items into windows of `n`: each window is emitted (as a publisher) when its first
/// item arrives, and completes after its n-th; a demand of k windows asks upstream for k x n
/// items.
template <class T>
class WindowOp final : public Publisher<std::shared_ptr<Window<T>>> {
 public:
  WindowOp(std::shared_ptr<Publisher<T>> up, std::size_t n) : up_(std::move(up)), n_(n) {
    if (n == 0) throw std::invalid_argument("window(0)");
  }
  void subscribe(Subscriber<std::shared_ptr<Window<T>>>& s) override {
    stage_ = std::make_unique<Stage>(s, n_);
    up_->subscribe(*stage_);
  }

 private:
  class Stage final : public detail::Stage<T, std::shared_ptr<Window<T>>> {
   public:
    Stage(Subscriber<std::shared_ptr<Window<T>>>& down, std::size_t n)
        : detail::Stage<T, std::shared_ptr<Window<T>>>(down), n_(n) {}
    void request(std::uint64_t k) override {
      this->up_->request(k == 0 ? 0 : k >= kUnboundedDemand / n_ ? kUnboundedDemand : k * n_);
    }
    void on_next(T v) override {
      if (!open_) {
        open_ = std::make_shared<Window<T>>();
        count_ = 0;
        this->down_.on_next(open_);
      }
      const auto w = open_;  // the window may be released by a re-entrant signal
      w->push(std::move(v));
      if (++count_ == n_) {
        open_.reset();
        w->finish({});
      }
    }
    void on_error(std::string_view what) override {
      if (open_) std::exchange(open_, nullptr)->finish(std::string(what));
      this->down_.on_error(what);
    }
    void on_complete() override {
      if (open_) std::exchange(open_, nullptr)->finish({});
      this->down_.on_complete();
    }

   private:
    const std::size_t n_;
    std::shared_ptr<Window<T>> open_;
    std::size_t count_ = 0;
  };
  std::shared_ptr<Publisher<T>> up_;
  const std::size_t n_;
  std::unique_ptr<Stage> stage_;
};

inline std::shared_ptr<Publisher<std::uint64_t>> range(std::uint64_t first, std::uint64_t count) {
  return std::make_shared<Range>(first, count);
}
template <class In, class F>
auto map(std::shared_ptr<Publisher<In>> up, F f) {
  using Out = std::invoke_result_t<F, In>;
  return std::shared_ptr<Publisher<Out>>(
      std::make_shared<Map<In, Out>>(std::move(up), std::function<Out(In)>(std::move(f))));
}
template <class T, class F>
std::shared_ptr<Publisher<T>> filter(std::shared_ptr<Publisher<T>> up, F keep) {
  return std::make_shared<Filter<T>>(std::move(up), std::function<bool(const T&)>(std::move(keep)));
}
template <class T>
std::shared_ptr<Publisher<std::vector<T>>> buffer(std::shared_ptr<Publisher<T>> up, std::size_t n) {
  return std::make_shared<Buffer<T>>(std::move(up), n);
}
template <class T>
std::shared_ptr<Publisher<std::shared_ptr<Window<T>>>> window(std::shared_ptr<Publisher<T>> up,
                                                              std::size_t n) {
  return std::make_shared<WindowOp<T>>(std::move(up), n);
}

}  // namespace cpb::patterns::reactive
