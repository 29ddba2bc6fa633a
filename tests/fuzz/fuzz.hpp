#pragma once
// Shared by the fuzz targets: each defines LLVMFuzzerTestOneInput; libFuzzer drives it in the
// `fuzz` preset, and replay_main.cpp replays the committed corpus through it in every CTest run.
// A property that does not hold aborts (FUZZ_CHECK), so the fuzzer reports it like a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(cond)                                                          \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "property failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}
