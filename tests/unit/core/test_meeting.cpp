#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <climits>
#include <map>
#include <random>

#include "core/meeting.hpp"
#include "tests/support/stream_events.hpp"

using namespace streamgate::core;
using namespace streamgate::test;
namespace json = boost::json;

namespace {

const Nanos kNow = from_unix_nanos(1775700000000000000);

CallEvent ev(const std::string& body) { return parse_call_event(json::parse(body).as_object()); }

Meeting apply_all(const std::vector<std::string>& bodies) {
  std::optional<Meeting> m;
  for (const auto& b : bodies) m = apply_event(m, ev(b), kNow);
  return *m;
}

// The API view without updatedAt (the time of the last change, not a fact about the call).
json::object view(const Meeting& m) {
  auto o = to_api_json(m);
  o.erase("updatedAt");
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(meeting_rules)

BOOST_AUTO_TEST_CASE(status_follows_sessions) {
  struct Case {
    const char* name;
    std::vector<std::string> events;
    const char* status;
    std::int64_t duration;
  };
  const std::vector<Case> table = {
      {"one session started", {session_started("c", "s1", "2026-04-08T14:00:00Z")}, "active", 0},
      {"started then ended",
       {session_started("c", "s1", "2026-04-08T14:00:00Z"),
        session_ended("c", "s1", "2026-04-08T14:00:00Z", "2026-04-08T14:30:00Z")},
       "processing",
       1800},
      {"ended alone (started never delivered)",
       {session_ended("c", "s1", "2026-04-08T14:00:00Z", "2026-04-08T14:30:00Z")},
       "processing",
       1800},
      {"second session open",
       {session_ended("c", "s1", "2026-04-08T14:00:00Z", "2026-04-08T14:30:00Z"),
        session_started("c", "s2", "2026-04-08T15:00:00Z")},
       "active",
       1800},
      {"two sessions ended: durations add",
       {session_ended("c", "s1", "2026-04-08T14:00:00Z", "2026-04-08T14:30:00Z"),
        session_ended("c", "s2", "2026-04-08T15:00:00Z", "2026-04-08T15:10:00.600Z")},
       "processing",
       2401},
      {"late start after the end does not reopen",
       {session_ended("c", "s1", "2026-04-08T14:00:00Z", "2026-04-08T14:30:00Z"),
        session_started("c", "s1", "2026-04-08T14:00:00Z")},
       "processing",
       1800},
      {"recording only", {recording_ready("c", "s1", "rec.mp4")}, "created", 0},
      {"call ended without sessions",
       {call_ended("c", "bob", "2026-04-08T16:00:00Z")},
       "created",
       0},
  };
  for (const auto& c : table) {
    BOOST_TEST_CONTEXT(c.name) {
      const Meeting m = apply_all(c.events);
      BOOST_TEST(to_string(m.status()) == c.status);
      BOOST_TEST(m.duration_seconds() == c.duration);
    }
  }
}

BOOST_AUTO_TEST_CASE(any_order_and_repeats_give_the_same_meeting) {
  std::vector<std::string> events = {
      session_started("c", "s1", "2026-04-08T14:00:00Z"),
      session_ended("c", "s1", "2026-04-08T14:00:00Z", "2026-04-08T14:30:00Z"),
      recording_ready("c", "s1", "rec-1.mp4"),
      transcription_ready("c", "s1", "tr-1.txt"),
      session_started("c", "s2", "2026-04-08T15:00:00Z"),
      session_ended("c", "s2", "2026-04-08T15:00:00Z", "2026-04-08T15:05:00Z"),
      call_ended("c", "bob", "2026-04-08T15:06:00Z"),
  };
  const json::object expected = view(apply_all(events));
  BOOST_TEST(expected.at("status").as_string() == "processing");
  BOOST_TEST(expected.at("durationSeconds").as_int64() == 2100);
  BOOST_TEST(expected.at("recordings").as_array().size() == 1u);
  BOOST_TEST(expected.at("transcriptions").as_array().size() == 1u);
  BOOST_TEST(expected.at("endedBy").as_string() == "bob");
  BOOST_TEST(expected.at("startedAt").as_string() == "2026-04-08T14:00:00.000Z");

  std::sort(events.begin(), events.end());
  std::size_t permutations = 0;
  do {
    BOOST_TEST_CONTEXT("permutation " << permutations) {
      BOOST_TEST(view(apply_all(events)) == expected);
    }
    ++permutations;
  } while (std::next_permutation(events.begin(), events.end()) && permutations < 5040);
  BOOST_TEST(permutations == 5040u);

  auto doubled = events;
  doubled.insert(doubled.end(), events.begin(), events.end());
  BOOST_TEST(view(apply_all(doubled)) == expected);
}

BOOST_AUTO_TEST_CASE(recordings_are_keyed_so_repeats_add_nothing) {
  Meeting m = apply_all({recording_ready("c", "s1", "a.mp4"), recording_ready("c", "s1", "a.mp4"),
                         recording_ready("c", "s1", "b.mp4"), recording_ready("c", "", "a.mp4")});
  BOOST_TEST(m.recordings.size() == 2u);
  const auto api = to_api_json(m);
  const auto& first = api.at("recordings").as_array()[0].as_object();
  BOOST_TEST(first.at("url").as_string() == "https://cdn.example/rec/a.mp4?sig=abc");
  BOOST_TEST(first.at("filename").as_string() == "a.mp4");
  BOOST_TEST(first.at("startTime").as_string() == "2026-04-08T14:01:00.000Z");
  BOOST_TEST(first.at("sessionId").as_string() == "s1");
  BOOST_TEST(first.at("recordingType").as_string() == "composite");
}

BOOST_AUTO_TEST_CASE(a_re_signed_recording_url_is_the_latest_events_in_any_order) {
  // Found by fuzz_webhook's order property: the URL used to be the last one applied.
  auto redelivered = [](const char* at, const char* sig) {
    auto o = json::parse(recording_ready("c", "s1", "a.mp4")).as_object();
    o["created_at"] = at;
    o["call_recording"].as_object()["url"] =
        std::string("https://cdn.example/rec/a.mp4?sig=") + sig;
    return json::serialize(o);
  };
  const auto early = redelivered("2026-04-08T15:05:00Z", "old");
  const auto late = redelivered("2026-04-08T18:00:00Z", "new");
  for (const auto& order : {std::vector<std::string>{early, late}, {late, early}}) {
    const Meeting m = apply_all(order);
    BOOST_REQUIRE(m.recordings.size() == 1u);
    BOOST_TEST(m.recordings[0].url == "https://cdn.example/rec/a.mp4?sig=new");
    // Across stored writes too: the URL's time is kept with it.
    const Meeting stored = from_storage_json(to_storage_json(apply_all({order[0]})));
    const Meeting next = apply_event(stored, parse_call_event(json::parse(order[1]).as_object()),
                                     from_unix_nanos(1775700000000000000));
    BOOST_TEST(next.recordings[0].url == "https://cdn.example/rec/a.mp4?sig=new");
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_call_is_created_from_the_event) {
  const Meeting m = apply_all({session_started("call-9", "s1", "2026-04-08T14:00:00Z", "carol")});
  BOOST_TEST(m.call_type == "default");
  BOOST_TEST(m.call_id == "call-9");
  BOOST_TEST(m.created_by == "carol");
  BOOST_TEST(m.meeting_id == "m-call-9");  // from custom.meetingId
  BOOST_TEST(m.custom.at("agentName").as_string() == "Sales Assistant");
  BOOST_TEST(m.is_member("carol"));
  BOOST_TEST(!m.is_member("mallory"));
  // A recording-first meeting learns its creator from a later event that carries the call.
  const Meeting r = apply_all({recording_ready("call-9", "s1", "a.mp4"),
                               session_started("call-9", "s1", "2026-04-08T14:00:00Z", "carol")});
  BOOST_TEST(r.created_by == "carol");
}

BOOST_AUTO_TEST_CASE(timestamps_in_both_forms) {
  const Meeting m = apply_all({transcription_ready("c", "s1", "t.txt")});
  BOOST_TEST(to_api_json(m).at("transcriptions").as_array()[0].at("startTime").as_string() ==
             "2026-04-08T14:01:00.000Z");
  BOOST_TEST(!read_timestamp(nullptr).has_value());
  const json::value ns = 1775656860000000000;
  const json::value text = "2026-04-08T14:01:00Z";
  BOOST_TEST(to_unix_nanos(*read_timestamp(&ns)) == to_unix_nanos(*read_timestamp(&text)));
  const json::value bad = "yesterday";
  BOOST_CHECK_THROW(read_timestamp(&bad), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(unusable_payloads_are_refused_with_a_reason) {
  const std::vector<std::string> bad = {
      R"({"type":"call.session_started","call_cid":"default:c"})",                  // no session id
      R"({"type":"call.session_started","session_id":"s1"})",                       // no call
      R"({"type":"call.session_started","call_cid":"bad cid","session_id":"s1"})",  // invalid cid
      R"({"type":"call.recording_ready","call_cid":"default:c"})",  // no call_recording
      R"({"type":"call.recording_ready","call_cid":"default:c","call_recording":{}})",  // no url
      R"({"type":"call.session_ended","call_cid":"default:c","session_id":"s",)"
      R"("created_at":"soon"})",
      R"({"type":"call.session_ended","call_cid":"default:c","session_id":5})",
  };
  for (const auto& b : bad) {
    BOOST_TEST_CONTEXT(b) {
      BOOST_CHECK_THROW(parse_call_event(json::parse(b).as_object()), std::invalid_argument);
    }
  }
}

BOOST_AUTO_TEST_CASE(storage_round_trip_keeps_everything) {
  const Meeting m = apply_all(
      {session_ended("c", "s1", "2026-04-08T14:00:00Z", "2026-04-08T14:30:00.123456789Z"),
       recording_ready("c", "s1", "a.mp4"), call_ended("c", "bob", "2026-04-08T16:00:00Z")});
  const Meeting back = from_storage_json(to_storage_json(m));
  BOOST_TEST(to_api_json(back) == to_api_json(m));
  BOOST_TEST(to_unix_nanos(*back.sessions[0].ended_at) == to_unix_nanos(*m.sessions[0].ended_at));
}

BOOST_AUTO_TEST_CASE(summarising_old_sessions_keeps_every_total_exact_in_any_order) {
  // 60 sessions (two events each, plus repeats and late ends), applied in shuffled orders. The
  // "store" below does what the real one does: restore the event's session from the archive if it
  // was summarised, apply, then fold the oldest ended sessions beyond 8 into the archive.
  std::vector<std::string> events;
  const auto at = [](int minute) { return format_rfc3339(1775640000 + minute * 60); };
  for (int i = 0; i < 60; ++i) {
    const std::string sid = "s" + std::to_string(i);
    events.push_back(session_started("c", sid, at(3 * i)));
    events.push_back(session_ended("c", sid, at(3 * i), at(3 * i + 1 + i % 2)));
    if (i % 7 == 0)
      events.push_back(session_ended("c", sid, at(3 * i), at(3 * i + 1 + i % 2)));  // repeat
  }
  events.push_back(session_started("c", "open", at(500)));
  const json::object reference = view(apply_all(events));
  BOOST_TEST(reference.at("sessionCount").as_int64() == 61);
  BOOST_TEST(reference.at("durationSeconds").as_int64() == (30 * 60 + 30 * 120));

  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::shuffle(events.begin(), events.end(), rng);
    std::optional<Meeting> m;
    std::map<std::string, CallSession> archive;
    for (const auto& b : events) {
      const CallEvent e = ev(b);
      if (m && !e.session_id.empty() && archive.count(e.session_id) &&
          std::none_of(m->sessions.begin(), m->sessions.end(),
                       [&](const CallSession& s) { return s.id == e.session_id; }))
        restore_session(*m, archive.at(e.session_id));
      m = apply_event(m, e, kNow);
      for (auto& folded : fold_old_sessions(*m, 8)) archive[folded.id] = folded;
      // A stored document round trip on every step, as the store does.
      m = from_storage_json(to_storage_json(*m));
      BOOST_TEST_REQUIRE(m->sessions.size() <= 8u + 60u - archive.size() + 1u);
    }
    BOOST_TEST_CONTEXT("round " << round) {
      const auto got = view(*m);
      for (const char* key :
           {"sessionCount", "durationSeconds", "status", "startedAt", "createdAt"})
        BOOST_TEST(got.at(key) == reference.at(key), key);
      std::size_t ended = 0;
      for (const auto& s : m->sessions) ended += s.ended_at ? 1 : 0;
      BOOST_TEST(ended <= 8u);
    }
  }
}

BOOST_AUTO_TEST_CASE(durations_saturate_and_stored_documents_never_throw) {
  Meeting m;
  m.sessions.push_back(CallSession{"a", from_unix_nanos(INT64_MIN), from_unix_nanos(INT64_MAX)});
  m.sessions.push_back(CallSession{"b", from_unix_nanos(INT64_MIN), from_unix_nanos(INT64_MAX)});
  m.archived = SessionSummary{INT64_MAX, INT64_MAX, from_unix_nanos(INT64_MIN)};
  BOOST_TEST(m.duration_seconds() == INT64_MAX / 1'000'000'000 + 1);
  BOOST_TEST(m.session_count() == INT64_MAX);
  BOOST_TEST(!to_api_json(m).empty());
  for (
      const char* doc :
      {R"({})", R"({"sessions":[1,"x",null,{"id":3,"startedAt":"a","endedAt":-1}]})",
       R"({"members":[1,[],{"userId":[]}],"custom":[],"createdAt":1e300,)"
       R"("updatedAt":-9223372036854775808})",
       R"({"archivedSessions":{"count":-5,"durationNs":"x","firstStartedAt":9223372036854775807}})",
       R"({"recordings":[{"url":null,"startTime":18446744073709551615}],"transcriptions":7})"}) {
    BOOST_TEST_CONTEXT(doc) {
      Meeting read;
      BOOST_CHECK_NO_THROW(read = from_storage_json(json::parse(doc).as_object()));
      BOOST_TEST(read.duration_seconds() >= 0);
      BOOST_TEST(read.session_count() >= 0);
      BOOST_CHECK_NO_THROW(to_api_json(read));
    }
  }
}

BOOST_AUTO_TEST_CASE(only_meeting_events_change_meetings) {
  for (const char* t : {"call.session_started", "call.session_ended", "call.recording_ready",
                        "call.transcription_ready", "call.ended"})
    BOOST_TEST(is_meeting_event(t));
  for (const char* t :
       {"call.created", "call.session_participant_joined", "call.member_added", "message.new", ""})
    BOOST_TEST(!is_meeting_event(t));
}

BOOST_AUTO_TEST_SUITE_END()
