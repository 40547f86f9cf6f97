// ResidualNet's and Linear's contract around their buffers: bad calls (wrong shapes, inputs that
// are views of the net's own workspace, outputs overlapping inputs) throw cusbi::Error saying
// what to fix, a steady-state forward+backward allocates nothing, and repeated runs give
// identical bits (gradients reduced in a fixed order, also on the multi-threaded path).
#include <string>
#include <vector>

#include "host/allocation_counter.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::contains;
using cusbi::testing::error_of;

#define EXPECT_ERROR_HAS(expr, text)                                          \
  do {                                                                        \
    const std::string msg_ = error_of([&] { expr; });                         \
    EXPECT_NE(msg_.find(text), std::string::npos) << "message was: " << msg_; \
  } while (0)

TEST(ResidualNetErrors, ShapeMismatchesSayWhatToPass) {
  Generator gen(0);
  ResidualNet net({2, 3, 8, 4, 2}, Device::cpu(), &gen);
  const Device cpu = Device::cpu();
  const Tensor x = Tensor::zeros({5, 2}, cpu), c = Tensor::zeros({5, 4}, cpu);
  EXPECT_ERROR_HAS(net.backward(Tensor::zeros({5, 3}, cpu)), "call forward first");
  EXPECT_ERROR_HAS(net.forward(Tensor::zeros({5, 3}, cpu), c),
                   "inputs has shape (5, 3), expected (batch, 2)");
  EXPECT_ERROR_HAS(net.forward(x, Tensor::zeros({5, 3}, cpu)),
                   "context has shape (5, 3), expected (batch, 4)");
  EXPECT_ERROR_HAS(net.forward(x), "built with context_features = 4");
  EXPECT_ERROR_HAS(net.forward(x, Tensor::zeros({6, 4}, cpu)),
                   "context has 6 rows but inputs have 5");
  EXPECT_ERROR_HAS(net.forward(Tensor::zeros({10}, cpu), c), "inputs has shape (10,)");
  net.forward(x, c);
  EXPECT_ERROR_HAS(net.backward(Tensor::zeros({4, 3}, cpu)), "the last forward had batch 5");
  EXPECT_ERROR_HAS(net.backward(Tensor::zeros({5, 2}, cpu)),
                   "grad_output has shape (5, 2), expected (5, 3)");

  ResidualNet plain({2, 3, 8, 0, 1}, Device::cpu(), &gen);
  EXPECT_ERROR_HAS(plain.forward(x, c), "built without context");
  EXPECT_ERROR_HAS(ResidualNet({0, 3, 8, 0, 1}, Device::cpu(), &gen), "in_features");
}

TEST(LinearErrors, ShapeMismatchesSayWhatToPass) {
  ParameterSet ps;
  Linear lin(ps, "l", 3, 2);
  Generator gen(0);
  ps.materialize(Device::cpu(), gen);
  Tensor y = Tensor::zeros({4, 2}, Device::cpu());
  EXPECT_ERROR_HAS(lin.forward(ps, Tensor::zeros({4, 2}, Device::cpu()), y),
                   "x has shape (4, 2), expected (batch, 3)");
  EXPECT_ERROR_HAS(lin.forward(ps, Tensor::zeros({5, 3}, Device::cpu()), y),
                   "y has shape (4, 2), expected (5, 2)");
  Tensor dx = Tensor::zeros({4, 2}, Device::cpu());
  EXPECT_ERROR_HAS(lin.backward(ps, Tensor::zeros({4, 3}, Device::cpu()), y, &dx),
                   "dx has shape (4, 2), expected (4, 3)");
  Tensor r = Tensor::zeros({3}, Device::cpu());
  EXPECT_ERROR_HAS(relu_forward(Tensor::zeros({4}, Device::cpu()), r), "relu_forward");
}

