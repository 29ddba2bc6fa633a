#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "core/app_events.hpp"
#include "core/base64url.hpp"
#include "tests/support/stream_events.hpp"

using namespace streamgate::core;
using namespace streamgate::test;
namespace json = boost::json;

namespace {

const Nanos kNow = from_unix_nanos(1775700000000000000);

CallEvent ev(const std::string& body) { return parse_call_event(json::parse(body).as_object()); }

// Applies the events in turn, as the store does, and collects every transition announced.
std::vector<MeetingTransition> announce(const std::vector<std::string>& bodies) {
  std::optional<Meeting> m;
  std::vector<MeetingTransition> all;
  for (const auto& b : bodies) {
    Meeting next = apply_event(m, ev(b), kNow);
    for (auto& t : meeting_transitions(m ? &*m : nullptr, next)) all.push_back(t);
    m = std::move(next);
  }
  return all;
}

std::vector<std::string> types(const std::vector<MeetingTransition>& ts) {
  std::vector<std::string> out;
  for (const auto& t : ts) out.push_back(t.type);
  return out;
}

const std::string kStart = "2026-04-08T14:00:00Z";
const std::string kEnd = "2026-04-08T14:30:00Z";

}  // namespace

BOOST_AUTO_TEST_SUITE(app_events)

BOOST_AUTO_TEST_CASE(a_meeting_lifecycle_announces_each_transition_once) {
  const auto ts =
      announce({session_started("c", "s1", kStart), session_ended("c", "s1", kStart, kEnd),
                recording_ready("c", "s1", "r1.mp4"), transcription_ready("c", "s1", "t1.jsonl"),
                call_ended("c", "alice", "2026-04-08T14:31:00Z")});
  const std::vector<std::string> expected = {"meeting.created",
                                             "meeting.started",
                                             "meeting.ended",
                                             "meeting.recording_ready",
                                             "meeting.transcription_ready",
                                             "meeting.call_ended"};
  BOOST_TEST(types(ts) == expected, boost::test_tools::per_element());
  BOOST_TEST(ts[1].item == "s1");
  BOOST_TEST(ts[2].item == "s1");
  BOOST_TEST(ts[3].item == "r1.mp4");
  BOOST_TEST(ts[4].item == "t1.jsonl");
}

BOOST_AUTO_TEST_CASE(repeats_and_late_events_announce_nothing) {
  const auto ts =
      announce({session_started("c", "s1", kStart), session_ended("c", "s1", kStart, kEnd),
                session_started("c", "s1", kStart),  // late and repeated
                session_ended("c", "s1", kStart, kEnd), recording_ready("c", "s1", "r1.mp4"),
                recording_ready("c", "s1", "r1.mp4")});
  BOOST_TEST(ts.size() == 4u);
}

BOOST_AUTO_TEST_CASE(any_order_announces_the_same_set_of_ids) {
  const std::vector<std::string> events = {
      session_started("c", "s1", kStart),
      session_ended("c", "s1", kStart, kEnd),
      session_started("c", "s2", "2026-04-08T15:00:00Z"),
      session_ended("c", "s2", "2026-04-08T15:00:00Z", "2026-04-08T15:10:00Z"),
      recording_ready("c", "s1", "r1.mp4"),
      transcription_ready("c", "s2", "t2.jsonl")};
  std::set<std::string> reference;
  for (const auto& t : announce(events)) reference.insert(app_event_id("default:c", t));
  BOOST_TEST(reference.size() == 7u);  // created, 2 started, 2 ended, recording, transcription
  std::mt19937 rng(7);
  for (int round = 0; round < 30; ++round) {
    auto shuffled = events;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    std::set<std::string> ids;
    std::size_t count = 0;
    for (const auto& t : announce(shuffled)) {
      ids.insert(app_event_id("default:c", t));
      ++count;
    }
    // Orders may differ in what is announced when (an end before its start), never in how
    // often: each transition has one id, and no id is announced twice.
    BOOST_TEST(count == ids.size());
    for (const auto& id : ids) BOOST_TEST(reference.count(id) == 1u, id);
  }
}

BOOST_AUTO_TEST_CASE(a_meeting_healed_from_stream_announces_what_it_missed) {
  // The webhooks were lost; reconciliation learns the whole session at once.
  const Meeting before =
      apply_event(std::nullopt, ev(session_started("c", "s0", "2026-04-08T13:00:00Z")), kNow);
  Meeting healed = before;
  healed.sessions.push_back(CallSession{"s1", parse_rfc3339(kStart), parse_rfc3339(kEnd)});
  healed.sessions[0].ended_at = parse_rfc3339("2026-04-08T13:10:00Z");
  const auto ts = meeting_transitions(&before, healed);
  BOOST_TEST(types(ts) == (std::vector<std::string>{"meeting.started", "meeting.ended"}),
             boost::test_tools::per_element());
  BOOST_TEST(ts[0].item == "s1");
  BOOST_TEST(ts[1].item == "s1");  // the latest end
}

