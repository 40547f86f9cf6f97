// Writes the hand-made part of the seed corpus (fuzz/corpus/): small but complete cusbi model
// files (an estimator; posteriors with each prior type, with and without a default x) and an sbi
// NSF export, so that the fuzzers start from inputs that reach the deepest checks. Run once:
//   fuzz_make_seeds <corpus dir>; the fixtures from tests/data are copied by scripts/fuzz.sh.
#include <cstdio>
#include <filesystem>
#include <string>

#include "cusbi/cusbi.hpp"

using namespace cusbi;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  for (const char* t : {"fuzz_model_file", "fuzz_sbi_nsf", "fuzz_safetensors"})
    fs::create_directories(root / t);
  const Device cpu = Device::cpu();
  Generator g(1);
  // The smallest flows that still have every block: D = 2 (coupling) and D = 1 (context map).
  const NsfOptions tiny{.hidden_features = 4, .num_transforms = 1, .num_bins = 2, .num_blocks = 1};
  NeuralSplineFlow flow2 = build_nsf(randn({20, 2}, cpu, &g), randn({20, 2}, cpu, &g), tiny, &g);
  NeuralSplineFlow flow1 = build_nsf(randn({20, 1}, cpu, &g), randn({20, 1}, cpu, &g), tiny, &g);
  save(flow2, root / "fuzz_model_file" / "nsf_d2_c2.safetensors");
  save(flow1, root / "fuzz_model_file" / "nsf_d1_c1.safetensors");

  const BoxUniform box(-1.0f, 1.0f, 2, cpu);
  DirectPosterior box_posterior(flow2, box);
  save(box_posterior, root / "fuzz_model_file" / "posterior_box.safetensors");
  box_posterior.set_default_x(Tensor::from({0.5f, -0.5f}, {2}, cpu));
  save(box_posterior, root / "fuzz_model_file" / "posterior_box_default_x.safetensors");
  const MultivariateNormal normal(Tensor::from({0.0f}, {1}, cpu),
                                  Tensor::from({2.0f}, {1, 1}, cpu));
  save(DirectPosterior(flow1, normal), root / "fuzz_model_file" / "posterior_normal.safetensors");

  // An sbi export as tools/export_sbi_nsf.py writes it: sbi's state_dict plus sizes and options.
  const std::map<std::string, std::string> meta{{"format", "cusbi.sbi_nsf"},
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
  save_safetensors(root / "fuzz_sbi_nsf" / "export_d2_c2.safetensors", sbi_state_dict(flow2), meta);
  std::map<std::string, std::string> meta1 = meta;
  meta1["input_features"] = meta1["condition_features"] = "1";
  save_safetensors(root / "fuzz_sbi_nsf" / "export_d1_c1.safetensors", sbi_state_dict(flow1),
                   meta1);

  // safetensors edge cases: no tensors, metadata only, a zero-size tensor.
  save_safetensors(root / "fuzz_safetensors" / "empty.safetensors", {});
  save_safetensors(root / "fuzz_safetensors" / "metadata_only.safetensors", {}, {{"k", "v"}});
  save_safetensors(root / "fuzz_safetensors" / "two_tensors.safetensors",
                   {{"a", Tensor::from({1.0f, 2.0f, 3.0f}, {3}, cpu)},
                    {"b", Tensor::from({4.0f}, {1, 1}, cpu)}});
  return 0;
}
