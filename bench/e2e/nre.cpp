// The cusbi side of bench/e2e's NRE workflows (tools/e2e_sbi_nre.py describes them and prints
// the same keys for sbi; scripts/e2e_compare_nre.sh puts the two side by side):
//   tutorial    1000 simulations, build_resnet_classifier(x, theta), 300 full-batch Adam steps
//               (lr 5e-4) of classifier_logits with 10 atoms + nre_b_loss (train_s);
//               ratio_estimator_based_potential + MCMCPosterior(100 chains) and sample({1000})
//               with the default resample init (mcmc_sample_s; its init alone,
//               MCMCRunInfo::init_seconds, is init_s); the same with the proposal init
//               (sampling_s, the sampling from prior draws). On the CPU also gemm_floor_s: the
//               same 300 steps' GEMMs (forward, weight and input gradients at 10,000 rows) done
//               by plain Eigen SGEMM on the same threads (the "within 1.5x"; the faster
//               of Eigen's own OpenMP threading and one thread, both reported).
//   trainer_N   simulate_for_sbi(N), NRE (= NRE_B, sbi's defaults) train(), build_posterior()
//               and sample({1000}) at x_o (max_num_epochs capped for N > 10000).
// Each phase is timed with a device synchronisation before each clock read; medians of repeats.
//   bench_e2e_nre [--device cpu|cuda|cuda:N] [--repeats 3] [--seed 0]
//                 [--trainer-sims 1000,100000] [--large-max-epochs 5] [--skip-tutorial]
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "e2e_support.hpp"

