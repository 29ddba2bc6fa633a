#pragma once
// A fake Stream Video API for tests, over real HTTPS with the test PKI: it keeps users and calls
// like Stream does, answers with Stream's JSON shapes (timestamps as integer nanoseconds, error
// bodies with PascalCase StatusCode), and checks server auth on every request
// (docs/stream-contract.md §2.2): bare JWT in Authorization, stream-auth-type: jwt, api_key query,
// X-Stream-Client, JSON content type. What it finds wrong goes to violations().
#include <boost/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/crypto.hpp"
#include "core/jwt.hpp"
#include "core/stream_token.hpp"
#include "tests/support/fake_https.hpp"

namespace streamgate::test {

class FakeStream {
 public:
  struct Call {
    std::string created_by;
    boost::json::object custom;
    std::map<std::string, std::string> members;  // user id → role
    std::int64_t created_at = 1775650000000000000;
    std::optional<std::int64_t> ended_at;
    std::string session_id;
    std::optional<std::int64_t> session_started_at;
    std::optional<std::int64_t> session_ended_at;
    boost::json::array recordings;
    boost::json::array transcriptions;
  };
  // Return a response to override the normal behaviour for this request.
  using Override = std::function<std::optional<FakeResponse>(const FakeRequest&)>;

  FakeStream(std::string api_key, std::string secret, bool wrong_host_certificate = false)
      : api_key_(std::move(api_key)),
        secret_(std::move(secret)),
        server_(wrong_host_certificate ? test_pki().other_host_cert : test_pki().server_cert,
                wrong_host_certificate ? test_pki().other_host_key : test_pki().server_key,
                [this](const FakeRequest& r) { return handle(r); }) {}

  std::string base_url() const { return server_.base_url(); }
  std::size_t accepts() const { return server_.accepts(); }
  std::vector<FakeRequest> requests() const { return server_.requests(); }
  std::vector<FakeRequest> requests_to(const std::string& method,
                                       const std::string& path_suffix) const {
    std::vector<FakeRequest> out;
    for (auto& r : server_.requests())
      if (r.method == method && r.path.size() >= path_suffix.size() &&
          r.path.compare(r.path.size() - path_suffix.size(), path_suffix.size(), path_suffix) == 0)
        out.push_back(r);
    return out;
  }
  // Server tokens received, in order, each with the number of requests in a row that carried it;
  // and the requests refused because theirs had expired.
  std::vector<std::pair<std::string, int>> server_tokens() const {
    std::lock_guard lock(mutex_);
    return server_tokens_;
  }
  int expired_tokens() const {
    std::lock_guard lock(mutex_);
    return expired_tokens_;
  }
  std::vector<std::string> violations() const {
    std::lock_guard lock(mutex_);
    return violations_;
  }
  void set_override(Override o) {
    std::lock_guard lock(mutex_);
    override_ = std::move(o);
  }
  template <typename F>
  void with_call(const std::string& cid, F f) {
    std::lock_guard lock(mutex_);
    f(calls_[cid]);
  }
  bool has_user(const std::string& id) const {
    std::lock_guard lock(mutex_);
    return users_.count(id) > 0;
  }

  static FakeResponse error(int status, int code, const std::string& message,
                            bool unrecoverable = false) {
    boost::json::object e{{"code", code},
                          {"message", message},
                          {"StatusCode", status},
                          {"duration", "0.00ms"},
                          {"more_info", "https://getstream.io/chat/docs/api_errors_response"},
                          {"details", boost::json::array{}}};
    if (unrecoverable) e["unrecoverable"] = true;
    return FakeResponse{status, {}, boost::json::serialize(e)};
  }

