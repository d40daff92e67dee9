#include "tools/npy_inputs.h"

#include <utility>

#include "tools/npy.h"

namespace qrt::tools {

Result<NpyInputs> read_npy_inputs(std::span<const std::pair<std::string, std::string>> specs) {
  NpyInputs inputs;
  // Reserved up front: the views in `named` point into `tensors`, which must not reallocate.
  inputs.tensors.reserve(specs.size());
  inputs.named.reserve(specs.size());
  for (const auto& [name, path] : specs) {
    auto t = read_npy(path);
    if (!t.is_ok()) return t.status().with_context("input '" + name + "'");
    inputs.tensors.push_back(std::move(t).value());
    inputs.named.push_back({name, std::as_const(inputs.tensors.back()).view()});
  }
  return inputs;
}

}  // namespace qrt::tools
