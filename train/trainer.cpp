#include "train/trainer.h"

#include <algorithm>
#include <cstring>

#include "train/op_gradient.h"
#include "train/trainable_graph.h"

namespace qrt::train {

namespace {

std::string node_label(const ir::Node& node) {
  return "node '" + node.name + "' (" + ir::op_name(node.op) + ")";
}

}  // namespace

struct Trainer::Impl {
  ir::Graph original;
  TrainerOptions options;
  std::shared_ptr<const ir::Graph> graph;  // parameters as inputs
  std::vector<Parameter> parameters;
  std::vector<ir::ValueId> parameter_values;
  std::unique_ptr<runtime::Session> session;
  std::size_t loss_output = 0;

  // Per value (index = ValueId):
  std::vector<bool> needs_grad;     // a parameter, or computed from one
  std::vector<bool> keep;           // read by some backward kernel
  std::vector<int> parameter_of;    // index into `parameters`, or -1
  std::vector<bool> backward_node;  // per node: some input needs a gradient

  // Per step state.
  std::vector<runtime::Tensor> saved;           // copies of node outputs
  std::vector<runtime::ConstTensorView> views;  // what backward sees (absent: data null)
  std::vector<runtime::Tensor> grads;           // dL/d(value) of non-parameter values
  std::vector<bool> touched;                    // grad holds a contribution this step
  std::vector<runtime::ConstTensorView> in_views, out_views, out_grads;
  std::vector<runtime::TensorView> in_grads;

