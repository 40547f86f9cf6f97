// safetensors reader/writer: round trips, metadata, atomic overwrite, a file written by the
// Python `safetensors` package (tests/data/io, made by tools/make_io_fixtures.py), and one test per
// kind of damaged file, each checking that the error names the file and the problem.
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>

#include "host/io/atomic_file.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

namespace fs = std::filesystem;

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ =
        fs::temp_directory_path() / ("cusbi_st_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes a file by hand: 8-byte little-endian length, `header`, then `data`.
  fs::path write_raw(const std::string& name, const std::string& header,
                     const std::string& data = "") const {
    const fs::path path = dir_ / name;
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((header.size() >> (8 * i)) & 0xff));
    out << header << data;
    return path;
  }

  int files_in_dir() const {
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++n;
    return n;
  }

  fs::path dir_;
};

// Expects load_safetensors(path) to throw cusbi::Error mentioning the file and `phrase`.
::testing::AssertionResult fails_with(const fs::path& path, const std::string& phrase) {
  try {
    load_safetensors(path);
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.find(path.filename().string()) == std::string::npos)
      return ::testing::AssertionFailure() << "message does not name the file: " << msg;
    if (msg.find(phrase) == std::string::npos)
      return ::testing::AssertionFailure() << "message lacks '" << phrase << "': " << msg;
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no cusbi::Error for " << path;
}

std::string f32_bytes(std::initializer_list<float> values) {
  std::string s(values.size() * 4, '\0');
  std::memcpy(s.data(), std::data(values), s.size());
  return s;
}

TEST_F(SafetensorsTest, RoundTripKeepsShapesAndBitsExactly) {
  Generator gen(7);
  std::map<std::string, Tensor> tensors = {
      {"blocks.0.linear_layers.1.weight", randn({5, 3}, Device::cpu(), &gen)},
      {"bias", randn({5}, Device::cpu(), &gen)},
      {"cube", randn({2, 3, 4}, Device::cpu(), &gen)},
      {"scalar", Tensor::scalar(-0.0f, Device::cpu())},
      {"empty", Tensor::zeros({0, 3}, Device::cpu())},
      {"specials", Tensor::from({std::numeric_limits<float>::infinity(),
                                 std::numeric_limits<float>::quiet_NaN(), 1e-45f},
                                {3}, Device::cpu())},
  };
  const fs::path path = dir_ / "model.safetensors";
  save_safetensors(path, tensors);
  std::map<std::string, std::string> metadata = {{"stale", "x"}};
  const auto loaded = load_safetensors(path, Device::cpu(), &metadata);
  EXPECT_TRUE(metadata.empty());  // a file without metadata yields an empty map
  ASSERT_EQ(loaded.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    ASSERT_TRUE(loaded.count(name)) << name;
    const Tensor& u = loaded.at(name);
    EXPECT_EQ(u.shape(), t.shape()) << name;
    EXPECT_TRUE(u.device().is_cpu());
    const auto a = t.to_vector(), b = u.to_vector();
    ASSERT_EQ(a.size(), b.size());
    // Bitwise: saving is a copy, NaN payloads and the sign of zero included.
    // (memcmp of an empty vector's null data() is undefined even for 0 bytes: UBSan)
    EXPECT_TRUE(a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0)
        << name;
  }
  // The data section starts 8-byte aligned, as the reference writer pads it.
  std::ifstream in(path, std::ios::binary);
  uint64_t header_len = 0;
  in.read(reinterpret_cast<char*>(&header_len), 8);
  EXPECT_EQ((8 + header_len) % 8, 0u);
}

TEST_F(SafetensorsTest, MetadataRoundTrips) {
  const std::map<std::string, std::string> meta = {
      {"format", "cusbi"}, {"version", "1"}, {"json", "{\"a\": [1, 2]}"}, {"utf8", "θ → x"}};
  const fs::path path = dir_ / "m.safetensors";
  save_safetensors(path, {{"w", Tensor::ones({2}, Device::cpu())}}, meta);
  std::map<std::string, std::string> got;
  load_safetensors(path, Device::cpu(), &got);
  EXPECT_EQ(got, meta);
  EXPECT_EQ(load_safetensors_metadata(path), meta);
}

