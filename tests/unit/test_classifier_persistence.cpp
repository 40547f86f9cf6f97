// Ratio classifier files (cusbi/persistence.hpp, kind "ratio_classifier"): every kind and
// z-score mode loads back with the same kind, sizes, options, z-scoring and weights and gives
// the same logits bit for bit, on the device asked for; the tensors are sbi's state_dict and
// nothing else; writes are atomic; foreign, truncated, newer, damaged or other-kind files are
// refused with a message naming the file and the loader to use.
#include <filesystem>
#include <fstream>

#include "cusbi/cusbi.hpp"
#include "support/test_support.hpp"

namespace cusbi::testing {
namespace {

namespace fs = std::filesystem;

class ClassifierPersistence : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cusbi_clf_persistence_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path file(const std::string& name) const { return dir_ / name; }
  fs::path dir_;
};

struct Case {
  std::string kind, z_theta, z_x;
};
// Every kind; every z-score mode on each side.
const Case kCases[] = {{"resnet", "independent", "structured"},
                       {"mlp", "structured", "none"},
                       {"linear", "none", "independent"},
                       {"resnet", "none", "none"}};

// A classifier with z-scoring far from identity and every weight perturbed (LayerNorm's 1/0
// init would otherwise not show a swapped weight and bias), on `device`.
RatioClassifier small_classifier(const Case& c, uint64_t seed, Device device = Device::cpu()) {
  Generator g(seed);
  const Tensor theta = randn({40, 3}, Device::cpu(), &g) * 2.0f + 1.0f;
  const Tensor x = randn({40, 2}, Device::cpu(), &g) * 0.5f - 3.0f;
  ClassifierOptions o;
  o.hidden_features = 7;
  o.num_blocks = 1;
  o.z_score_theta = c.z_theta;
  o.z_score_x = c.z_x;
  RatioClassifier clf = c.kind == "resnet" ? build_resnet_classifier(theta, x, o, &g)
                        : c.kind == "mlp"  ? build_mlp_classifier(theta, x, o, &g)
                                           : build_linear_classifier(theta, x, o, &g);
  const Tensor noise = randn({clf.parameters().numel()}, Device::cpu(), &g) * 0.1f;
  clf.parameters().copy_(clf.parameters().to(Device::cpu()) + noise);
  clf.to(device);
  return clf;
}

std::vector<float> logits(RatioClassifier& clf, uint64_t seed) {
  Generator g(seed);
  const Tensor theta = randn({9, 3}, Device::cpu(), &g) * 2.0f + 1.0f;
  const Tensor x = randn({9, 2}, Device::cpu(), &g) * 0.5f - 3.0f;
  return clf.forward(theta.to(clf.device()), x.to(clf.device())).to_vector();
}

void expect_same_zscore(const Standardize& a, const Standardize& b) {
  ASSERT_EQ(a.mean().defined(), b.mean().defined());
  if (!a.mean().defined()) return;
  EXPECT_EQ(a.mean().to_vector(), b.mean().to_vector());
  EXPECT_EQ(a.std().to_vector(), b.std().to_vector());
}

TEST_F(ClassifierPersistence, RoundTripOfEveryKindGivesTheSameLogitsBitForBit) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.kind + " " + c.z_theta + " " + c.z_x);
    RatioClassifier clf = small_classifier(c, 3);
    save(clf, file("clf.safetensors"));
    RatioClassifier loaded = load_ratio_classifier(file("clf.safetensors"), Device::cpu());
    EXPECT_EQ(loaded.kind(), c.kind);
    EXPECT_EQ(loaded.theta_features(), 3);
    EXPECT_EQ(loaded.x_features(), 2);
    EXPECT_EQ(loaded.options().hidden_features, 7);
    EXPECT_EQ(loaded.options().num_blocks, 1);
    EXPECT_EQ(loaded.options().z_score_theta, c.z_theta);
    EXPECT_EQ(loaded.options().z_score_x, c.z_x);
    EXPECT_TRUE(loaded.device().is_cpu());
    expect_same_zscore(loaded.theta_zscore(), clf.theta_zscore());
    expect_same_zscore(loaded.x_zscore(), clf.x_zscore());
    EXPECT_EQ(loaded.parameters().to_vector(), clf.parameters().to_vector());
    EXPECT_EQ(logits(loaded, 5), logits(clf, 5));  // same weights, statistics and program
    // Gradients are not saved: the loaded classifier starts from zero.
    for (float v : loaded.gradients().to_vector()) ASSERT_EQ(v, 0.0f);

    const ModelFileInfo info = inspect_model(file("clf.safetensors"));
    EXPECT_EQ(info.kind, "ratio_classifier");
    EXPECT_EQ(info.format_version, kModelFormatVersion);
    EXPECT_TRUE(contains(info.estimator_json, "\"classifier\":\"" + c.kind + "\""));
    EXPECT_TRUE(info.prior_json.empty());
  }
}

