#pragma once
// Transcripts (docs/transcripts.md): Stream's JSON Lines transcript read as a stream, the
// segments rendered as WebVTT and plain text, the plain-words search syntax turned into FTS5 and
// tsquery text that user input can never escape from, and highlighted snippets. Pure: no I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamgate::core {

struct TranscriptSegment {
  std::string speaker_id;  // may be empty (no speaker named)
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;  // never before start_ms
  std::string text;         // one line: no control characters
  bool operator==(const TranscriptSegment&) const = default;
};

// Limits of one line and of what it holds.
inline constexpr std::size_t kMaxTranscriptLineBytes = 256 * 1024;
inline constexpr std::size_t kMaxSegmentTextBytes = 16 * 1024;  // longer text is cut (UTF-8 safe)
inline constexpr std::size_t kMaxSpeakerIdBytes = 256;
inline constexpr std::int64_t kMaxTranscriptMs = 30LL * 24 * 3600 * 1000;  // 30 days

// Reads Stream's JSON Lines transcript as it arrives, chunk by chunk, holding at most one line:
// keeps `speech` lines in order, ignores other types and unknown fields, counts and skips a
// malformed line (not JSON, not an object, a field of the wrong type or range, a line over
// kMaxTranscriptLineBytes). Never throws on content.
class TranscriptParser {
 public:
  void feed(std::string_view chunk);
  void finish();  // the last line may have no newline

  std::vector<TranscriptSegment>& segments() { return segments_; }
  std::int64_t malformed_lines() const { return malformed_; }
  std::int64_t ignored_lines() const { return ignored_; }
  std::int64_t bytes() const { return bytes_; }
  // Content that is not a transcript at all: lines, and not one of them a JSON object (an HTML
  // error page, a binary file). An empty file is a valid, empty transcript.
  bool unparseable() const { return objects_ == 0 && malformed_ > 0; }

 private:
  void line(std::string_view text);

  std::vector<TranscriptSegment> segments_;
  std::string partial_;
  bool skipping_ = false;  // inside a line already counted as too long
  bool first_line_ = true;
  std::int64_t malformed_ = 0;
  std::int64_t ignored_ = 0;
  std::int64_t objects_ = 0;
  std::int64_t bytes_ = 0;
};

// The distinct speakers of `segments`, in order of first appearance, with their segment count and
// speaking time (saturating).
struct SpeakerStats {
  std::string speaker_id;
  std::int64_t segments = 0;
  std::int64_t speaking_ms = 0;
};
std::vector<SpeakerStats> speakers_of(const std::vector<TranscriptSegment>& segments);

// "HH:MM:SS.mmm" (hours at least two digits); negative times read as 0.
std::string format_vtt_time(std::int64_t ms);
// A WebVTT file: "WEBVTT", then one numbered cue per segment, sorted by start (stable), the
// speaker as a voice span; text and speaker escaped so that no input can end a cue early.
std::string to_webvtt(const std::vector<TranscriptSegment>& segments);
// "speaker: text" lines (just the text for a segment without a speaker).
std::string to_plain_text(const std::vector<TranscriptSegment>& segments);

// The plain-words search syntax: words (letters and digits; anything else separates them),
// "quoted phrases", and a trailing * on a word for a prefix. Every term must match, in one
// segment. Case-insensitive; no stemming.
struct SearchTerm {
  std::vector<std::string> words;  // one word, or a phrase's words in order
  bool prefix = false;             // a single word followed by *
};
struct SearchQuery {
  std::vector<SearchTerm> terms;
};
inline constexpr std::size_t kMaxSearchQueryBytes = 512;
inline constexpr std::size_t kMaxSearchTerms = 8;
inline constexpr std::size_t kMaxSearchWordBytes = 64;
// nullopt with `error` set for a query that cannot be searched (empty, too long, not UTF-8,
// too many terms).
std::optional<SearchQuery> parse_search_query(std::string_view q, std::string& error);
// The query as an FTS5 MATCH expression: every word a quoted string, terms joined by AND.
std::string to_fts5_match(const SearchQuery& q);
// The query as to_tsquery text: every word a quoted lexeme, phrases with <->, terms with &.
std::string to_tsquery_text(const SearchQuery& q);

// Highlight markers the stores put around matches (they never occur in stored text: control
// characters are taken out when a transcript is parsed).
inline constexpr char kMarkStart = '\x01';
inline constexpr char kMarkEnd = '\x02';
// A snippet safe to insert as HTML: the text escaped, matches in <mark>…</mark>, cut to about
// `max_chars` characters around the first match (with "…" where cut).
std::string make_snippet(std::string_view highlighted, std::size_t max_chars = 200);

}  // namespace streamgate::core