  Status save_value(ir::ValueId v, const runtime::ConstTensorView& view, bool graph_input);
  Result<runtime::TensorView> grad_of(ir::ValueId v);
  Status run_backward();
  std::vector<runtime::NamedTensor> session_inputs(const std::vector<runtime::NamedTensor>& inputs);
};

Status Trainer::Impl::save_value(ir::ValueId v, const runtime::ConstTensorView& view,
                                 bool graph_input) {
  const std::size_t i = static_cast<std::size_t>(v);
  if (view.data == nullptr || !keep[i]) {
    views[i] = {};
    return Status::ok();
  }
  if (graph_input) {
    // The caller's buffers (and the parameters) stay valid for the whole step.
    views[i] = view;
    return Status::ok();
  }
  if (view.dtype != ir::DType::kF32)
    return invalid_argument("value '" + graph->values[i].name + "' is " +
                            ir::dtype_name(view.dtype) + "; training needs f32 values");
  runtime::Tensor& t = saved[i];
  if (t.shape() != view.shape || t.data() == nullptr) {
    QRT_ASSIGN_OR_RETURN(t, runtime::Tensor::allocate(ir::DType::kF32, view.shape));
  }
  if (t.byte_size() > 0) std::memcpy(t.data(), view.data, t.byte_size());
  views[i] = t.view();
  return Status::ok();
}

Result<runtime::TensorView> Trainer::Impl::grad_of(ir::ValueId v) {
  const std::size_t i = static_cast<std::size_t>(v);
  const int p = parameter_of[i];
  if (p >= 0) {
    Parameter& param = parameters[static_cast<std::size_t>(p)];
    touched[i] = true;
    return runtime::TensorView{ir::DType::kF32, param.shape, param.grad.data()};
  }
  if (views[i].data == nullptr)
    return internal_error("value '" + graph->values[i].name +
                          "' needs a gradient but was not kept during the forward run");
  runtime::Tensor& g = grads[i];
  if (g.shape() != views[i].shape || g.data() == nullptr) {
    QRT_ASSIGN_OR_RETURN(g, runtime::Tensor::allocate(ir::DType::kF32, views[i].shape));
  } else if (!touched[i] && g.byte_size() > 0) {
    std::memset(g.data(), 0, g.byte_size());
  }
  touched[i] = true;
  return g.view();
}

Status Trainer::Impl::run_backward() {
  const ir::Graph& g = *graph;
  for (std::size_t n = g.nodes.size(); n-- > 0;) {
    if (!backward_node[n]) continue;
    const ir::Node& node = g.nodes[n];
    bool any_output_grad = false;
    for (ir::ValueId v : node.outputs)
      if (v != ir::kNoValue && touched[static_cast<std::size_t>(v)]) any_output_grad = true;
    if (!any_output_grad) continue;  // this node does not reach the loss

    in_views.assign(node.inputs.size(), {});
    in_grads.assign(node.inputs.size(), {});
    out_views.assign(node.outputs.size(), {});
    out_grads.assign(node.outputs.size(), {});
    for (std::size_t k = 0; k < node.inputs.size(); ++k) {
      const ir::ValueId v = node.inputs[k];
      if (v == ir::kNoValue) continue;
      const std::size_t i = static_cast<std::size_t>(v);
      if (g.values[i].is_constant()) {
        const ir::Value& c = g.values[i];
        in_views[k] = {c.dtype, c.shape, c.data->data()};
      } else {
        in_views[k] = views[i];
      }
    }
    // Gradients of inputs after all views are set: grad_of may allocate.
    for (std::size_t k = 0; k < node.inputs.size(); ++k) {
      const ir::ValueId v = node.inputs[k];
      if (v == ir::kNoValue || !needs_grad[static_cast<std::size_t>(v)]) continue;
      QRT_ASSIGN_OR_RETURN(in_grads[k], grad_of(v));
    }
    for (std::size_t k = 0; k < node.outputs.size(); ++k) {
      const ir::ValueId v = node.outputs[k];
      if (v == ir::kNoValue) continue;
      const std::size_t i = static_cast<std::size_t>(v);
      out_views[k] = views[i];
      if (touched[i]) out_grads[k] = grads[i].view();
    }
    const GradientArgs args{g, node, in_views, out_views, out_grads, in_grads};
    QRT_RETURN_IF_ERROR(backward(args).with_context("backward of " + node_label(node)));
  }
  return Status::ok();
}

std::vector<runtime::NamedTensor> Trainer::Impl::session_inputs(
    const std::vector<runtime::NamedTensor>& inputs) {
  std::vector<runtime::NamedTensor> all = inputs;
  for (const Parameter& p : parameters)
    all.push_back({p.name, runtime::ConstTensorView{ir::DType::kF32, p.shape, p.value.data()}});
  return all;
}

Result<std::unique_ptr<Trainer>> Trainer::create(const ir::Graph& graph,
                                                 const runtime::KernelRegistry& registry,
                                                 TrainerOptions options) {
  auto impl = std::make_unique<Impl>();
  QRT_ASSIGN_OR_RETURN(TrainableGraph trainable, make_trainable_graph(graph, options.freeze));
  impl->original = graph;
  impl->options = options;
  impl->parameters = std::move(trainable.parameters);
  impl->parameter_values = std::move(trainable.parameter_values);
  const ir::Graph& g = trainable.graph;

  if (g.outputs.empty()) return invalid_argument("the model has no outputs");
  if (options.output.empty()) {
    if (g.outputs.size() != 1)
      return invalid_argument("the model has " + std::to_string(g.outputs.size()) +
                              " outputs; name the one the loss compares");
    impl->loss_output = 0;
  } else {
    const auto it = std::find_if(g.outputs.begin(), g.outputs.end(), [&](ir::ValueId v) {
      return g.values[static_cast<std::size_t>(v)].name == options.output;
    });
    if (it == g.outputs.end())
      return invalid_argument("the model has no output named '" + options.output + "'");
    impl->loss_output = static_cast<std::size_t>(it - g.outputs.begin());
  }

  const std::size_t values = g.values.size();
  impl->needs_grad.assign(values, false);
  impl->keep.assign(values, false);
  impl->parameter_of.assign(values, -1);
  impl->backward_node.assign(g.nodes.size(), false);
  for (std::size_t p = 0; p < impl->parameter_values.size(); ++p) {
    const auto v = static_cast<std::size_t>(impl->parameter_values[p]);
    impl->needs_grad[v] = true;
    impl->parameter_of[v] = static_cast<int>(p);
  }
  // Nodes are in topological order (verify checked it): one forward sweep propagates needs_grad.
  for (std::size_t n = 0; n < g.nodes.size(); ++n) {
    const ir::Node& node = g.nodes[n];
    bool any = false;
    for (ir::ValueId v : node.inputs)
      if (v != ir::kNoValue && impl->needs_grad[static_cast<std::size_t>(v)]) any = true;
    if (!any) continue;
    impl->backward_node[n] = true;
    if (!has_gradient(node))
      return unsupported("training needs the gradient of " + node_label(node) +
                         ", which has no backward kernel");
    for (ir::ValueId v : node.inputs)
      if (v != ir::kNoValue) impl->keep[static_cast<std::size_t>(v)] = true;
    for (ir::ValueId v : node.outputs) {
      if (v == ir::kNoValue) continue;
      impl->keep[static_cast<std::size_t>(v)] = true;
      impl->needs_grad[static_cast<std::size_t>(v)] = true;
    }
  }
  const ir::ValueId loss_value = g.outputs[impl->loss_output];
  if (!impl->needs_grad[static_cast<std::size_t>(loss_value)])
    return invalid_argument("output '" + g.values[static_cast<std::size_t>(loss_value)].name +
                            "' does not depend on any trainable parameter");
  impl->keep[static_cast<std::size_t>(loss_value)] = true;

  impl->graph = std::make_shared<const ir::Graph>(std::move(trainable.graph));
  QRT_ASSIGN_OR_RETURN(impl->session, runtime::Session::create(impl->graph, registry));
  impl->saved.resize(values);
  impl->views.resize(values);
  impl->grads.resize(values);
  impl->touched.assign(values, false);
  return std::unique_ptr<Trainer>(new Trainer(std::move(impl)));
}

Trainer::Trainer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Trainer::~Trainer() = default;

Result<double> Trainer::compute_gradients(const std::vector<runtime::NamedTensor>& inputs,
                                          const runtime::ConstTensorView& target) {
  Impl& s = *impl_;
  const ir::Graph& g = *s.graph;
  std::fill(s.views.begin(), s.views.end(), runtime::ConstTensorView{});
  std::fill(s.touched.begin(), s.touched.end(), false);
  for (Parameter& p : s.parameters) std::fill(p.grad.begin(), p.grad.end(), 0.0f);

  std::vector<bool> is_input(g.values.size(), false);
  for (ir::ValueId v : g.inputs) is_input[static_cast<std::size_t>(v)] = true;
  const runtime::ValueObserver observer = [&](const ir::Value& value,
                                              const runtime::ConstTensorView& view) -> Status {
    // The session shows values of the graph it shares with us, so the address gives the id.
    const std::ptrdiff_t offset = &value - g.values.data();
    const ir::ValueId v = offset >= 0 && static_cast<std::size_t>(offset) < g.values.size()
                              ? static_cast<ir::ValueId>(offset)
                              : g.find_value(value.name);
    if (v == ir::kNoValue) return internal_error("observed an unknown value");
    return s.save_value(v, view, is_input[static_cast<std::size_t>(v)]);
  };
  QRT_ASSIGN_OR_RETURN(std::vector<runtime::Tensor> outputs,
                       s.session->run(s.session_inputs(inputs), observer));

  const ir::ValueId loss_value = g.outputs[s.loss_output];
  const std::size_t li = static_cast<std::size_t>(loss_value);
  runtime::Tensor& prediction = outputs[s.loss_output];
  if (target.shape != prediction.shape())
    return invalid_argument("target has shape " + ir::shape_to_string(target.shape) +
                            " but output '" + g.values[li].name + "' has " +
                            ir::shape_to_string(prediction.shape()));
  runtime::Tensor& loss_grad = s.grads[li];
  if (loss_grad.shape() != prediction.shape() || loss_grad.data() == nullptr) {
    QRT_ASSIGN_OR_RETURN(loss_grad, runtime::Tensor::allocate(ir::DType::kF32, prediction.shape()));
  }
  QRT_ASSIGN_OR_RETURN(const double loss,
                       compute_loss(s.options.loss, prediction.view(), target, loss_grad.view()));
  s.touched[li] = true;
  if (s.views[li].data == nullptr) s.views[li] = prediction.view();
  QRT_RETURN_IF_ERROR(s.run_backward());
  return loss;
}

Result<std::vector<runtime::Tensor>> Trainer::predict(
    const std::vector<runtime::NamedTensor>& inputs) {
  return impl_->session->run(impl_->session_inputs(inputs));
}

std::size_t Trainer::loss_output_index() const {
  return impl_->loss_output;
}

const ir::Graph& Trainer::model() const {
  return impl_->original;
}

std::vector<Parameter>& Trainer::parameters() {
  return impl_->parameters;
}
const std::vector<Parameter>& Trainer::parameters() const {
  return impl_->parameters;
}

Result<ir::Graph> Trainer::trained_graph() const {
  return graph_with_parameters(impl_->original, impl_->parameters);
}

}  // namespace qrt::train
