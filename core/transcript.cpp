#include "core/transcript.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

#include "core/checked.hpp"

namespace streamgate::core {
namespace json = boost::json;

namespace {

// The length of the UTF-8 sequence that starts with `c` (1 for a stray byte).
std::size_t utf8_length(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

// Decodes one code point at `i` of valid UTF-8 (as Boost.JSON and parse_search_query check);
// advances `i`.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = utf8_length(c);
  if (i + n > s.size()) n = 1;
  char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (std::size_t k = 1; k < n; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = utf8_length(c);
    if (c >= 0x80 && (n == 1 || c == 0xC0 || c == 0xC1 || c > 0xF4)) return false;
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    std::size_t j = i;
    const char32_t cp = next_code_point(s, j);
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n;
  }
  return true;
}

// `s` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

// Control characters (C0, DEL) become spaces, runs of spaces one, and the ends are trimmed.
std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool space = c < 0x20 || c == 0x7F || c == ' ';
    if (space) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(ch);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// A time in milliseconds: a whole number (or a number rounded down) in [0, kMaxTranscriptMs].
std::optional<std::int64_t> read_ms(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  std::int64_t out = 0;
  if (v->is_int64()) {
    out = v->get_int64();
  } else if (v->is_uint64()) {
    if (v->get_uint64() > static_cast<std::uint64_t>(kMaxTranscriptMs)) return std::nullopt;
    out = static_cast<std::int64_t>(v->get_uint64());
  } else if (v->is_double()) {
    const double d = v->get_double();
    if (!(d >= 0.0 && d <= static_cast<double>(kMaxTranscriptMs))) return std::nullopt;
    out = static_cast<std::int64_t>(d);
  } else {
    return std::nullopt;
  }
  if (out < 0 || out > kMaxTranscriptMs) return std::nullopt;
  return out;
}

void append_escaped(std::string& out, std::string_view s, bool quotes) {
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"':
        if (quotes)
          out += "&quot;";
        else
          out.push_back(c);
        break;
      case '\'':
        if (quotes)
          out += "&#39;";
        else
          out.push_back(c);
        break;
      default: out.push_back(c);
    }
  }
}

// Letters and digits make words; ASCII punctuation, spaces, and the punctuation, symbol and emoji
// blocks separate them (the stores' tokenizers split on those too).
bool is_word_code_point(char32_t cp) {
  if (cp < 0x80)
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return false;  // Latin-1 punctuation and symbols
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;            // punctuation, symbols, arrows, ...
  if (cp >= 0x3000 && cp <= 0x303F) return false;            // CJK punctuation
  if (cp >= 0xFE00 && cp <= 0xFE0F) return false;            // variation selectors
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;            // full-width punctuation
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return false;          // emoji and pictographs
  if (cp >= 0xE0000) return false;                           // tags
  return true;
}

}  // namespace

void TranscriptParser::feed(std::string_view data) {
  bytes_ = sat_add(bytes_, static_cast<std::int64_t>(data.size()));
  while (!data.empty()) {
    const auto nl = data.find('\n');
    const auto piece = data.substr(0, nl);
    if (skipping_) {
      if (nl == std::string_view::npos) return;
      skipping_ = false;
    } else if (partial_.size() + piece.size() > kMaxTranscriptLineBytes) {
      ++malformed_;
      partial_.clear();
      first_line_ = false;
      if (nl == std::string_view::npos) {
        skipping_ = true;
        return;
      }
    } else if (nl == std::string_view::npos) {
      partial_.append(piece);
      return;
    } else if (partial_.empty()) {
      line(piece);
    } else {
      partial_.append(piece);
      line(partial_);
      partial_.clear();
    }
    data.remove_prefix(nl + 1);
  }
}

void TranscriptParser::finish() {
  if (!skipping_ && !partial_.empty()) line(partial_);
  partial_.clear();
  skipping_ = false;
}

