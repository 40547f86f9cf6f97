// Times cusbi::c2st on the samples that `python tools/make_c2st_fixtures.py --time FILE` writes
// (10,000 vs 10,000 in 10-D, the size sbibm scores) and that it times sbibm's c2st on:
//   bench_e2e_c2st FILE [cpu|cuda]
// Prints the accuracy, the epochs and accuracy per fold and the wall time.
#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "cusbi/cusbi.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s SAMPLES.safetensors [cpu|cuda]\n", argv[0]);
    return 2;
  }
  const bool cuda = argc > 2 && std::string(argv[2]) == "cuda";
  const cusbi::Device device = cuda ? cusbi::Device::cuda() : cusbi::Device::cpu();
  const auto t = cusbi::load_safetensors(argv[1], device);
  cusbi::C2stOptions options;
  options.show_progress = true;
  const auto start = std::chrono::steady_clock::now();
  const cusbi::C2stResult r = cusbi::c2st_detailed(t.at("x"), t.at("y"), options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("cusbi c2st %lld vs %lld, %lld-D on %s: %.4f in %.1f s; epochs",
              (long long)t.at("x").size(0), (long long)t.at("y").size(0),
              (long long)t.at("x").size(1), device.str().c_str(), r.accuracy, seconds);
  for (int64_t e : r.fold_epochs) std::printf(" %lld", (long long)e);
  // Full precision: runs with other thread counts (OMP_NUM_THREADS) must print the same bits.
  std::printf("; fold accuracies");
  for (double a : r.fold_accuracies) std::printf(" %.17g", a);
  std::printf("\n");
  return 0;
}
