// A fresh directory under the system temp dir, removed with its contents when the object dies.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace qrt::testing {

class TempDir {
 public:
  // The process id keeps parallel test runs apart.
  explicit TempDir(const std::string& tag)
      : path_(std::filesystem::temp_directory_path() /
              ("qrt_format_" + tag + "_" + std::to_string(::getpid()))) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace qrt::testing
