// load_sbi_classifier / sbi_state_dict(RatioClassifier): sbi's ratio classifiers, exported by
// tools/export_sbi_classifier.py, load into cusbi and give sbi's logits; what cusbi writes back
// (and saves) is exactly sbi's state_dict; wrong architectures are refused naming every
// mismatch and what the file looks like. Data: tests/data/io/sbi_classifier_*.safetensors
// (tools/make_classifier_io_fixtures.py: exports, and sbi's logits in sbi_classifier_checks).
#include <filesystem>
#include <set>

#include "cusbi/cusbi.hpp"
#include "support/test_support.hpp"

namespace cusbi::testing {
namespace {

using StateDict = std::map<std::string, Tensor>;
using Metadata = std::map<std::string, std::string>;

// Relative to the largest |logit|: sbi's float32 logits against cusbi's float32 chain of at most
// 4 layers of <= 8-term dot products, summed in another order; the z-score statistics are the
// same floats. The golden classifier tests (larger nets) argue 2e-5 from sbi's float32-vs-float64
// drift (<= 1.5e-6); a wrong weight, transpose or statistic moves logits by O(0.1) or more.
constexpr double kRel = 2e-5;

std::filesystem::path export_path(const std::string& kind) {
  return data_dir() / "io" / ("sbi_classifier_" + kind + ".safetensors");
}

StateDict exported(const std::string& kind, Metadata* meta = nullptr) {
  return load_safetensors(export_path(kind), Device::cpu(), meta);
}

Tensor check(const std::string& name) {
  static const StateDict checks =
      load_safetensors(data_dir() / "io" / "sbi_classifier_checks.safetensors", Device::cpu());
  return checks.at(name);
}

// The JSON list of strings in metadata state_dict_keys.
std::set<std::string> recorded_keys(const Metadata& meta) {
  std::set<std::string> out;
  const std::string& s = meta.at("state_dict_keys");
  for (size_t open = s.find('"'); open != std::string::npos; open = s.find('"', open + 1)) {
    const size_t close = s.find('"', open + 1);
    out.insert(s.substr(open + 1, close - open - 1));
    open = close;
  }
  return out;
}

std::set<std::string> keys_of(const StateDict& sd) {
  std::set<std::string> out;
  for (const auto& [k, v] : sd) out.insert(k);
  return out;
}

const char* const kKinds[] = {"resnet", "mlp", "linear"};

TEST(SbiClassifierInterop, LoadsSbisExportsAndReproducesSbisLogits) {
  for (const std::string kind : kKinds) {
    SCOPED_TRACE(kind);
    RatioClassifier clf = load_sbi_classifier(export_path(kind).string(), Device::cpu());
    EXPECT_EQ(clf.kind(), kind);
    const Tensor theta = check(kind + ".theta"), x = check(kind + ".x");
    EXPECT_EQ(clf.theta_features(), theta.size(1));
    EXPECT_EQ(clf.x_features(), x.size(1));
    const std::vector<float> want = check(kind + ".logits").to_vector();
    double scale = 0.0;
    for (float v : want) scale = std::max(scale, double(std::abs(v)));
    EXPECT_TRUE(all_close(clf.forward(theta, x).to_vector(), want, kRel * scale, 0.0));
  }
}

TEST(SbiClassifierInterop, ReadsKindSizesAndOptionsFromTheExport) {
  const RatioClassifier resnet = load_sbi_classifier(export_path("resnet").string(), Device::cpu());
  EXPECT_EQ(resnet.options().hidden_features, 8);
  EXPECT_EQ(resnet.options().num_blocks, 1);
  EXPECT_EQ(resnet.options().z_score_theta, "independent");
  EXPECT_EQ(resnet.options().z_score_x, "structured");
  // Structured: sbi's one 0-dim statistic for every feature.
  const StateDict sd = exported("resnet");
  EXPECT_EQ(resnet.x_zscore().std().to_vector(),
            std::vector<float>(3, sd.at("embedding_net_x.0._std").item()));
  const RatioClassifier linear = load_sbi_classifier(export_path("linear").string(), Device::cpu());
  EXPECT_FALSE(linear.theta_zscore().mean().defined());  // "none": Identity, no buffers
  EXPECT_FALSE(linear.x_zscore().mean().defined());
}

// Both ways: cusbi's state_dict of a loaded sbi classifier is sbi's, name for name and bit for
// bit, so a cusbi-saved file loads into sbi's builder with load_state_dict(strict=True).
TEST(SbiClassifierInterop, WritesBackExactlySbisStateDict) {
  for (const std::string kind : kKinds) {
    SCOPED_TRACE(kind);
    Metadata meta;
    const StateDict sd = exported(kind, &meta);
    EXPECT_EQ(keys_of(sd), recorded_keys(meta));
    const StateDict back =
        sbi_state_dict(load_sbi_classifier(export_path(kind).string(), Device::cpu()));
    ASSERT_EQ(keys_of(back), recorded_keys(meta));
    for (const auto& [name, t] : sd) {
      EXPECT_EQ(back.at(name).shape(), t.shape()) << name;
      EXPECT_EQ(back.at(name).to_vector(), t.to_vector()) << name;
    }
  }
}

TEST(SbiClassifierInterop, SavedFileHoldsExactlySbisKeys) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("cusbi_sbi_clf_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const std::string kind : kKinds) {
    SCOPED_TRACE(kind);
    Metadata meta;
    exported(kind, &meta);
    save(load_sbi_classifier(export_path(kind).string(), Device::cpu()), dir / "c.safetensors");
    EXPECT_EQ(keys_of(load_safetensors(dir / "c.safetensors")), recorded_keys(meta));
  }
  std::filesystem::remove_all(dir);
}

std::string load_error(const StateDict& sd, const std::string& kind, int64_t D, int64_t C,
                       const ClassifierOptions& o) {
  return error_of([&] { load_sbi_classifier(sd, kind, D, C, o, Device::cpu()); });
}

ClassifierOptions mlp_options() {  // the mlp export's
  ClassifierOptions o;
  o.hidden_features = 6;
  o.z_score_theta = "structured";
  o.z_score_x = "independent";
  return o;
}

TEST(SbiClassifierInterop, StateDictOverloadLoadsWithTheRightOptions) {
  RatioClassifier clf =
      load_sbi_classifier(exported("mlp"), "mlp", 3, 2, mlp_options(), Device::cpu());
  EXPECT_EQ(clf.forward(check("mlp.theta"), check("mlp.x")).to_vector(),
            load_sbi_classifier(export_path("mlp").string(), Device::cpu())
                .forward(check("mlp.theta"), check("mlp.x"))
                .to_vector());
}

TEST(SbiClassifierInterop, MismatchesAreListedWithWhatTheFileLooksLike) {
  StateDict sd = exported("mlp");
  sd.erase("net.6.bias");
  sd["net.7.weight"] = Tensor::ones({1}, Device::cpu());
  std::string msg = load_error(sd, "mlp", 3, 2, mlp_options());
  EXPECT_TRUE(contains(msg, "not the state_dict of sbi's build_mlp_classifier"));
  EXPECT_TRUE(contains(msg, "missing: net.6.bias"));
  EXPECT_TRUE(contains(msg, "unexpected: net.7.weight"));

  const StateDict good = exported("mlp");
  ClassifierOptions o = mlp_options();
  o.hidden_features = 50;
  msg = load_error(good, "mlp", 3, 2, o);
  EXPECT_TRUE(contains(msg, "wrong shape: net.0.weight (6, 5) (expected (50, 5))"));
  EXPECT_TRUE(contains(msg,
                       "the file looks like: z_score_theta structured, z_score_x "
                       "independent, kind mlp, theta + x features 5, hidden_features 6"));
  o = mlp_options();
  o.z_score_x = "none";  // the file has the x buffers
  EXPECT_TRUE(contains(load_error(good, "mlp", 3, 2, o), "unexpected: embedding_net_x.0._mean"));
  o = mlp_options();
  o.z_score_theta = "independent";  // sbi's structured buffers are 0-dim
  EXPECT_TRUE(contains(load_error(good, "mlp", 3, 2, o),
                       "wrong shape: embedding_net_theta.0._mean () (expected (3,))"));
  EXPECT_TRUE(contains(load_error(good, "resnet", 3, 2, mlp_options()),
                       "missing: net.initial_layer.weight"));
  EXPECT_TRUE(contains(load_error(good, "mlp", 2, 3, mlp_options()), "wrong shape"));
  EXPECT_TRUE(contains(load_error(good, "cnn", 3, 2, mlp_options()), "kind 'cnn'"));
  o = mlp_options();
  o.z_score_x = "transform_to_unconstrained";
  EXPECT_TRUE(contains(load_error(good, "mlp", 3, 2, o), "z_score_x"));
}

TEST(SbiClassifierInterop, NonPositiveStdIsRefused) {
  StateDict sd = exported("mlp");
  sd["embedding_net_x.0._std"].fill_(0.0f);
  EXPECT_TRUE(contains(load_error(sd, "mlp", 3, 2, mlp_options()), "std > 0"));
}

TEST(SbiClassifierInterop, FileWithoutExportMetadataIsRefused) {
  // A golden fixture holds an sbi classifier's state_dict but not the exporter's metadata.
  const std::string golden = (data_dir() / "golden" / "classifier_mlp_d3_c4.safetensors").string();
  EXPECT_TRUE(contains(error_of([&] { load_sbi_classifier(golden, Device::cpu()); }),
                       "tools/export_sbi_classifier.py"));
  EXPECT_TRUE(contains(error_of([&] { load_sbi_classifier(golden + ".absent", Device::cpu()); }),
                       "absent"));

  Metadata meta;
  const StateDict sd = exported("resnet", &meta);
  const auto dir =
      std::filesystem::temp_directory_path() / ("cusbi_sbi_clf_meta_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "c.safetensors").string();
  Metadata bad = meta;
  bad["hidden_features"] = "eight";
  save_safetensors(path, sd, bad);
  EXPECT_TRUE(contains(error_of([&] { load_sbi_classifier(path, Device::cpu()); }),
                       "'hidden_features' = 'eight' is not an integer"));
  bad = meta;
  bad["num_blocks"] = "2";  // disagrees with the tensors
  save_safetensors(path, sd, bad);
  EXPECT_TRUE(contains(error_of([&] { load_sbi_classifier(path, Device::cpu()); }),
                       "missing: net.blocks.1.linear_layers.0.weight"));
  bad = meta;
  bad.erase("z_score_x");
  save_safetensors(path, sd, bad);
  EXPECT_TRUE(contains(error_of([&] { load_sbi_classifier(path, Device::cpu()); }),
                       "no metadata 'z_score_x'"));
  std::filesystem::remove_all(dir);
}

TEST(SbiClassifierInterop, LoadsOntoTheGpu) {
  CUSBI_REQUIRE_GPU();
  RatioClassifier clf = load_sbi_classifier(export_path("resnet").string(), Device::cuda(0));
  EXPECT_TRUE(clf.device().is_cuda());
  const std::vector<float> want = check("resnet.logits").to_vector();
  double scale = 0.0;
  for (float v : want) scale = std::max(scale, double(std::abs(v)));
  EXPECT_TRUE(all_close(
      clf.forward(check("resnet.theta").to(Device::cuda(0)), check("resnet.x").to(Device::cuda(0)))
          .to_vector(),
      want, kRel * scale, 0.0));
}

}  // namespace
}  // namespace cusbi::testing
