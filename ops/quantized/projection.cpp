#include "ops/quantized/projection.h"

#include "ops/kernel_support.h"
#include "ops/quantized/quantized_support.h"

namespace qrt::ops::quantized {

Result<std::unique_ptr<Projection>> make_projection(ir::Precision precision,
                                                    const ProjectionSpec& spec) {
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
  return node_error(node, std::string("precision ") + ir::precision_name(precision) +
                              " is not a quantized precision");
}

}  // namespace qrt::ops::quantized
