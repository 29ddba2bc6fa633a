#include "server/app/trigger.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "http/https_client.hpp"

namespace streamgate::server {
namespace json = boost::json;

namespace {

std::string at(std::int64_t s) {
  return core::format_rfc3339(core::from_unix_nanos(s * 1'000'000'000), 3);
}

json::object call_object(const std::string& id, const std::string& user, std::int64_t created_s,
                         json::value session) {
  json::object call{{"cid", "default:" + id},
                    {"id", id},
                    {"type", "default"},
                    {"created_at", at(created_s)},
                    {"updated_at", at(created_s)},
                    {"created_by", {{"id", user}, {"role", "user"}, {"custom", json::object{}}}},
                    {"custom", {{"meetingId", id}}},
                    {"current_session_id", ""},
                    {"backstage", false},
                    {"recording", false},
                    {"transcribing", false},
                    {"blocked_user_ids", json::array{}},
                    {"settings", json::object{}}};
  if (!session.is_null()) call["session"] = std::move(session);
  return call;
}

}  // namespace

std::vector<std::string> trigger_meeting_events(const std::string& id, const std::string& user,
                                                std::int64_t now_s) {
  const std::int64_t start = now_s - 600;
  const std::int64_t created = start - 60;
  const std::string session = core::random_uuid_v4();
  const std::string cid = "default:" + id;
  json::array participants{json::object{{"user", {{"id", user}}}, {"joined_at", at(start)}}};
  std::vector<std::string> out;
  out.push_back(json::serialize(
      json::object{{"type", "call.session_started"},
                   {"created_at", at(start)},
                   {"call_cid", cid},
                   {"session_id", session},
                   {"call", call_object(id, user, created,
                                        json::object{{"id", session},
                                                     {"participants", participants},
                                                     {"started_at", at(start)}})}}));
  out.push_back(json::serialize(
      json::object{{"type", "call.session_ended"},
                   {"created_at", at(now_s)},
                   {"call_cid", cid},
                   {"session_id", session},
                   {"call", call_object(id, user, created,
                                        json::object{{"id", session},
                                                     {"participants", json::array{}},
                                                     {"started_at", at(start)},
                                                     {"ended_at", at(now_s)}})}}));
  const std::string stem = "rec_" + id + "_" + std::to_string(start);
  out.push_back(
      json::serialize(json::object{{"type", "call.recording_ready"},
                                   {"created_at", at(now_s + 30)},
                                   {"call_cid", cid},
                                   {"egress_id", "egress-" + session.substr(0, 8)},
                                   {"recording_type", "composite"},
                                   {"call_recording",
                                    {{"filename", stem + ".mp4"},
                                     {"url", "https://example.invalid/recordings/" + stem + ".mp4"},
                                     {"start_time", at(start)},
                                     {"end_time", at(now_s)},
                                     {"session_id", session},
                                     {"recording_type", "composite"}}}}));
  const std::string tr = "transcript_" + id + "_" + std::to_string(start) + ".jsonl";
  out.push_back(
      json::serialize(json::object{{"type", "call.transcription_ready"},
                                   {"created_at", at(now_s + 45)},
                                   {"call_cid", cid},
                                   {"egress_id", "egress-" + session.substr(0, 8)},
                                   {"call_transcription",
                                    {{"filename", tr},
                                     {"url", "https://example.invalid/transcriptions/" + tr},
                                     {"start_time", at(start)},
                                     {"end_time", at(now_s)},
                                     {"session_id", session}}}}));
  return out;
}

int trigger_meeting(const Config& c, const std::string& call_id, const std::string& base_url,
                    std::ostream& out) {
  const std::int64_t now_s = core::to_unix_nanos(core::system_now()) / 1'000'000'000;
  const auto bodies = trigger_meeting_events(call_id, "trigger-user", now_s);
  http::ClientOptions options;
  options.ca_file = c.stream_ca_file;
  http::HttpsClient client(options);
  const core::HmacSha256Key key(c.stream_api_secret);
  boost::asio::io_context ctx;
  int failures = 0;
  boost::asio::co_spawn(
      ctx,
      [&]() -> http::Task<void> {
        for (const auto& body : bodies) {
          const auto type = body.substr(9, body.find('"', 9) - 9);  // {"type":"...
          http::ClientRequest req;
          req.method = "POST";
          req.url = base_url + "/api/webhook/stream";
          req.timeout = std::chrono::seconds(10);
          req.body = body;
          req.headers = {{"Content-Type", "application/json"},
                         {"X-Signature", key.mac_hex(body)},
                         {"X-Api-Key", c.stream_api_key},
                         {"X-Webhook-Id", core::random_uuid_v4()},
                         {"X-Webhook-Attempt", "1"}};
          std::string result;
          try {
            auto send = client.request(std::move(req));  // [gcc12-co_await]
            const auto res = co_await std::move(send);
            result = std::to_string(res.status);
            if (res.status != 200) {
              ++failures;
              result += " " + res.body.substr(0, 200);
            }
          } catch (const std::exception& e) {
            ++failures;
            result = std::string("failed: ") + e.what();
          }
          out << type << " default:" << call_id << " -> " << result << "\n";
        }
      },
      [](std::exception_ptr) {});
  ctx.run();
  client.close_idle();
  return failures == 0 ? 0 : 1;
}

}  // namespace streamgate::server