BOOST_AUTO_TEST_CASE(a_meeting_with_a_session_still_open_has_not_ended) {
  const auto ts = announce({session_started("c", "s1", kStart), session_started("c", "s2", kStart),
                            session_ended("c", "s1", kStart, kEnd)});
  BOOST_TEST(std::count(ts.begin(), ts.end(), MeetingTransition{"meeting.ended", "s1"}) == 0);
}

BOOST_AUTO_TEST_CASE(changes_are_detected_without_the_update_time) {
  const Meeting a = apply_event(std::nullopt, ev(session_started("c", "s1", kStart)), kNow);
  Meeting b = a;
  b.updated_at = kNow + std::chrono::seconds(5);
  b.version = 9;
  BOOST_TEST(!meeting_changed(&a, b));
  BOOST_TEST(meeting_changed(nullptr, b));
  b.custom["x"] = 1;
  BOOST_TEST(meeting_changed(&a, b));
}

BOOST_AUTO_TEST_CASE(event_ids_are_stable_and_distinct) {
  const MeetingTransition t{"meeting.started", "s1"};
  BOOST_TEST(app_event_id("default:c", t) == app_event_id("default:c", t));
  BOOST_TEST(app_event_id("default:c", t).size() == 36u);
  BOOST_TEST(app_event_id("default:c", t).rfind("evt_", 0) == 0u);
  // No two triples share the hashed bytes, even when their concatenations match.
  BOOST_TEST(app_event_id("default:c", {"meeting.started", "s1"}) !=
             app_event_id("default:cm", {"eeting.started", "s1"}));
  BOOST_TEST(app_event_id("default:c", {"meeting.started", "s1"}) !=
             app_event_id("default:d", {"meeting.started", "s1"}));
}

BOOST_AUTO_TEST_CASE(the_body_carries_the_meeting_and_its_version) {
  Meeting m = apply_event(std::nullopt, ev(session_started("c", "s1", kStart)), kNow);
  m.version = 3;
  const auto body = json::parse(app_event_body("meeting.started", kNow, m)).as_object();
  BOOST_TEST(body.at("type").as_string() == "meeting.started");
  BOOST_TEST(body.at("timestamp").as_string() == format_rfc3339(kNow, 3));
  BOOST_TEST(body.at("data").at("version").as_int64() == 3);
  BOOST_TEST(body.at("data").at("meeting").at("callCid").as_string() == "default:c");
  BOOST_TEST(body.at("data").at("meeting").at("status").as_string() == "active");
}

// The example of the Standard Webhooks specification (spec/standard-webhooks.md, "Signature
// scheme"), which its reference libraries test against.
BOOST_AUTO_TEST_CASE(signature_matches_the_specifications_example) {
  const auto key = parse_webhook_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  BOOST_TEST_REQUIRE(key.has_value());
  const std::vector<std::shared_ptr<const HmacSha256Key>> keys = {
      std::make_shared<const HmacSha256Key>(*key)};
  BOOST_TEST(
      sign_app_event(keys, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})") ==
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  // During a rotation both signatures are sent, the current one first.
  const auto other = parse_webhook_secret(make_webhook_secret());
  BOOST_TEST_REQUIRE(other.has_value());
  const std::vector<std::shared_ptr<const HmacSha256Key>> two = {
      keys[0], std::make_shared<const HmacSha256Key>(*other)};
  const auto header =
      sign_app_event(two, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})");
  BOOST_TEST(header.rfind("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(secrets_are_whsec_and_enough_base64) {
  BOOST_TEST(parse_webhook_secret(make_webhook_secret())->size() == 32u);
  BOOST_TEST(!parse_webhook_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));  // no prefix
  BOOST_TEST(!parse_webhook_secret("whsec_c2hvcnQ="));                    // 5 bytes
  BOOST_TEST(!parse_webhook_secret("whsec_not base64 at all!!!!!!!!!!!!!!"));
  BOOST_TEST(!parse_webhook_secret("whsec_"));
}

BOOST_AUTO_TEST_CASE(standard_base64_round_trips) {
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00"}) {
    const auto enc = base64_encode(s);
    BOOST_TEST(enc.size() % 4 == 0u);
    BOOST_TEST(base64_decode(enc).value() == s);
  }
  BOOST_TEST(base64_encode("\xfb\xff") == "+/8=");
  BOOST_TEST(!base64_decode("-_8="));  // the URL alphabet is not standard base64
}

BOOST_AUTO_TEST_CASE(retry_schedules_are_checked) {
  BOOST_TEST(
      parse_retry_schedule("5,300,1800").value() == (std::vector<std::int64_t>{5, 300, 1800}),
      boost::test_tools::per_element());
  BOOST_TEST(parse_retry_schedule(" 1, 2 ").value().size() == 2u);
  BOOST_TEST(parse_retry_schedule("").value().empty());
  for (const char* bad : {"1,", ",1", "a", "-1", "604801", "1,,2", "9999999999999999999999"})
    BOOST_TEST(!parse_retry_schedule(bad), bad);
}

BOOST_AUTO_TEST_SUITE_END()
