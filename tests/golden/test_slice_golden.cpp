// kernels/slice.h against sbi's own SliceSamplerVectorized (fixtures of
// tools/sbi_slice_trajectory.py): fed sbi's uniforms and potential values, kern::slice_step must
// propose the same batches, accept the same points in the same iterations, draw the same number
// of uniforms and store the same samples as sbi, until each chain's last sweep.
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <vector>

#include "golden/golden_support.hpp"
#include "kernels/slice.h"

namespace cusbi {
namespace {

using kern::SliceChains;
using kern::SliceSettings;

// An F64 tensor of a fixture, bit for bit (load_safetensors turns F64 into float32). The header
// is canonical JSON (tools/fixture_files.py): "name":{"data_offsets":[a,b],"dtype":"F64",...}.
std::vector<double> read_f64(const std::string& fixture, const std::string& name, size_t count) {
  const auto path = testing::data_dir() / "golden" / (fixture + ".safetensors");
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  std::string header(n, ' ');
  in.read(header.data(), static_cast<std::streamsize>(n));
  const size_t at = header.find("\"" + name + "\":{\"data_offsets\":[");
  if (!in || at == std::string::npos) throw Error(path.string() + ": no tensor " + name);
  const char* p = header.c_str() + header.find('[', at) + 1;
  char* end = nullptr;
  const long long begin = std::strtoll(p, &end, 10), stop = std::strtoll(end + 1, nullptr, 10);
  if (header.compare(header.find(']', at) + 1, 14, ",\"dtype\":\"F64\"") != 0 ||
      stop - begin != static_cast<long long>(8 * count))
    throw Error(path.string() + ": tensor " + name + " is not " + std::to_string(count) + " F64");
  std::vector<double> out(count);
  in.seekg(static_cast<std::streamoff>(8 + n + begin));
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(8 * count));
  if (!in) throw Error(path.string() + ": tensor " + name + " is truncated");
  return out;
}

std::vector<int64_t> ints(const golden::Fixture& f, const std::string& name) {
  std::vector<int64_t> out;  // I32 tensors hold small counts: exact in float32
  for (float v : f.at(name).to_vector()) out.push_back(static_cast<int64_t>(v));
  return out;
}

// sbi's stream of uniforms, split by the chain that drew each (chains finish at different
// iterations, and sbi's extra update of a finished chain draws from the same global stream).
// uniform() also checks that sbi drew the number in the same iteration (-1 = run start).
struct RecordedRandom {
  const std::vector<double>* values;
  const std::vector<int64_t>* iterations;
  int64_t iteration;
  uint64_t* draws;
  int64_t* misplaced;  // draws sbi made in another iteration, or beyond its stream
  double uniform() {
    if (*draws >= values->size()) {
      ++*misplaced;
      return 0.5;
    }
    *misplaced += (*iterations)[*draws] != iteration;
    return (*values)[(*draws)++];
  }
  double aux() const { return 0.5; }  // splits the step-out cap evenly: it never binds here
};

// Tolerances. The bracket arithmetic is numpy's double operations in numpy's order, but g++
// contracts a*b+c into one FMA in C++ (-ffp-contract=fast is its default outside ISO C), and
// -march=x86-64-v3 has FMA: lx = cxi - wi u and xi = lx + (ux - lx) u round once instead of
// twice, a few ulp from numpy (seen: up to 7 ulp of x). Such errors do not grow (each update
// recomputes x[k] from the bracket), hence 1e-13 of max(1, |value|) for doubles. Floats are
// doubles rounded: equal, or one float ulp apart when the double error straddles a rounding
// boundary, hence 2^-23 relative (+1e-30 for 0). The slice level log p + log(1-u) also differs
// (libm vs numpy log; sbi's torch level is even float32) but only enters the comparisons with
// lp, and the fixture tool checks that a float32 vs float64 level changes no decision, so the
// discrete path (which iteration accepts, how many uniforms) is compared exactly.
bool close_double(double a, double b) {
  return std::fabs(a - b) <= 1e-13 * std::max(1.0, std::fabs(b));
}
bool close_float(float a, float b) {
  return std::fabs(double(a) - double(b)) <= 0x1p-23 * std::fabs(double(b)) + 1e-30;
}

void check_case(const std::string& name) {
  SCOPED_TRACE(name);
  const golden::Fixture f = golden::load_fixture(name);
  const int32_t D = static_cast<int32_t>(f.integer("dim"));
  const int64_t C = f.integer("chains"), iterations = f.integer("iterations");
  SliceSettings s;
  s.dim = D;
  s.tuning = static_cast<int32_t>(f.integer("tuning"));
  s.sweeps = s.tuning + f.integer("n_run");
  s.thin = f.integer("thin");
  s.warmup = 0;
  s.kept = f.integer("kept");
  s.max_width = std::numeric_limits<double>::infinity();  // sbi's default
  const int64_t updates_total = s.sweeps * D;             // coordinate updates per chain

  // sbi's record.
  const std::vector<float> init = f.at("init").to_vector(), batches = f.at("batches").to_vector(),
                           lp = f.at("lp").to_vector();
  const std::vector<double> uniforms = read_f64(name, "uniforms", f.at("uniforms").numel());
  const std::vector<double> accepted = read_f64(name, "accepted", C * updates_total * D);
  const std::vector<double> samples = read_f64(name, "samples", C * s.kept * D);
  const std::vector<int64_t> uniform_chain = ints(f, "uniform_chain"),
                             uniform_iter = ints(f, "uniform_iter"),
                             accepted_iter = ints(f, "accepted_iter"),
                             draws_until_done = ints(f, "draws_until_done");
  std::vector<std::vector<double>> stream(C);
  std::vector<std::vector<int64_t>> stream_iter(C);
  for (size_t u = 0; u < uniforms.size(); ++u) {
    stream[uniform_chain[u]].push_back(uniforms[u]);
    stream_iter[uniform_chain[u]].push_back(uniform_iter[u]);
  }

  // cusbi's chains on the host.
  std::vector<double> x(C * D), width(C * D), bracket(C * kern::kSliceBracketFields);
  std::vector<int32_t> order(C * D), coord(C), state(C), budget(2 * C);
  std::vector<int64_t> sweep(C), fault(C);
  std::vector<uint64_t> draws(C, 0);
  std::vector<float> proposal(C * D), stored(C * s.kept * D, NAN);
  const SliceChains ch{x.data(),     width.data(),    order.data(),  bracket.data(),
                       coord.data(), state.data(),    budget.data(), sweep.data(),
                       draws.data(), proposal.data(), stored.data(), fault.data()};
  int64_t misplaced = 0;
  auto random = [&](int64_t c, int64_t it) {
    return RecordedRandom{&stream[c], &stream_iter[c], it, &draws[c], &misplaced};
  };
  const double init_width = std::stod(f.raw("init_width"));
  for (int64_t c = 0; c < C; ++c) {  // sbi shuffles chains 0..C-1 before the first batch
    RecordedRandom r = random(c, -1);
    kern::slice_start(s, ch, c, init.data() + c * D, init_width, r);
  }

  // Lockstep iterations, chains in order within each (as sbi consumes its global stream). sbi
  // keeps iterating after a chain's last sweep: it shuffles once more and makes one extra,
  // discarded coordinate update, while cusbi marks the chain Done (slice.h's documented
  // departure). So a chain is compared until it is Done, and cusbi stops when all are.
  std::vector<int64_t> updates(C, 0);
  int64_t events[4] = {0, 0, 0, 0};
  int64_t it = 0;
  for (; it < iterations; ++it) {
    bool any_running = false;
    for (int64_t c = 0; c < C; ++c) {
      if (state[c] == kern::kSliceDone) continue;
      any_running = true;
      for (int32_t d = 0; d < D; ++d)
        ASSERT_TRUE(close_float(proposal[c * D + d], batches[(it * C + c) * D + d]))
            << "iteration " << it << ", chain " << c << ", coordinate " << d << ": proposal "
            << proposal[c * D + d] << ", sbi's batch " << batches[(it * C + c) * D + d];
      RecordedRandom r = random(c, it);
      const int32_t e = kern::slice_step(s, ch, c, lp[it * C + c], r);
      for (int b = 0; b < 4; ++b) events[b] += (e >> b) & 1;
      const int64_t done = state[c] == kern::kSliceDone ? updates_total : sweep[c] * D + coord[c];
      if (done == updates[c]) continue;
      ASSERT_EQ(done, updates[c] + 1) << "iteration " << it << ", chain " << c;
      updates[c] = done;  // an acceptance: x must be sbi's x after this update
      const int64_t u = c * updates_total + done - 1;
      ASSERT_EQ(accepted_iter[u], it) << "chain " << c << ", update " << done - 1;
      for (int32_t d = 0; d < D; ++d)
        ASSERT_TRUE(close_double(x[c * D + d], accepted[u * D + d]))
            << "chain " << c << ", update " << done - 1 << ", coordinate " << d << ": "
            << x[c * D + d] << " vs sbi " << accepted[u * D + d];
    }
    if (!any_running) break;
  }
  // All chains Done within sbi's iterations, at the iteration after the last acceptance.
  int64_t last = 0;
  for (int64_t c = 0; c < C; ++c) {
    EXPECT_EQ(state[c], kern::kSliceDone) << "chain " << c;
    EXPECT_EQ(fault[c], -1);
    EXPECT_EQ(draws[c], static_cast<uint64_t>(draws_until_done[c])) << "chain " << c;
    EXPECT_LT(draws[c], stream[c].size()) << "sbi's last shuffle and extra update draw more";
    last = std::max(last, accepted_iter[c * updates_total + updates_total - 1]);
  }
  EXPECT_EQ(it, last + 1);
  EXPECT_LT(it, iterations);
  EXPECT_EQ(misplaced, 0) << "uniforms drawn in another iteration than sbi drew them";
  EXPECT_EQ(events[0], C);              // kSliceFinished
  EXPECT_EQ(events[1], C * s.sweeps);   // kSliceSweep
  EXPECT_EQ(events[2] + events[3], 0);  // neither cap binds
  for (size_t i = 0; i < samples.size(); ++i)
    ASSERT_TRUE(close_float(stored[i], static_cast<float>(samples[i])))
        << "sample element " << i << ": " << stored[i] << " vs sbi " << samples[i];
}

// Width 0.01 with 5 tuning sweeps: long step-outs, then tuned widths.
TEST(SliceGolden, Banana3NarrowWidthStepsOut) { check_case("slice_banana3_w0.01"); }
// Width 50, no tuning, thin 2: shrinkage dominates every update; every other sweep is kept.
TEST(SliceGolden, Banana3WideWidthShrinks) { check_case("slice_banana3_w50"); }
// sbi's default tuning (50 sweeps) on a correlated 2-D Gaussian.
TEST(SliceGolden, Gauss2DefaultTuning) { check_case("slice_gauss2_w0.01"); }

}  // namespace
}  // namespace cusbi
