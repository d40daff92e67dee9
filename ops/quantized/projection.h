// The weight-times-activation product every quantized CPU kernel is built from: a weight matrix
// W [N, K] stored in one of the quantized forms of ir/precision.h, with what prepare precomputed
// (decoded scales, weight row sums). Linear runs one projection; LSTM runs two per layer (the
// input and the recurrent gate projections), so each precision's arithmetic is written once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "ir/graph.h"
#include "ir/precision.h"
#include "ir/precision_forms.h"
#include "ir/status.h"
#include "ops/row_numbering.h"

namespace qrt::ops::quantized {

class Projection {
 public:
  virtual ~Projection() = default;
  // Scratch bytes run() needs for at most `max_rows` rows (64-byte aligned slices included).
  virtual std::size_t workspace_bytes(int64_t max_rows) const = 0;
  // y[m·ldy + n] = Σ_k x[m·ldx + k]·Ŵ[n, k] + bias[n] for m < rows, in the precision's arithmetic.
  // `weight` is the weight tensor's bytes as the run-time input view holds them; `bias` is the
  // bias input's bytes (null when absent; its dtype was fixed in prepare).
  virtual void run(int64_t rows, const float* x, int64_t ldx, const void* weight, const void* bias,
                   float* y, int64_t ldy, void* workspace) const = 0;
  // run() behind the data-dependent checks of precisions that quantize activations at run time:
  // converting NaN or ±inf to an integer code is undefined, so those fail here naming the input
  // and its row as `numbering` numbers it (ops/row_numbering.h). The default (float
  // activations) has nothing to check.
  virtual Status run_checked(int64_t rows, const float* x, int64_t ldx, const void* weight,
                             const void* bias, float* y, int64_t ldy, void* workspace,
                             RowNumbering /*numbering*/) const {
    run(rows, x, ldx, weight, bias, y, ldy, workspace);
    return Status::ok();
  }
  // True when these rows' results depend on which other rows share the call (LLM.int8() picks
  // outlier columns over all rows of a call): a caller that batches rows the op defines as
  // separate products (an LSTM's time steps) must then split them. Default: rows independent.
  virtual bool rows_interact(int64_t /*rows*/, const float* /*x*/, int64_t /*ldx*/) const {
    return false;
  }
  // How this projection computes, when it is not the precision's reference loop ("avx512-vnni,
  // prepacked weights", "f32 weights decoded at prepare: K=7 < 16"); empty for the reference.
  virtual std::string describe() const { return {}; }
};

// How a static int8 projection quantizes its activations (ir/precision_forms.h).
using ActivationQuant = ir::FixedActivationQuant;

// What a projection is made from. `weight` and `bias` are graph values (bias may be null); the
// weight must be a constant when the precision precomputes from it.
struct ProjectionSpec {
  const ir::Node* node = nullptr;
  std::string what;  // "weight", "w_ih of layer 0": names the tensor in errors
  const ir::Value* weight = nullptr;
  const ir::Value* bias = nullptr;
  int64_t N = 0, K = 0;
  float outlier_threshold = 0.0f;  // int8-dynamic: LLM.int8() threshold, 0 = off
  ActivationQuant activation;      // int8-static
  std::string input = "input";     // names the activation in run-time errors ("input 'x'")
};

// Validates the spec against the precision's graph representation and builds the fastest
// projection for it on this CPU (the dispatch rule is in projection.cpp: decoded f32 weights for
// short reductions, prepacked / vectorized kernels otherwise); describe() says which. kFP32 is
// not a quantized precision and is rejected.
Result<std::unique_ptr<Projection>> make_projection(ir::Precision precision,
                                                    const ProjectionSpec& spec);

// The precision's reference projection: the loops that define its arithmetic, which the fast
// projections make_projection returns are tested against.
Result<std::unique_ptr<Projection>> make_reference_projection(ir::Precision precision,
                                                              const ProjectionSpec& spec);

// Per-precision builders (one file each: linear_half.cpp, linear_w8a16.cpp, ...): the references.
// The fast variants (fast_*.cpp) take the checked spec.
Result<std::unique_ptr<Projection>> make_half_projection(const ProjectionSpec& spec, bool bf16);
Result<std::unique_ptr<Projection>> make_w8a16_projection(const ProjectionSpec& spec);
Result<std::unique_ptr<Projection>> make_int8_dynamic_projection(const ProjectionSpec& spec);
Result<std::unique_ptr<Projection>> make_int8_static_projection(const ProjectionSpec& spec);
Result<std::unique_ptr<Projection>> make_nf4_projection(const ProjectionSpec& spec);
Result<std::unique_ptr<Projection>> make_fast_int8_dynamic_projection(const ProjectionSpec& spec);
Result<std::unique_ptr<Projection>> make_fast_int8_static_projection(const ProjectionSpec& spec);
Result<std::unique_ptr<Projection>> make_fast_half_projection(const ProjectionSpec& spec,
                                                              bool bf16);
Result<std::unique_ptr<Projection>> make_fast_w8a16_projection(const ProjectionSpec& spec);

}  // namespace qrt::ops::quantized
