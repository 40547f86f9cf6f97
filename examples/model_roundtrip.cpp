// Exists for the Python <-> C++ model-file test (python/tests/test_save_load.py): loads a cusbi
// neural spline flow file written by Python's cusbi.save, prints log q(input | condition) of a
// fixed batch (B = 4; input[b][d] = 0.25 b - 0.5 + 0.1 d, condition[b][c] = 0.5 - 0.2 b +
// 0.05 c) as "log_prob v0 v1 v2 v3", and saves the flow again to OUT_MODEL for Python to load.
//   ./build/examples/model_roundtrip IN_MODEL OUT_MODEL
#include <cstdio>
#include <exception>
#include <vector>

#include "cusbi/cusbi.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s IN_MODEL OUT_MODEL\n", argv[0]);
    return 2;
  }
  try {
    using namespace cusbi;
    NeuralSplineFlow flow = load_nsf(argv[1], Device::cpu());
    const int64_t b = 4, d = flow.input_features(), c = flow.condition_features();
    std::vector<float> input(b * d), condition(b * c);
    for (int64_t i = 0; i < b; ++i) {
      for (int64_t j = 0; j < d; ++j) input[i * d + j] = 0.25f * i - 0.5f + 0.1f * j;
      for (int64_t j = 0; j < c; ++j) condition[i * c + j] = 0.5f - 0.2f * i + 0.05f * j;
    }
    const std::vector<float> log_prob =
        flow.log_prob(Tensor::from(input, {b, d}, Device::cpu()),
                      Tensor::from(condition, {b, c}, Device::cpu()))
            .to_vector();
    std::printf("log_prob");
    for (float v : log_prob) std::printf(" %.9g", v);
    std::printf("\n");
    save(flow, argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "model_roundtrip: %s\n", e.what());
    return 1;
  }
  return 0;
}
