// ParameterSet registration and PyTorch-style init, ResidualNet's nflows names, counts and init
// bounds (spec npe.md §1.4), and ResidualNet / Linear / ReLU forward values against a naive
// double-precision re-implementation written from the spec (independent of host/nn).
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::contains;
using cusbi::testing::error_of;

TEST(ParameterSet, DrawsEachEntryInRegistrationOrder) {
  ParameterSet ps;
  const ParamSlot a = ps.add("a.weight", {2, 3}, 0.5f);
  const ParamSlot b = ps.add("a.bias", {4}, 2.0f);
  EXPECT_EQ(a.offset, 0);
  EXPECT_EQ(b.offset, 6);
  EXPECT_EQ(ps.numel(), 10);
  Generator gen(7), replay(7);
  ps.materialize(Device::cpu(), gen);
  // The same generator stream, drawn entry by entry, must give exactly the stored values.
  const std::vector<float> wa = uniform({2, 3}, -0.5f, 0.5f, Device::cpu(), &replay).to_vector();
  const std::vector<float> wb = uniform({4}, -2.0f, 2.0f, Device::cpu(), &replay).to_vector();
  EXPECT_EQ(ps.value(a).to_vector(), wa);
  EXPECT_EQ(ps.value(b).to_vector(), wb);
  EXPECT_EQ(ps.value(a).shape(), Shape({2, 3}));
  EXPECT_EQ(ps.grads().to_vector(), std::vector<float>(10, 0.0f));
  EXPECT_EQ(gen.offset(), replay.offset());
}

TEST(ParameterSet, LoadingByNameWritesTheFlatBuffer) {
  ParameterSet ps;
  ps.add("w", {2, 2}, 1.0f);
  ps.add("b", {2}, 1.0f);
  Generator gen(1);
  ps.materialize(Device::cpu(), gen);
  ps.value(ps.entry("b").slot).copy_(Tensor::from({5.0f, 6.0f}, {2}, Device::cpu()));
  const std::vector<float> flat = ps.values().to_vector();
  EXPECT_EQ(flat[4], 5.0f);
  EXPECT_EQ(flat[5], 6.0f);
  ps.grad(ps.entry("w").slot).fill_(1.0f);
  ps.zero_grad();
  EXPECT_EQ(ps.grads().to_vector(), std::vector<float>(6, 0.0f));
}

