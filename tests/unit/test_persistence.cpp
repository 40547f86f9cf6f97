// Model files (cusbi/persistence.hpp): a saved flow or posterior loads back with the same
// architecture, weights, prior and default x, and gives the same densities; the tensors are
// sbi's state_dict; a file that is missing, foreign, truncated, damaged or from a newer format
// version is refused with a message naming the file and the problem.
#include <filesystem>
#include <fstream>

#include "cusbi/cusbi.hpp"
#include "support/test_support.hpp"

namespace cusbi::testing {
namespace {

namespace fs = std::filesystem;

// A scratch folder per test, removed afterwards.
class Persistence : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cusbi_persistence_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path file(const std::string& name) const { return dir_ / name; }
  fs::path dir_;
};

// A small untrained flow with non-trivial z-scoring and random weights (D, C given).
NeuralSplineFlow small_flow(int64_t D, int64_t C, uint64_t seed, NsfOptions o = {}) {
  o.hidden_features = 12;
  o.num_transforms = 2;
  o.num_bins = 4;
  Generator g(seed);
  const Tensor theta = randn({64, D}, Device::cpu(), &g) * 2.0f + 1.0f;
  const Tensor x = randn({64, C}, Device::cpu(), &g) * 0.5f - 3.0f;
  return build_nsf(theta, x, o, &g);
}

std::vector<float> log_probs(NeuralSplineFlow& flow, uint64_t seed) {
  Generator g(seed);
  const Tensor theta = randn({16, flow.input_features()}, Device::cpu(), &g) * 2.0f + 1.0f;
  const Tensor x = randn({16, flow.condition_features()}, Device::cpu(), &g) * 0.5f - 3.0f;
  return flow.log_prob(theta, x).to_vector();
}

// The input z-score is stored as sbi stores it (shift = -mean/std, scale = 1/std) and recovered
// in double, which can move std and mean by an ulp; a density then moves by a few float ulps of
// its terms (|log q| ~ 10 here), far below any real difference (a changed weight moves it by
// > 1e-3).
constexpr double kRoundTripAtol = 1e-5, kRoundTripRtol = 1e-5;

TEST_F(Persistence, FlowRoundTripKeepsArchitectureWeightsAndDensities) {
  for (const int64_t D : {1, 3}) {
    NsfOptions o;
    o.num_blocks = 1;
    NeuralSplineFlow flow = small_flow(D, 2, 7 + D, o);
    save(flow, file("flow.safetensors"));
    NeuralSplineFlow loaded = load_nsf(file("flow.safetensors"), Device::cpu());
    EXPECT_EQ(loaded.input_features(), D);
    EXPECT_EQ(loaded.condition_features(), 2);
    EXPECT_EQ(loaded.options().hidden_features, 12);
    EXPECT_EQ(loaded.options().num_transforms, 2);
    EXPECT_EQ(loaded.options().num_bins, 4);
    EXPECT_EQ(loaded.options().num_blocks, 1);
    EXPECT_EQ(loaded.parameters().to_vector(), flow.parameters().to_vector());  // bit-exact
    EXPECT_TRUE(all_close(log_probs(loaded, 3), log_probs(flow, 3), kRoundTripAtol,
                          kRoundTripRtol));
    const ModelFileInfo info = inspect_model(file("flow.safetensors"));
    EXPECT_EQ(info.kind, "neural_spline_flow");
    EXPECT_EQ(info.format_version, kModelFormatVersion);
    EXPECT_TRUE(info.prior_json.empty());
  }
}

TEST_F(Persistence, StructuredAndNoZScoringRoundTrip) {
  NsfOptions o;
  o.z_score_input = ZScore::Structured;
  o.z_score_condition = ZScore::None;
  NeuralSplineFlow flow = small_flow(2, 3, 11, o);
  save(flow, file("flow.safetensors"));
  NeuralSplineFlow loaded = load_nsf(file("flow.safetensors"), Device::cpu());
  EXPECT_EQ(loaded.options().z_score_input, ZScore::Structured);
  EXPECT_EQ(loaded.options().z_score_condition, ZScore::None);
  EXPECT_TRUE(all_close(log_probs(loaded, 5), log_probs(flow, 5), kRoundTripAtol,
                        kRoundTripRtol));
}

TEST_F(Persistence, TensorsAreSbisStateDict) {
  NeuralSplineFlow flow = small_flow(3, 2, 13);
  save(flow, file("flow.safetensors"));
  const auto tensors = load_safetensors(file("flow.safetensors"));
  const auto expected = sbi_state_dict(flow);
  ASSERT_EQ(tensors.size(), expected.size());  // nothing but the state_dict in a flow file
  for (const auto& [name, t] : expected) {
    ASSERT_TRUE(tensors.count(name)) << name;
    EXPECT_EQ(tensors.at(name).shape(), t.shape()) << name;
  }
  // sbi's PointwiseAffineTransform stores scale = 1/std.
  const auto scale = tensors.at("net._transform._transforms.0._scale").to_vector();
  const auto std = flow.input_zscore().std().to_vector();
  for (size_t d = 0; d < std.size(); ++d) EXPECT_NEAR(scale[d], 1.0 / std[d], 1e-6 / std[d]);
}

TEST_F(Persistence, PosteriorRoundTripKeepsPriorAndDefaultX) {
  auto flow = std::make_shared<NeuralSplineFlow>(small_flow(2, 2, 17));
  DirectPosterior posterior(flow, BoxUniform({-3.0f, -2.0f}, {3.0f, 4.0f}, Device::cpu()));
  posterior.set_default_x(Tensor::from({0.5f, -1.0f}, {2}, Device::cpu()));
  save(posterior, file("posterior.safetensors"));
  DirectPosterior loaded = load_direct_posterior(file("posterior.safetensors"), Device::cpu());
  const auto* box = dynamic_cast<const BoxUniform*>(&loaded.prior());
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(box->low().to_vector(), std::vector<float>({-3.0f, -2.0f}));
  EXPECT_EQ(box->high().to_vector(), std::vector<float>({3.0f, 4.0f}));
  EXPECT_EQ(loaded.default_x().to_vector(), std::vector<float>({0.5f, -1.0f}));
  EXPECT_EQ(loaded.estimator().parameters().to_vector(), flow->parameters().to_vector());
  // Unnormalised densities agree (the leakage factor is a Monte Carlo estimate, not saved).
  LogProbOptions raw;
  raw.norm_posterior = false;
  const Tensor theta = Tensor::from({0.1f, 0.2f, -2.5f, 3.9f, 2.9f, -1.9f}, {3, 2}, Device::cpu());
  EXPECT_TRUE(all_close(loaded.log_prob(theta, Tensor(), raw).to_vector(),
                        posterior.log_prob(theta, Tensor(), raw).to_vector(), kRoundTripAtol,
                        kRoundTripRtol));
  EXPECT_EQ(inspect_model(file("posterior.safetensors")).kind, "direct_posterior");
}

TEST_F(Persistence, GaussianPriorRoundTrip) {
  auto flow = std::make_shared<NeuralSplineFlow>(small_flow(2, 2, 19));
  const Tensor cov = Tensor::from({2.0f, 0.5f, 0.5f, 1.0f}, {2, 2}, Device::cpu());
  DirectPosterior posterior(flow,
                            MultivariateNormal(Tensor::from({1.0f, -1.0f}, {2}, Device::cpu()), cov));
  save(posterior, file("posterior.safetensors"));
  DirectPosterior loaded = load_direct_posterior(file("posterior.safetensors"), Device::cpu());
  const auto* normal = dynamic_cast<const MultivariateNormal*>(&loaded.prior());
  ASSERT_NE(normal, nullptr);
  EXPECT_EQ(normal->covariance().to_vector(), cov.to_vector());
  EXPECT_FALSE(loaded.default_x().defined());
}

TEST_F(Persistence, SavingOverAnExistingFileReplacesIt) {
  NeuralSplineFlow a = small_flow(2, 2, 23), b = small_flow(2, 2, 29);
  save(a, file("m.safetensors"));
  save(b, file("m.safetensors"));
  EXPECT_EQ(load_nsf(file("m.safetensors"), Device::cpu()).parameters().to_vector(),
            b.parameters().to_vector());
  for (const auto& entry : fs::directory_iterator(dir_))  // no temporary file left behind
    EXPECT_EQ(entry.path().filename(), "m.safetensors");
}

TEST_F(Persistence, RefusesFilesThatAreNotCusbiModels) {
  const fs::path missing = file("missing.safetensors");
  EXPECT_TRUE(contains(error_of([&] { load_nsf(missing, Device::cpu()); }), "missing.safetensors"));

  save_safetensors(file("plain.safetensors"), {{"w", Tensor::ones({2}, Device::cpu())}});
  EXPECT_TRUE(contains(error_of([&] { load_nsf(file("plain.safetensors"), Device::cpu()); }),
                       "is not a cusbi model file"));

  std::ofstream(file("text.safetensors")) << "hello, not a model";
  EXPECT_NE(error_of([&] { load_nsf(file("text.safetensors"), Device::cpu()); }), "");

  save_safetensors(file("export.safetensors"), {{"w", Tensor::ones({2}, Device::cpu())}},
                   {{"format", "cusbi.sbi_nsf"}});
  EXPECT_TRUE(contains(error_of([&] { load_nsf(file("export.safetensors"), Device::cpu()); }),
                       "load_sbi_nsf"));
}

TEST_F(Persistence, RefusesTruncatedFiles) {
  NeuralSplineFlow flow = small_flow(2, 2, 31);
  save(flow, file("m.safetensors"));
  const auto size = fs::file_size(file("m.safetensors"));
  fs::resize_file(file("m.safetensors"), size - 100);
  EXPECT_TRUE(contains(error_of([&] { load_nsf(file("m.safetensors"), Device::cpu()); }),
                       "m.safetensors"));
}

TEST_F(Persistence, RefusesNewerFormatVersionsAndWrongKinds) {
  NeuralSplineFlow flow = small_flow(2, 2, 37);
  save(flow, file("m.safetensors"));
  auto meta = load_safetensors_metadata(file("m.safetensors"));
  const auto tensors = load_safetensors(file("m.safetensors"));

  meta["format_version"] = std::to_string(kModelFormatVersion + 1);
  save_safetensors(file("newer.safetensors"), tensors, meta);
  const std::string newer = error_of([&] { load_nsf(file("newer.safetensors"), Device::cpu()); });
  EXPECT_TRUE(contains(newer, "newer cusbi"));
  EXPECT_TRUE(contains(newer, "upgrade"));

  EXPECT_TRUE(contains(
      error_of([&] { load_direct_posterior(file("m.safetensors"), Device::cpu()); }),
      "without a prior"));

  meta["format_version"] = "1";
  meta["estimator"] = R"({"type": "nsf", "input_features": 2})";
  save_safetensors(file("damaged.safetensors"), tensors, meta);
  EXPECT_TRUE(contains(error_of([&] { load_nsf(file("damaged.safetensors"), Device::cpu()); }),
                       "damaged"));
}

TEST_F(Persistence, RefusesEstimatorTensorsThatDoNotMatchTheMetadata) {
  NeuralSplineFlow flow = small_flow(2, 2, 41);
  save(flow, file("m.safetensors"));
  const auto meta = load_safetensors_metadata(file("m.safetensors"));
  auto tensors = load_safetensors(file("m.safetensors"));
  tensors.erase(tensors.begin());  // one state_dict entry gone
  save_safetensors(file("bad.safetensors"), tensors, meta);
  EXPECT_TRUE(contains(error_of([&] { load_nsf(file("bad.safetensors"), Device::cpu()); }),
                       "do not match its metadata"));
}

TEST_F(Persistence, LoadsOntoTheGpu) {
  CUSBI_REQUIRE_GPU();
  NeuralSplineFlow flow = small_flow(2, 2, 43);
  save(flow, file("m.safetensors"));
  NeuralSplineFlow loaded = load_nsf(file("m.safetensors"), Device::cuda(0));
  EXPECT_TRUE(loaded.device().is_cuda());
  EXPECT_EQ(loaded.parameters().to_vector(), flow.parameters().to_vector());
}

}  // namespace
}  // namespace cusbi::testing