 private:
  FakeResponse handle(const FakeRequest& r) {
    Override o;
    {
      std::lock_guard lock(mutex_);
      if (auto refused = check_auth(r)) return *refused;
      o = override_;
    }
    if (o) {
      if (auto res = o(r)) return *res;
    }
    std::lock_guard lock(mutex_);
    boost::json::object body;
    if (!r.body.empty()) {
      boost::system::error_code ec;
      auto v = boost::json::parse(r.body, ec);
      if (ec || !v.is_object()) return error(400, 4, "body is not JSON");
      body = v.as_object();
    }
    const std::string prefix = "/api/v2/video/call/";
    if (r.method == "POST" && r.path == "/api/v2/users") {
      if (!body.contains("users") || !body.at("users").is_object())
        return error(400, 4, "users is required");
      boost::json::object users;
      for (const auto& kv : body.at("users").as_object()) {
        users_[std::string(kv.key())] = true;
        users[kv.key()] = {{"id", kv.key()}, {"role", "user"}, {"custom", boost::json::object{}}};
      }
      return ok(boost::json::object{{"users", users}, {"duration", "1.00ms"}}, 201);
    }
    if (r.path.rfind(prefix, 0) != 0) return error(404, 16, "route not found");
    std::string rest = r.path.substr(prefix.size());
    std::string action;
    const auto slash1 = rest.find('/');
    const auto slash2 = rest.find('/', slash1 + 1);
    if (slash2 != std::string::npos) {
      action = rest.substr(slash2 + 1);
      rest = rest.substr(0, slash2);
    }
    const std::string type = rest.substr(0, slash1), id = rest.substr(slash1 + 1);
    const std::string cid = type + ":" + id;
    auto it = calls_.find(cid);
    if (r.method == "POST" && action.empty()) {
      const bool created = it == calls_.end();
      if (created) {
        const auto& data =
            body.contains("data") ? body.at("data").as_object() : boost::json::object{};
        Call c;
        if (data.contains("created_by_id"))
          c.created_by = std::string(data.at("created_by_id").as_string());
        if (c.created_by.empty())
          return error(400, 4, "created_by is required for server-side calls");
        if (data.contains("custom")) c.custom = data.at("custom").as_object();
        if (data.contains("members"))
          for (const auto& m : data.at("members").as_array()) {
            const std::string uid(m.at("user_id").as_string());
            if (!users_.count(uid)) return error(400, 4, "user " + uid + " does not exist");
            c.members[uid] = m.as_object().contains("role") ? std::string(m.at("role").as_string())
                                                            : "call_member";
          }
        it = calls_.emplace(cid, c).first;
      }
      auto out = call_state(type, id, it->second);
      out["created"] = created;
      return ok(out, 201);
    }
    if (it == calls_.end()) return error(404, 16, "call " + cid + " does not exist");
    Call& c = it->second;
    if (r.method == "GET" && action.empty()) return ok(call_state(type, id, c), 200);
    if (r.method == "POST" && action == "members") {
      for (const auto& m : body.at("update_members").as_array()) {
        const std::string uid(m.at("user_id").as_string());
        if (!users_.count(uid)) return error(400, 4, "user " + uid + " does not exist");
        c.members[uid] =
            m.as_object().contains("role") ? std::string(m.at("role").as_string()) : "call_member";
      }
      return ok(boost::json::object{{"members", members_json(c)}, {"duration", "1.00ms"}}, 201);
    }
    if (r.method == "POST" && action == "mark_ended") {
      if (!r.body.empty()) violations_.push_back("mark_ended with a body");
      c.ended_at = 1775660000000000000;
      return ok(boost::json::object{{"duration", "1.00ms"}}, 201);
    }
    if (r.method == "GET" && action == "recordings")
      return ok(boost::json::object{{"recordings", c.recordings}, {"duration", "1.00ms"}}, 200);
    if (r.method == "GET" && action == "transcriptions")
      return ok(boost::json::object{{"transcriptions", c.transcriptions}, {"duration", "1.00ms"}},
                200);
    return error(404, 16, "route not found");
  }

