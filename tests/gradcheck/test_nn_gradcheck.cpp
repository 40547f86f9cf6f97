// Gradient checks of the nn building blocks: analytic backward vs central differences in double,
// through the production code path (the ResidualNet program and linear ops instantiated on
// cpu::CpuExec<double>, the executor the float CPU path uses). Also checks the float production
// path against the double one, so the two instantiations cannot disagree.
#include <algorithm>
#include <cmath>
#include <vector>

#include "gradcheck/nn_gradcheck.hpp"
#include "host/cpu/nn.hpp"
#include "host/nn/linear_ops.hpp"
#include "host/nn/residual_program.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::central_differences;
using testing::dot;
using testing::grads_agree;
using Exec = cpu::CpuExec<double>;

std::vector<double> draw(int64_t n, double low, double high, Generator& gen) {
  const std::vector<float> v =
      uniform({n}, float(low), float(high), Device::cpu(), &gen).to_vector();
  return std::vector<double>(v.begin(), v.end());
}

TEST(Gradcheck, Linear) {
  // B = 5000 with 4 outputs takes the chunked bias-gradient path (multi-threaded) and splits
  // the weight gradient into 40 chunk partials.
  for (int64_t B : {5, 5000}) {
    const int64_t I = 3, O = 4;
    Generator gen(1);
    std::vector<double> w = draw(O * I, -1, 1, gen), b = draw(O, -1, 1, gen);
    std::vector<double> x = draw(B * I, -2, 2, gen), R = draw(B * O, -1, 1, gen);
    std::vector<double> y(B * O), dw(O * I, 0.0), db(O, 0.0), dx(B * I);
    std::vector<double> scratch(nn::linear_backward_scratch<Exec>(B, I, O));
    Exec ex;
    auto loss = [&] {
      nn::linear_forward(ex, w.data(), b.data(), B, I, O, x.data(), y.data());
      return dot(y, R, y.size());
    };
    nn::linear_backward(ex, w.data(), dw.data(), db.data(), B, I, O, x.data(), R.data(), dx.data(),
                        false, scratch.data());
    EXPECT_TRUE(grads_agree(dw, central_differences(w, loss), "dW"));
    EXPECT_TRUE(grads_agree(db, central_differences(b, loss), "db"));
    // Rows are independent: the first 40 inputs cover every code path.
    EXPECT_TRUE(
        grads_agree(dx, central_differences(x, loss, [](size_t i) { return i < 40; }), "dx"));
  }
}

TEST(Gradcheck, Relu) {
  Generator gen(2);
  std::vector<double> x = draw(64, -1, 1, gen), R = draw(64, -1, 1, gen);
  for (double& v : x) v += v >= 0 ? 0.1 : -0.1;  // keep every input away from the kink
  std::vector<double> y(64), dx(64);
  Exec ex;
  auto loss = [&] {
    ex.relu(64, x.data(), y.data());
    return dot(y, R, 64);
  };
  ex.relu_backward(64, x.data(), R.data(), dx.data());
  EXPECT_TRUE(grads_agree(dx, central_differences(x, loss), "dx"));
}

// A ResidualNet's layout from a float net of the same options, with parameters redrawn from
// U(-0.6, 0.6) in double: nflows' 1e-3 init of each block's last Linear would make the block
// terms too small for the check to see.
struct NetCase {
  NetCase(const ResidualNetOptions& o, int64_t batch, uint64_t seed)
      : opts(o),
        B(batch),
        gen(seed),
        net(o, Device::cpu(), &gen),
        layout(nn::find_residual_net(o, net.parameter_set(), "")),
        program(layout) {
    params = draw(net.parameter_set().numel(), -0.6, 0.6, gen);
    grads.assign(params.size(), 0.0);
    workspace.assign(nn::ResidualNetProgram<Exec>::workspace_numel(layout, B), 0.0);
    x = draw(B * o.in_features, -2, 2, gen);
    c = draw(B * o.context_features, -2, 2, gen);
  }
  std::vector<double> draw_free(int64_t n) { return draw(n, -1, 1, gen); }
  const double* context() const { return opts.context_features ? c.data() : nullptr; }
  void bind() { program.bind(params.data(), grads.data(), workspace.data(), B); }

