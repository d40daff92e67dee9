#include "samples/forecasting/text_file.h"

#include <filesystem>
#include <fstream>
#include <system_error>

namespace qrt::samples {

Status write_text_file(const std::string& path, const std::string& content) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return io_error("cannot create folder '" + parent.string() + "': " + ec.message());
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) return io_error("cannot open '" + path + "' for writing");
  file << content;
  file.close();
  if (!file) return io_error("cannot write '" + path + "'");
  return Status::ok();
}

}  // namespace qrt::samples
