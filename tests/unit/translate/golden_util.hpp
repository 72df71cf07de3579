// Helpers shared by the translate unit tests: reading test data and (re)writing goldens.
// Set CLAUDEGATE_UPDATE_GOLDENS=1 to rewrite golden files from the current output; review the diff.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace claudegate::testing {

inline std::filesystem::path DataDir() { return CLAUDEGATE_TEST_DATA_DIR; }

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool UpdateGoldens() { return std::getenv("CLAUDEGATE_UPDATE_GOLDENS") != nullptr; }

inline void WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// Files in `dir` ending in `suffix`, sorted.
inline std::vector<std::filesystem::path> FilesWithSuffix(const std::filesystem::path& dir,
                                                          const std::string& suffix) {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Compares `actual` with the golden file, or rewrites it in update mode.
inline void ExpectGolden(const std::filesystem::path& golden, const std::string& actual) {
  if (UpdateGoldens()) {
    WriteFile(golden, actual);
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(golden)) << "missing golden " << golden;
  EXPECT_EQ(ReadFile(golden), actual) << "golden mismatch: " << golden;
}

}  // namespace claudegate::testing
