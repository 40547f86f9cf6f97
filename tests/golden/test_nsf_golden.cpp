// cusbi's NeuralSplineFlow, loaded with load_sbi_nsf from flows that sbi's own build_nsf made
// (tools/make_nsf_fixtures.py, nsf_*.safetensors: perturbed weights, non-trivial z-scoring),
// against sbi on the same weights and data: log_prob, loss, every parameter gradient, and the
// samples made from given base noise; on the CPU and, when one is visible, on the GPU.
#include "cusbi/flows.hpp"
#include "golden/golden_support.hpp"

namespace cusbi::golden {
namespace {

// Tolerances, relative to the compared tensor's largest magnitude (close_in_scale). Each fixture
// records how far torch's float32 result drifts from a float64 rerun on the same weights and data
// (metadata f32_vs_f64_<q>_max_rel; 1e-7 .. 1.3e-5 over these fixtures, the largest for
// gradients that pass through many spline bins). cusbi's float32 result carries rounding error
// of the same size but from other summation orders (Eigen/cuBLAS blocking, FMA, its own
// z-scoring as (x - mean) / std instead of x * scale + shift), so the two can differ by a few
// times torch's own drift: we allow kDriftFactor times it. The floor covers a quantity whose
// drift happened to be tiny on these few rows (a handful of float32 ulps of the scale, through
// up to 5 coupling layers). Real defects (a transposed weight, a wrong mask, a missing log|det|
// term, a wrong bin) move results by O(1e-2 .. 1) of the scale, far above either.
constexpr double kDriftFactor = 10.0;
constexpr double kFloor = 5e-6;

double tolerance(const Fixture& f, const std::string& quantity) {
  return std::max(kFloor, kDriftFactor * f.number("f32_vs_f64_" + quantity + "_max_rel"));
}

NsfOptions options_of(const Fixture& f) {
  const auto zscore = [&](const std::string& key) {
    const std::string v = f.raw(key);  // JSON string, e.g. "\"independent\""
    if (v.find("none") != std::string::npos) return ZScore::None;
    if (v.find("structured") != std::string::npos) return ZScore::Structured;
    return ZScore::Independent;
  };
  NsfOptions o;
  o.hidden_features = f.integer("hidden_features");
  o.num_transforms = f.integer("num_transforms");
  o.num_bins = f.integer("num_bins");
  o.tail_bound = static_cast<float>(f.number("tail_bound"));
  o.num_blocks = f.integer("num_blocks");
  o.hidden_layers_spline_context = f.integer("hidden_layers_spline_context");
  o.z_score_input = zscore("z_score_x");
  o.z_score_condition = zscore("z_score_y");
  return o;
}

std::map<std::string, Tensor> state_dict_of(const Fixture& f) {
  std::map<std::string, Tensor> sd;
  for (const auto& [name, t] : f.tensors)
    if (name.rfind("net.", 0) == 0) sd[name] = t;
  return sd;
}

NeuralSplineFlow load(const Fixture& f, Device device) {
  return load_sbi_nsf(state_dict_of(f), f.integer("input_features"),
                      f.integer("condition_features"), options_of(f), device);
}

// The sbi name of a cusbi parameter (cusbi may drop the leading "net.").
std::string sbi_name(const std::string& name) {
  return name.rfind("net.", 0) == 0 ? name : "net." + name;
}

// Every comparison of one flow (on any device) against the fixture.
void expect_matches_sbi(const Fixture& f, NeuralSplineFlow& flow) {
  const Device dev = flow.device();
  const Tensor condition = f.at("condition").to(dev);
  EXPECT_TRUE(close_in_scale(flow.log_prob(f.at("input").to(dev), condition), f.at("log_prob"),
                             tolerance(f, "log_prob")))
      << "log_prob";

  flow.zero_grad();
  const Tensor loss = flow.loss(f.at("loss_input").to(dev), condition);
  EXPECT_TRUE(close_in_scale(loss, f.at("loss"), tolerance(f, "loss"))) << "loss";
  flow.backward(f.at("loss_weights").to(dev));  // d/dparams of sum(weights * loss)
  const ParameterSet& params = flow.parameter_set();
  for (const auto& e : params.entries())
    EXPECT_TRUE(
        close_in_scale(params.grad(e.slot), f.at("grad." + sbi_name(e.name)), tolerance(f, "grad")))
        << "gradient of " << e.name;

  EXPECT_TRUE(close_in_scale(flow.sample_from_noise(f.at("noise").to(dev), condition),
                             f.at("samples"), tolerance(f, "samples")))
      << "samples from the given base noise";
}

class NsfGolden : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { fixture_ = load_fixture(GetParam()); }
  Fixture fixture_;
};

// Same names, shapes and order as torch's named_parameters(): the flat buffer is torch.cat of
// the parameters, so a flat vector saved by either side means the same to the other.
TEST_P(NsfGolden, FlatParametersAreTorchsNamedParametersInOrder) {
  const NeuralSplineFlow flow = load(fixture_, Device::cpu());
  std::vector<std::string> names;
  for (const auto& e : flow.parameter_set().entries()) names.push_back(sbi_name(e.name));
  EXPECT_EQ(names, fixture_.strings("param_names"));
  const std::vector<float> flat = flow.parameters().to_vector();
  size_t at = 0;
  for (const std::string& name : fixture_.strings("param_names")) {
    const std::vector<float> torch_values = fixture_.at(name).to_vector();
    ASSERT_LE(at + torch_values.size(), flat.size()) << name;
    EXPECT_TRUE(std::equal(torch_values.begin(), torch_values.end(), flat.begin() + at)) << name;
    at += torch_values.size();
  }
  EXPECT_EQ(at, flat.size());
}

TEST_P(NsfGolden, CpuMatchesSbi) {
  NeuralSplineFlow flow = load(fixture_, Device::cpu());
  expect_matches_sbi(fixture_, flow);
}

TEST_P(NsfGolden, GpuMatchesSbi) {
  CUSBI_REQUIRE_GPU();
  NeuralSplineFlow flow = load(fixture_, Device::cuda());
  expect_matches_sbi(fixture_, flow);
}

// sample() draws from cusbi's own generator, so only the layout can be compared with sbi's
// estimator.sample((2, 3), condition): (*sample_shape, B, D), every value finite.
TEST_P(NsfGolden, SampleHasSbisShape) {
  NeuralSplineFlow flow = load(fixture_, Device::cpu());
  Generator gen(7);
  const Tensor s = flow.sample({2, 3}, fixture_.at("condition"), &gen);
  EXPECT_EQ(s.shape(), fixture_.at("sample_shape_check").shape());
  EXPECT_TRUE(all_finite(s));
}

INSTANTIATE_TEST_SUITE_P(Sbi, NsfGolden,
                         ::testing::Values("nsf_d1_c1_k10", "nsf_d1_c8_k4", "nsf_d2_c2_k10",
                                           "nsf_d2_c8_k4", "nsf_d3_c1_k10", "nsf_d3_c2_k4",
                                           "nsf_d5_c8_k10", "nsf_d5_c2_k4"),
                         [](const auto& info) { return info.param.substr(4); });

// A file written by tools/export_sbi_nsf.py carries its architecture: load_sbi_nsf(path) needs
// nothing else and gives the flow the fixture of the same case was made from.
class NsfExportGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(NsfExportGolden, ExportedFileLoadsWithItsOwnMetadata) {
  const Fixture f = load_fixture("nsf_" + GetParam());
  NeuralSplineFlow flow = load_sbi_nsf(
      (testing::data_dir() / "golden" / ("nsf_export_" + GetParam() + ".safetensors")).string(),
      Device::cpu());
  EXPECT_EQ(flow.input_features(), f.integer("input_features"));
  EXPECT_EQ(flow.condition_features(), f.integer("condition_features"));
  EXPECT_EQ(flow.options().num_bins, f.integer("num_bins"));
  EXPECT_EQ(flow.options().z_score_input, options_of(f).z_score_input);
  EXPECT_TRUE(close_in_scale(flow.log_prob(f.at("input"), f.at("condition")), f.at("log_prob"),
                             tolerance(f, "log_prob")));
}

INSTANTIATE_TEST_SUITE_P(Sbi, NsfExportGolden, ::testing::Values("d1_c8_k4", "d5_c2_k4"));

}  // namespace
}  // namespace cusbi::golden