TEST_F(ClassifierPersistence, LoadedClassifierIsIndependentOfTheSavedOne) {
  RatioClassifier clf = small_classifier(kCases[0], 7);
  save(clf, file("clf.safetensors"));
  RatioClassifier loaded = load_ratio_classifier(file("clf.safetensors"), Device::cpu());
  const std::vector<float> before = loaded.parameters().to_vector();
  clf.parameters().fill_(0.0f);
  EXPECT_EQ(loaded.parameters().to_vector(), before);
}

TEST_F(ClassifierPersistence, TensorsAreExactlySbisStateDict) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.kind + " " + c.z_theta + " " + c.z_x);
    RatioClassifier clf = small_classifier(c, 11);
    save(clf, file("clf.safetensors"));
    const auto tensors = load_safetensors(file("clf.safetensors"));
    const auto expected = sbi_state_dict(clf);
    ASSERT_EQ(tensors.size(), expected.size());  // nothing but the state_dict
    for (const auto& [name, t] : expected) {
      ASSERT_TRUE(tensors.count(name)) << name;
      EXPECT_EQ(tensors.at(name).shape(), t.shape()) << name;
      EXPECT_EQ(tensors.at(name).to_vector(), t.to_vector()) << name;
    }
    // Every parameter under its own (sbi) name, plus two buffers per z-scored side: 0-dim for
    // "structured", as sbi's Standardize holds them.
    const size_t buffers = 2 * ((c.z_theta != "none") + (c.z_x != "none"));
    EXPECT_EQ(tensors.size(), clf.parameter_set().entries().size() + buffers);
    for (const auto& e : clf.parameter_set().entries()) EXPECT_TRUE(tensors.count(e.name));
    const auto side = [&](const std::string& prefix, const std::string& mode, int64_t n) {
      if (mode == "none") {
        EXPECT_FALSE(tensors.count(prefix + "_mean"));
        return;
      }
      ASSERT_TRUE(tensors.count(prefix + "_std"));
      EXPECT_EQ(tensors.at(prefix + "_std").shape(), mode == "structured" ? Shape{} : Shape{n});
    };
    side("embedding_net_theta.0.", c.z_theta, 3);
    side("embedding_net_x.0.", c.z_x, 2);
  }
}

TEST_F(ClassifierPersistence, SavingOverAnExistingFileReplacesItAtomically) {
  RatioClassifier a = small_classifier(kCases[1], 13), b = small_classifier(kCases[1], 17);
  save(a, file("m.safetensors"));
  save(b, file("m.safetensors"));
  EXPECT_EQ(load_ratio_classifier(file("m.safetensors"), Device::cpu()).parameters().to_vector(),
            b.parameters().to_vector());
  for (const auto& entry : fs::directory_iterator(dir_))  // no temporary file left behind
    EXPECT_EQ(entry.path().filename(), "m.safetensors");
  // A failed write (the folder is missing) leaves nothing behind and names the path.
  EXPECT_TRUE(contains(error_of([&] { save(a, file("absent") / "m.safetensors"); }), "absent"));
  EXPECT_FALSE(fs::exists(file("absent")));
}

TEST_F(ClassifierPersistence, RefusesFilesThatAreNotCusbiClassifiers) {
  EXPECT_TRUE(
      contains(error_of([&] { load_ratio_classifier(file("missing.safetensors"), Device::cpu()); }),
               "missing.safetensors"));
  save_safetensors(file("plain.safetensors"), {{"w", Tensor::ones({2}, Device::cpu())}});
  EXPECT_TRUE(
      contains(error_of([&] { load_ratio_classifier(file("plain.safetensors"), Device::cpu()); }),
               "is not a cusbi model file"));
  std::ofstream(file("text.safetensors")) << "hello, not a model";
  EXPECT_NE(error_of([&] { load_ratio_classifier(file("text.safetensors"), Device::cpu()); }), "");
  // An sbi export is pointed to its own loader.
  const fs::path sbi_export = data_dir() / "io" / "sbi_classifier_mlp.safetensors";
  EXPECT_TRUE(contains(error_of([&] { load_ratio_classifier(sbi_export, Device::cpu()); }),
                       "load_sbi_classifier"));
}

