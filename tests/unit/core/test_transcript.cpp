// Transcripts, pure: the JSON Lines reader (streamed in any chunking), WebVTT and text output,
// the search syntax and what it becomes for FTS5 and tsquery, and snippets.
#include <boost/test/unit_test.hpp>

#include <ostream>

#include "core/transcript.hpp"

using namespace streamgate::core;

namespace streamgate::core {
std::ostream& operator<<(std::ostream& os, const TranscriptSegment& s) {
  return os << "{" << s.speaker_id << ", " << s.start_ms << ", " << s.end_ms << ", " << s.text
            << "}";
}
}  // namespace streamgate::core

namespace {

TranscriptParser parse(std::string_view text, std::size_t chunk = 0) {
  TranscriptParser p;
  if (chunk == 0) {
    p.feed(text);
  } else {
    for (std::size_t i = 0; i < text.size(); i += chunk) p.feed(text.substr(i, chunk));
  }
  p.finish();
  return p;
}

const std::string kFile =
    "\xEF\xBB\xBF{\"type\":\"speech\",\"speaker_id\":\"alice\",\"text\":\"Hello, "
    "world\",\"start_ts\":1234,\"stop_ts\":2345}\r\n"
    "{\"type\":\"speech\",\"speaker_id\":\"bob\",\"text\":\"Grüße — "
    "你好\",\"start_ts\":3000,\"stop_ts\":2500,\"extra\":{\"x\":1}}\n"
    "\n"
    "{\"type\":\"system\",\"text\":\"recording started\"}\n"
    "{not json}\n"
    "[1,2,3]\n"
    "{\"type\":\"speech\",\"speaker_id\":\"alice\",\"text\":\"bad "
    "time\",\"start_ts\":-5,\"stop_ts\":1}\n"
    "{\"type\":\"speech\",\"speaker_id\":7,\"text\":\"bad speaker\",\"start_ts\":1,\"stop_ts\":2}\n"
    "{\"type\":\"speech\",\"text\":\"line\\nbreak\\u0001 here "
    "\",\"start_ts\":4000.7,\"stop_ts\":5000}\n"
    "{\"type\":\"speech\",\"speaker_id\":\"carol\",\"text\":\"   \",\"start_ts\":1,\"stop_ts\":2}\n"
    "{\"type\":\"speech\",\"speaker_id\":\"carol\",\"text\":\"no newline at the "
    "end\",\"start_ts\":6000,\"stop_ts\":7000}";

}  // namespace

BOOST_AUTO_TEST_SUITE(transcript_parser)

BOOST_AUTO_TEST_CASE(keeps_speech_in_order_and_counts_malformed_lines) {
  auto p = parse(kFile);
  const std::vector<TranscriptSegment> want = {
      {"alice", 1234, 2345, "Hello, world"},
      {"bob", 3000, 3000, "Grüße — 你好"},  // an end before the start is the start
      {"", 4000, 5000, "line break here"},
      {"carol", 6000, 7000, "no newline at the end"}};
  BOOST_TEST(p.segments() == want, boost::test_tools::per_element());
  BOOST_TEST(p.malformed_lines() == 4);  // not JSON, an array, a bad time, a bad speaker
  BOOST_TEST(p.ignored_lines() == 2);    // the system line, the empty text
  BOOST_TEST(!p.unparseable());
  BOOST_TEST(p.bytes() == static_cast<std::int64_t>(kFile.size()));
}

BOOST_AUTO_TEST_CASE(any_chunking_reads_the_same) {
  const auto whole = parse(kFile);
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u, 1000u}) {
    BOOST_TEST_CONTEXT("chunk " << chunk) {
      auto p = parse(kFile, chunk);
      BOOST_TEST(p.segments() == parse(kFile).segments(), boost::test_tools::per_element());
      BOOST_TEST(p.malformed_lines() == whole.malformed_lines());
    }
  }
}

BOOST_AUTO_TEST_CASE(an_empty_file_is_an_empty_transcript_and_junk_is_unparseable) {
  BOOST_TEST(parse("").segments().empty());
  BOOST_TEST(!parse("").unparseable());
  BOOST_TEST(!parse("\n\n  \n").unparseable());
  BOOST_TEST(parse("<html><body>Access denied</body></html>\n").unparseable());
  BOOST_TEST(parse(std::string("\x00\x01\xff\xfe binary", 12)).unparseable());
  // One good line among junk: a transcript with malformed lines.
  BOOST_TEST(!parse("junk\n{\"type\":\"speech\",\"text\":\"a\",\"start_ts\":0,\"stop_ts\":1}\n")
                  .unparseable());
}