TEST_F(SafetensorsTest, OverwriteReplacesTheFileAndLeavesNoTemporary) {
  const fs::path path = dir_ / "w.safetensors";
  save_safetensors(path, {{"a", Tensor::full({100}, 1.0f, Device::cpu())}});
  save_safetensors(path, {{"b", Tensor::full({2}, 2.0f, Device::cpu())}});
  const auto loaded = load_safetensors(path);
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded.at("b").to_vector(), std::vector<float>(2, 2.0f));
  EXPECT_EQ(files_in_dir(), 1);
}

TEST_F(SafetensorsTest, UncommittedWriteLeavesTheOldFileIntact) {
  const fs::path path = dir_ / "w.safetensors";
  save_safetensors(path, {{"a", Tensor::full({3}, 1.0f, Device::cpu())}});
  {
    io::AtomicFile file(path);
    file.write("garbage", 7);
    // Mid-write, readers still see the complete old file.
    EXPECT_EQ(load_safetensors(path).at("a").to_vector(), std::vector<float>(3, 1.0f));
    EXPECT_TRUE(fs::exists(file.temporary_path()));
    EXPECT_EQ(file.temporary_path().parent_path(), path.parent_path());
  }  // destroyed without commit(), as when a save throws half-way
  EXPECT_EQ(load_safetensors(path).at("a").to_vector(), std::vector<float>(3, 1.0f));
  EXPECT_EQ(files_in_dir(), 1);
}

TEST_F(SafetensorsTest, SaveRejectsBadNamesUndefinedTensorsAndMissingFolders) {
  const Tensor t = Tensor::ones({1}, Device::cpu());
  EXPECT_THROW(save_safetensors(dir_ / "a.safetensors", {{"__metadata__", t}}), Error);
  EXPECT_THROW(save_safetensors(dir_ / "a.safetensors", {{"", t}}), Error);
  EXPECT_THROW(save_safetensors(dir_ / "a.safetensors", {{"w", Tensor()}}), Error);
  EXPECT_THROW(save_safetensors(dir_ / "no_such_folder" / "a.safetensors", {{"w", t}}), Error);
  EXPECT_EQ(files_in_dir(), 0);
}

TEST_F(SafetensorsTest, ReadsAFileWrittenByPythonSafetensors) {
  std::map<std::string, std::string> meta;
  const auto t = load_safetensors(testing::data_dir() / "io" / "python_written.safetensors",
                                  Device::cpu(), &meta);
  EXPECT_EQ(meta.at("format"), "pt");
  EXPECT_EQ(t.size(), 9u);
  // Exactly representable in every dtype, so every conversion must reproduce them exactly.
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> expected = {0.5f,    -1.25f,      3.0f, std::ldexp(1.0f, -20),
                                       1024.0f, -0.0078125f, 7.0f, inf};
  for (const char* name : {"f32", "f64", "f16", "bf16"}) {
    EXPECT_EQ(t.at(name).shape(), (Shape{2, 4})) << name;
    EXPECT_EQ(t.at(name).to_vector(), expected) << name;
  }
  EXPECT_EQ(t.at("i64").to_vector(), (std::vector<float>{-3, 0, 5, 1 << 20}));
  EXPECT_EQ(t.at("i32").shape(), (Shape{2, 1}));
  EXPECT_EQ(t.at("i32").to_vector(), (std::vector<float>{7, -9}));
  EXPECT_EQ(t.at("scalar").shape(), Shape{});
  EXPECT_EQ(t.at("scalar").item(), 2.5f);
  EXPECT_EQ(t.at("empty").shape(), (Shape{0, 4}));
  EXPECT_EQ(t.at("nested.name.weight").to_vector(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
}

TEST_F(SafetensorsTest, LoadsOntoAndSavesFromTheGpu) {
  CUSBI_REQUIRE_GPU();
  const fs::path path = dir_ / "g.safetensors";
  const Tensor cpu = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3}, Device::cpu());
  save_safetensors(path, {{"w", cpu.to(Device::cuda())}});
  const auto loaded = load_safetensors(path, Device::cuda());
  EXPECT_TRUE(loaded.at("w").device().is_cuda());
  EXPECT_EQ(loaded.at("w").to_vector(), cpu.to_vector());
}