TEST(ResidualNetErrors, InputsThatAreViewsOfTheWorkspaceAreRejected) {
  // in == out == C, so outputs and gradients of the net fit as its inputs or context.
  Generator gen(7);
  ResidualNet net({3, 3, 8, 3, 2}, Device::cpu(), &gen);
  const Tensor x = randn({6, 3}, Device::cpu(), &gen), c = randn({6, 3}, Device::cpu(), &gen);
  const Tensor out = net.forward(x, c);
  EXPECT_ERROR_HAS(net.forward(out, c), "inputs is a view of this net's own workspace");
  EXPECT_ERROR_HAS(net.forward(out, c), "clone()");
  EXPECT_ERROR_HAS(net.forward(x, out), "context is a view of this net's own workspace");
  net.forward(x, c);
  Tensor gc;
  const Tensor dx = net.backward(randn({6, 3}, Device::cpu(), &gen), &gc);
  EXPECT_ERROR_HAS(net.forward(dx, c), "inputs is a view");
  EXPECT_ERROR_HAS(net.forward(x, gc), "context is a view");
  // A row slice overlaps too; a clone does not.
  EXPECT_ERROR_HAS(net.forward(out.slice_rows(2, 4), c.slice_rows(2, 4)), "inputs is a view");
  const Tensor again = net.forward(out.clone(), c);
  EXPECT_EQ(again.shape(), Shape({6, 3}));
  // grad_output may be a view of the workspace: backward reads it before writing any view.
  // Checked against the same gradient passed as a separate copy.
  const Tensor out2 = net.forward(x, c);
  net.zero_grad();
  const std::vector<float> dx_copy = net.backward(out2.clone()).to_vector();
  const std::vector<float> grads_copy = net.gradients().to_vector();
  net.zero_grad();
  EXPECT_EQ(net.backward(out2).to_vector(), dx_copy);
  EXPECT_EQ(net.gradients().to_vector(), grads_copy);
}

TEST(LinearErrors, OverlappingOutputsAreRejected) {
  ParameterSet ps;
  Linear lin(ps, "l", 3, 3);
  Generator gen(0);
  ps.materialize(Device::cpu(), gen);
  Tensor a = randn({4, 3}, Device::cpu(), &gen), b = randn({4, 3}, Device::cpu(), &gen);
  EXPECT_ERROR_HAS(lin.forward(ps, a, a), "y shares memory with x");
  Tensor tail = a.slice_rows(1, 4);
  EXPECT_ERROR_HAS(lin.forward(ps, a.slice_rows(0, 3), tail), "y shares memory with x");
  EXPECT_ERROR_HAS(lin.backward(ps, a, b, &b), "dx shares memory with dy");
  EXPECT_ERROR_HAS(lin.backward(ps, a, b, &a), "dx shares memory with x");
  // A rejected call must leave the gradients untouched.
  EXPECT_EQ(ps.grads().to_vector(), std::vector<float>(ps.numel(), 0.0f));
}

// One training-like step: forward, backward with a gradient that depends on the output.
void step(ResidualNet& net, const Tensor& x, const Tensor& c, Tensor& grad) {
  const Tensor out = net.forward(x, c);
  grad.copy_(out);
  Tensor grad_context;
  net.backward(grad, &grad_context);
}

TEST(ResidualNetWorkspace, SteadyStateAllocatesNothing) {
  Generator gen(2);
  ResidualNet net({3, 5, 16, 4, 2}, Device::cpu(), &gen);
  const Tensor x = randn({300, 3}, Device::cpu(), &gen), c = randn({300, 4}, Device::cpu(), &gen);
  Tensor grad = Tensor::empty({300, 5}, Device::cpu());
  step(net, x, c, grad);  // sizes the workspace
  const int64_t before = detail::allocation_count();
  for (int i = 0; i < 3; ++i) step(net, x, c, grad);
  EXPECT_EQ(detail::allocation_count(), before) << "a repeated step allocated";
  // A smaller batch reuses the same workspace.
  Tensor small_grad = grad.slice_rows(0, 100);
  step(net, x.slice_rows(0, 100), c.slice_rows(0, 100), small_grad);
  EXPECT_EQ(detail::allocation_count(), before) << "a smaller batch allocated";
  // A bigger batch grows it once, and only once.
  const Tensor x2 = randn({400, 3}, Device::cpu(), &gen), c2 = randn({400, 4}, Device::cpu(), &gen);
  Tensor grad2 = Tensor::empty({400, 5}, Device::cpu());
  const int64_t before_growth = detail::allocation_count();
  step(net, x2, c2, grad2);
  step(net, x2, c2, grad2);
  EXPECT_EQ(detail::allocation_count(), before_growth + 1);
}

