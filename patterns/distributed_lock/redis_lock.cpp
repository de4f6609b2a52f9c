// SPDX-License-Identifier: Apache-2.0
#include "patterns/distributed_lock/redis_lock.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <hiredis/hiredis.h>
#include <thread>
#include <vector>

namespace cpb::patterns::distributed_lock {
namespace {

// KEYS[1] lock key, KEYS[2] fence counter; ARGV[1] our value, ARGV[2] ttl in ms.
constexpr std::string_view kAcquireFenced =
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then "
    "return redis.call('INCR', KEYS[2]) else return 0 end";
constexpr std::string_view kAcquireUnfenced =
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 else return 0 end";
// KEYS[1] lock key; ARGV[1] our value.
constexpr std::string_view kRelease =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
    "else return 0 end";

timeval to_timeval(Millis t) {
  return timeval{static_cast<time_t>(t.count() / 1000),
                 static_cast<suseconds_t>((t.count() % 1000) * 1000)};
}

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

}  // namespace

RedisLockClient::RedisLockClient(const RedisServer& server, const LockOptions& opt, bool fenced)
    : opt_(opt), fenced_(fenced), rng_(std::random_device{}()) {
  const std::uint16_t port = opt.port != 0 ? opt.port : server.port();
  ctx_ = redisConnectWithTimeout("127.0.0.1", port, to_timeval(opt.io_timeout));
  if (ctx_ == nullptr) throw ServerError("redis-server: cannot allocate a hiredis context");
  if (ctx_->err != 0) {
    const std::string why = ctx_->errstr;
    redisFree(ctx_);
    ctx_ = nullptr;
    throw ServerError(fmt::format("redis-server: connect to 127.0.0.1:{}: {}", port, why));
  }
  redisSetTimeout(ctx_, to_timeval(opt.io_timeout));
}

RedisLockClient::~RedisLockClient() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

void RedisLockClient::fail(std::string_view doing) const {
  throw ServerError(fmt::format("redis-server: {}: {}", doing,
                                ctx_->err != 0 ? ctx_->errstr : "unexpected reply"));
}

void RedisLockClient::reconnect_if_broken() {
  if (ctx_->err == 0) return;
  // The new socket needs its read and write timeouts again.
  if (redisReconnect(ctx_) != REDIS_OK) fail("reconnect");
  redisSetTimeout(ctx_, to_timeval(opt_.io_timeout));
}

std::string RedisLockClient::load(std::string_view script) {
  reconnect_if_broken();
  const char* argv[] = {"SCRIPT", "LOAD", script.data()};
  const std::size_t len[] = {6, 4, script.size()};
  Reply r(static_cast<redisReply*>(redisCommandArgv(ctx_, 3, argv, len)));
  if (!r || r->type != REDIS_REPLY_STRING) fail("SCRIPT LOAD");
  return {r->str, r->len};
}

std::int64_t RedisLockClient::eval(std::string& sha, std::string_view script,
                                   std::initializer_list<std::string_view> keys,
                                   std::initializer_list<std::string_view> args) {
  if (sha.empty()) sha = load(script);
  const std::string nkeys = std::to_string(keys.size());
  std::vector<const char*> argv{"EVALSHA", sha.c_str(), nkeys.c_str()};
  std::vector<std::size_t> len{7, sha.size(), nkeys.size()};
  for (const auto k : keys) {
    argv.push_back(k.data());
    len.push_back(k.size());
  }
  for (const auto a : args) {
    argv.push_back(a.data());
    len.push_back(a.size());
  }
  for (int attempt = 0;; ++attempt) {
    reconnect_if_broken();
    Reply r(static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), len.data())));
    if (!r) fail("EVALSHA");
    if (r->type == REDIS_REPLY_INTEGER) return r->integer;
    // The script cache is volatile (a restarted server forgets it): load it again, once.
    if (r->type == REDIS_REPLY_ERROR && attempt == 0 &&
        std::string_view(r->str, r->len).starts_with("NOSCRIPT")) {
      sha = load(script);
      argv[1] = sha.c_str();
      continue;
    }
    throw ServerError(fmt::format(
        "redis-server: EVALSHA answered {}",
        r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : "a non-integer reply"));
  }
}

std::int64_t RedisLockClient::try_once(std::string_view name, const std::string& value) {
  const std::string key = fmt::format("cpb:lock:{}", name);
  const std::string ttl = std::to_string(opt_.ttl.count());
  if (fenced_) {
    const std::string fence = fmt::format("cpb:fence:{}", name);
    return eval(acquire_sha_, kAcquireFenced, {key, fence}, {value, ttl});
  }
  return eval(acquire_sha_, kAcquireUnfenced, {key}, {value, ttl});
}

Grant RedisLockClient::acquire(std::string_view name) {
  // 128 random bits: unique across clients and requests (the recipe's "random value").
  const std::string value = fmt::format("{:016x}{:016x}", rng_(), rng_());
  const auto deadline = std::chrono::steady_clock::now() + opt_.acquire_timeout;
  std::chrono::microseconds backoff(50);
  for (;;) {
    const std::int64_t token = try_once(name, value);
    // The handle is "<value>\n<key>": what the release script compares, and where.
    if (token > 0)
      return Grant{fenced_ ? token : 0, value + "\ncpb:lock:" + std::string(name), token};
    if (std::chrono::steady_clock::now() >= deadline) {
      throw ServerError(fmt::format("redis-server: lock '{}' not acquired within {} ms", name,
                                    opt_.acquire_timeout.count()));
    }
    // Jittered exponential backoff: waiters do not poll in lockstep.
    std::uniform_int_distribution<std::int64_t> jitter(backoff.count() / 2, backoff.count());
    std::this_thread::sleep_for(std::chrono::microseconds(jitter(rng_)));
    backoff = std::min(backoff * 2, std::chrono::microseconds(2000));
  }
}

bool RedisLockClient::release(const Grant& g) {
  const auto nl = g.handle.find('\n');
  if (nl == std::string::npos) return false;  // not a grant of this engine
  const std::string_view handle(g.handle);
  return eval(release_sha_, kRelease, {handle.substr(nl + 1)}, {handle.substr(0, nl)}) == 1;
}

}  // namespace cpb::patterns::distributed_lock
