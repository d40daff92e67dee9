#include "train/gradients/gradient_support.h"

namespace qrt::train {

Status gradient_error(const ir::Node& node, const std::string& message) {
  return invalid_argument(ir::node_label(node) + message);
}

Status expect_shape(const ir::Node& node, const std::string& what, const ir::Shape& got,
                    const ir::Shape& expected) {
  if (got == expected) return Status::ok();
  return gradient_error(node, what + " has shape " + ir::shape_to_string(got) + ", expected " +
                                  ir::shape_to_string(expected));
}

namespace {

Status check_tensor(const ir::Node& node, const std::string& what, ir::DType dtype,
                    const ir::Shape& shape, runtime::Device device) {
  if (dtype != ir::DType::kF32)
    return gradient_error(
        node, what + " is " + ir::dtype_name(dtype) + ", backward kernels compute in f32");
  if (device != runtime::Device::kCpu)
    return gradient_error(node, what + " is on " + runtime::device_name(device) +
                                    ", backward kernels run on the CPU");
  if (!ir::is_static(shape) || !ir::checked_numel(shape).is_ok())
    return gradient_error(node, what + " has an invalid shape " + ir::shape_to_string(shape));
  return Status::ok();
}

}  // namespace

Status check_gradient_args(const GradientArgs& args) {
  const ir::Node& node = args.node;
  const std::size_t n_in = node.inputs.size();
  const std::size_t n_out = node.outputs.size();
  if (args.inputs.size() != n_in || args.input_grads.size() != n_in)
    return gradient_error(node, "given " + std::to_string(args.inputs.size()) + " inputs and " +
                                    std::to_string(args.input_grads.size()) +
                                    " input gradients for a node with " + std::to_string(n_in) +
                                    " inputs");
  if (args.outputs.size() != n_out || args.output_grads.size() != n_out)
    return gradient_error(node, "given " + std::to_string(args.outputs.size()) + " outputs and " +
                                    std::to_string(args.output_grads.size()) +
                                    " output gradients for a node with " + std::to_string(n_out) +
                                    " outputs");
  for (std::size_t i = 0; i < n_in; ++i) {
    const std::string what = "input " + std::to_string(i);
    const runtime::ConstTensorView& x = args.inputs[i];
    const runtime::TensorView& dx = args.input_grads[i];
    if (node.inputs[i] == ir::kNoValue && x.present())
      return gradient_error(node, what + " is absent in the graph but was given data");
    if (!x.present()) {
      if (dx.data != nullptr)
        return gradient_error(node, "gradient of absent " + what + " was requested");
      continue;
    }
    QRT_RETURN_IF_ERROR(check_tensor(node, what, x.dtype, x.shape, x.device));
    if (dx.data != nullptr) {
      QRT_RETURN_IF_ERROR(check_tensor(node, "gradient of " + what, dx.dtype, dx.shape, dx.device));
      QRT_RETURN_IF_ERROR(expect_shape(node, "gradient of " + what, dx.shape, x.shape));
    }
  }
  for (std::size_t i = 0; i < n_out; ++i) {
    const std::string what = "output " + std::to_string(i);
    const runtime::ConstTensorView& y = args.outputs[i];
    const runtime::ConstTensorView& dy = args.output_grads[i];
    if (y.present()) QRT_RETURN_IF_ERROR(check_tensor(node, what, y.dtype, y.shape, y.device));
    if (dy.present()) {
      QRT_RETURN_IF_ERROR(check_tensor(node, "gradient of " + what, dy.dtype, dy.shape, dy.device));
      if (y.present())
        QRT_RETURN_IF_ERROR(expect_shape(node, "gradient of " + what, dy.shape, y.shape));
    }
  }
  return Status::ok();
}

Status expect_output_shape(const GradientArgs& args, std::size_t i, const std::string& what,
                           const ir::Shape& expected) {
  if (args.outputs[i].present())
    return expect_shape(args.node, what, args.outputs[i].shape, expected);
  if (args.output_grads[i].present())
    return expect_shape(args.node, "gradient of " + what, args.output_grads[i].shape, expected);
  return Status::ok();
}

Status expect_arity(const GradientArgs& args, std::size_t min_inputs, std::size_t max_inputs,
                    std::size_t outputs, std::size_t required) {
  const ir::Node& node = args.node;
  const std::size_t n = node.inputs.size();
  if (n < min_inputs || n > max_inputs)
    return gradient_error(
        node, "has " + std::to_string(n) + " inputs, expected " +
                  (min_inputs == max_inputs
                       ? std::to_string(min_inputs)
                       : std::to_string(min_inputs) + " to " + std::to_string(max_inputs)));
  if (node.outputs.size() != outputs)
    return gradient_error(node, "has " + std::to_string(node.outputs.size()) +
                                    " outputs, expected " + std::to_string(outputs));
  for (std::size_t i = 0; i < required && i < n; ++i)
    if (!args.inputs[i].present())
      return gradient_error(node, "required input " + std::to_string(i) + " is absent");
  return Status::ok();
}

void accumulate(float* dst, const float* src, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

ir::Shape row_major_strides(const ir::Shape& shape) {
  ir::Shape strides(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

}  // namespace qrt::train