void TranscriptParser::line(std::string_view text) {
  if (first_line_) {
    first_line_ = false;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a byte order mark
  }
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  if (text.empty()) return;
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);  // checks UTF-8
  if (ec || !v.is_object()) {
    ++malformed_;
    return;
  }
  ++objects_;
  const auto& o = v.get_object();
  const auto* type = o.if_contains("type");
  if (type == nullptr || !type->is_string() || type->get_string() != "speech") {
    ++ignored_;
    return;
  }
  const auto* speaker = o.if_contains("speaker_id");
  const auto* words = o.if_contains("text");
  const auto start = read_ms(o.if_contains("start_ts"));
  const auto stop = read_ms(o.if_contains("stop_ts"));
  const bool speaker_ok =
      speaker == nullptr || speaker->is_null() ||
      (speaker->is_string() && speaker->get_string().size() <= kMaxSpeakerIdBytes);
  if (!speaker_ok || words == nullptr || !words->is_string() || !start || !stop) {
    ++malformed_;
    return;
  }
  TranscriptSegment s;
  if (speaker != nullptr && speaker->is_string()) s.speaker_id = one_line(speaker->get_string());
  s.text = std::string(utf8_prefix(one_line(words->get_string()), kMaxSegmentTextBytes));
  s.start_ms = *start;
  s.end_ms = std::max(*start, *stop);
  if (s.text.empty()) {
    ++ignored_;  // nothing said
    return;
  }
  segments_.push_back(std::move(s));
}

std::vector<SpeakerStats> speakers_of(const std::vector<TranscriptSegment>& segments) {
  std::vector<SpeakerStats> out;
  for (const auto& s : segments) {
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const SpeakerStats& x) { return x.speaker_id == s.speaker_id; });
    if (it == out.end()) it = out.insert(out.end(), SpeakerStats{s.speaker_id, 0, 0});
    it->segments = sat_add(it->segments, 1);
    it->speaking_ms = sat_add(it->speaking_ms, sat_sub(s.end_ms, s.start_ms));
  }
  return out;
}

std::string format_vtt_time(std::int64_t ms) {
  if (ms < 0) ms = 0;
  const std::int64_t h = ms / 3'600'000, m = ms / 60'000 % 60, s = ms / 1000 % 60, f = ms % 1000;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%03lld", static_cast<long long>(h),
                static_cast<long long>(m), static_cast<long long>(s), static_cast<long long>(f));
  return buf;
}

std::string to_webvtt(const std::vector<TranscriptSegment>& segments) {
  std::vector<const TranscriptSegment*> order;
  order.reserve(segments.size());
  for (const auto& s : segments) order.push_back(&s);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->start_ms < b->start_ms; });
  std::string out = "WEBVTT\n";
  std::size_t n = 0;
  for (const auto* s : order) {
    out += '\n';
    out += std::to_string(++n);
    out += '\n';
    out += format_vtt_time(s->start_ms);
    out += " --> ";
    out += format_vtt_time(std::max(s->end_ms, s->start_ms));
    out += '\n';
    if (!s->speaker_id.empty()) {
      out += "<v ";
      append_escaped(out, s->speaker_id, false);
      out += '>';
    }
    append_escaped(out, s->text, false);
    out += '\n';
  }
  return out;
}

std::string to_plain_text(const std::vector<TranscriptSegment>& segments) {
  std::string out;
  for (const auto& s : segments) {
    if (!s.speaker_id.empty()) {
      out += s.speaker_id;
      out += ": ";
    }
    out += s.text;
    out += '\n';
  }
  return out;
}

std::optional<SearchQuery> parse_search_query(std::string_view q, std::string& error) {
  if (q.size() > kMaxSearchQueryBytes) {
    error = "q must be at most " + std::to_string(kMaxSearchQueryBytes) + " bytes";
    return std::nullopt;
  }
  if (!valid_utf8(q)) {
    error = "q must be UTF-8 text";
    return std::nullopt;
  }
  SearchQuery out;
  std::size_t i = 0;
  bool in_phrase = false;
  SearchTerm phrase;
  std::string word;
  const auto end_word = [&](bool prefix) {
    if (word.empty()) return;
    if (in_phrase) {
      phrase.words.push_back(std::move(word));
    } else {
      out.terms.push_back(SearchTerm{{std::move(word)}, prefix});
    }
    word.clear();
  };
  while (i < q.size()) {
    const std::size_t at = i;
    const char32_t cp = next_code_point(q, i);
    if (is_word_code_point(cp)) {
      word.append(q.substr(at, i - at));
      if (word.size() > kMaxSearchWordBytes) {
        error = "a word in q is longer than " + std::to_string(kMaxSearchWordBytes) + " bytes";
        return std::nullopt;
      }
      continue;
    }
    end_word(cp == '*' && !in_phrase);
    if (cp == '"') {
      if (in_phrase && !phrase.words.empty()) out.terms.push_back(std::move(phrase));
      phrase = SearchTerm{};
      in_phrase = !in_phrase;
    }
  }
  end_word(false);
  if (in_phrase && !phrase.words.empty()) out.terms.push_back(std::move(phrase));  // unclosed
  if (out.terms.empty()) {
    error = "q must contain at least one word";
    return std::nullopt;
  }
  if (out.terms.size() > kMaxSearchTerms) {
    error = "q may hold at most " + std::to_string(kMaxSearchTerms) + " words or phrases";
    return std::nullopt;
  }
  return out;
}