TEST(ParameterSet, ErrorsNameTheProblem) {
  ParameterSet ps;
  ps.add("w", {2}, 1.0f);
  EXPECT_NE(error_of([&] { ps.add("w", {3}, 1.0f); }).find("registered twice"), std::string::npos);
  EXPECT_NE(error_of([&] { ps.entry("nope"); }).find("no parameter named 'nope'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { ps.value(ps.entry("w").slot); }).find("materialize"), std::string::npos);
  Generator gen(0);
  ps.materialize(Device::cpu(), gen);
  EXPECT_NE(error_of([&] { ps.add("v", {1}, 1.0f); }).find("after the ParameterSet"),
            std::string::npos);
}

std::vector<std::string> nflows_names(int64_t blocks, bool context) {
  std::vector<std::string> names = {"initial_layer.weight", "initial_layer.bias"};
  for (int64_t k = 0; k < blocks; ++k) {
    const std::string b = "blocks." + std::to_string(k) + ".";
    if (context) {
      names.push_back(b + "context_layer.weight");
      names.push_back(b + "context_layer.bias");
    }
    for (const char* l : {"linear_layers.0", "linear_layers.1"}) {
      names.push_back(b + l + ".weight");
      names.push_back(b + l + ".bias");
    }
  }
  names.push_back("final_layer.weight");
  names.push_back("final_layer.bias");
  return names;
}

TEST(ResidualNet, NamesShapesAndCountsFollowNflows) {
  for (int64_t C : {0, 3}) {
    const ResidualNetOptions o{4, 7, 5, C, 2};
    Generator gen(0);
    ResidualNet net(o, Device::cpu(), &gen);
    std::vector<std::string> names;
    for (const auto& e : net.parameter_set().entries()) names.push_back(e.name);
    EXPECT_EQ(names, nflows_names(2, C > 0));
    const int64_t I = 4, H = 5, O = 7;
    // Spec §1.4 per-coupling counts; with C = 0 there is no context layer.
    const int64_t expected =
        (I + C) * H + H + 2 * ((C > 0 ? C * H + H : 0) + 2 * (H * H + H)) + H * O + O;
    EXPECT_EQ(net.parameter_set().numel(), expected);
    EXPECT_EQ(net.parameters().numel(), expected);
    EXPECT_EQ(net.parameter_set().entry("initial_layer.weight").slot.shape, Shape({H, I + C}));
    EXPECT_EQ(net.parameter_set().entry("final_layer.weight").slot.shape, Shape({O, H}));
  }
}

TEST(ResidualNet, InitBoundsFollowPyTorchAndNflows) {
  const int64_t I = 6, C = 10, H = 64, O = 40;
  Generator gen(3);
  ResidualNet net({I, O, H, C, 2}, Device::cpu(), &gen);
  const ParameterSet& ps = net.parameter_set();
  for (const auto& e : ps.entries()) {
    double bound = 1.0 / std::sqrt(double(H));
    if (e.name.rfind("initial_layer", 0) == 0) bound = 1.0 / std::sqrt(double(I + C));
    if (e.name.find("context_layer") != std::string::npos) bound = 1.0 / std::sqrt(double(C));
    if (e.name.find("linear_layers.1") != std::string::npos) bound = 1e-3;
    // init_bound is a float: 1.0f / sqrt(float(fan_in)) rounds twice (sqrt, division), each
    // within 2^-24 relative, and 1e-3f once. 2^-22 leaves a factor 2; a wrong fan-in is off by
    // far more (at least sqrt(17/16) - 1 = 3% here).
    EXPECT_NEAR(e.init_bound, bound, 0x1p-22 * bound) << e.name;
    double max_abs = 0.0;
    for (float v : ps.value(e.slot).to_vector()) max_abs = std::max(max_abs, double(std::fabs(v)));
    EXPECT_LE(max_abs, bound) << e.name;
    // With >= 10 draws, P(max |v| < 0.6 b) = 0.6^10 < 1%; the smallest entries here have 40
    // (0.6^40 ~ 1e-9), so a too-small bound is caught and a correct one passes.
    EXPECT_GT(max_abs, 0.6 * bound) << e.name;
  }
}

TEST(ResidualNet, SharedSetUsesPrefixesAndOneBuffer) {
  auto set = std::make_shared<ParameterSet>();
  const ResidualNetOptions o{2, 3, 4, 1, 1};
  ResidualNet first(o, set, "transform._transforms.0.transform_net.");
  ResidualNet second(o, set, "transform._transforms.2.transform_net.");
  const Tensor x = Tensor::zeros({2, 2}, Device::cpu()), c = Tensor::zeros({2, 1}, Device::cpu());
  std::string msg;
  try {
    first.forward(x, c);
  } catch (const Error& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("not materialized"), std::string::npos) << msg;
  Generator gen(0);
  set->materialize(Device::cpu(), gen);
  const ParameterSet::Entry& e =
      set->entry("transform._transforms.2.transform_net.initial_layer.weight");
  EXPECT_EQ(e.slot.offset, set->numel() / 2);  // the second net follows the first
  // Each net reads its own slots: making the second net's final bias 1 moves only its output.
  set->value(set->entry("transform._transforms.2.transform_net.final_layer.bias").slot).fill_(1.0f);
  set->value(set->entry("transform._transforms.2.transform_net.final_layer.weight").slot).zero_();
  EXPECT_EQ(second.forward(x, c).to_vector(), std::vector<float>(6, 1.0f));
  EXPECT_NE(first.forward(x, c).to_vector(), std::vector<float>(6, 1.0f));
}

// nflows ResidualNet, naively in double from spec §1.4 (independent of host/nn).
std::vector<double> reference_forward(const ParameterSet& ps, const ResidualNetOptions& o,
                                      const std::vector<float>& x, const std::vector<float>& c,
                                      int64_t B) {
  const int64_t I = o.in_features, C = o.context_features, H = o.hidden_features;
  auto linear = [&](const std::string& name, const std::vector<double>& in, int64_t nin) {
    const std::vector<float> w = ps.value(ps.entry(name + ".weight").slot).to_vector();
    const std::vector<float> b = ps.value(ps.entry(name + ".bias").slot).to_vector();
    const int64_t nout = static_cast<int64_t>(b.size());
    std::vector<double> out(B * nout);
    for (int64_t i = 0; i < B; ++i)
      for (int64_t o2 = 0; o2 < nout; ++o2) {
        double s = b[o2];
        for (int64_t k = 0; k < nin; ++k) s += double(w[o2 * nin + k]) * in[i * nin + k];
        out[i * nout + o2] = s;
      }
    return out;
  };
  std::vector<double> xc(B * (I + C)), ctx(c.begin(), c.end());
  for (int64_t i = 0; i < B; ++i) {
    for (int64_t k = 0; k < I; ++k) xc[i * (I + C) + k] = x[i * I + k];
    for (int64_t k = 0; k < C; ++k) xc[i * (I + C) + I + k] = c[i * C + k];
  }
  std::vector<double> h = linear("initial_layer", xc, I + C);
  auto relu = [](std::vector<double> v) {
    for (double& e : v) e = e > 0 ? e : 0;
    return v;
  };
  for (int64_t k = 0; k < o.num_blocks; ++k) {
    const std::string b = "blocks." + std::to_string(k) + ".";
    std::vector<double> t =
        linear(b + "linear_layers.1", relu(linear(b + "linear_layers.0", relu(h), H)), H);
    if (C > 0) {
      const std::vector<double> g = linear(b + "context_layer", ctx, C);
      for (size_t e = 0; e < t.size(); ++e) t[e] *= 1.0 / (1.0 + std::exp(-g[e]));
    }
    for (size_t e = 0; e < t.size(); ++e) h[e] += t[e];
  }
  return linear("final_layer", h, H);
}

TEST(ResidualNet, ForwardMatchesNaiveReference) {
  for (const ResidualNetOptions& o :
       {ResidualNetOptions{3, 4, 8, 2, 2}, ResidualNetOptions{1, 3, 5, 0, 1},
        ResidualNetOptions{2, 2, 6, 3, 3}}) {
    Generator gen(11);
    ResidualNet net(o, Device::cpu(), &gen);
    // Larger block weights than nflows' 1e-3 init so that the blocks matter in the output.
    net.parameters().copy_(uniform({net.parameters().numel()}, -0.6f, 0.6f, Device::cpu(), &gen));
    const int64_t B = 9;
    const Tensor x = randn({B, o.in_features}, Device::cpu(), &gen);
    const Tensor c =
        o.context_features ? randn({B, o.context_features}, Device::cpu(), &gen) : Tensor();
    const std::vector<double> ref =
        reference_forward(net.parameter_set(), o, x.to_vector(),
                          c.defined() ? c.to_vector() : std::vector<float>{}, B);
    const std::vector<float> out = net.forward(x, c).to_vector();
    ASSERT_EQ(out.size(), ref.size());
    // float32 evaluation of O(1) values through <= 4 layers of width <= 8: a few ulp each.
    for (size_t e = 0; e < out.size(); ++e)
      EXPECT_NEAR(out[e], ref[e], 1e-5 * (1 + std::fabs(ref[e])));
  }
}

TEST(Linear, ForwardAndBackwardByHand) {
  ParameterSet ps;
  Linear lin(ps, "lin", 2, 3);
  EXPECT_FLOAT_EQ(ps.entry("lin.weight").init_bound, 1.0f / std::sqrt(2.0f));
  Generator gen(0);
  ps.materialize(Device::cpu(), gen);
  ps.values().copy_(Tensor::from({1, 2, 3, 4, 5, 6, 0.5f, -1, 2}, {9}, Device::cpu()));
  const Tensor x = Tensor::from({1, -1, 2, 0}, {2, 2}, Device::cpu());
  Tensor y = Tensor::empty({2, 3}, Device::cpu());
  lin.forward(ps, x, y);
  // W = [[1,2],[3,4],[5,6]], b = [0.5,-1,2]
  EXPECT_EQ(y.to_vector(), std::vector<float>({-0.5f, -2, 1, 2.5f, 5, 12}));
  const Tensor dy = Tensor::from({1, 0, 2, -1, 1, 0}, {2, 3}, Device::cpu());
  Tensor dx = Tensor::full({2, 2}, 100.0f, Device::cpu());
  lin.backward(ps, x, dy, &dx);
  // dx = dy W overwrites; dW = dy^T x; db = column sums of dy.
  EXPECT_EQ(dx.to_vector(), std::vector<float>({11, 14, 2, 2}));
  EXPECT_EQ(ps.grads().to_vector(), std::vector<float>({-1, -1, 2, 0, 2, -2, 0, 1, 2}));
  lin.backward(ps, x, dy, &dx, /*accumulate_dx=*/true);
  EXPECT_EQ(dx.to_vector(), std::vector<float>({22, 28, 4, 4}));
  EXPECT_EQ(ps.grads().to_vector(), std::vector<float>({-2, -2, 4, 0, 4, -4, 0, 2, 4}));
}

TEST(Relu, ForwardAndBackwardIncludingZero) {
  const Tensor x = Tensor::from({-1, 0, 2, -0.0f, 3}, {5}, Device::cpu());
  Tensor y = Tensor::empty({5}, Device::cpu()), dx = Tensor::empty({5}, Device::cpu());
  relu_forward(x, y);
  EXPECT_EQ(y.to_vector(), std::vector<float>({0, 0, 2, 0, 3}));
  relu_backward(x, Tensor::full({5}, 7.0f, Device::cpu()), dx);
  // torch's threshold_backward: the gradient at exactly 0 is 0.
  EXPECT_EQ(dx.to_vector(), std::vector<float>({0, 0, 7, 0, 7}));
}

}  // namespace
}  // namespace cusbi
