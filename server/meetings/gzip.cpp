#include "server/meetings/gzip.hpp"

#include <zlib.h>

namespace streamgate::server {

bool looks_gzipped(std::string_view b) {
  return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1f &&
         static_cast<unsigned char>(b[1]) == 0x8b;
}

// Inflates every gzip member in turn, as gunzip does (RFC 1952 §2.2: a file is a series of
// members). Bytes after a member that do not start another member are refused, so a body is
// either all gzip or rejected; the output limit covers all members together.
GunzipError gunzip(std::string_view in, std::size_t limit, std::string& out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return GunzipError::corrupt;
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&zs};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out.clear();
  char buf[16384];
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) return GunzipError::corrupt;
    const std::size_t produced = sizeof buf - zs.avail_out;
    if (produced > limit - out.size()) return GunzipError::too_large;
    out.append(buf, produced);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return GunzipError::none;
      const std::string_view rest(reinterpret_cast<const char*>(zs.next_in), zs.avail_in);
      if (!looks_gzipped(rest))
        return GunzipError::corrupt;  // trailing bytes that are not a member
      if (inflateReset(&zs) != Z_OK) return GunzipError::corrupt;
      continue;
    }
    if (zs.avail_in == 0 && produced == 0) return GunzipError::corrupt;  // truncated input
  }
}

}  // namespace streamgate::server