std::string to_fts5_match(const SearchQuery& q) {
  // Words hold letters and digits only, so a quoted string is always a plain FTS5 string.
  std::string out;
  for (const auto& t : q.terms) {
    if (!out.empty()) out += " AND ";
    out += '"';
    for (std::size_t i = 0; i < t.words.size(); ++i) {
      if (i) out += ' ';
      out += t.words[i];
    }
    out += '"';
    if (t.prefix) out += " *";
  }
  return out;
}

std::string to_tsquery_text(const SearchQuery& q) {
  std::string out;
  for (const auto& t : q.terms) {
    if (!out.empty()) out += " & ";
    if (t.words.size() > 1) out += '(';
    for (std::size_t i = 0; i < t.words.size(); ++i) {
      if (i) out += " <-> ";
      out += '\'';
      out += t.words[i];
      out += '\'';
    }
    if (t.words.size() > 1) out += ')';
    if (t.prefix) out += ":*";
  }
  return out;
}

std::string make_snippet(std::string_view h, std::size_t max_chars) {
  // The window, in bytes of `h`, on UTF-8 boundaries: from a little before the first match.
  std::size_t begin = 0, end = h.size();
  const auto first = h.find(kMarkStart);
  // Visible characters, not bytes, are counted (markers count nothing).
  const auto count_chars = [](std::string_view s) {
    std::size_t n = 0;
    for (char c : s)
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80 && c != kMarkStart && c != kMarkEnd) ++n;
    return n;
  };
  if (count_chars(h) > max_chars) {
    const std::size_t lead = max_chars / 3;
    if (first != std::string_view::npos && count_chars(h.substr(0, first)) > lead) {
      begin = first;
      for (std::size_t n = 0; begin > 0 && n < lead;) {
        --begin;
        if ((static_cast<unsigned char>(h[begin]) & 0xC0) != 0x80) ++n;
      }
      // Start at a word when one begins close by.
      const auto space = h.find(' ', begin);
      if (space != std::string_view::npos && space < first && space - begin < 16) begin = space + 1;
    }
    end = begin;
    for (std::size_t n = 0; end < h.size();) {
      const auto c = static_cast<unsigned char>(h[end]);
      if ((c & 0xC0) != 0x80 && h[end] != kMarkStart && h[end] != kMarkEnd && n++ == max_chars)
        break;
      ++end;
    }
  }
  std::string out;
  if (begin > 0) out += "\xE2\x80\xA6";  // …
  bool open = false;
  // A window that starts inside a match opens it.
  if (begin > 0) {
    const auto last_start = h.substr(0, begin).rfind(kMarkStart);
    const auto last_end = h.substr(0, begin).rfind(kMarkEnd);
    if (last_start != std::string_view::npos &&
        (last_end == std::string_view::npos || last_end < last_start)) {
      out += "<mark>";
      open = true;
    }
  }
  for (std::size_t i = begin; i < end; ++i) {
    const char c = h[i];
    if (c == kMarkStart) {
      if (!open) out += "<mark>";
      open = true;
    } else if (c == kMarkEnd) {
      if (open) out += "</mark>";
      open = false;
    } else {
      append_escaped(out, std::string_view(&c, 1), true);
    }
  }
  if (open) out += "</mark>";
  if (end < h.size()) out += "\xE2\x80\xA6";
  return out;
}

}  // namespace streamgate::core
