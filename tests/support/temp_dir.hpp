/// @file temp_dir.hpp
/// A fresh directory under /tmp for one test (mkdtemp), removed with everything in it when the
/// object goes away. For tests of anything that writes files: the store's data directory, configs.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace claudegate::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/claudegate-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace claudegate::testing
