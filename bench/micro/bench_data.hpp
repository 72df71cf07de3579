// Reads the benchmark inputs: bench/data (typical request and upstream bodies) and the SSE corpus
// in tests/data/sse. Aborts on a missing file: a benchmark of an empty input would lie.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace claudegate::bench {

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "claudegate_bench: cannot read %s\n", path.c_str());
    std::abort();
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string BenchData(const std::string& name) {
  return ReadFileOrDie(std::string(CLAUDEGATE_BENCH_DATA_DIR) + "/" + name);
}

inline std::string TestData(const std::string& name) {
  return ReadFileOrDie(std::string(CLAUDEGATE_TEST_DATA_DIR) + "/" + name);
}

}  // namespace claudegate::bench
