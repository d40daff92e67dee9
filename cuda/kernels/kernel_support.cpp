#include "cuda/kernels/kernel_support.h"

#include <cmath>
#include <cstring>

#include "cuda/cuda_status.h"
#include "cuda/device.h"
#include "ir/half.h"
#include "ir/op_schema.h"

namespace qrt::cuda::kernels {

Status node_error(const ir::Node& node, const std::string& message) {
  return invalid_model(ir::node_label(node) + message);
}

Status node_unsupported(const ir::Node& node, const std::string& message) {
  return unsupported(ir::node_label(node) + message);
}

Status labeled(const std::string& label, const Status& status) {
  return status.is_ok() ? status : Status(status.code(), label + status.message());
}

Result<std::vector<float>> int8_weight_scales(const ir::Node& node, const ir::Value& w, int64_t n) {
  const ir::QuantParams& q = *w.quant;
  const std::string label = "weight '" + w.name + "'";
  if (static_cast<int64_t>(q.scales.size()) != n)
    return node_error(node, label + " has " + std::to_string(q.scales.size()) +
                                " scales, expected one per output channel (" + std::to_string(n) +
                                ")");
  for (std::size_t i = 0; i < q.scales.size(); ++i)
    if (!(q.scales[i] > 0.0f) || !std::isfinite(q.scales[i]))
      return node_error(node, label + " scale " + std::to_string(i) + " is " +
                                  std::to_string(q.scales[i]) + ", expected finite and > 0");
  return q.scales;
}

Result<const unsigned char*> constant_bytes(const ir::Node& node, const ir::Value& v,
                                            std::size_t bytes) {
  if (!v.is_constant())
    return node_error(node, "'" + v.name + "' must be a constant (a stored weight)");
  const auto data = v.data->as<unsigned char>();
  if (data.size() < bytes)
    return node_error(node, "'" + v.name + "' holds " + std::to_string(data.size()) +
                                " bytes, expected " + std::to_string(bytes));
  return data.data();
}

Result<std::vector<float>> constant_floats(const ir::Node& node, const ir::Value& v, int64_t n) {
  std::vector<float> out(static_cast<std::size_t>(n));
  if (v.dtype == ir::DType::kF16) {
    QRT_ASSIGN_OR_RETURN(const unsigned char* bytes,
                         constant_bytes(node, v, out.size() * sizeof(uint16_t)));
    for (std::size_t i = 0; i < out.size(); ++i) {
      uint16_t bits = 0;
      std::memcpy(&bits, bytes + i * sizeof(uint16_t), sizeof(bits));
      out[i] = ir::f16_bits_to_float(bits);
    }
    return out;
  }
  if (v.dtype != ir::DType::kF32)
    return node_error(node, "'" + v.name + "' is " + ir::dtype_name(v.dtype) + ", expected f32");
  QRT_ASSIGN_OR_RETURN(const unsigned char* bytes,
                       constant_bytes(node, v, out.size() * sizeof(float)));
  if (!out.empty()) std::memcpy(out.data(), bytes, out.size() * sizeof(float));
  return out;
}

Status check_inferred_outputs(const runtime::PrepareContext& ctx) {
  const ir::Node& node = ctx.node;
  if (ctx.input_types.size() != node.inputs.size() ||
      ctx.output_types.size() != node.outputs.size())
    return node_error(node, "the prepare context has " + std::to_string(ctx.input_types.size()) +
                                " input and " + std::to_string(ctx.output_types.size()) +
                                " output types for " + std::to_string(node.inputs.size()) +
                                " inputs and " + std::to_string(node.outputs.size()) + " outputs");
  ir::InferInputs in;
  in.types = ctx.input_types;
  for (ir::ValueId id : node.inputs) in.values.push_back(value_of(ctx.graph, id));
  for (ir::ValueId id : node.outputs) in.outputs.push_back(value_of(ctx.graph, id));
  QRT_ASSIGN_OR_RETURN(const std::vector<ir::TensorType> inferred, ir::infer_node(node, in));
  for (std::size_t i = 0; i < inferred.size(); ++i) {
    const ir::TensorType* planned = ctx.output_types[i];
    if (planned == nullptr) return node_error(node, "output " + std::to_string(i) + " is absent");
    if (planned->dtype != inferred[i].dtype || planned->shape != inferred[i].shape ||
        !ir::is_static(planned->shape))
      return node_error(
          node, "output " + std::to_string(i) + " is " + ir::dtype_name(planned->dtype) +
                    ir::shape_to_string(planned->shape) + ", expected " +
                    ir::dtype_name(inferred[i].dtype) + ir::shape_to_string(inferred[i].shape));
  }
  return Status::ok();
}

Result<DeviceInfo> require_device(const ir::Node& node) {
  Result<DeviceInfo> info = query_current_device();
  if (!info.is_ok()) return labeled(ir::node_label(node), info.status());
  return info;
}

Result<DeviceBuffer> upload_bytes(const void* host, std::size_t bytes) {
  QRT_ASSIGN_OR_RETURN(DeviceBuffer buffer, DeviceBuffer::allocate(bytes));
  if (bytes > 0)
    QRT_CUDA_RETURN_IF_ERROR(cudaMemcpy(buffer.data(), host, bytes, cudaMemcpyHostToDevice));
  return buffer;
}

Status check_device_views(const std::string& label, const runtime::RunContext& ctx,
                          std::size_t num_inputs, std::size_t num_outputs,
                          const std::vector<bool>& host_inputs) {
  if (ctx.inputs.size() != num_inputs || ctx.outputs.size() != num_outputs)
    return invalid_argument(label + "expected " + std::to_string(num_inputs) + " input and " +
                            std::to_string(num_outputs) + " output views, got " +
                            std::to_string(ctx.inputs.size()) + " and " +
                            std::to_string(ctx.outputs.size()));
  for (std::size_t i = 0; i < ctx.inputs.size(); ++i)
    if (ctx.inputs[i].present() && ctx.inputs[i].device != runtime::Device::kCuda &&
        !(i < host_inputs.size() && host_inputs[i]))
      return invalid_argument(label + "input " + std::to_string(i) +
                              " is not device memory (a CUDA kernel reads kCuda views)");
  for (std::size_t i = 0; i < ctx.outputs.size(); ++i)
    if (ctx.outputs[i].data != nullptr && ctx.outputs[i].device != runtime::Device::kCuda)
      return invalid_argument(label + "output " + std::to_string(i) +
                              " is not device memory (a CUDA kernel writes kCuda views)");
  return Status::ok();
}

Status ConstantInputs::upload(const runtime::PrepareContext& ctx, std::size_t count) {
  const ir::Node& node = ctx.node;
  constant_.assign(count, false);
  buffers_.clear();
  buffers_.resize(count);
  for (std::size_t i = 0; i < count && i < node.inputs.size(); ++i) {
    const ir::Value* v = value_of(ctx.graph, node.inputs[i]);
    if (v == nullptr || !v->is_constant()) continue;
    const ir::TensorType* t = i < ctx.input_types.size() ? ctx.input_types[i] : nullptr;
    if (t == nullptr) return node_error(node, "constant input '" + v->name + "' has no type");
    QRT_ASSIGN_OR_RETURN(const std::size_t bytes, ir::storage_bytes(t->dtype, ir::numel(t->shape)));
    QRT_ASSIGN_OR_RETURN(const unsigned char* data, constant_bytes(node, *v, bytes));
    QRT_ASSIGN_OR_RETURN(buffers_[i], upload_bytes(data, bytes));
    constant_[i] = true;
  }
  return Status::ok();
}

void add_cuda_entry(runtime::KernelRegistry& registry, ir::OpKind op, std::string name,
                    std::function<bool(const ir::Graph&, const ir::Node&)> supports,
                    std::function<std::unique_ptr<runtime::Kernel>()> create) {
  registry.add(runtime::KernelEntry{op, runtime::Device::kCuda, std::move(name),
                                    std::move(supports), std::move(create)});
}

}  // namespace qrt::cuda::kernels
