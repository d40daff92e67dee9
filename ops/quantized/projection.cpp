#include "ops/quantized/projection.h"

#include "ops/kernel_support.h"
#include "ops/quantized/decoded_projection.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

namespace {

// The checks every builder relies on: the weight has the precision's form and shape [N, K], the
// bias (if any) has its form and shape [N].
Status check_spec(ir::Precision precision, const ProjectionSpec& spec) {
  const ir::Node& node = *spec.node;
  const ir::Value& w = *spec.weight;
  const std::string label = spec.what + " '" + w.name + "'";
  if (!weight_has_form(precision, w))
    return node_error(node, label + " (" + ir::dtype_name(w.dtype) + " " +
                                ir::shape_to_string(w.shape) +
                                ") does not have the constant rank-2 form that precision " +
                                ir::precision_name(precision) + " stores weights in");
  QRT_RETURN_IF_ERROR(expect_shape(node, label, w.shape, {spec.N, spec.K}));
  if (spec.bias != nullptr) {
    if (!bias_has_form(precision, spec.bias))
      return node_error(node, "bias '" + spec.bias->name + "' of " + spec.what + " is " +
                                  ir::dtype_name(spec.bias->dtype) + ", expected f32");
    QRT_RETURN_IF_ERROR(
        expect_shape(node, "bias '" + spec.bias->name + "'", spec.bias->shape, {spec.N}));
  }
  if (precision == ir::Precision::kFP32)
    return node_error(node, std::string("precision ") + ir::precision_name(precision) +
                                " is not a quantized precision");
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Projection>> make_reference_projection(ir::Precision precision,
                                                              const ProjectionSpec& spec) {
  QRT_RETURN_IF_ERROR(check_spec(precision, spec));
  switch (precision) {
    case ir::Precision::kFP16:
      return make_half_projection(spec, /*bf16=*/false);
    case ir::Precision::kBF16:
      return make_half_projection(spec, /*bf16=*/true);
    case ir::Precision::kW8A16:
      return make_w8a16_projection(spec);
    case ir::Precision::kInt8Dynamic:
      return make_int8_dynamic_projection(spec);
    case ir::Precision::kInt8Static:
      return make_int8_static_projection(spec);
    case ir::Precision::kNF4:
      return make_nf4_projection(spec);
    case ir::Precision::kFP32:
      break;
  }
  return node_error(*spec.node, std::string("precision ") + ir::precision_name(precision) +
                                    " is not a quantized precision");
}

// The fastest projection for the spec on this CPU. Dispatch rule, in order:
//  1. K < kMinQuantizedK for w8a16, int8-dynamic or nf4 weights: the product is too short for
//     the integer / decode-in-register kernels to pay for their per-row work, so the weights are
//     decoded once to f32 (decoded_projection.h says what that costs and why it is worth it).
//  2. int8-dynamic, int8-static, fp16 / bf16, w8a16: the vectorized projections (fast_*.cpp).
//  3. otherwise (nf4): the precision's own kernel, which already runs the vectorized NF4 GEMM.
Result<std::unique_ptr<Projection>> make_projection(ir::Precision precision,
                                                    const ProjectionSpec& spec) {
  QRT_RETURN_IF_ERROR(check_spec(precision, spec));
  if (prefers_decoded_f32(precision, spec)) return make_decoded_f32_projection(precision, spec);
  switch (precision) {
    case ir::Precision::kFP16:
      return make_fast_half_projection(spec, /*bf16=*/false);
    case ir::Precision::kBF16:
      return make_fast_half_projection(spec, /*bf16=*/true);
    case ir::Precision::kW8A16:
      return make_fast_w8a16_projection(spec);
    case ir::Precision::kInt8Dynamic:
      return make_fast_int8_dynamic_projection(spec);
    case ir::Precision::kInt8Static:
      return make_fast_int8_static_projection(spec);
    default:
      return make_reference_projection(precision, spec);
  }
}

}  // namespace qrt::ops::quantized
