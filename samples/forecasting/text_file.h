// Writing a small text output (JSON, SVG) to a path given on the command line.
#pragma once

#include <string>

#include "ir/status.h"

namespace qrt::samples {

// Writes `content` to `path`, creating missing parent folders; names the path on failure.
Status write_text_file(const std::string& path, const std::string& content);

}  // namespace qrt::samples
