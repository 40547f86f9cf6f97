// MCMCPosterior::sample and sample_batched: sbi's _slice_np_mcmc around one lockstep run
// (host/mcmc/slice_run.cpp). N samples from C chains at thinning T and warm-up W: each chain runs
// 50 tuning sweeps and W·T + ceil(N·T/C) recorded ones, keeps every T-th recorded sweep and drops
// the first W kept; the per-chain samples are then taken chain-major and truncated to N.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "cusbi/error.hpp"
#include "cusbi/progress.hpp"
#include "host/mcmc/init_strategies.hpp"
#include "host/mcmc/mcmc_posterior_impl.hpp"

namespace cusbi {

namespace {

constexpr int32_t kTuningSweeps = 50;  // sbi's tuning, fixed in sbi too
constexpr double kInitWidth = 0.01;    // sbi's init_width
// Counter values reserved per run from the generator: chain c draws from stream c + 1 at
// counters [base, base + 2^40), far more than any run's draws.
constexpr uint64_t kCountersPerRun = uint64_t(1) << 40;

int64_t effective_thin(const MCMCOptions& o) { return o.thin == -1 ? 1 : o.thin; }

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

[[noreturn]] void report_faults(const std::vector<mcmc::ChainFault>& faults, int64_t chains,
                                bool all) {
  std::ostringstream os;
  os << "MCMC: " << faults.size() << " of " << chains
     << " chains reached a point where the potential is -inf, +inf or NaN (";
  for (size_t i = 0; i < std::min<size_t>(faults.size(), 3); ++i)
    os << (i ? "; " : "") << "chain " << faults[i].chain << " at sweep " << faults[i].sweep
       << ", coordinate update " << faults[i].update;
  os << (faults.size() > 3 ? "; ..." : "") << "). ";
  if (all)
    os << "No chain is left: check the potential (NaN everywhere?) and the initial points.";
  else
    os << "Check the potential there, or set invalid_chains = InvalidChainPolicy::Drop to "
          "continue without those chains.";
  CUSBI_FAIL(os.str());
}

}  // namespace

Tensor MCMCPosterior::Impl::run_chains(int64_t num_chains, int64_t num_samples,
                                       const MCMCOptions& o, const Tensor& init,
                                       Generator& generator, int64_t init_evaluations) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t t = effective_thin(o), w = o.warmup_steps, d = dim();
  const int64_t recorded = w * t + (num_samples * t + num_chains - 1) / num_chains;
  kern::SliceSettings settings;
  settings.dim = static_cast<int32_t>(d);
  settings.tuning = kTuningSweeps;
  settings.sweeps = kTuningSweeps + recorded;
  settings.thin = t;
  settings.warmup = w;
  settings.kept = (recorded + t - 1) / t - w;
  settings.max_width = HUGE_VAL;
  settings.reuse_value = true;  // one evaluation fewer per coordinate update (kernels/slice.h)
  if (!run || run_num_chains != num_chains || run_kept != settings.kept ||
      run->device() != device()) {
    run.reset();  // free the old buffers before allocating the new ones
    run = std::make_unique<mcmc::SliceRun>(num_chains, d, settings.kept, device());
    run_num_chains = num_chains;
    run_kept = settings.kept;
  }
  ProgressLine progress("Running vectorized MCMC with " + std::to_string(num_chains) + " chains",
                        num_chains * settings.sweeps, o.show_progress);
  const uint64_t base = generator.advance(kCountersPerRun);
  const mcmc::SliceRunStats stats =
      run->run(*z_potential, init, settings, kInitWidth, generator.seed(), base, progress);
  progress.finish();

  const int64_t failed = static_cast<int64_t>(stats.faults.size());
  if (failed == num_chains) report_faults(stats.faults, num_chains, true);
  if (failed > 0 && o.invalid_chains == InvalidChainPolicy::Raise)
    report_faults(stats.faults, num_chains, false);

