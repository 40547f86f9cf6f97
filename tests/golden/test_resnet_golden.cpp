// cusbi::ResidualNet on the CPU against nflows' ResidualNet (PyTorch, float32) on the same
// weights and inputs: parameter names and order, outputs, gradients w.r.t. inputs and context,
// and every parameter gradient. Fixtures: tools/make_golden_fixtures.py, resnet_*.safetensors.
#include "golden/golden_support.hpp"

namespace cusbi::golden {
namespace {

// Tolerance for every comparison below, relative to the compared tensor's largest magnitude.
// Each value is a chain of float32 dot products of at most 64 terms (hidden width) through at
// most 2 blocks; torch's own float32 result differs from a float64 rerun by <= 4.4e-7 of scale
// (fixture metadata f32_vs_f64_max_rel). cusbi sums in another order (Eigen blocking, FMA), so
// its error is of the same size but not the same sign: the two can differ by ~1e-6. 1e-5 leaves
// room for that and still fails any real defect (a missing bias, wrong gate, wrong transpose
// moves elements by O(1) of the scale).
constexpr double kRel = 1e-5;

class ResidualNetGolden : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    fixture_ = load_fixture(GetParam());
    net_ = std::make_unique<ResidualNet>(resnet_options(fixture_), Device::cpu());
  }

  bool has_context() const { return fixture_.integer("context_features") > 0; }
  Tensor context() const { return has_context() ? fixture_.at("context") : Tensor(); }

  Fixture fixture_;
  std::unique_ptr<ResidualNet> net_;
};

TEST_P(ResidualNetGolden, ParameterNamesShapesAndOrderMatchNflows) {
  const auto& entries = net_->parameter_set().entries();
  const std::vector<std::string> torch_names = fixture_.strings("param_names");
  std::vector<std::string> names;
  for (const auto& e : entries) names.push_back(e.name);
  // Same registration order => cusbi's flat buffer is torch.cat of named_parameters(), so a
  // flat vector saved by either side means the same thing to the other.
  EXPECT_EQ(names, torch_names);
  int64_t offset = 0;
  for (const auto& e : entries) {
    ASSERT_TRUE(fixture_.has(e.name)) << "torch has no parameter " << e.name;
    EXPECT_EQ(e.slot.shape, fixture_.at(e.name).shape()) << e.name;
    EXPECT_EQ(e.slot.offset, offset) << e.name << " is not contiguous after its predecessor";
    offset += e.slot.numel();
  }
  EXPECT_EQ(offset, net_->parameter_set().numel());
}

TEST_P(ResidualNetGolden, ForwardMatchesTorch) {
  load_by_name(fixture_, net_->parameter_set());
  const Tensor out = net_->forward(fixture_.at("inputs"), context());
  EXPECT_TRUE(close_in_scale(out, fixture_.at("outputs"), kRel));
}

// Forward + backward of `net` (weights loaded) on `device` against every torch gradient.
void expect_backward_matches(const Fixture& f, ResidualNet& net, Device device) {
  const bool has_context = f.integer("context_features") > 0;
  net.zero_grad();
  net.forward(f.at("inputs").to(device), has_context ? f.at("context").to(device) : Tensor());
  Tensor grad_context;
  const Tensor grad_inputs =
      net.backward(f.at("grad_output").to(device), has_context ? &grad_context : nullptr);
  EXPECT_TRUE(close_in_scale(grad_inputs, f.at("grad_inputs"), kRel)) << "grad inputs";
  if (has_context)
    EXPECT_TRUE(close_in_scale(grad_context, f.at("grad_context"), kRel)) << "grad context";
  for (const auto& e : net.parameter_set().entries())
    EXPECT_TRUE(close_in_scale(net.parameter_set().grad(e.slot), f.at("grad." + e.name), kRel))
        << "grad of " << e.name;
}

TEST_P(ResidualNetGolden, BackwardMatchesTorch) {
  load_by_name(fixture_, net_->parameter_set());
  expect_backward_matches(fixture_, *net_, Device::cpu());
}

// Same comparison on the GPU (cuBLAS in IEEE float32, no TF32), same tolerance: the rounding
// argument above does not depend on the summation order.
TEST_P(ResidualNetGolden, ForwardAndBackwardOnTheGpuMatchTorch) {
  CUSBI_REQUIRE_GPU();
  ResidualNet net(resnet_options(fixture_), Device::cuda());
  load_by_name(fixture_, net.parameter_set());
  const Tensor out = net.forward(fixture_.at("inputs").to(Device::cuda()),
                                 has_context() ? context().to(Device::cuda()) : Tensor());
  EXPECT_TRUE(out.device().is_cuda());
  EXPECT_TRUE(close_in_scale(out, fixture_.at("outputs"), kRel));
  expect_backward_matches(fixture_, net, Device::cuda());
}

// Gradients accumulate across backward calls (PyTorch semantics), and a second forward on the
// same net reuses its workspaces without changing results.
TEST_P(ResidualNetGolden, SecondPassAccumulatesParameterGradients) {
  load_by_name(fixture_, net_->parameter_set());
  net_->zero_grad();
  for (int pass = 0; pass < 2; ++pass) {
    net_->forward(fixture_.at("inputs"), context());
    net_->backward(fixture_.at("grad_output"));
  }
  // Twice the single-pass values up to the rounding of the accumulation (<= 1 ulp of scale).
  for (const auto& e : net_->parameter_set().entries())
    EXPECT_TRUE(close_in_scale(net_->parameter_set().grad(e.slot),
                               2.0f * fixture_.at("grad." + e.name), kRel))
        << "grad of " << e.name;
}

INSTANTIATE_TEST_SUITE_P(Nflows, ResidualNetGolden,
                         ::testing::Values("resnet_in1_out29_ctx2", "resnet_in3_out58_ctx8",
                                           "resnet_in2_out5_noctx"),
                         [](const auto& info) { return info.param.substr(7); });

}  // namespace
}  // namespace cusbi::golden
