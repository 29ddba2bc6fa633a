#pragma once
// Webhook bodies shaped like Stream's (docs/stream-contract.md §5.4), and their signatures.
#include <boost/json.hpp>

#include <string>

#include "core/crypto.hpp"

namespace streamgate::test {

inline boost::json::object call_object(const std::string& type, const std::string& id,
                                       const std::string& creator,
                                       boost::json::value session = nullptr) {
  boost::json::object call{
      {"cid", type + ":" + id},
      {"id", id},
      {"type", type},
      {"created_at", "2026-04-08T14:00:00.000000000Z"},
      {"updated_at", "2026-04-08T14:00:00.000000000Z"},
      {"created_by", {{"id", creator}, {"role", "user"}, {"custom", boost::json::object{}}}},
      {"custom",
       {{"meetingId", "m-" + id}, {"agentId", "agent-456"}, {"agentName", "Sales Assistant"}}},
      {"current_session_id", ""},
      {"backstage", false},
      {"recording", false},
      {"transcribing", false},
      {"blocked_user_ids", boost::json::array{}},
      {"settings", boost::json::object{}}};
  if (!session.is_null()) call["session"] = session;
  return call;
}

inline std::string session_started(const std::string& cid_id, const std::string& session,
                                   const std::string& at, const std::string& creator = "alice") {
  boost::json::object s{
      {"id", session}, {"participants", boost::json::array{}}, {"started_at", at}};
  return boost::json::serialize(
      boost::json::object{{"type", "call.session_started"},
                          {"created_at", at},
                          {"call_cid", "default:" + cid_id},
                          {"session_id", session},
                          {"call", call_object("default", cid_id, creator, s)}});
}

inline std::string session_ended(const std::string& cid_id, const std::string& session,
                                 const std::string& start, const std::string& end,
                                 const std::string& creator = "alice") {
  boost::json::object s{{"id", session},
                        {"participants", boost::json::array{}},
                        {"started_at", start},
                        {"ended_at", end}};
  return boost::json::serialize(
      boost::json::object{{"type", "call.session_ended"},
                          {"created_at", end},
                          {"call_cid", "default:" + cid_id},
                          {"session_id", session},
                          {"call", call_object("default", cid_id, creator, s)}});
}

inline std::string recording_ready(const std::string& cid_id, const std::string& session,
                                   const std::string& file) {
  return boost::json::serialize(
      boost::json::object{{"type", "call.recording_ready"},
                          {"created_at", "2026-04-08T15:05:00Z"},
                          {"call_cid", "default:" + cid_id},
                          {"egress_id", "eg-1"},
                          {"recording_type", "composite"},
                          {"call_recording",
                           {{"filename", file},
                            {"url", "https://cdn.example/rec/" + file + "?sig=abc"},
                            {"start_time", "2026-04-08T14:01:00Z"},
                            {"end_time", "2026-04-08T14:31:00Z"},
                            {"session_id", session},
                            {"recording_type", "composite"}}}});
}

inline std::string transcription_ready(const std::string& cid_id, const std::string& session,
                                       const std::string& file, const std::string& url,
                                       std::int64_t created_at = 1775660700000000000,
                                       std::int64_t start_time = 1775656860000000000) {
  return boost::json::serialize(boost::json::object{
      {"type", "call.transcription_ready"},
      {"created_at", created_at},  // integer nanoseconds, the other form Stream uses
      {"call_cid", "default:" + cid_id},
      {"egress_id", "eg-2"},
      {"call_transcription",
       {{"filename", file},
        {"url", url},
        {"start_time", start_time},
        {"end_time", start_time + 1800000000000},
        {"session_id", session}}}});
}

inline std::string transcription_ready(const std::string& cid_id, const std::string& session,
                                       const std::string& file) {
  return transcription_ready(cid_id, session, file, "https://cdn.example/tr/" + file);
}

inline std::string call_ended(const std::string& cid_id, const std::string& by,
                              const std::string& at) {
  auto call = call_object("default", cid_id, "alice");
  call["ended_at"] = at;
  return boost::json::serialize(boost::json::object{{"type", "call.ended"},
                                                    {"created_at", at},
                                                    {"call_cid", "default:" + cid_id},
                                                    {"call", call},
                                                    {"user", {{"id", by}}}});
}

inline std::string sign(const std::string& secret, const std::string& body) {
  return core::HmacSha256Key(secret).mac_hex(body);
}

}  // namespace streamgate::test
