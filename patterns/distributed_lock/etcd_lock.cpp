// SPDX-License-Identifier: Apache-2.0
#include "patterns/distributed_lock/etcd_lock.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>

namespace cpb::patterns::distributed_lock {

std::string base64_encode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(in[i]) << 16) |
                   (static_cast<unsigned char>(in[i + 1]) << 8) |
                   static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < in.size()) {
    const bool two = i + 1 < in.size();
    const auto n = (static_cast<unsigned char>(in[i]) << 16) |
                   (two ? static_cast<unsigned char>(in[i + 1]) << 8 : 0);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += two ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) continue;  // padding
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::int64_t json_i64(const nlohmann::json& j, std::string_view key) {
  const auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_string()) return std::strtoll(it->get<std::string>().c_str(), nullptr, 10);
  if (it->is_number_integer()) return it->get<std::int64_t>();
  return 0;
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

EtcdHttp::EtcdHttp(std::uint16_t port, Millis timeout) : port_(port), timeout_(timeout) {}

nlohmann::json EtcdHttp::post(std::string_view path, const nlohmann::json& body) {
  const std::string payload = body.dump();
  try {
    if (!conn_) {
      conn_.emplace("etcd", port_, timeout_);
      buf_.clear();
    }
    conn_->send_all(
        fmt::format("POST {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n"
                    "Content-Length: {}\r\n\r\n{}",
                    path, port_, payload.size(), payload));
    std::size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (conn_->read_some(buf_) == 0)
        throw ServerError(fmt::format("etcd: {}: connection closed", path));
    }
    const std::string head = lower(std::string_view(buf_).substr(0, head_end));
    buf_.erase(0, head_end + 4);
    const int status = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
    std::string content;
    if (head.find("transfer-encoding: chunked") != std::string::npos) {
      for (;;) {
        std::size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos) {
          if (conn_->read_some(buf_) == 0)
            throw ServerError(fmt::format("etcd: {}: connection closed", path));
        }
        const std::size_t size = std::strtoul(buf_.c_str(), nullptr, 16);
        while (buf_.size() < eol + 2 + size + 2) {
          if (conn_->read_some(buf_) == 0)
            throw ServerError(fmt::format("etcd: {}: connection closed", path));
        }
        content.append(buf_, eol + 2, size);
        buf_.erase(0, eol + 2 + size + 2);
        if (size == 0) break;
      }
    } else {
      const auto at = head.find("content-length:");
      if (at == std::string::npos)
        throw ServerError(fmt::format("etcd: {}: no Content-Length", path));
      const std::size_t size = std::strtoul(head.c_str() + at + 15, nullptr, 10);
      while (buf_.size() < size) {
        if (conn_->read_some(buf_) == 0)
          throw ServerError(fmt::format("etcd: {}: connection closed", path));
      }
      content = buf_.substr(0, size);
      buf_.erase(0, size);
    }
    if (head.find("connection: close") != std::string::npos) conn_.reset();
    nlohmann::json j = nlohmann::json::parse(content, nullptr, false);
    if (j.is_discarded()) throw ServerError(fmt::format("etcd: {}: unreadable JSON answer", path));
    // A streaming call (keepalive) wraps its answer in "result"; errors come as "error".
    if (status != 200 || j.contains("error")) {
      const auto& e = j.contains("error") ? j["error"] : j;
      std::string msg = e.is_object() ? e.value("message", e.dump()) : e.dump();
      if (msg.empty() && j.contains("message")) msg = j["message"].dump();
      throw ServerError(fmt::format("etcd: {} answered {}: {}", path, status, msg));
    }
    if (j.contains("result")) return j["result"];
    return j;
  } catch (const ServerError&) {
    conn_.reset();  // the next request reconnects
    throw;
  }
}

EtcdLockClient::EtcdLockClient(const EtcdServer& server, const LockOptions& opt, bool fenced)
    : EtcdLockClient(opt.port != 0 ? opt.port : server.port(), opt, fenced) {}