  // Server auth as Stream checks it: the bare JWT signed with the app's secret, {"server":true},
  // and when it carries exp, not expired (401, code 40, as Stream answers an expired token).
  std::optional<FakeResponse> check_auth(const FakeRequest& r) {
    const auto h = [&](const char* name) { return r.header(name); };
    const std::string where = r.method + " " + r.path + ": ";
    const std::string token = h("authorization");
    if (server_tokens_.empty() || server_tokens_.back().first != token)
      server_tokens_.emplace_back(token, 0);
    ++server_tokens_.back().second;
    const auto decoded = core::decode_jwt(token);
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    core::JwtKeys keys;
    keys.hs256 = std::make_shared<const core::HmacSha256Key>(secret_);
    core::JwtRules rules;
    rules.leeway_seconds = 0;
    rules.require_exp = false;
    const auto verdict =
        decoded.jwt ? core::verify_jwt(*decoded.jwt, keys, rules, now) : core::JwtError::malformed;
    if (verdict == core::JwtError::expired) {
      ++expired_tokens_;
      violations_.push_back(where + "the server token has expired");
      return error(401, 40, "JWTAuth error: token is expired");
    }
    if (verdict != core::JwtError::none || !decoded.jwt->claims.contains("server") ||
        decoded.jwt->claims.at("server") != boost::json::value(true)) {
      violations_.push_back(where + "Authorization is not the bare server JWT");
      return error(401, 5, "JWTAuth error: signature is not valid");
    }
    const auto& claims = decoded.jwt->claims;
    if (!claims.contains("exp") || !claims.at("exp").is_int64())
      violations_.push_back(where + "the server token has no exp (it must expire in an hour)");
    if (!claims.contains("iat") || !claims.at("iat").is_int64() ||
        claims.at("iat").as_int64() > now)
      violations_.push_back(where + "the server token's iat is missing or in the future");
    if (h("stream-auth-type") != "jwt")
      violations_.push_back(where + "stream-auth-type is not jwt");
    if (h("x-stream-client").rfind("streamgate-", 0) != 0)
      violations_.push_back(where + "X-Stream-Client missing");
    if (h("content-type").rfind("application/json", 0) != 0)
      violations_.push_back(where + "Content-Type is not JSON");
    auto key = r.query.find("api_key");
    if (key == r.query.end() || key->second != api_key_)
      violations_.push_back(where + "api_key query parameter missing");
    return std::nullopt;
  }

  static FakeResponse ok(const boost::json::object& o, int status) {
    return FakeResponse{status, {}, boost::json::serialize(o)};
  }

  boost::json::array members_json(const Call& c) const {
    boost::json::array out;
    for (const auto& [uid, role] : c.members)
      out.push_back({{"user_id", uid},
                     {"role", role},
                     {"user", {{"id", uid}}},
                     {"custom", boost::json::object{}},
                     {"created_at", c.created_at},
                     {"updated_at", c.created_at}});
    return out;
  }

  boost::json::object call_state(const std::string& type, const std::string& id,
                                 const Call& c) const {
    boost::json::object call{{"cid", type + ":" + id},
                             {"id", id},
                             {"type", type},
                             {"created_at", c.created_at},
                             {"updated_at", c.created_at},
                             {"created_by", {{"id", c.created_by}, {"role", "user"}}},
                             {"custom", c.custom},
                             {"current_session_id", c.session_id},
                             {"backstage", false},
                             {"recording", false},
                             {"transcribing", false},
                             {"blocked_user_ids", boost::json::array{}},
                             {"settings", boost::json::object{}}};
    if (c.ended_at) call["ended_at"] = *c.ended_at;
    if (!c.session_id.empty()) {
      boost::json::object s{{"id", c.session_id}, {"participants", boost::json::array{}}};
      if (c.session_started_at) s["started_at"] = *c.session_started_at;
      if (c.session_ended_at) s["ended_at"] = *c.session_ended_at;
      call["session"] = s;
    }
    return boost::json::object{{"call", call},
                               {"members", members_json(c)},
                               {"own_capabilities", boost::json::array{}},
                               {"duration", "1.00ms"}};
  }

  std::string api_key_;
  std::string secret_;
  std::vector<std::pair<std::string, int>> server_tokens_;
  int expired_tokens_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, bool> users_;
  std::map<std::string, Call> calls_;
  std::vector<std::string> violations_;
  Override override_;
  FakeHttpsServer server_;  // last: stopped first, while the state above still exists
};

}  // namespace streamgate::test
