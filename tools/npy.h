// Reading and writing NumPy .npy files holding float32 arrays (the `qrt run` input/output format).
//
// Format (numpy.lib.format, versions 1.0 and 2.0): the magic "\x93NUMPY", major and minor version
// bytes, a little-endian header length (u16 for 1.0, u32 for 2.0), an ASCII Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces to a multiple of
// 64 bytes and ended by '\n', then the raw data. Only little-endian float32 in C order is accepted;
// anything else is rejected with a message saying what the file holds.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "ir/shape.h"
#include "ir/status.h"
#include "runtime/tensor.h"

namespace qrt::tools {

// Parses .npy bytes; `what` names the source in errors (a file path). The data is copied into a
// 64-byte-aligned f32 Tensor.
Result<runtime::Tensor> parse_npy(std::span<const std::byte> bytes, const std::string& what);
Result<runtime::Tensor> read_npy(const std::string& path);

// Encodes a float32 array in C order (version 1.0, or 2.0 when the header needs more than 64 KiB).
Result<std::vector<std::byte>> encode_npy(const ir::Shape& shape, std::span<const float> data);
Status write_npy(const std::string& path, const ir::Shape& shape, std::span<const float> data);

}  // namespace qrt::tools
