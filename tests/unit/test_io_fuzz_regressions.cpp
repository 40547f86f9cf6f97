// Inputs that the file readers once mishandled (found by the fuzz targets in fuzz/ or while
// writing them; bench/RESULTS.md lists them): each must now be refused quickly with a
// cusbi::Error naming the problem. The files are made here from a valid one with one field
// damaged, so each test shows which field it is about.
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "cusbi/cusbi.hpp"
#include "support/test_support.hpp"

namespace cusbi::testing {
namespace {

namespace fs = std::filesystem;

class IoFuzzRegressions : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cusbi_fuzz_regressions_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path file(const std::string& name) const { return dir_ / name; }
  fs::path dir_;
};

// A tiny flow (D = 2, C = 2) and what save() writes for it.
NeuralSplineFlow tiny_flow() {
  Generator g(3);
  const NsfOptions o{.hidden_features = 4, .num_transforms = 1, .num_bins = 2, .num_blocks = 1};
  return build_nsf(randn({20, 2}, Device::cpu(), &g), randn({20, 2}, Device::cpu(), &g), o, &g);
}

// The metadata load_sbi_nsf(path) reads for tiny_flow(), as tools/export_sbi_nsf.py writes it.
std::map<std::string, std::string> sbi_export_metadata() {
  return {{"format", "cusbi.sbi_nsf"},
          {"format_version", "1"},
          {"input_features", "2"},
          {"condition_features", "2"},
          {"hidden_features", "4"},
          {"num_transforms", "1"},
          {"num_bins", "2"},
          {"num_blocks", "1"},
          {"hidden_layers_spline_context", "1"},
          {"tail_bound", "3.0"},
          {"z_score_x", "independent"},
          {"z_score_y", "independent"}};
}

TEST_F(IoFuzzRegressions, ValidSbiExportLoads) {
  // The baseline the damaged files below depart from: otherwise their errors could come from
  // a mistake in the fixture.
  save_safetensors(file("ok.safetensors"), sbi_state_dict(tiny_flow()), sbi_export_metadata());
  EXPECT_EQ(load_sbi_nsf(file("ok.safetensors").string(), Device::cpu()).input_features(), 2);
}

TEST_F(IoFuzzRegressions, SbiExportWithHugeSizesIsRefusedBeforeBuildingItsLayout) {
  // num_transforms = 10^12 made sbi_layout loop 10^12 times (a hang, then out of memory) before
  // any name or shape was compared; so did a huge input_features through its mask vectors.
  for (const auto& [key, value] :
       {std::pair<std::string, std::string>{"num_transforms", "1000000000000"},
        {"num_blocks", "1000000000000"},
        {"hidden_layers_spline_context", "1000000000000"},
        {"input_features", "1000000000000"}}) {
    SCOPED_TRACE(key);
    auto meta = sbi_export_metadata();
    meta[key] = value;
    save_safetensors(file("huge.safetensors"), sbi_state_dict(tiny_flow()), meta);
    const std::string message =
        error_of([&] { load_sbi_nsf(file("huge.safetensors").string(), Device::cpu()); });
    EXPECT_TRUE(contains(message, "is larger than a state_dict of"));
  }
}

// save()'s file for tiny_flow() with the estimator JSON replaced.
void save_with_estimator_json(const fs::path& path, const std::string& estimator_json) {
  save(tiny_flow(), path);
  std::map<std::string, std::string> meta;
  const auto tensors = load_safetensors(path, Device::cpu(), &meta);
  meta["estimator"] = estimator_json;
  save_safetensors(path, tensors, meta);
}

TEST_F(IoFuzzRegressions, EstimatorJsonWithOutOfRangeNumbersIsRefused) {
  // nlohmann's get<int64_t>() / get<float>() cast a JSON double with static_cast: 1e300 into
  // int64_t or float is undefined behaviour (UBSan: float-cast-overflow).
  const std::string valid =
      R"({"input_features":2,"condition_features":2,"hidden_features":4,"num_transforms":1,)"
      R"("num_bins":2,"tail_bound":3.0,"num_blocks":1,"hidden_layers_spline_context":1,)"
      R"("z_score_input":"independent","z_score_condition":"independent"})";
  save_with_estimator_json(file("ok.safetensors"), valid);
  EXPECT_EQ(load_nsf(file("ok.safetensors"), Device::cpu()).input_features(), 2);
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{R"("input_features":2)", R"("input_features":1e300)"},
        {R"("num_bins":2)", R"("num_bins":-1e300)"},
        {R"("hidden_features":4)", R"("hidden_features":4.5)"},
        {R"("tail_bound":3.0)", R"("tail_bound":1e300)"}}) {
    SCOPED_TRACE(to);
    std::string damaged = valid;
    damaged.replace(damaged.find(from), from.size(), to);
    save_with_estimator_json(file("bad.safetensors"), damaged);
    const std::string message = error_of([&] { load_nsf(file("bad.safetensors"), Device::cpu()); });
    EXPECT_TRUE(contains(message, "metadata 'estimator' is invalid"));
  }
}

// Every seed of the fuzz corpus (fuzz/corpus/<target>/, found from this source file's path;
// skipped when the build folder was carried away from the sources) through every reader the fuzz
// targets call: each is read or refused with a cusbi::Error (any other exception fails the
// test). This runs in every build, so the seeds are checked where the fuzz targets are not
// built; CI's clang sanitizer build also fuzzes from them (scripts/fuzz.sh).
TEST(IoFuzzCorpus, SeedsAreReadOrRefusedWithCusbiError) {
  // __FILE__ is relative to the build folder (the compiler's working directory) when ccache's
  // base_dir rewrote it; the test binary sits in <build>/tests/.
  fs::path source = __FILE__;
  if (source.is_relative())
    source = fs::canonical("/proc/self/exe").parent_path().parent_path() / source;
  const fs::path corpus = source.parent_path() / ".." / ".." / "fuzz" / "corpus";
  if (!fs::is_directory(corpus)) GTEST_SKIP() << "no fuzz corpus at " << corpus;
  const auto either = [](auto&& read) {
    try {
      read();
      return 1;
    } catch (const Error&) {
      return 0;
    }
  };
  int files = 0, loaded = 0;
  for (const auto& entry : fs::recursive_directory_iterator(corpus)) {
    if (!entry.is_regular_file()) continue;
    const fs::path& path = entry.path();
    SCOPED_TRACE(path.string());
    ++files;
    loaded += either([&] { load_safetensors(path, Device::cpu()); });
    either([&] { load_safetensors_metadata(path); });
    either([&] { inspect_model(path); });
    loaded += either([&] { load_nsf(path, Device::cpu()); });
    loaded += either([&] { load_direct_posterior(path, Device::cpu()); });
    loaded += either([&] { load_sbi_nsf(path.string(), Device::cpu()); });
  }
  // The committed seeds: 13 files, each a valid safetensors file, 5 of them cusbi models (3 of
  // them posteriors) and 3 sbi exports; fewer loads would mean a seed no longer reaches the
  // deep checks it was made for.
  EXPECT_GE(files, 13);
  EXPECT_GE(loaded, files + 5 + 3 + 3);
}

}  // namespace
}  // namespace cusbi::testing
