// Helpers shared by the quantized CPU reference kernels: which graph form each precision takes
// (the `supports` side, ir/precision.h), prepare-time checks that name the tensor at fault, the
// run-time activation quantizers (allocation free), and carving one workspace into slices.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/precision.h"
#include "ir/precision_forms.h"
#include "ops/quantized/projection.h"

namespace qrt::ops::quantized {

// The graph-form predicates shared with every backend (ir/precision_forms.h).
using ir::activation_has_form;
using ir::bias_has_form;
using ir::is_plain_f32;
using ir::node_precision;
using ir::value_of;
using ir::weight_has_form;

// Fails naming the node and `what` unless `v` is a constant.
Status require_constant(const ir::Node& node, const std::string& what, const ir::Value& v);

// The per-output-channel scales of an int8 weight (ProjectionSpec::weight, [N, K]), checked: one
// finite positive scale per row (defined in linear_w8a16.cpp).
Result<std::vector<float>> int8_weight_scales(const ProjectionSpec& spec);

// Σ_k q[n, k] for each row of an int8 weight [N, K]: folds an activation zero point into the
// epilogue (acc' = Σ qx·qw − z_x·Σ qw, docs/quantization.md §4). Run in prepare.
std::vector<int32_t> int8_weight_row_sums(const int8_t* q, int64_t N, int64_t K);

// The scale of a symmetric int8 row from its max |x|: max_abs / 127, 1 for an all-zero row, and
// the smallest positive float when the division underflows (every |x| below 127·2^-149): a zero
// scale would make x / s infinite or NaN (0 / 0), whose conversion to int8 is undefined. Shared by
// every row quantizer so that they stay bit-identical.
inline float symmetric_row_scale(float max_abs) {
  if (!(max_abs > 0.0f)) return 1.0f;
  return std::max(max_abs / 127.0f, std::numeric_limits<float>::denorm_min());
}

// Symmetric int8 quantization of one row (docs/quantization.md §1, per row): s =
// symmetric_row_scale(max|x|), q = clamp(round_half_even(x / s), -127, 127). The same formula as
// ir::quantize_symmetric, in place so that run() allocates nothing. Returns s.
float quantize_row_symmetric(const float* x, int64_t K, int8_t* q);

// quantize_row_symmetric with bit-identical codes and scale (vectorized on AVX-512), after
// checking the row: when it holds a NaN or ±inf (whose integer conversion is undefined) it returns
// false with the first such column in *bad_column and writes nothing. The check rides on the
// absmax pass, which reads every value anyway.
bool quantize_row_symmetric_checked(const float* x, int64_t K, int8_t* q, float* scale,
                                    int64_t* bad_column);

// The run-time error for such a value, naming the node, the precision and the input:
// "node 'fc1' (Linear): int8-dynamic input 'h' has NaN at row 3, column 5".
Status nonfinite_activation_error(const std::string& node_label, ir::Precision precision,
                                  const std::string& input, float value, int64_t row,
                                  int64_t column);
// Checks rows x[m·ldx + k] (m < rows, k < K) and returns nonfinite_activation_error for the first
// NaN / ±inf (its row as `numbering` numbers m), ok otherwise: the guard of a reference int8
// projection before it converts anything.
Status check_finite_activations(const std::string& node_label, ir::Precision precision,
                                const std::string& input, const float* x, int64_t rows, int64_t ldx,
                                int64_t K, RowNumbering numbering);

// Affine / symmetric quantization with fixed parameters, stored as int8: the code
// clamp(round_half_even(x / scale) + zero_point, qmin, qmax) minus `offset` (128 for the uint8
// range so that the codes fit int8; 0 otherwise).
// A NaN input gets the zero point's code (defined behaviour, not a meaningful value): callers
// that can report should use the checked form below.
void quantize_row_fixed(const float* x, int64_t K, const ActivationQuant& a, int32_t offset,
                        int8_t* q);
// quantize_row_fixed with bit-identical codes (vectorized on AVX-512), checking the row: false,
// with the first NaN / ±inf column in *bad_column, when it holds one (for
// nonfinite_activation_error); q is then scratch, not codes.
bool quantize_row_fixed_checked(const float* x, int64_t K, const ActivationQuant& a, int32_t offset,
                                int8_t* q, int64_t* bad_column);

// Slices of one workspace, each starting on a 64-byte boundary. With a null base it only counts,
// so the same sequence of take() calls gives workspace_bytes() and the run-time pointers.
class WorkspaceCarver {
 public:
  explicit WorkspaceCarver(void* base = nullptr) : base_(static_cast<std::byte*>(base)) {}
  template <typename T>
  T* take(int64_t count) {
    std::byte* p = base_ == nullptr ? nullptr : base_ + used_;
    used_ += (static_cast<std::size_t>(count) * sizeof(T) + kAlign - 1) / kAlign * kAlign;
    return reinterpret_cast<T*>(p);
  }
  std::size_t used() const { return used_; }

 private:
  static constexpr std::size_t kAlign = 64;
  std::byte* base_;
  std::size_t used_ = 0;
};

}  // namespace qrt::ops::quantized
