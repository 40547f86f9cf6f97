// load_sbi_nsf's checks and bookkeeping: a state_dict that does not fit the asked architecture
// (missing, unexpected or mis-shaped names, other options) is refused with a message naming the
// names and what the file looks like; z-score statistics are recovered from sbi's buffers; the
// file overload reads tools/export_sbi_nsf.py's metadata. Data: tests/data/golden/nsf_*.
#include <filesystem>

#include "cusbi/flows.hpp"
#include "support/test_support.hpp"

namespace cusbi::testing {
namespace {

using StateDict = std::map<std::string, Tensor>;
const std::string kCoupling1 = "net._transform._transforms.1.transform_net.";

// The state_dict of a fixture (its "net." tensors) and its metadata.
StateDict state_dict(const std::string& fixture,
                     std::map<std::string, std::string>* meta = nullptr) {
  const auto all =
      load_safetensors(data_dir() / "golden" / (fixture + ".safetensors"), Device::cpu(), meta);
  StateDict sd;
  for (const auto& [name, t] : all)
    if (name.rfind("net.", 0) == 0) sd[name] = t.clone();
  return sd;
}

// nsf_d3_c2_k4: D 3, C 2, 3 transforms, hidden 16, K 4, one block, both z-scores independent.
NsfOptions d3_options() {
  NsfOptions o;
  o.hidden_features = 16;
  o.num_transforms = 3;
  o.num_bins = 4;
  o.num_blocks = 1;
  return o;
}

std::string load_error(const StateDict& sd, int64_t D, int64_t C, const NsfOptions& o) {
  return error_of([&] { load_sbi_nsf(sd, D, C, o, Device::cpu()); });
}

TEST(SbiInterop, LoadsAFittingStateDict) {
  const StateDict sd = state_dict("nsf_d3_c2_k4");
  const uint64_t offset_before = default_generator().offset();
  const NeuralSplineFlow flow = load_sbi_nsf(sd, 3, 2, d3_options(), Device::cpu());
  // The constructor's random init is thrown away, so it must not consume the user's stream.
  EXPECT_EQ(default_generator().offset(), offset_before);
  const ParameterSet& params = flow.parameter_set();
  for (const auto& e : params.entries()) {
    const std::string name = e.name.rfind("net.", 0) == 0 ? e.name : "net." + e.name;
    ASSERT_TRUE(sd.count(name)) << e.name;
    EXPECT_EQ(params.value(e.slot).to_vector(), sd.at(name).to_vector()) << e.name;  // copied
  }
}

TEST(SbiInterop, RecoversZScoreStatisticsFromSbisBuffers) {
  const StateDict sd = state_dict("nsf_d3_c2_k4");
  const NeuralSplineFlow flow = load_sbi_nsf(sd, 3, 2, d3_options(), Device::cpu());
  const auto shift = sd.at("net._transform._transforms.0._shift").to_vector();
  const auto scale = sd.at("net._transform._transforms.0._scale").to_vector();
  const auto mean = flow.input_zscore().mean().to_vector();
  const auto std = flow.input_zscore().std().to_vector();
  ASSERT_EQ(mean.size(), 3u);
  ASSERT_EQ(std.size(), 3u);
  for (int d = 0; d < 3; ++d) {
    // nflows stores scale = 1/std and shift = -mean/std; inverting in double and rounding to
    // float32 is exact to half an ulp, so 2 ulps (2.4e-7 relative) bound it.
    EXPECT_NEAR(std[d], 1.0 / scale[d], 2.4e-7 * std::fabs(1.0 / scale[d])) << d;
    EXPECT_NEAR(mean[d], -double(shift[d]) / scale[d], 2.4e-7 * std::fabs(shift[d] / scale[d]));
  }
  // The condition's Standardize buffers are the statistics themselves: copied exactly.
  EXPECT_EQ(flow.condition_zscore().mean().to_vector(),
            sd.at("net._embedding_net.0._mean").to_vector());
  EXPECT_EQ(flow.condition_zscore().std().to_vector(),
            sd.at("net._embedding_net.0._std").to_vector());
}

TEST(SbiInterop, StructuredStatisticsAreBroadcastToEveryFeature) {
  const StateDict sd = state_dict("nsf_d5_c2_k4");  // 0-dim _shift/_scale/_mean/_std
  NsfOptions o;
  o.hidden_features = 16, o.num_transforms = 3, o.num_bins = 4;
  o.z_score_input = o.z_score_condition = ZScore::Structured;
  const NeuralSplineFlow flow = load_sbi_nsf(sd, 5, 2, o, Device::cpu());
  const float std0 = flow.input_zscore().std().to_vector()[0];
  EXPECT_EQ(flow.input_zscore().std().to_vector(), std::vector<float>(5, std0));
  EXPECT_EQ(flow.condition_zscore().std().to_vector(),
            std::vector<float>(2, sd.at("net._embedding_net.0._std").item()));
}

TEST(SbiInterop, MissingNameIsListed) {
  StateDict sd = state_dict("nsf_d3_c2_k4");
  sd.erase(kCoupling1 + "final_layer.bias");
  const std::string msg = load_error(sd, 3, 2, d3_options());
  EXPECT_TRUE(contains(msg, "not the state_dict of an sbi NSF"));
  EXPECT_TRUE(contains(msg, "missing: " + kCoupling1 + "final_layer.bias"));
}

TEST(SbiInterop, UnexpectedNameIsListed) {
  StateDict sd = state_dict("nsf_d3_c2_k4");
  sd[kCoupling1 + "blocks.0.batch_norm_layers.0.weight"] = Tensor::ones({16}, Device::cpu());
  EXPECT_TRUE(contains(load_error(sd, 3, 2, d3_options()),
                       "unexpected: " + kCoupling1 + "blocks.0.batch_norm_layers.0.weight"));
}

TEST(SbiInterop, WrongShapeIsListedWithBothShapes) {
  StateDict sd = state_dict("nsf_d3_c2_k4");
  sd[kCoupling1 + "initial_layer.weight"] = Tensor::zeros({16, 5}, Device::cpu());
  EXPECT_TRUE(
      contains(load_error(sd, 3, 2, d3_options()),
               "wrong shape: " + kCoupling1 + "initial_layer.weight (16, 5) (expected (16, 3))"));
}

// Options that differ from the file's: the message shows what the file looks like, so the user
// sees which option to change.
TEST(SbiInterop, OtherOptionsAreRefusedNamingWhatTheFileHas) {
  const StateDict sd = state_dict("nsf_d3_c2_k4");
  NsfOptions o = d3_options();
  o.num_bins = 10;
  const std::string msg = load_error(sd, 3, 2, o);
  EXPECT_TRUE(contains(msg, "options that differ from the file: num_bins 10 (the file has 4)\n"));
  EXPECT_TRUE(contains(msg, "wrong shape: " + kCoupling1 + "final_layer.weight"));

  o = d3_options();
  o.hidden_features = 50;
  EXPECT_TRUE(contains(load_error(sd, 3, 2, o), "hidden_features 50 (the file has 16)"));
  o = d3_options();
  o.num_transforms = 4;
  EXPECT_TRUE(contains(load_error(sd, 3, 2, o), "missing: net._transform._transforms.7."));
  EXPECT_TRUE(contains(load_error(sd, 3, 2, o), "num_transforms 4 (the file has 3)"));
  o = d3_options();
  o.num_blocks = 2;
  EXPECT_TRUE(contains(load_error(sd, 3, 2, o), "missing: " + kCoupling1 + "blocks.1."));
  EXPECT_TRUE(contains(load_error(sd, 3, 2, o), "num_blocks 2 (the file has 1)"));
  o = d3_options();
  o.z_score_input = ZScore::None;  // the file has the input's z-scoring transform
  EXPECT_TRUE(contains(load_error(sd, 3, 2, o), "z_score_input none (the file has independent)"));
  o = d3_options();
  o.z_score_condition = ZScore::Structured;
  EXPECT_TRUE(
      contains(load_error(sd, 3, 2, o), "z_score_condition structured (the file has independent)"));
  EXPECT_TRUE(contains(load_error(sd, 3, 8, d3_options()), "C 8 (the file has 2)"));
  EXPECT_TRUE(contains(load_error(sd, 2, 2, d3_options()), "D 2 (the file has 3)"));
}

TEST(SbiInterop, TamperedMaskOrSharedLayerIsRefused) {
  StateDict sd = state_dict("nsf_d3_c2_k4");
  sd["net._transform._transforms.1.transform_features"] =
      Tensor::from({1, 0}, {2}, Device::cpu());  // sbi's layer 0 transforms [0, 2]
  EXPECT_TRUE(contains(load_error(sd, 3, 2, d3_options()), "alternating mask"));

  StateDict shared = state_dict("nsf_d1_c8_k4");  // ContextSplineMap with 2 shared hidden layers
  NsfOptions o;
  o.hidden_features = 16, o.num_transforms = 2, o.num_bins = 4, o.hidden_layers_spline_context = 2;
  EXPECT_NO_THROW(load_sbi_nsf(shared, 1, 8, o, Device::cpu()));
  shared["net._transform._transforms.1.transform_net.spline_predictor.4.bias"].fill_(0.5f);
  EXPECT_TRUE(contains(load_error(shared, 1, 8, o), "shares that Linear"));
}

TEST(SbiInterop, NonPositiveScaleIsRefused) {
  StateDict sd = state_dict("nsf_d3_c2_k4");
  sd["net._transform._transforms.0._scale"].fill_(0.0f);
  EXPECT_TRUE(contains(load_error(sd, 3, 2, d3_options()), "scale 1/std > 0"));
}

TEST(SbiInterop, FileWithoutExportMetadataIsRefused) {
  // A golden fixture holds a state_dict but not the exporter's "format" metadata.
  const std::string path = (data_dir() / "golden" / "nsf_d3_c2_k4.safetensors").string();
  EXPECT_TRUE(
      contains(error_of([&] { load_sbi_nsf(path, Device::cpu()); }), "tools/export_sbi_nsf.py"));
  EXPECT_TRUE(contains(error_of([&] { load_sbi_nsf(path + ".absent", Device::cpu()); }), "absent"));
}

TEST(SbiInterop, ExportMetadataIsCheckedAndUsed) {
  std::map<std::string, std::string> meta;
  const StateDict sd = state_dict("nsf_export_d5_c2_k4", &meta);
  const auto dir = std::filesystem::temp_directory_path() / "cusbi_test_sbi_interop";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "flow.safetensors").string();

  save_safetensors(path, sd, meta);  // as exported: loads with the file's own options
  const NeuralSplineFlow flow = load_sbi_nsf(path, Device::cpu());
  EXPECT_EQ(flow.options().z_score_input, ZScore::Structured);
  EXPECT_EQ(flow.options().num_transforms, 3);

  auto bad = meta;
  bad["num_bins"] = "ten";
  save_safetensors(path, sd, bad);
  EXPECT_TRUE(contains(error_of([&] { load_sbi_nsf(path, Device::cpu()); }),
                       "'num_bins' = 'ten' is not an integer"));
  bad = meta;
  bad["num_bins"] = "10";  // metadata that disagrees with the tensors
  save_safetensors(path, sd, bad);
  EXPECT_TRUE(contains(error_of([&] { load_sbi_nsf(path, Device::cpu()); }), "num_bins 4"));
  bad = meta;
  bad.erase("z_score_y");
  save_safetensors(path, sd, bad);
  EXPECT_TRUE(
      contains(error_of([&] { load_sbi_nsf(path, Device::cpu()); }), "no metadata 'z_score_y'"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cusbi::testing
