// Transcript files and search queries from outside (docs/transcripts.md): the JSON Lines reader
// fed in arbitrary chunks, the search syntax, and what both become (WebVTT, FTS5 and tsquery
// text, snippets). Properties: chunking never changes the result; kept text holds no control
// character; a parsed query's words hold no syntax character; snippets never carry raw markup.
#include <algorithm>
#include <string>

#include "core/transcript.hpp"
#include "tests/fuzz/fuzz.hpp"

using namespace streamgate::core;

namespace {

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = as_text(data, size);
  // The whole input as a file, at once and in chunks whose sizes come from the input itself.
  TranscriptParser whole;
  whole.feed(text);
  whole.finish();
  TranscriptParser chunked;
  const std::size_t step = size == 0 ? 1 : 1 + static_cast<std::size_t>(data[0]) % 37;
  for (std::size_t i = 0; i < size; i += step) chunked.feed(text.substr(i, step));
  chunked.finish();
  FUZZ_CHECK(whole.segments() == chunked.segments());
  FUZZ_CHECK(whole.malformed_lines() == chunked.malformed_lines());
  for (const auto& s : whole.segments()) {
    FUZZ_CHECK(!s.text.empty() && !has_control(s.text) && !has_control(s.speaker_id));
    FUZZ_CHECK(s.start_ms >= 0 && s.end_ms >= s.start_ms && s.end_ms <= kMaxTranscriptMs);
    FUZZ_CHECK(s.text.size() <= kMaxSegmentTextBytes);
  }
  const auto vtt = to_webvtt(whole.segments());
  FUZZ_CHECK(vtt.rfind("WEBVTT\n", 0) == 0);
  // One cue (four lines) per segment: no text adds a line of its own.
  FUZZ_CHECK(std::count(vtt.begin(), vtt.end(), '\n') >=
             static_cast<std::ptrdiff_t>(1 + 4 * whole.segments().size()));

  // The same bytes as a search query.
  std::string error;
  if (const auto q = parse_search_query(text, error)) {
    FUZZ_CHECK(!q->terms.empty() && q->terms.size() <= kMaxSearchTerms);
    for (const auto& t : q->terms)
      for (const auto& w : t.words) {
        FUZZ_CHECK(!w.empty() && w.size() <= kMaxSearchWordBytes);
        FUZZ_CHECK(w.find_first_of("\"'()*:&|!<>{}^+-\\; \t\r\n") == std::string::npos);
      }
    const auto fts = to_fts5_match(*q);
    const auto tsq = to_tsquery_text(*q);
    FUZZ_CHECK(std::count(fts.begin(), fts.end(), '"') ==
               static_cast<std::ptrdiff_t>(2 * q->terms.size()));
    FUZZ_CHECK(std::count(tsq.begin(), tsq.end(), '\'') % 2 == 0);
  } else {
    FUZZ_CHECK(!error.empty());
  }
  // As highlighted text: the snippet escapes everything but its own <mark> tags.
  const auto snippet = make_snippet(text, 1 + size % 300);
  std::string stripped = snippet;
  for (const std::string tag : {"<mark>", "</mark>"})
    for (auto p = stripped.find(tag); p != std::string::npos; p = stripped.find(tag))
      stripped.erase(p, tag.size());
  FUZZ_CHECK(stripped.find_first_of("<>\"'") == std::string::npos);
  return 0;
}
