#include "server/transcripts/transcript_handlers.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>

#include "core/base64url.hpp"
#include "core/checked.hpp"
#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/meeting.hpp"
#include "core/transcript.hpp"
#include "http/json_response.hpp"
#include "server/store/store_tx.hpp"

namespace streamgate::server {
namespace json = boost::json;
using http::HttpError;

namespace {

// Pages deeper than this are refused: a search is for the first results, not a crawl.
constexpr std::size_t kMaxSearchOffset = 1000;

void require_enabled(const TranscriptRouteSettings& s) {
  if (!s.enabled)
    throw HttpError(404, "transcripts_disabled", "Transcripts are turned off (TRANSCRIPTS=off)");
}

std::string query_tag(std::string_view q) { return core::to_hex(core::sha256(q)).substr(0, 12); }

// none: no file; pending: a file is still being fetched; ready: a file is stored; failed: every
// file failed.
std::string_view overall_status(const std::vector<TranscriptFile>& files) {
  if (files.empty()) return "none";
  const auto any = [&](std::string_view st) {
    return std::any_of(files.begin(), files.end(),
                       [&](const TranscriptFile& f) { return f.status == st; });
  };
  if (any("pending")) return "pending";
  if (any("ready")) return "ready";
  return "failed";
}

json::value time_or_null(const std::optional<std::int64_t>& ns) {
  if (!ns) return nullptr;
  const auto t = core::checked_unix_nanos(*ns);
  return t ? json::value(core::format_rfc3339(*t, 3)) : json::value(nullptr);
}

std::size_t file_index(const std::vector<TranscriptFile>& files, const std::string& file) {
  for (std::size_t i = 0; i < files.size(); ++i)
    if (files[i].file == file) return i;
  return files.size();
}

}  // namespace

std::string encode_search_cursor(std::size_t offset, std::string_view q) {
  return core::base64url_encode("s" + std::to_string(offset) + ":" + query_tag(q));
}

std::optional<std::size_t> decode_search_cursor(std::string_view cursor, std::string_view q) {
  if (cursor.size() > 128) return std::nullopt;
  const auto raw = core::base64url_decode(cursor);
  if (!raw || raw->size() < 2 || raw->front() != 's') return std::nullopt;
  const std::string_view text = std::string_view(*raw).substr(1);
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || text.substr(colon + 1) != query_tag(q))
    return std::nullopt;
  const auto offset = core::parse_int64(text.substr(0, colon));
  if (!offset || *offset < 0 || static_cast<std::size_t>(*offset) > kMaxSearchOffset)
    return std::nullopt;
  return static_cast<std::size_t>(*offset);
}

http::Handler make_get_transcript_handler(std::shared_ptr<const TranscriptRouteSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    require_enabled(*s);
    const std::string call_id(ctx.param("callId"));
    const std::string call_type = req.query_param("type").value_or("default");
    if (!core::is_valid_call_id(call_id))
      throw HttpError(400, "invalid_request", "callId must be 1-64 characters of [A-Za-z0-9_-]");
    if (!core::is_valid_call_id(call_type))
      throw HttpError(400, "invalid_request", "type must be 1-64 characters of [A-Za-z0-9_-]");
    const std::string format = req.query_param("format").value_or("json");
    if (format != "json" && format != "vtt" && format != "text")
      throw HttpError(400, "invalid_request", "format must be json, vtt or text");
    const auto only_file = req.query_param("file");
    auto find = s->store->get_meeting(call_type, call_id);  // [gcc12-co_await]
    const auto meeting = co_await std::move(find);
    const auto& caller = *ctx.principal;
    if (!meeting || !(caller.has_role(s->admin_role) || meeting->is_member(caller.subject)))
      throw HttpError(404, "not_found", "No meeting for this call");
    auto load = s->store->get_transcript(call_type, call_id);  // [gcc12-co_await]
    TranscriptView view = co_await std::move(load);
    if (only_file) {
      const auto i = file_index(view.files, *only_file);
      if (i == view.files.size())
        throw HttpError(404, "not_found", "This meeting has no transcript file of that name");
      view.files = {view.files[i]};
      view.segments = {std::move(view.segments[i])};
    }
    // One timeline: a later file's times are moved by its offset (docs/transcripts.md).
    const auto offsets = transcript_offsets(view.files);
    std::vector<core::TranscriptSegment> segments;
    for (std::size_t i = 0; i < view.segments.size(); ++i)
      for (auto& seg : view.segments[i]) {
        seg.start_ms = core::sat_add(seg.start_ms, offsets[i]);
        seg.end_ms = core::sat_add(seg.end_ms, offsets[i]);
        segments.push_back(std::move(seg));
      }
    http::Response res;
    res.set_header("Cache-Control", "no-store");
    if (format == "vtt") {
      res.content_type = "text/vtt; charset=utf-8";
      res.body = core::to_webvtt(segments);
      co_return res;
    }
    if (format == "text") {
      res.content_type = "text/plain; charset=utf-8";
      res.body = core::to_plain_text(segments);
      co_return res;
    }
    json::array files;
    for (std::size_t i = 0; i < view.files.size(); ++i) {
      const auto& f = view.files[i];
      json::object o{{"file", f.file},
                     {"status", f.status},
                     {"segmentCount", f.segment_count},
                     {"speakerCount", f.speaker_count},
                     {"malformedLines", f.malformed_lines},
                     {"offsetMs", offsets[i]},
                     {"fetchedAt", time_or_null(f.fetched_at)},
                     {"attempts", f.attempts}};
      if (!f.error.empty()) o["error"] = f.error;
      files.push_back(std::move(o));
    }
    json::array speakers;
    for (const auto& sp : core::speakers_of(segments))
      speakers.push_back(json::object{{"speakerId", sp.speaker_id},
                                      {"segmentCount", sp.segments},
                                      {"speakingMs", sp.speaking_ms}});
    json::array list;
    list.reserve(segments.size());
    for (const auto& seg : segments)
      list.push_back(json::object{{"speakerId", seg.speaker_id},
                                  {"startMs", seg.start_ms},
                                  {"endMs", seg.end_ms},
                                  {"text", seg.text}});
    auto out = http::json_success(200,
                                  json::object{{"callCid", meeting->cid()},
                                               {"status", overall_status(view.files)},
                                               {"files", std::move(files)},
                                               {"speakers", std::move(speakers)},
                                               {"segments", std::move(list)}},
                                  "Transcript");
    out.set_header("Cache-Control", "no-store");
    co_return out;
  };
}

