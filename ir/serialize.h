// Reading and writing .qrt model files: the only code that touches model bytes.
// Format and evolution rules: ir/schema/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace qrt::ir {

// Minor version of the "QRT1" format this code writes and the newest it reads (qrt.fbs,
// Model.format_version). History: 1 initial; 2 appended Precision.outlier_threshold; 3 appended
// the FakeQuant op (OpKind 16, FakeQuantAttrs, enum FakeQuantMode); 4 appended
// LstmAttrs.hidden_fake_quant; 5 appended LinearAttrs (enum FusedActivation) to the Attrs union.
inline constexpr uint32_t kFormatVersion = 5;

// Maps the file read-only and returns a verified Graph whose weights point into the mapping (no
// copy); the mapping lives as long as any Graph (or copy of its weights) refers to it.
Result<Graph> load_model_file(const std::string& path);

// Parses `size` bytes at `data`, which must be 64-byte aligned. Weights point into these bytes (no
// copy): `owner` is retained by the Graph; pass nullptr only if the bytes outlive the Graph.
Result<Graph> load_model_from_memory(const void* data, std::size_t size,
                                     std::shared_ptr<const void> owner);

// Serializes a verified graph. Deterministic: the same Graph gives the same bytes.
Result<std::vector<std::byte>> serialize_model(const Graph& graph);
// serialize_model + write (through a temporary file renamed into place, so a failed write
// never leaves a truncated model behind).
Status save_model_file(const Graph& graph, const std::string& path);

}  // namespace qrt::ir
