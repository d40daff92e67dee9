#include "tests/train/gradients/reference_forward.h"

#include <algorithm>
#include <cmath>

namespace qrt::testing {

namespace {

std::vector<int64_t> strides(const ir::Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int d = static_cast<int>(s.size()) - 2; d >= 0; --d) st[d] = st[d + 1] * s[d + 1];
  return st;
}

// The multi-index of flat position `flat` in shape `s`.
std::vector<int64_t> unravel(int64_t flat, const ir::Shape& s) {
  std::vector<int64_t> idx(s.size());
  for (int d = static_cast<int>(s.size()) - 1; d >= 0; --d) {
    idx[d] = flat % s[d];
    flat /= s[d];
  }
  return idx;
}

double sigmoid64(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

}  // namespace

std::vector<Tensor64> linear64(const Inputs64& in) {
  const Tensor64& x = *in[0];
  const Tensor64& w = *in[1];
  const int64_t N = w.shape[0], K = w.shape[1];
  const int64_t M = ir::numel(x.shape) / K;
  Tensor64 y{x.shape, std::vector<double>(M * N)};
  y.shape.back() = N;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = in.size() > 2 && in[2] ? in[2]->data[n] : 0.0;
      for (int64_t k = 0; k < K; ++k) acc += x.data[m * K + k] * w.data[n * K + k];
      y.data[m * N + n] = acc;
    }
  return {y};
}

std::vector<Tensor64> lstm64(const Inputs64& in, const ir::LstmAttrs& attrs,
                             const std::function<double(double)>& hidden_read) {
  const Tensor64& x = *in[0];
  const int64_t B = x.shape[0], T = x.shape[1], C = x.shape[2];
  const int64_t H = attrs.hidden_size, L = attrs.num_layers;
  Tensor64 h_n{{L, B, H}, std::vector<double>(L * B * H)};
  Tensor64 c_n = h_n;
  std::vector<double> seq = x.data;  // [B, T, In]
  int64_t In = C;
  for (int64_t l = 0; l < L; ++l) {
    const Tensor64& w_ih = *in[3 + 4 * l];
    const Tensor64& w_hh = *in[4 + 4 * l];
    const std::optional<Tensor64>& b_ih = in[5 + 4 * l];
    const std::optional<Tensor64>& b_hh = in[6 + 4 * l];
    if (hidden_read && l > 0)
      for (double& v : seq) v = hidden_read(v);
    std::vector<double> out(B * T * H);
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> h(H, 0.0), c(H, 0.0);
      if (in[1]) std::copy_n(in[1]->data.begin() + (l * B + b) * H, H, h.begin());
      if (in[2]) std::copy_n(in[2]->data.begin() + (l * B + b) * H, H, c.begin());
      for (int64_t t = 0; t < T; ++t) {
        std::vector<double> h_in = h, a(4 * H);
        if (hidden_read)
          for (double& v : h_in) v = hidden_read(v);
        for (int64_t r = 0; r < 4 * H; ++r) {
          double acc = (b_ih ? b_ih->data[r] : 0.0) + (b_hh ? b_hh->data[r] : 0.0);
          for (int64_t k = 0; k < In; ++k) acc += w_ih.data[r * In + k] * seq[(b * T + t) * In + k];
          for (int64_t k = 0; k < H; ++k) acc += w_hh.data[r * H + k] * h_in[k];
          a[r] = acc;
        }
        for (int64_t j = 0; j < H; ++j) {
          const double i = sigmoid64(a[j]), f = sigmoid64(a[H + j]);
          const double g = std::tanh(a[2 * H + j]), o = sigmoid64(a[3 * H + j]);
          c[j] = f * c[j] + i * g;
          h[j] = o * std::tanh(c[j]);
          out[(b * T + t) * H + j] = h[j];
        }
      }
      std::copy(h.begin(), h.end(), h_n.data.begin() + (l * B + b) * H);
      std::copy(c.begin(), c.end(), c_n.data.begin() + (l * B + b) * H);
    }
    seq = std::move(out);
    In = H;
  }
  return {Tensor64{{B, T, H}, seq}, h_n, c_n};
}

std::vector<Tensor64> layer_norm64(const Inputs64& in, const ir::LayerNormAttrs& attrs) {
  const Tensor64& x = *in[0];
  const int64_t D = x.shape.back();
  const int64_t rows = ir::numel(x.shape) / D;
  Tensor64 y{x.shape, std::vector<double>(x.data.size())};
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0.0, var = 0.0;
    for (int64_t d = 0; d < D; ++d) mean += x.data[r * D + d] / D;
    for (int64_t d = 0; d < D; ++d) var += std::pow(x.data[r * D + d] - mean, 2) / D;
    for (int64_t d = 0; d < D; ++d) {
      double v = (x.data[r * D + d] - mean) / std::sqrt(var + attrs.eps);
      if (in.size() > 1 && in[1]) v *= in[1]->data[d];
      if (in.size() > 2 && in[2]) v += in[2]->data[d];
      y.data[r * D + d] = v;
    }
  }
  return {y};
}