  ResidualNetOptions opts;
  int64_t B;
  Generator gen;
  ResidualNet net;
  nn::ResidualNetLayout layout;
  nn::ResidualNetProgram<Exec> program;
  std::vector<double> params, grads, workspace, x, c;
  Exec ex;
};

// One residual block on its own: h_in (B, H) -> h_out, its ReLU input computed with the
// executor's relu and the pending ReLU backward settled with the same pass the net uses.
void check_block(int64_t C) {
  NetCase t({3, 4, 6, C, 1}, 7, 3 + C);
  const int64_t B = t.B, H = 6;
  std::vector<double> h = t.draw_free(B * H);
  std::vector<double> R = t.draw_free(B * H);
  auto& buf = t.program.buf;
  auto loss = [&] {
    t.bind();
    std::copy(h.begin(), h.end(), buf.h);
    t.ex.relu(B * H, buf.h, buf.r[0]);
    t.program.block_forward(t.ex, 0, t.context());
    return dot(std::vector<double>(buf.h, buf.h + B * H), R, B * H);
  };
  loss();
  std::copy(R.begin(), R.end(), buf.dh);
  t.program.pending_dr = t.program.pending_r = nullptr;
  t.program.dc_written = false;
  t.program.want_dc = true;
  t.program.block_backward(t.ex, 0, t.context());
  t.ex.gate_backward(B, H, buf.dh, t.program.pending_dr, t.program.pending_r, nullptr, nullptr,
                     nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  const std::vector<double> dh(buf.dh, buf.dh + B * H);
  const std::vector<double> dc =
      C ? std::vector<double>(buf.dc, buf.dc + B * C) : std::vector<double>();
  const std::vector<double> dparams = t.grads;
  EXPECT_TRUE(grads_agree(dh, central_differences(h, loss), "dh_in"));
  EXPECT_TRUE(grads_agree(dparams, central_differences(t.params, loss), "dparams"));
  if (C) EXPECT_TRUE(grads_agree(dc, central_differences(t.c, loss), "dcontext"));
}

TEST(Gradcheck, ResidualBlockWithoutContext) { check_block(0); }
TEST(Gradcheck, ResidualBlockWithContext) { check_block(2); }

// The whole net: gradients w.r.t. every parameter, the inputs and the context.
// With `sparse`, only every bias, every 5th weight and the first 12 inputs are differentiated:
// enough to cover every code path of a large batch in a fraction of the forward passes.
void check_net(const ResidualNetOptions& o, int64_t B, bool sparse = false) {
  SCOPED_TRACE(::testing::Message() << "in=" << o.in_features << " C=" << o.context_features
                                    << " H=" << o.hidden_features << " out=" << o.out_features
                                    << " blocks=" << o.num_blocks << " B=" << B);
  NetCase t(o, B, 100 + B + o.num_blocks);
  const std::vector<double> R = t.draw_free(B * o.out_features);
  auto& buf = t.program.buf;
  auto loss = [&] {
    t.bind();
    t.program.forward(t.ex, t.x.data(), t.context());
    return dot(std::vector<double>(buf.out, buf.out + R.size()), R, R.size());
  };
  loss();
  t.program.backward(t.ex, t.x.data(), t.context(), R.data());
  const std::vector<double> dx(buf.dx, buf.dx + t.x.size());
  const std::vector<double> dc =
      o.context_features ? std::vector<double>(buf.dc, buf.dc + t.c.size()) : std::vector<double>();
  const std::vector<double> dparams = t.grads;
  std::vector<bool> is_bias(t.params.size(), false);
  for (const auto& e : t.net.parameter_set().entries())
    if (e.name.size() > 5 && e.name.compare(e.name.size() - 5, 5, ".bias") == 0)
      for (int64_t i = 0; i < e.slot.numel(); ++i) is_bias[e.slot.offset + i] = true;
  auto pick_param = [&](size_t i) { return !sparse || is_bias[i] || i % 5 == 0; };
  auto pick_input = [&](size_t i) { return !sparse || i < 12; };
  EXPECT_TRUE(grads_agree(dparams, central_differences(t.params, loss, pick_param), "dparams"));
  EXPECT_TRUE(grads_agree(dx, central_differences(t.x, loss, pick_input), "dinputs"));
  if (o.context_features)
    EXPECT_TRUE(grads_agree(dc, central_differences(t.c, loss, pick_input), "dcontext"));
}

TEST(Gradcheck, ResidualNetShapes) {
  check_net({1, 3, 4, 0, 1}, 5);  // in = 1, no context, one block
  check_net({3, 4, 5, 2, 2}, 6);  // nflows' default depth with context
  check_net({2, 5, 6, 3, 3}, 4);  // three blocks
  check_net({4, 2, 3, 0, 3}, 5);  // three blocks, no context
  check_net({2, 3, 4, 2, 0}, 3);  // no blocks: initial and final layer only
  check_net({1, 2, 3, 1, 2}, 1);  // a single row
}

TEST(Gradcheck, ResidualNetLargeBatchTakesTheChunkedPath) {
  // B * H = 18000 >= cpu::kParallelElements: threaded passes and chunked bias gradients; the
  // batch spans cpu::gemm_chunks(3000) = 24 GEMM chunks, so weights get per-chunk partials.
  check_net({2, 2, 6, 1, 1}, 3000, /*sparse=*/true);
}

TEST(Gradcheck, FloatPathMatchesDoublePath) {
  const ResidualNetOptions o{3, 6, 16, 4, 2};
  const int64_t B = 70;
  NetCase t(o, B, 9);
  const std::vector<double> R = t.draw_free(B * o.out_features);
  t.bind();
  t.program.forward(t.ex, t.x.data(), t.context());
  const std::vector<double> out(t.program.buf.out, t.program.buf.out + R.size());
  t.program.backward(t.ex, t.x.data(), t.context(), R.data());
  // The float path: the public API on the CPU with the same (float-rounded) numbers.
  auto to_float = [](const std::vector<double>& v, const Shape& shape) {
    return Tensor::from(std::vector<float>(v.begin(), v.end()), shape, Device::cpu());
  };
  t.net.parameters().copy_(to_float(t.params, {int64_t(t.params.size())}));
  const Tensor out_f = t.net.forward(to_float(t.x, {B, 3}), to_float(t.c, {B, 4}));
  Tensor dc_f;
  const Tensor dx_f = t.net.backward(to_float(R, {B, 6}), &dc_f);
  // The inputs were drawn as floats, so both paths see the same numbers; what remains is float
  // rounding through ~5 layers of width 16 and sums over 70 rows: ~1e-5 relative.
  auto close = [](const Tensor& f, const double* d, const char* what) {
    const std::vector<float> v = f.to_vector();
    double scale = 0.0;
    for (size_t i = 0; i < v.size(); ++i) scale = std::max(scale, std::fabs(d[i]));
    for (size_t i = 0; i < v.size(); ++i)
      ASSERT_NEAR(v[i], d[i], 3e-5 * (scale + 1.0)) << what << "[" << i << "]";
  };
  close(out_f, out.data(), "output");
  close(t.net.gradients(), t.grads.data(), "parameter gradient");
  close(dx_f, t.program.buf.dx, "dinputs");
  close(dc_f, t.program.buf.dc, "dcontext");
}

TEST(Gradcheck, Standardize) {
  Generator gen(6);
  const int64_t B = 4, D = 3;
  std::vector<double> x = draw(B * D, -2, 2, gen), R = draw(B * D, -1, 1, gen);
  const std::vector<double> mean = draw(D, -1, 1, gen), std = draw(D, 0.2, 2, gen);
  std::vector<double> y(B * D), dx(B * D);
  auto loss = [&] {
    cpu::standardize(kern::StandardizeMode::kForward, B, D, x.data(), mean.data(), std.data(),
                     y.data());
    return dot(y, R, y.size());
  };
  cpu::standardize(kern::StandardizeMode::kBackward, B, D, R.data(), mean.data(), std.data(),
                   dx.data());
  EXPECT_TRUE(grads_agree(dx, central_differences(x, loss), "dx"));
}

}  // namespace
}  // namespace cusbi
