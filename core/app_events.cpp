#include "core/app_events.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>

#include "core/base64url.hpp"

namespace streamgate::core {
namespace json = boost::json;

bool is_app_event_type(std::string_view type) {
  return std::find(kAppEventTypes.begin(), kAppEventTypes.end(), type) != kAppEventTypes.end();
}

namespace {

const CallSession* find_session(const Meeting* m, const std::string& id) {
  if (!m) return nullptr;
  for (const auto& s : m->sessions)
    if (s.id == id) return &s;
  return nullptr;
}

std::string_view asset_key(const MediaAsset& a) { return a.filename.empty() ? a.url : a.filename; }

bool has_asset(const std::vector<MediaAsset>& assets, std::string_view key) {
  return std::any_of(assets.begin(), assets.end(),
                     [&](const MediaAsset& a) { return asset_key(a) == key; });
}

void new_assets(const std::vector<MediaAsset>* before, const std::vector<MediaAsset>& after,
                std::string_view type, std::vector<MeetingTransition>& out) {
  for (const auto& a : after) {
    const auto key = asset_key(a);
    if (key.empty() || (before && has_asset(*before, key))) continue;
    out.push_back({std::string(type), std::string(key)});
  }
}

}  // namespace

std::vector<MeetingTransition> meeting_transitions(const Meeting* before, const Meeting& after) {
  std::vector<MeetingTransition> out;
  if (!before) out.push_back({"meeting.created", ""});
  const CallSession* latest_end = nullptr;
  for (const auto& s : after.sessions) {
    const CallSession* was = find_session(before, s.id);
    if (s.started_at && !(was && was->started_at)) out.push_back({"meeting.started", s.id});
    if (s.ended_at && !(was && was->ended_at) &&
        (!latest_end || *s.ended_at >= *latest_end->ended_at))
      latest_end = &s;
  }
  if (latest_end && after.status() == MeetingStatus::processing)
    out.push_back({"meeting.ended", latest_end->id});
  if (after.ended_at && !(before && before->ended_at)) out.push_back({"meeting.call_ended", ""});
  new_assets(before ? &before->recordings : nullptr, after.recordings, "meeting.recording_ready",
             out);
  new_assets(before ? &before->transcriptions : nullptr, after.transcriptions,
             "meeting.transcription_ready", out);
  return out;
}

bool meeting_changed(const Meeting* before, const Meeting& after) {
  if (!before) return true;
  auto a = to_storage_json(*before);
  auto b = to_storage_json(after);
  for (auto* o : {&a, &b}) {
    o->erase("updatedAt");
    o->erase("version");
  }
  return a != b;
}

std::string app_event_id(std::string_view call_cid, const MeetingTransition& t) {
  // Lengths first, so that no two different triples hash the same bytes.
  std::string input;
  for (std::string_view part : {call_cid, std::string_view(t.type), std::string_view(t.item)}) {
    input += std::to_string(part.size());
    input += ':';
    input += part;
  }
  return "evt_" + to_hex(sha256(input)).substr(0, 32);
}

std::string app_event_body(std::string_view type, Nanos at, const Meeting& m) {
  return json::serialize(
      json::object{{"type", type},
                   {"timestamp", format_rfc3339(at, 3)},
                   {"data", json::object{{"meeting", to_api_json(m)}, {"version", m.version}}}});
}

std::string transcript_ready_body(Nanos at, const Meeting& m, std::string_view file,
                                  std::int64_t segments, std::int64_t speakers) {
  return json::serialize(json::object{
      {"type", kTranscriptReady},
      {"timestamp", format_rfc3339(at, 3)},
      {"data", json::object{{"meeting", to_api_json(m)},
                            {"version", m.version},
                            {"transcript", json::object{{"file", file},
                                                        {"segmentCount", segments},
                                                        {"speakerCount", speakers}}}}}});
}

std::optional<std::string> parse_webhook_secret(std::string_view secret) {
  constexpr std::string_view kPrefix = "whsec_";
  if (secret.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  auto key = base64_decode(secret.substr(kPrefix.size()));
  if (!key || key->size() < kMinWebhookKeyBytes) return std::nullopt;
  return key;
}

std::string make_webhook_secret() { return "whsec_" + base64_encode(random_bytes(32)); }

std::string sign_app_event(const std::vector<std::shared_ptr<const HmacSha256Key>>& keys,
                           std::string_view id, std::int64_t timestamp, std::string_view body) {
  std::string content;
  content.reserve(id.size() + body.size() + 24);
  content.append(id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  std::string header;
  for (const auto& key : keys) {
    const auto mac = key->mac(content);
    if (!header.empty()) header += ' ';
    header += "v1,";
    header +=
        base64_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  }
  return header;
}

std::optional<std::vector<std::int64_t>> parse_retry_schedule(std::string_view text) {
  std::vector<std::int64_t> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    std::int64_t v = -1;
    const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size() || v < 0 ||
        v > 7 * 86400 || out.size() >= 20)
      return std::nullopt;
    out.push_back(v);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) return std::nullopt;  // a trailing comma
  }
  return out;
}

std::optional<std::int64_t> retry_delay_ms(const std::vector<std::int64_t>& schedule,
                                           std::int64_t step, double jitter01) {
  if (step < 0 || static_cast<std::size_t>(step) >= schedule.size()) return std::nullopt;
  const double base_ms = static_cast<double>(schedule[static_cast<std::size_t>(step)]) * 1000.0;
  const double factor = 0.9 + 0.2 * std::clamp(jitter01, 0.0, 1.0);
  return static_cast<std::int64_t>(base_ms * factor);
}

}  // namespace streamgate::core