std::vector<Tensor64> activation64(const Inputs64& in, ir::OpKind op, const ir::Attrs& attrs) {
  Tensor64 y = *in[0];
  const double pi = std::acos(-1.0);
  for (double& v : y.data) {
    const double x = v;
    switch (op) {
      case ir::OpKind::kRelu:
        v = x > 0 ? x : 0.0;
        break;
      case ir::OpKind::kLeakyRelu:
        v = x > 0 ? x : std::get<ir::LeakyReluAttrs>(attrs).negative_slope * x;
        break;
      case ir::OpKind::kGelu:
        v = std::get<ir::GeluAttrs>(attrs).tanh_approximation
                ? 0.5 * x * (1 + std::tanh(std::sqrt(2 / pi) * (x + 0.044715 * x * x * x)))
                : 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
        break;
      case ir::OpKind::kSilu:
        v = x * sigmoid64(x);
        break;
      case ir::OpKind::kSigmoid:
        v = sigmoid64(x);
        break;
      case ir::OpKind::kTanh:
        v = std::tanh(x);
        break;
      default:
        v = NAN;
    }
  }
  return {y};
}

std::vector<Tensor64> binary64(const Inputs64& in, ir::OpKind op) {
  const Tensor64& a = *in[0];
  const Tensor64& b = *in[1];
  const std::size_t rank = std::max(a.shape.size(), b.shape.size());
  ir::Shape ys(rank);
  auto dim = [rank](const ir::Shape& s, std::size_t d) {
    const std::size_t pad = rank - s.size();
    return d < pad ? int64_t{1} : s[d - pad];
  };
  for (std::size_t d = 0; d < rank; ++d) ys[d] = std::max(dim(a.shape, d), dim(b.shape, d));
  // Flat index of the broadcast source in `s` for output multi-index `idx`.
  auto source = [rank](const ir::Shape& s, const std::vector<int64_t>& idx) {
    const std::size_t pad = rank - s.size();
    const std::vector<int64_t> st = strides(s);
    int64_t flat = 0;
    for (std::size_t d = 0; d < s.size(); ++d) flat += (s[d] == 1 ? 0 : idx[pad + d]) * st[d];
    return flat;
  };
  Tensor64 y{ys, std::vector<double>(ir::numel(ys))};
  for (int64_t i = 0; i < ir::numel(ys); ++i) {
    const std::vector<int64_t> idx = unravel(i, ys);
    const double av = a.data[source(a.shape, idx)], bv = b.data[source(b.shape, idx)];
    y.data[i] = op == ir::OpKind::kAdd ? av + bv : op == ir::OpKind::kSub ? av - bv : av * bv;
  }
  return {y};
}

std::vector<Tensor64> reshape64(const Inputs64& in, const ir::Shape& shape) {
  return {Tensor64{shape, in[0]->data}};
}

std::vector<Tensor64> transpose64(const Inputs64& in, const std::vector<int64_t>& perm) {
  const Tensor64& x = *in[0];
  ir::Shape ys(perm.size());
  for (std::size_t k = 0; k < perm.size(); ++k) ys[k] = x.shape[perm[k]];
  const std::vector<int64_t> xst = strides(x.shape);
  Tensor64 y{ys, std::vector<double>(x.data.size())};
  for (int64_t j = 0; j < ir::numel(ys); ++j) {
    const std::vector<int64_t> idx = unravel(j, ys);
    int64_t src = 0;
    for (std::size_t k = 0; k < perm.size(); ++k) src += idx[k] * xst[perm[k]];
    y.data[j] = x.data[src];
  }
  return {y};
}

std::vector<Tensor64> slice64(const Inputs64& in, const ir::SliceAttrs& attrs) {
  const Tensor64& x = *in[0];
  const int rank = static_cast<int>(x.shape.size());
  const int axis = static_cast<int>(attrs.axis < 0 ? attrs.axis + rank : attrs.axis);
  const int64_t dim = x.shape[axis];
  const int64_t end = std::min(attrs.end, dim);
  std::vector<int64_t> picked;
  for (int64_t i = attrs.start; i < end; i += attrs.step) picked.push_back(i);
  ir::Shape ys = x.shape;
  ys[axis] = static_cast<int64_t>(picked.size());
  Tensor64 y{ys, std::vector<double>(ir::numel(ys))};
  for (int64_t j = 0; j < ir::numel(ys); ++j) {
    std::vector<int64_t> idx = unravel(j, ys);
    idx[axis] = picked[idx[axis]];
    int64_t src = 0;
    const std::vector<int64_t> st = strides(x.shape);
    for (int d = 0; d < rank; ++d) src += idx[d] * st[d];
    y.data[j] = x.data[src];
  }
  if (attrs.squeeze) y.shape.erase(y.shape.begin() + axis);
  return {y};
}

std::vector<Tensor64> concat64(const Inputs64& in, int64_t axis_attr) {
  const int rank = static_cast<int>(in[0]->shape.size());
  const int axis = static_cast<int>(axis_attr < 0 ? axis_attr + rank : axis_attr);
  ir::Shape ys = in[0]->shape;
  ys[axis] = 0;
  for (const auto& t : in) ys[axis] += t->shape[axis];
  Tensor64 y{ys, std::vector<double>(ir::numel(ys))};
  for (int64_t j = 0; j < ir::numel(ys); ++j) {
    std::vector<int64_t> idx = unravel(j, ys);
    std::size_t k = 0;
    while (idx[axis] >= in[k]->shape[axis]) idx[axis] -= in[k++]->shape[axis];
    const std::vector<int64_t> st = strides(in[k]->shape);
    int64_t src = 0;
    for (int d = 0; d < rank; ++d) src += idx[d] * st[d];
    y.data[j] = in[k]->data[src];
  }
  return {y};
}

}  // namespace qrt::testing