  Tensor z = run->samples();  // (C, kept, D)
  {  // each chain's last kept state, (C, D) in z space: where latest_sample continues
    std::vector<int64_t> last(static_cast<size_t>(num_chains));
    for (int64_t c = 0; c < num_chains; ++c) last[c] = c * settings.kept + settings.kept - 1;
    latest = take_rows(z.reshape({num_chains * settings.kept, d}), last);
  }
  info = MCMCRunInfo{};
  if (failed > 0) {  // Drop: leave the failed chains out
    std::vector<int64_t> alive;
    size_t f = 0;
    for (int64_t c = 0; c < num_chains; ++c) {
      if (f < stats.faults.size() && stats.faults[f].chain == c) {
        info.failed_chains.push_back(c);
        ++f;
      } else {
        alive.push_back(c);
      }
    }
    z = take_rows(z.reshape({num_chains, settings.kept * d}), alive)
            .reshape({-1, settings.kept, d});
    latest = take_rows(latest, alive);  // a failed chain has no state to continue from
    warn("MCMC: " + std::to_string(failed) + " of " + std::to_string(num_chains) +
         " chains reached a point with a non-finite potential and were left out");
  }
  chains = transform.inverse(z);
  info.num_chains = num_chains;
  info.sweeps_per_chain = settings.sweeps;
  info.iterations = stats.iterations;
  info.potential_evaluations = stats.iterations * num_chains;
  info.init_evaluations = init_evaluations;
  info.host_round_trips = stats.host_round_trips;
  info.capped_step_outs = stats.capped;
  info.stalled_shrinks = stats.stalled;
  if (stats.stalled > 0)
    warn("MCMC: " + std::to_string(stats.stalled) +
         " coordinate updates shrank onto the current point without finding the slice; a "
         "potential that gives different values for the same point causes this");
  info.seconds = seconds_since(start);
  return chains;
}

Tensor MCMCPosterior::sample(const Shape& sample_shape, const Tensor& x) {
  return sample(sample_shape, x, impl_->options);
}

Tensor MCMCPosterior::sample(const Shape& sample_shape, const Tensor& x,
                             const MCMCOptions& options) {
  Impl& s = *impl_;
  check_mcmc_options(options);
  const auto start = std::chrono::steady_clock::now();
  const int64_t n = shape_numel(sample_shape), d = s.dim();
  Shape out_shape = sample_shape;
  out_shape.push_back(d);
  CUSBI_CHECK(n >= 1, "MCMC: sample_shape " << shape_str(sample_shape)
                                            << " asks for no samples; ask for at least one");
  s.use_x(x);
  Generator& generator = options.generator ? *options.generator : default_generator();
  mcmc::InitContext ctx{*s.potential, *s.proposal, s.transform,
                        generator,    &s.latest,   options.show_progress};
  int64_t init_evaluations = 0;
  const Tensor init = mcmc::initial_points(options.init_strategy, options.init_strategy_parameters,
                                           options.num_chains, ctx, &init_evaluations);
  synchronize(s.device());  // the init's work is done before its time is read
  const double init_seconds = seconds_since(start);
  const Tensor chains =
      s.run_chains(options.num_chains, n, options, init, generator, init_evaluations);
  s.info.init_seconds = init_seconds;
  s.batched = false;
  s.info.seconds = seconds_since(start);
  const Tensor flat = chains.reshape({-1, d});
  if (flat.size(0) < n) {  // chains dropped (InvalidChainPolicy::Drop)
    CUSBI_CHECK(sample_shape.size() == 1, "MCMC: dropped chains left "
                                              << flat.size(0) << " of " << n
                                              << " samples, which do not fill sample_shape "
                                              << shape_str(sample_shape));
    warn("MCMC: returning " + std::to_string(flat.size(0)) + " samples instead of " +
         std::to_string(n) + " after dropping chains");
    return flat.clone();
  }
  return flat.slice_rows(0, n).clone().reshape(out_shape);
}

