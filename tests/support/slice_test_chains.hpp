// Shared by the slice sampler tests (unit, parity): every field of kern::SliceChains held in host
// vectors, an analytic test potential evaluated at the chains' float proposals, the CPU loop run
// for some iterations, and a field-by-field comparison of two chain states.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "host/cpu/slice.hpp"
#include "kernels/slice.h"

namespace cusbi::testing {

struct HostSliceChains {
  HostSliceChains(const kern::SliceSettings& s, int64_t num_chains)
      : chains(num_chains),
        dim(s.dim),
        x(num_chains * s.dim),
        width(num_chains * s.dim),
        bracket(num_chains * kern::kSliceBracketFields),
        order(num_chains * s.dim),
        coord(num_chains),
        state(num_chains),
        budget(2 * num_chains),
        sweep(num_chains),
        fault(num_chains),
        draws(num_chains),
        proposal(num_chains * s.dim),
        samples(num_chains * s.kept * s.dim, 0.0f) {}

  kern::SliceChains view() {
    return {x.data(),     width.data(),    order.data(),   bracket.data(),
            coord.data(), state.data(),    budget.data(),  sweep.data(),
            draws.data(), proposal.data(), samples.data(), fault.data()};
  }

  int64_t chains;
  int32_t dim;
  std::vector<double> x, width, bracket;
  std::vector<int32_t> order, coord, state, budget;
  std::vector<int64_t> sweep, fault;
  std::vector<uint64_t> draws;
  std::vector<float> proposal, samples;
  std::vector<int64_t> counters = std::vector<int64_t>(kern::kSliceCounters, 0);
};

// A banana in `dim` coordinates with a wall: x0 ~ N(0, 1.5^2), x_d | x_{d-1} centred on
// 0.5 x_{d-1}^2 - 0.5 with scale 0.7, and -inf beyond x0 = 2.5 (shrinkage meets rejections that
// are not just low density). Double at the float proposal, rounded to float like a float32
// potential.
inline float slice_test_potential(const float* row, int32_t dim) {
  if (row[0] > 2.5f) return -INFINITY;
  double lp = -0.5 * (row[0] / 1.5) * (row[0] / 1.5);
  for (int32_t d = 1; d < dim; ++d) {
    const double z = (row[d] - (0.5 * double(row[d - 1]) * row[d - 1] - 0.5)) / 0.7;
    lp -= 0.5 * z * z;
  }
  return static_cast<float>(lp);
}

inline std::vector<float> slice_test_potential(const std::vector<float>& proposal, int32_t dim) {
  std::vector<float> lp(proposal.size() / dim);
  for (size_t c = 0; c < lp.size(); ++c) lp[c] = slice_test_potential(&proposal[c * dim], dim);
  return lp;
}

// Start rows uniform in [-1, 1) from std::mt19937(seed): the same on every machine.
inline std::vector<float> slice_test_init(int64_t num_chains, int32_t dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> init(num_chains * dim);
  for (float& v : init) v = u(rng);
  return init;
}

// cpu::slice_start, then up to `iterations` lockstep iterations with lp[c] = potential(c) (the
// chains' proposals are in h). Returns the iterations run; stops early when all chains finished.
inline int64_t run_cpu_slice(HostSliceChains& h, const kern::SliceSettings& s,
                             const std::vector<float>& init, double init_width, uint64_t seed,
                             int64_t iterations, const std::function<float(int64_t)>& potential) {
  cpu::slice_start(s, h.view(), h.chains, init.data(), init_width, seed, 0);
  std::vector<float> lp(h.chains);
  int64_t it = 0;
  for (; it < iterations && h.counters[0] < h.chains; ++it) {
    for (int64_t c = 0; c < h.chains; ++c) lp[c] = potential(c);
    cpu::slice_step(s, h.view(), h.chains, lp.data(), seed, 0, h.counters.data());
  }
  return it;
}

// Integers must be equal. With rel = 0 everything must be equal; else doubles may differ by
// rel * max(1, |b|) and floats (doubles rounded) by one float ulp.
inline ::testing::AssertionResult same_slice_chains(const HostSliceChains& a,
                                                    const HostSliceChains& b, double rel) {
  auto fail = [](const char* field, size_t i) {
    return ::testing::AssertionFailure() << field << "[" << i << "] differs";
  };
  auto close = [&](const char* field, const auto& u, const auto& v,
                   double tol) -> ::testing::AssertionResult {
    for (size_t i = 0; i < v.size(); ++i) {
      const double p = u[i], q = v[i];
      const bool ok = p == q || (std::isnan(p) && std::isnan(q)) ||
                      std::fabs(p - q) <= tol * std::max(1.0, std::fabs(q));
      if (!ok) return fail(field, i) << ": " << p << " vs " << q;
    }
    return ::testing::AssertionSuccess();
  };
  auto exact = [&](const char* field, const auto& u, const auto& v) -> ::testing::AssertionResult {
    for (size_t i = 0; i < v.size(); ++i)
      if (u[i] != v[i]) return fail(field, i) << ": " << u[i] << " vs " << v[i];
    return ::testing::AssertionSuccess();
  };
  const double ulp32 = rel > 0 ? 0x1p-23 : 0.0;
  for (auto r :
       {close("x", a.x, b.x, rel), close("width", a.width, b.width, rel),
        close("bracket", a.bracket, b.bracket, rel), exact("order", a.order, b.order),
        exact("coord", a.coord, b.coord), exact("state", a.state, b.state),
        exact("budget", a.budget, b.budget), exact("sweep", a.sweep, b.sweep),
        exact("fault", a.fault, b.fault), exact("draws", a.draws, b.draws),
        close("proposal", a.proposal, b.proposal, ulp32),
        close("samples", a.samples, b.samples, ulp32), exact("counters", a.counters, b.counters)})
    if (!r) return r;
  return ::testing::AssertionSuccess();
}

}  // namespace cusbi::testing
