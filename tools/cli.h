// Shared pieces of the `qrt` command-line program: the usage text, error reporting and the
// subcommands' entry points.
#pragma once

#include <span>
#include <string>

#include "ir/status.h"

namespace qrt::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;  // the command ran and failed (bad file, bad input, ...)
inline constexpr int kExitUsage = 2;  // the command line itself is wrong

// Usage of the whole program.
const char* usage_text();

// Prints "qrt: error: <message>" as ONE line on stderr (newlines in the message become spaces, so
// scripts can rely on one line) and returns `exit_code`.
int report_error(const std::string& message, int exit_code = kExitError);
int report_error(const Status& status, int exit_code = kExitError);

// "cannot load model: <loader message>", naming `path` unless the loader's message already does.
std::string load_error(const std::string& path, const Status& status);

// Subcommands; `args` excludes the program and command names. They return the exit code.
int inspect_command(std::span<const std::string> args);
int run_command(std::span<const std::string> args);
int quantize_command(std::span<const std::string> args);
int compare_command(std::span<const std::string> args);
int finetune_command(std::span<const std::string> args);

}  // namespace qrt::tools
