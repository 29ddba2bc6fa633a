// The long soak: `soak SECONDS [CSV]` prints the summary and writes one sample per second to
// CSV (tests/soak/run.sh plots it). Exit 1 on an unexpected answer or descriptors not back to
// their baseline.
#include <cstdlib>
#include <iostream>

#include "tests/soak/soak.hpp"

int main(int argc, char** argv) {
  streamgate::test::SoakOptions o;
  o.seconds = argc > 1 ? std::atof(argv[1]) : 1800;
  if (argc > 2) o.csv_path = argv[2];
  const auto r = streamgate::test::run_soak(o);
  std::cout << r.summary();
  for (const auto& u : r.unexpected) std::cout << "  unexpected: " << u << "\n";
  return r.unexpected.empty() && r.final_fds <= r.baseline_fds ? 0 : 1;
}