TEST(LinearWorkspace, BackwardScratchGrowsOnlyForABiggerBatch) {
  Generator gen(3);
  ParameterSet ps;
  const Linear lin(ps, "l", 40, 30);
  ps.materialize(Device::cpu(), gen);
  auto backward = [&](int64_t batch) {
    const Tensor x = randn({batch, 40}, Device::cpu(), &gen);
    const Tensor dy = randn({batch, 30}, Device::cpu(), &gen);
    Tensor dx = Tensor::empty({batch, 40}, Device::cpu());
    const int64_t before = detail::allocation_count();
    lin.backward(ps, x, dy, &dx);
    return detail::allocation_count() - before;
  };
  EXPECT_EQ(backward(1000), 1) << "the first backward allocates its scratch";
  EXPECT_EQ(backward(1000), 0) << "a repeated backward allocated";
  EXPECT_EQ(backward(300), 0) << "a smaller batch allocated";
  EXPECT_EQ(backward(3000), 1) << "a bigger batch grows the scratch once";
  EXPECT_EQ(backward(3000), 0);
}

TEST(ResidualNetWorkspace, RepeatedRunsGiveIdenticalBits) {
  // B = 1100 runs as 16 row parts on the pool's threads, their gradient partials added in part
  // order (host/exec/runner.hpp).
  const int64_t B = 1100;
  Generator gen(4);
  ResidualNet net({3, 29, 50, 5, 2}, Device::cpu(), &gen);
  const Tensor x = randn({B, 3}, Device::cpu(), &gen), c = randn({B, 5}, Device::cpu(), &gen);
  const Tensor g = randn({B, 29}, Device::cpu(), &gen);
  std::vector<std::vector<float>> grads, outs;
  for (int run = 0; run < 2; ++run) {
    net.zero_grad();
    outs.push_back(net.forward(x, c).to_vector());
    Tensor gc;
    net.backward(g, &gc);
    grads.push_back(net.gradients().to_vector());
    grads.push_back(gc.to_vector());
  }
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_EQ(grads[0], grads[2]);
  EXPECT_EQ(grads[1], grads[3]);
}

TEST(ResidualNetWorkspace, ContextGradientIsOptional) {
  Generator gen(6);
  ResidualNet net({2, 4, 8, 3, 2}, Device::cpu(), &gen);
  const Tensor x = randn({20, 2}, Device::cpu(), &gen), c = randn({20, 3}, Device::cpu(), &gen);
  const Tensor g = randn({20, 4}, Device::cpu(), &gen);
  net.forward(x, c);
  Tensor gc;
  const std::vector<float> dx_with = net.backward(g, &gc).to_vector();
  const std::vector<float> grads_with = net.gradients().to_vector();
  EXPECT_EQ(gc.shape(), Shape({20, 3}));
  net.zero_grad();
  const std::vector<float> dx_without = net.backward(g).to_vector();
  EXPECT_EQ(dx_without, dx_with);
  EXPECT_EQ(net.gradients().to_vector(), grads_with);
}

TEST(ResidualNetWorkspace, EmptyBatchIsANoOp) {
  Generator gen(5);
  ResidualNet net({2, 3, 4, 1, 1}, Device::cpu(), &gen);
  const Tensor out =
      net.forward(Tensor::zeros({0, 2}, Device::cpu()), Tensor::zeros({0, 1}, Device::cpu()));
  EXPECT_EQ(out.shape(), Shape({0, 3}));
  Tensor gc;
  const Tensor dx = net.backward(Tensor::zeros({0, 3}, Device::cpu()), &gc);
  EXPECT_EQ(dx.shape(), Shape({0, 2}));
  EXPECT_EQ(gc.shape(), Shape({0, 1}));
  EXPECT_EQ(net.gradients().to_vector(), std::vector<float>(net.gradients().numel(), 0.0f));
}

}  // namespace
}  // namespace cusbi