namespace {

using cusbi::Device;
using cusbi::Tensor;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr int64_t kSimulations = 1000;
constexpr int64_t kNumAtoms = 10;
constexpr int kSteps = 300;

using cusbi_e2e::simulator;
using cusbi_e2e::summarise;
using cusbi_e2e::timed;
using cusbi_e2e::x_o_on;

// ---- the GEMM floor of the tutorial's training ------------------------------------------------

// One dense layer y(B, out) = x(B, in) W^T; `needs_dx` when its input gradient is used.
struct Gemm {
  int64_t in, out;
  bool needs_dx;
};

// sbi's resnet classifier on [theta ; x] (2 + 2 features): Linear 4->50, 2 blocks of two
// Linear 50->50, Linear 50->1. No input gradient for the first layer (training needs none).
std::vector<Gemm> classifier_gemms() {
  return {{4, 50, false}, {50, 50, true}, {50, 50, true},
          {50, 50, true}, {50, 50, true}, {50, 1, true}};
}

// Multiply-adds x2 of forward (x W^T), weight gradient (dy^T x) and the needed input gradients
// (dy W), as bench/micro/nn.cpp counts them; bias adds and elementwise work are not counted.
double fwd_bwd_flops(const std::vector<Gemm>& gemms, int64_t rows) {
  double flops = 0;
  for (const Gemm& g : gemms) flops += (g.needs_dx ? 3.0 : 2.0) * 2.0 * rows * g.in * g.out;
  return flops;
}

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The training's GEMMs alone, `steps` times, row-major like cusbi's tensors, buffers allocated
// once, on Eigen's current thread count; returns the seconds.
double time_gemms(const std::vector<Gemm>& gemms, int64_t rows, int steps) {
  struct Buffers {
    RowMatrix x, w, y, dy, dw, dx;
  };
  std::vector<Buffers> buffers;
  for (const Gemm& g : gemms)
    buffers.push_back({RowMatrix::Random(rows, g.in), RowMatrix::Random(g.out, g.in),
                       RowMatrix(rows, g.out), RowMatrix::Random(rows, g.out),
                       RowMatrix(g.out, g.in), RowMatrix(rows, g.in)});
  float sink = 0.0f;
  const auto start = Clock::now();
  for (int step = 0; step < steps; ++step) {
    for (size_t i = 0; i < gemms.size(); ++i) {
      Buffers& b = buffers[i];
      b.y.noalias() = b.x * b.w.transpose();
      b.dw.noalias() = b.dy.transpose() * b.x;
      if (gemms[i].needs_dx) b.dx.noalias() = b.dy * b.w;
    }
    sink += buffers.back().dx(0, 0) + buffers.front().dw(0, 0);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  static volatile float keep_products;  // the products are used: the compiler keeps them
  keep_products = sink;
  return seconds;
}

// The floor: plain Eigen SGEMM (this file is built without the library's
// EIGEN_DONT_PARALLELIZE) both with Eigen's own OpenMP threading on OMP_NUM_THREADS threads, as
// bench/micro/nn.cpp's eigen_sgemm, and on one thread; gemm_floor_s is the faster of the two
// (Eigen's OpenMP GEMM of these thin matrices can lose to one thread, badly so on a loaded
// machine, and a floor must be what plain Eigen can do on these threads).
Json gemm_floor(int64_t rows, int steps) {
  const std::vector<Gemm> gemms = classifier_gemms();
  const int threads = Eigen::nbThreads();
  const double threaded = time_gemms(gemms, rows, steps);
  Eigen::setNbThreads(1);
  const double single = time_gemms(gemms, rows, steps);
  Eigen::setNbThreads(threads);
  const double best = std::min(threaded, single);
  return Json{{"gemm_floor_s", best},
              {"gemm_floor_gflop_per_s", fwd_bwd_flops(gemms, rows) * steps * 1e-9 / best},
              {"gemm_eigen_threaded_s", threaded},
              {"gemm_eigen_1thread_s", single},
              {"eigen_threads", threads}};
}

// ---- the tutorial's NRE section ---------------------------------------------------------------

cusbi::MCMCOptions tutorial_options(cusbi::Generator* g) {
  cusbi::MCMCOptions o;
  o.num_chains = 100;
  o.method = "slice_np_vectorized";
  o.show_progress = false;
  o.generator = g;
  return o;
}

Json tutorial(Device device, uint64_t seed) {
  cusbi::Generator g(seed);
  const cusbi::BoxUniform prior(-3.0f, 3.0f, 2, device);
  const auto [theta, x] = cusbi_e2e::tutorial_data(prior, kSimulations, &g);
  Json out;
  std::unique_ptr<cusbi::RatioClassifier> net;
  float last_loss = 0.0f;
  out["train_s"] = timed(device, [&] {
    net =
        std::make_unique<cusbi::RatioClassifier>(cusbi::build_resnet_classifier(x, theta, {}, &g));
    cusbi::Adam opt(net->parameters(), net->gradients(), 5e-4);
    for (int step = 0; step < kSteps; ++step) {
      opt.zero_grad();
      const Tensor logits = cusbi::classifier_logits(*net, theta, x, kNumAtoms, &g);
      auto [loss, grad] = cusbi::nre_b_loss(logits.reshape({kSimulations, kNumAtoms}));
      net->backward(grad.reshape({kSimulations * kNumAtoms}));
      opt.step();
      if (step == kSteps - 1) last_loss = loss.to(Device::cpu()).item();
    }
  });
  out["final_loss"] = last_loss;
  const Tensor x_o = x_o_on(device);
  std::unique_ptr<cusbi::MCMCPosterior> posterior;
  Tensor samples;
  out["mcmc_sample_s"] = timed(device, [&] {
    auto [potential, transform] = cusbi::ratio_estimator_based_potential(*net, prior, x_o);
    posterior =
        std::make_unique<cusbi::MCMCPosterior>(potential, prior, transform, tutorial_options(&g));
    samples = posterior->sample({1000}, x_o);
  });
  cusbi_e2e::add_mcmc_tutorial_runs(out, *posterior, samples, x_o, tutorial_options(&g));
  out["total_s"] = out["train_s"].get<double>() + out["mcmc_sample_s"].get<double>();
  if (!device.is_cuda()) {
    const Json floor = gemm_floor(kSimulations * kNumAtoms, kSteps);
    out.update(floor);
    out["train_over_gemm_floor"] =
        out["train_s"].get<double>() / floor["gemm_floor_s"].get<double>();
  }
  return out;
}

// ---- the NRE trainer ----------------------------------------------------------------------------

Json trainer(Device device, uint64_t seed, int64_t n, int64_t max_epochs) {
  cusbi::Generator g(seed);
  const cusbi::BoxUniform prior(-3.0f, 3.0f, 2, device);
  Json out;
  const auto [theta, x] = cusbi_e2e::simulate_timed(out, device, prior, n, &g);
  cusbi::NRE nre(prior, device);  // NRE_B, 10 atoms, resnet classifier: sbi's defaults
  cusbi_e2e::train_timed(out, device, nre, theta, x, max_epochs, &g);
  cusbi::MCMCOptions mcmc;  // sbi's build_posterior defaults: 20 chains, resample init
  mcmc.show_progress = false;
  mcmc.generator = &g;
  out["posterior_sample_s"] = timed(device, [&] {
    cusbi::MCMCPosterior posterior = nre.build_posterior(mcmc);
    posterior.sample({1000}, x_o_on(device));
  });
  out["total_s"] = out["simulate_s"].get<double>() + out["train_s"].get<double>() +
                   out["posterior_sample_s"].get<double>();
  return out;
}

int run(int argc, char** argv) {
  std::string device_name = "cpu", sims = "1000,100000";
  int repeats = 3;
  int64_t large_max_epochs = 5;
  uint64_t seed = 0;
  bool skip_tutorial = false;
  cusbi_e2e::Options("see the comment at the top of bench/e2e/nre.cpp")
      .common(&device_name, &repeats, &seed)
      .flag("--skip-tutorial", [&] { skip_tutorial = true; })
      .trainer(&sims, &large_max_epochs)
      .parse(argc, argv);
  const Device device = cusbi_e2e::usable_device(device_name);
  cusbi::set_progress_enabled(false);

  Json result = cusbi_e2e::machine_json(device, repeats);
  result["workflows"] = Json::object();
  Json runs = Json::array();
  if (!skip_tutorial) {
    for (int r = 0; r < repeats; ++r) runs.push_back(tutorial(device, seed + r));
    result["workflows"]["tutorial"] = summarise(runs);
  }
  cusbi_e2e::add_trainer_workflows(
      result, sims, repeats, large_max_epochs, true,
      [&](int64_t n, int r, int64_t cap) { return trainer(device, seed + r, n, cap); });
  std::printf("%s\n", result.dump(2).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return cusbi_e2e::main_reporting_errors(run, argc, argv); }