TEST_F(SafetensorsTest, MissingOrTooShortFile) {
  EXPECT_TRUE(fails_with(dir_ / "absent.safetensors", "cannot be opened"));
  const fs::path tiny = dir_ / "tiny.safetensors";
  std::ofstream(tiny, std::ios::binary) << "abc";
  EXPECT_TRUE(fails_with(tiny, "too short"));
}

TEST_F(SafetensorsTest, HeaderLengthBeyondTheFile) {
  // A text file: its first 8 bytes read as a huge length.
  const fs::path text = dir_ / "notes.txt";
  std::ofstream(text, std::ios::binary) << "these are not the tensors you are looking for\n";
  EXPECT_TRUE(fails_with(text, "beyond the file"));
}

TEST_F(SafetensorsTest, NotSafetensors) {
  EXPECT_TRUE(fails_with(write_raw("a.safetensors", "[1, 2]"), "does not start with '{'"));
  EXPECT_TRUE(fails_with(write_raw("b.safetensors", "{\"w\": "), "not a JSON object"));
  EXPECT_TRUE(fails_with(write_raw("c.safetensors", "{\"w\": 3}"), "not a JSON object"));
}

TEST_F(SafetensorsTest, TruncatedData) {
  const fs::path path = dir_ / "t.safetensors";
  save_safetensors(path, {{"w", Tensor::ones({4}, Device::cpu())}});
  fs::resize_file(path, fs::file_size(path) - 5);
  EXPECT_TRUE(fails_with(path, "beyond the 11 data bytes"));
}

TEST_F(SafetensorsTest, OffsetsOutOfRange) {
  const std::string h = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})";
  EXPECT_TRUE(fails_with(write_raw("r.safetensors", h, f32_bytes({1, 2, 3})), "beyond the 12"));
}

TEST_F(SafetensorsTest, OffsetsOverlap) {
  const std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  EXPECT_TRUE(fails_with(write_raw("o.safetensors", h, f32_bytes({1, 2, 3})), "overlapping"));
}

TEST_F(SafetensorsTest, OffsetsDisagreeWithShape) {
  const std::string h = R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})";
  EXPECT_TRUE(fails_with(write_raw("s.safetensors", h, f32_bytes({1, 2})), "needs 12 bytes"));
  const std::string reversed = R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})";
  EXPECT_TRUE(fails_with(write_raw("v.safetensors", reversed, f32_bytes({1, 2})), "data_offsets"));
  const std::string negative = R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})";
  EXPECT_TRUE(fails_with(write_raw("n.safetensors", negative, f32_bytes({1, 2})), "not a size"));
}

TEST_F(SafetensorsTest, UnknownDtype) {
  const std::string h = R"({"q":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})";
  EXPECT_TRUE(fails_with(write_raw("d.safetensors", h, "ab"), "dtype F8_E4M3"));
}

TEST_F(SafetensorsTest, MissingFieldsAndNonStringMetadata) {
  const std::string no_dtype = R"({"w":{"shape":[1],"data_offsets":[0,4]}})";
  EXPECT_TRUE(fails_with(write_raw("x.safetensors", no_dtype, f32_bytes({1})), "'dtype'"));
  const std::string meta = R"({"__metadata__":{"epoch":3}})";
  EXPECT_TRUE(fails_with(write_raw("y.safetensors", meta), "metadata 'epoch' is not a string"));
}

}  // namespace
}  // namespace cusbi
