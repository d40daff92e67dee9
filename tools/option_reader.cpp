#include "tools/option_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace qrt::tools {

namespace {

bool listed(std::span<const std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string prefix(std::string_view command) {
  return std::string(command) + ": ";
}

}  // namespace

Result<std::vector<ParsedArgument>> parse_arguments(std::string_view command,
                                                    std::span<const std::string> args,
                                                    std::span<const std::string_view> valued,
                                                    std::span<const std::string_view> flags) {
  std::vector<ParsedArgument> parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      parsed.push_back({"--help", "", false});
      continue;
    }
    // A lone "-" or anything not starting with '-' is a positional (a file name).
    if (arg.size() < 2 || arg[0] != '-') {
      parsed.push_back({arg, "", true});
      continue;
    }
    const auto eq = arg.find('=');
    const bool inline_value = arg.starts_with("--") && eq != std::string::npos;
    const std::string name = inline_value ? arg.substr(0, eq) : arg;
    if (listed(flags, name)) {
      if (inline_value) return invalid_argument(prefix(command) + name + " takes no value");
      parsed.push_back({name, "", false});
    } else if (listed(valued, name)) {
      if (inline_value) {
        parsed.push_back({name, arg.substr(eq + 1), false});
      } else {
        if (i + 1 >= args.size())
          return invalid_argument(prefix(command) + name + " needs a value");
        parsed.push_back({name, args[++i], false});
      }
    } else {
      return invalid_argument(prefix(command) + "unknown option '" + name + "'");
    }
  }
  return parsed;
}

Result<int64_t> parse_integer(std::string_view command, std::string_view option,
                              const std::string& text, int64_t min) {
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < min)
    return invalid_argument(prefix(command) + std::string(option) + " expects an integer >= " +
                            std::to_string(min) + ", got '" + text + "'");
  return value;
}

Result<float> parse_float(std::string_view command, std::string_view option,
                          const std::string& text, float min) {
  float value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
      !std::isfinite(value) || value < min) {
    char bound[32];
    std::snprintf(bound, sizeof(bound), "%g", static_cast<double>(min));
    return invalid_argument(prefix(command) + std::string(option) +
                            " expects a number >= " + bound + ", got '" + text + "'");
  }
  return value;
}

}  // namespace qrt::tools