BOOST_AUTO_TEST_CASE(a_line_over_the_limit_is_skipped_in_bounded_memory) {
  std::string big = "{\"type\":\"speech\",\"text\":\"" +
                    std::string(kMaxTranscriptLineBytes + 10, 'a') +
                    "\",\"start_ts\":0,\"stop_ts\":1}\n";
  big += "{\"type\":\"speech\",\"text\":\"after\",\"start_ts\":5,\"stop_ts\":6}\n";
  for (std::size_t chunk : {0u, 4096u}) {
    auto p = parse(big, chunk);
    BOOST_REQUIRE_EQUAL(p.segments().size(), 1u);
    BOOST_TEST(p.segments()[0].text == "after");
    BOOST_TEST(p.malformed_lines() == 1);
  }
}

BOOST_AUTO_TEST_CASE(times_out_of_range_and_long_text_are_handled) {
  auto p = parse(
      "{\"type\":\"speech\",\"text\":\"x\",\"start_ts\":1e300,\"stop_ts\":1}\n"
      "{\"type\":\"speech\",\"text\":\"x\",\"start_ts\":18446744073709551615,\"stop_ts\":1}\n"
      "{\"type\":\"speech\",\"text\":\"x\",\"start_ts\":\"12\",\"stop_ts\":1}\n"
      "{\"type\":\"speech\",\"text\":\"x\",\"start_ts\":2592000000,\"stop_ts\":2592000000}\n");
  BOOST_TEST(p.malformed_lines() == 3);
  BOOST_REQUIRE_EQUAL(p.segments().size(), 1u);
  const std::string long_text(kMaxSegmentTextBytes - 1, 'a');
  auto q =
      parse("{\"type\":\"speech\",\"text\":\"" + long_text + "é\",\"start_ts\":0,\"stop_ts\":1}");
  BOOST_REQUIRE_EQUAL(q.segments().size(), 1u);
  BOOST_TEST(q.segments()[0].text == long_text);  // cut before the two-byte é, not inside it
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(transcript_output)

BOOST_AUTO_TEST_CASE(webvtt_cues_are_sorted_escaped_and_voiced) {
  const std::vector<TranscriptSegment> segs = {{"bob", 5000, 6000, "second --> <b>&"},
                                               {"alice & co>", 1234, 2345, "first"},
                                               {"", 3723004, 3723005, "no speaker"}};
  BOOST_TEST(to_webvtt(segs) ==
             "WEBVTT\n"
             "\n1\n00:00:01.234 --> 00:00:02.345\n<v alice &amp; co&gt;>first\n"
             "\n2\n00:00:05.000 --> 00:00:06.000\n<v bob>second --&gt; &lt;b&gt;&amp;\n"
             "\n3\n01:02:03.004 --> 01:02:03.005\nno speaker\n");
  BOOST_TEST(format_vtt_time(0) == "00:00:00.000");
  BOOST_TEST(format_vtt_time(-5) == "00:00:00.000");
  BOOST_TEST(format_vtt_time(100LL * 3600 * 1000 + 1) == "100:00:00.001");
  BOOST_TEST(to_webvtt({}) == "WEBVTT\n");
}

BOOST_AUTO_TEST_CASE(plain_text_is_speaker_colon_text) {
  BOOST_TEST(to_plain_text({{"alice", 0, 1, "hi"}, {"", 2, 3, "anonymous"}}) ==
             "alice: hi\nanonymous\n");
}

BOOST_AUTO_TEST_CASE(speakers_in_order_of_first_appearance) {
  const auto s = speakers_of({{"b", 0, 10, "x"}, {"a", 10, 15, "y"}, {"b", 20, 40, "z"}});
  BOOST_REQUIRE_EQUAL(s.size(), 2u);
  BOOST_TEST(s[0].speaker_id == "b");
  BOOST_TEST(s[0].segments == 2);
  BOOST_TEST(s[0].speaking_ms == 30);
  BOOST_TEST(s[1].speaking_ms == 5);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(search_syntax)

SearchQuery must_parse(std::string_view q) {
  std::string error;
  auto out = parse_search_query(q, error);
  BOOST_REQUIRE_MESSAGE(out, "q = " << q << ": " << error);
  return *out;
}

BOOST_AUTO_TEST_CASE(words_phrases_and_prefixes) {
  auto q = must_parse("Budget  \"next quarter\" appro* café");
  BOOST_REQUIRE_EQUAL(q.terms.size(), 4u);
  BOOST_TEST(to_fts5_match(q) == "\"Budget\" AND \"next quarter\" AND \"appro\" * AND \"café\"");
  BOOST_TEST(to_tsquery_text(q) == "'Budget' & ('next' <-> 'quarter') & 'appro':* & 'café'");
}

BOOST_AUTO_TEST_CASE(syntax_characters_only_separate_words) {
  for (std::string_view q : {"NEAR(a b)", "a OR b", "x:y", "'a'", "a\"b", "a&b|!c", "(a)", "a<->b",
                             "{a}", "^a", "a-b", "a+b", "a\\b", "a;DROP TABLE x"}) {
    BOOST_TEST_CONTEXT("q = " << q) {
      const auto parsed = must_parse(q);
      for (const auto& t : parsed.terms)
        for (const auto& w : t.words)
          BOOST_TEST(w.find_first_of("\"'()*:&|!<>{}^+-\\; ") == std::string::npos);
      const auto fts = to_fts5_match(parsed);
      const auto tsq = to_tsquery_text(parsed);
      BOOST_TEST(fts.find('(') == std::string::npos);
      BOOST_TEST(tsq.find('|') == std::string::npos);
    }
  }
  BOOST_TEST(to_fts5_match(must_parse("NEAR(a b)")) == "\"NEAR\" AND \"a\" AND \"b\"");
}

BOOST_AUTO_TEST_CASE(unusable_queries_are_refused) {
  std::string error;
  for (std::string_view q : {"", "   ", "\"\"", "***", "!!", "😀 🙂", "— …"}) {
    BOOST_TEST_CONTEXT("q = " << q) {
      BOOST_TEST(!parse_search_query(q, error));
      BOOST_TEST(error == "q must contain at least one word");
    }
  }
  BOOST_TEST(!parse_search_query(std::string(kMaxSearchQueryBytes + 1, 'a'), error));
  BOOST_TEST(!parse_search_query("a b c d e f g h i", error));
  BOOST_TEST(error.find("at most 8") != std::string::npos);
  BOOST_TEST(!parse_search_query(std::string(kMaxSearchWordBytes + 1, 'a'), error));
  BOOST_TEST(!parse_search_query("caf\xc3", error));
  BOOST_TEST(error == "q must be UTF-8 text");
  BOOST_TEST(!parse_search_query("\xed\xa0\x80", error));  // a surrogate
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(snippets)

BOOST_AUTO_TEST_CASE(escaped_and_marked) {
  BOOST_TEST(make_snippet("a \x01<b>\x02 & \"q\" 'x'") ==
             "a <mark>&lt;b&gt;</mark> &amp; &quot;q&quot; &#39;x&#39;");
  BOOST_TEST(make_snippet("plain") == "plain");
  BOOST_TEST(make_snippet("\x01open") == "<mark>open</mark>");  // closed at the end
}

BOOST_AUTO_TEST_CASE(long_text_is_cut_around_the_first_match) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "word" + std::to_string(i) + " ";
  text += "\x01target\x02";
  for (int i = 0; i < 100; ++i) text += " tail" + std::to_string(i);
  const auto s = make_snippet(text, 60);
  BOOST_TEST(s.find("<mark>target</mark>") != std::string::npos);
  BOOST_TEST(s.rfind("\xE2\x80\xA6", 0) == 0u);  // starts with …
  BOOST_TEST(s.size() < 120u);
  // Multi-byte text is never split.
  std::string wide;
  for (int i = 0; i < 200; ++i) wide += "é";
  wide += "\x01x\x02";
  const auto w = make_snippet(wide, 20);
  BOOST_TEST(w.find("<mark>x</mark>") != std::string::npos);
  for (std::size_t i = 0; i + 1 < w.size(); ++i)
    if (static_cast<unsigned char>(w[i]) == 0xC3)
      BOOST_TEST((static_cast<unsigned char>(w[i + 1]) & 0xC0) == 0x80);
}

BOOST_AUTO_TEST_SUITE_END()