http::Handler make_search_meetings_handler(std::shared_ptr<const TranscriptRouteSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    require_enabled(*s);
    const auto q = req.query_param("q");
    if (!q) throw HttpError(400, "invalid_request", "q is required");
    std::string error;
    auto parsed = core::parse_search_query(*q, error);
    if (!parsed) throw HttpError(400, "invalid_request", error);
    TranscriptSearch search;
    search.query = std::move(*parsed);
    search.user_id = ctx.principal->subject;
    if (const auto l = req.query_param("limit")) {
      const auto v = core::parse_int64(*l);
      if (!v || *v < 1 || *v > 50)
        throw HttpError(400, "invalid_request", "limit must be an integer from 1 to 50");
      search.limit = static_cast<std::size_t>(*v);
    }
    if (const auto all = req.query_param("all")) {
      if (*all != "true" && *all != "false")
        throw HttpError(400, "invalid_request", "all must be true or false");
      search.all = *all == "true";
      if (search.all && !ctx.principal->has_role(s->admin_role))
        throw HttpError(403, "forbidden", "all=true is for admins");
    }
    if (const auto cursor = req.query_param("cursor"); cursor && !cursor->empty()) {
      const auto offset = decode_search_cursor(*cursor, *q);
      if (!offset)
        throw HttpError(400, "invalid_request", "cursor is not one this API returned for this q");
      search.offset = *offset;
    }
    const auto offset = search.offset;
    const auto limit = search.limit;
    auto run = s->store->search_transcripts(std::move(search));  // [gcc12-co_await]
    const auto page = co_await std::move(run);
    json::array meetings;
    for (const auto& hit : page.hits) {
      const auto offsets = transcript_offsets(hit.files);
      json::array matches;
      for (const auto& m : hit.matches) {
        const auto i = file_index(hit.files, m.file);
        const std::int64_t shift = i < offsets.size() ? offsets[i] : 0;
        matches.push_back(json::object{{"startMs", core::sat_add(m.start_ms, shift)},
                                       {"endMs", core::sat_add(m.end_ms, shift)},
                                       {"speakerId", m.speaker_id},
                                       {"snippet", core::make_snippet(m.highlighted)}});
      }
      auto o = core::to_api_json(hit.meeting);
      o["matchCount"] = hit.matching_segments;
      o["matches"] = std::move(matches);
      meetings.push_back(std::move(o));
    }
    const bool more = page.more && offset + limit <= kMaxSearchOffset;
    co_return http::json_success(
        200,
        json::object{{"meetings", std::move(meetings)},
                     {"nextCursor", more ? json::value(encode_search_cursor(offset + limit, *q))
                                         : json::value(nullptr)}},
        "Search results");
  };
}

}  // namespace streamgate::server
