#include "ir/precision.h"

namespace qrt::ir {

namespace {
constexpr const char* kNames[kNumPrecisions] = {"fp32",         "fp16",        "bf16", "w8a16",
                                                "int8-dynamic", "int8-static", "nf4"};
}

const char* precision_name(Precision p) {
  const auto i = static_cast<int>(p);
  return i < kNumPrecisions ? kNames[i] : "invalid";
}

std::optional<Precision> precision_from_name(std::string_view name) {
  for (int i = 0; i < kNumPrecisions; ++i)
    if (name == kNames[i]) return static_cast<Precision>(i);
  return std::nullopt;
}

}  // namespace qrt::ir