Tensor MCMCPosterior::sample_batched(const Shape& sample_shape, const Tensor& xs) {
  return sample_batched(sample_shape, xs, impl_->options);
}

Tensor MCMCPosterior::sample_batched(const Shape& sample_shape, const Tensor& xs,
                                     const MCMCOptions& options_in) {
  Impl& s = *impl_;
  check_mcmc_options(options_in);
  CUSBI_CHECK(s.potential->supports_paired_x(),
              "MCMC sample_batched: this potential cannot pair observations with chains; use "
              "sample() per observation");
  CUSBI_CHECK(xs.defined() && xs.dim() == 2 && xs.size(0) >= 1,
              "MCMC sample_batched: xs must be (B, C) with B >= 1 observations, got "
                  << (xs.defined() ? shape_str(xs.shape()) : std::string("undefined")));
  const auto start = std::chrono::steady_clock::now();
  const int64_t n = shape_numel(sample_shape), d = s.dim(), b = xs.size(0);
  CUSBI_CHECK(n >= 1, "MCMC sample_batched: sample_shape " << shape_str(sample_shape)
                                                           << " asks for no samples");
  MCMCOptions options = options_in;
  if (options.num_chains > n) {
    warn("MCMC sample_batched: num_chains (" + std::to_string(options.num_chains) +
         ") exceeds the samples per observation; using " + std::to_string(n) + " chains");
    options.num_chains = n;
  }
  const int64_t c = options.num_chains;
  Generator& generator = options.generator ? *options.generator : default_generator();
  const Tensor x_rows = xs.to(s.device());

  // Each observation's chains start from its own init (sbi sets a copy of the potential to
  // that observation); observation-major, as the x rows below.
  std::vector<Tensor> inits;
  int64_t init_evaluations = 0;
  const bool continue_runs = options.init_strategy == "latest_sample";
  for (int64_t i = 0; i < b && !continue_runs; ++i) {
    s.potential->set_x(x_rows.slice_rows(i, i + 1));
    mcmc::InitContext ctx{*s.potential, *s.proposal, s.transform,
                          generator,    nullptr,     options.show_progress};
    inits.push_back(mcmc::initial_points(options.init_strategy, options.init_strategy_parameters, c,
                                         ctx, &init_evaluations));
  }
  Tensor init;
  if (continue_runs) {
    mcmc::InitContext ctx{*s.potential, *s.proposal, s.transform, generator, &s.latest, false};
    init = mcmc::initial_points(options.init_strategy, options.init_strategy_parameters, b * c, ctx,
                                &init_evaluations);
  } else {
    init = cat(inits, 0);
  }
  // Observation i repeated c times contiguously (sbi's repeat_interleave).
  std::vector<int64_t> rows(static_cast<size_t>(b * c));
  for (int64_t r = 0; r < b * c; ++r) rows[r] = r / c;
  s.potential->set_x_paired(take_rows(x_rows, rows));
  s.paired = true;

  options.invalid_chains = InvalidChainPolicy::Raise;  // each observation needs all its chains
  synchronize(s.device());
  const double init_seconds = seconds_since(start);
  const Tensor chains = s.run_chains(b * c, n * b, options, init, generator, init_evaluations);
  s.info.init_seconds = init_seconds;
  s.batched = true;
  s.info.seconds = seconds_since(start);

  // (B c, kept, D) -> per observation chain-major (B, c kept, D) -> first n -> (n, B, D).
  const int64_t per_obs = chains.size(0) / b * chains.size(1);
  const std::vector<float> host = chains.to_vector();
  std::vector<float> out(static_cast<size_t>(n * b * d));
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < b; ++i)
      std::copy_n(host.data() + (i * per_obs + j) * d, d, out.data() + (j * b + i) * d);
  Shape out_shape = sample_shape;
  out_shape.push_back(b);
  out_shape.push_back(d);
  return Tensor::from(out, out_shape, s.device());
}

}  // namespace cusbi
