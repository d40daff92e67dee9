// Splits a subcommand's arguments into options and positionals, the same way for every command:
// `--name VALUE` and `--name=VALUE` for options that take a value, bare `--name` for flags. Every
// rejection names the command and the option at fault, so that `report_error` prints one line.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/status.h"

namespace qrt::tools {

struct ParsedArgument {
  std::string name;   // "--mode", or the text of a positional argument
  std::string value;  // the option's value; empty for flags and positionals
  bool positional = false;
};

// `valued`: options that take a value; `flags`: options that take none. "--help"/"-h" are always
// accepted as flags. Unknown options, a missing value and a value given to a flag are errors.
Result<std::vector<ParsedArgument>> parse_arguments(std::string_view command,
                                                    std::span<const std::string> args,
                                                    std::span<const std::string_view> valued,
                                                    std::span<const std::string_view> flags);

// "<command>: <option> expects an integer >= min, got 'text'" on failure.
Result<int64_t> parse_integer(std::string_view command, std::string_view option,
                              const std::string& text, int64_t min);
// A finite float >= min.
Result<float> parse_float(std::string_view command, std::string_view option,
                          const std::string& text, float min);

}  // namespace qrt::tools