TEST_F(ClassifierPersistence, RefusesTruncatedFiles) {
  save(small_classifier(kCases[0], 19), file("m.safetensors"));
  fs::resize_file(file("m.safetensors"), fs::file_size(file("m.safetensors")) - 64);
  EXPECT_TRUE(
      contains(error_of([&] { load_ratio_classifier(file("m.safetensors"), Device::cpu()); }),
               "m.safetensors"));
}

TEST_F(ClassifierPersistence, RefusesNewerVersionsDamagedMetadataAndMismatchedTensors) {
  save(small_classifier(kCases[0], 23), file("m.safetensors"));
  auto meta = load_safetensors_metadata(file("m.safetensors"));
  auto tensors = load_safetensors(file("m.safetensors"));

  auto newer = meta;
  newer["format_version"] = std::to_string(kModelFormatVersion + 1);
  save_safetensors(file("newer.safetensors"), tensors, newer);
  const std::string msg =
      error_of([&] { load_ratio_classifier(file("newer.safetensors"), Device::cpu()); });
  EXPECT_TRUE(contains(msg, "newer cusbi"));
  EXPECT_TRUE(contains(msg, "upgrade"));

  auto damaged = meta;
  damaged["estimator"] = R"({"type": "ratio_classifier", "classifier": "resnet"})";
  save_safetensors(file("damaged.safetensors"), tensors, damaged);
  EXPECT_TRUE(
      contains(error_of([&] { load_ratio_classifier(file("damaged.safetensors"), Device::cpu()); }),
               "damaged"));

  auto other = meta;  // the metadata says mlp, the tensors are a resnet's
  other["estimator"].replace(other["estimator"].find("resnet"), 6, "mlp");
  save_safetensors(file("other.safetensors"), tensors, other);
  const std::string mismatch =
      error_of([&] { load_ratio_classifier(file("other.safetensors"), Device::cpu()); });
  EXPECT_TRUE(contains(mismatch, "do not match its metadata"));
  EXPECT_TRUE(contains(mismatch, "kind resnet"));  // what the file looks like

  tensors.erase("net.final_layer.bias");
  save_safetensors(file("bad.safetensors"), tensors, meta);
  const std::string missing =
      error_of([&] { load_ratio_classifier(file("bad.safetensors"), Device::cpu()); });
  EXPECT_TRUE(contains(missing, "do not match its metadata"));
  EXPECT_TRUE(contains(missing, "missing: net.final_layer.bias"));
}

TEST_F(ClassifierPersistence, EachLoaderRefusesTheOtherKindsNamingTheRightLoader) {
  save(small_classifier(kCases[2], 29), file("clf.safetensors"));
  save(small_flow(), file("flow.safetensors"));
  EXPECT_TRUE(contains(error_of([&] { load_nsf(file("clf.safetensors"), Device::cpu()); }),
                       "load it with load_ratio_classifier"));
  EXPECT_TRUE(
      contains(error_of([&] { load_direct_posterior(file("clf.safetensors"), Device::cpu()); }),
               "load it with load_ratio_classifier"));
  EXPECT_TRUE(
      contains(error_of([&] { load_ratio_classifier(file("flow.safetensors"), Device::cpu()); }),
               "load it with load_nsf"));
}

TEST_F(ClassifierPersistence, SavesFromAndLoadsOntoTheGpu) {
  CUSBI_REQUIRE_GPU();
  for (const Case& c : kCases) {
    RatioClassifier clf = small_classifier(c, 31, Device::cuda(0));
    save(clf, file("clf.safetensors"));
    RatioClassifier loaded = load_ratio_classifier(file("clf.safetensors"), Device::cuda(0));
    EXPECT_TRUE(loaded.device().is_cuda());
    EXPECT_EQ(loaded.parameters().to_vector(), clf.parameters().to_vector());
    EXPECT_EQ(logits(loaded, 5), logits(clf, 5));  // same device, same program
    RatioClassifier on_cpu = load_ratio_classifier(file("clf.safetensors"), Device::cpu());
    EXPECT_TRUE(on_cpu.device().is_cpu());
    EXPECT_EQ(on_cpu.parameters().to_vector(), clf.parameters().to_vector());
  }
}

}  // namespace
}  // namespace cusbi::testing
