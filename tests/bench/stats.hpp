#pragma once
// Percentiles for the benchmark tools.
#include <algorithm>
#include <cstddef>
#include <vector>

namespace streamgate::bench {

// The p-th quantile (0..1) of the samples, by nearest rank; 0 for none.
inline double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace streamgate::bench