EtcdLockClient::EtcdLockClient(std::uint16_t port, const LockOptions& opt, bool fenced)
    : opt_(opt),
      fenced_(fenced),
      ttl_s_(std::max<std::int64_t>(1, (opt.ttl.count() + 999) / 1000)),
      http_(port, opt.io_timeout),
      port_(port) {
  lease_ = json_i64(http_.post("/v3/lease/grant", {{"TTL", ttl_s_}}), "ID");
  if (lease_ == 0) throw ServerError("etcd: /v3/lease/grant returned no lease ID");
  keepalive_ = std::thread([this] { keepalive_loop(); });
}

EtcdLockClient::~EtcdLockClient() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  keepalive_.join();
  try {
    http_.post("/v3/lease/revoke", {{"ID", std::to_string(lease_.load())}});
  } catch (const ServerError&) {
    // The lease may be gone already (it ran out) or the server stopped: it expires by itself.
  }
}

void EtcdLockClient::keepalive_loop() {
  EtcdHttp http(port_, opt_.io_timeout);
  const Millis period(std::max<std::int64_t>(100, ttl_s_ * 1000 / 3));
  std::unique_lock lock(mutex_);
  while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
    lock.unlock();
    try {
      http.post("/v3/lease/keepalive", {{"ID", std::to_string(lease_.load())}});
    } catch (const ServerError&) {
      // The server is paused or gone: the lease runs out, which the next acquire reports.
    }
    lock.lock();
  }
}

Grant EtcdLockClient::acquire(std::string_view name) {
  // A waiter blocks inside the server: allow the whole acquire timeout for this one request.
  http_.set_timeout(opt_.acquire_timeout);
  nlohmann::json r;
  try {
    r = http_.post("/v3/lock/lock", {{"name", base64_encode(fmt::format("cpb/lock/{}", name))},
                                     {"lease", std::to_string(lease_.load())}});
  } catch (...) {
    http_.set_timeout(opt_.io_timeout);
    // A lock request that timed out can still be granted later, in the server: revoke the
    // lease, which deletes any key it holds, and go on with a new one (jepsen-io/etcd).
    try {
      http_.post("/v3/lease/revoke", {{"ID", std::to_string(lease_.load())}});
    } catch (const ServerError&) {
      // Gone already (it ran out) or the server is unreachable: it expires by itself.
    }
    try {
      lease_ = json_i64(http_.post("/v3/lease/grant", {{"TTL", ttl_s_}}), "ID");
    } catch (const ServerError&) {
      // The next acquire fails with the old lease and tries again.
    }
    throw;
  }
  http_.set_timeout(opt_.io_timeout);
  const std::string key = r.value("key", "");
  if (key.empty()) throw ServerError("etcd: /v3/lock/lock returned no key");
  Grant g{0, key, 0};
  if (fenced_) {  // one more round trip: the token is the key's create revision
    const auto range = http_.post("/v3/kv/range", {{"key", key}});
    const auto kvs = range.find("kvs");
    if (kvs == range.end() || kvs->empty()) {
      throw ServerError(fmt::format(
          "etcd: lock key {} vanished right after the grant (lease expired)", base64_decode(key)));
    }
    g.token = g.engine_token = json_i64((*kvs)[0], "create_revision");
  }
  return g;
}

bool EtcdLockClient::release(const Grant& g) {
  if (g.handle.empty()) return false;
  // Fenced: exactly the key we created (its create revision is our token). Unfenced: the key
  // still exists; it is ours, since its name holds our lease ID.
  const nlohmann::json cmp =
      g.engine_token != 0
          ? nlohmann::json{{"key", g.handle},
                           {"result", "EQUAL"},
                           {"target", "CREATE"},
                           {"create_revision", std::to_string(g.engine_token)}}
          : nlohmann::json{
                {"key", g.handle}, {"result", "GREATER"}, {"target", "VERSION"}, {"version", "0"}};
  const auto r = http_.post(
      "/v3/kv/txn",
      {{"compare", nlohmann::json::array({cmp})},
       {"success", nlohmann::json::array({{{"request_delete_range", {{"key", g.handle}}}}})}});
  return r.value("succeeded", false);
}

}  // namespace cpb::patterns::distributed_lock
