#include "server/gzip.hpp"

#include <zlib.h>

namespace streamgate::server {

bool looks_gzipped(std::string_view b) {
  return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1f && static_cast<unsigned char>(b[1]) == 0x8b;
}

GunzipError gunzip(std::string_view in, std::size_t limit, std::string& out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return GunzipError::corrupt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out.clear();
  char buf[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return GunzipError::corrupt;
    }
    const std::size_t produced = sizeof buf - zs.avail_out;
    if (out.size() + produced > limit) {
      inflateEnd(&zs);
      return GunzipError::too_large;
    }
    out.append(buf, produced);
    if (rc == Z_OK && zs.avail_in == 0 && produced == 0) {  // truncated input
      inflateEnd(&zs);
      return GunzipError::corrupt;
    }
  }
  inflateEnd(&zs);
  return GunzipError::none;
}

}  // namespace streamgate::server
