// Graph inputs given on the command line as NAME=FILE.npy, read and bound by name (shared by
// `qrt run` and `qrt compare`).
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ir/status.h"
#include "runtime/session.h"
#include "runtime/tensor.h"

namespace qrt::tools {

// The tensors own the data; `named` holds views into them, so keep both together. Moving this
// struct keeps the views valid (the vector's buffer moves, the tensors do not).
struct NpyInputs {
  std::vector<runtime::Tensor> tensors;
  std::vector<runtime::NamedTensor> named;
};

// Reads each (name, .npy path) pair; an error names the input ("input 'x': ...").
Result<NpyInputs> read_npy_inputs(std::span<const std::pair<std::string, std::string>> specs);

}  // namespace qrt::tools
