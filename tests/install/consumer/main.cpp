// Uses the installed cusbi package from outside the source tree: tensors, a ResidualNet with a
// context, forward and backward, gradient clipping and one Adam step, all on the CPU (the one
// device every build and machine has). Prints OK and exits 0 only if each stage did its job.
#include <cmath>
#include <cstdio>
#include <cusbi/cusbi.hpp>
#include <vector>

namespace {

bool fail(const char* what) {
  std::fprintf(stderr, "consumer: %s\n", what);
  return false;
}

bool run() {
  using namespace cusbi;
  const Device cpu = Device::cpu();
  Generator generator(7);

  // inputs (8, 3), context (8, 2), the shapes of a small conditional network.
  const Tensor inputs = randn({8, 3}, cpu, &generator);
  const Tensor context = randn({8, 2}, cpu, &generator);
  const Tensor sum = inputs + inputs;
  if (std::fabs(sum_all(sum) - 2.0f * sum_all(inputs)) > 1e-4f) return fail("tensor ops are wrong");

  ResidualNetOptions options;
  options.in_features = 3;
  options.out_features = 4;
  options.hidden_features = 16;
  options.context_features = 2;
  ResidualNet net(options, cpu, &generator);

  const Tensor output = net.forward(inputs, context);
  if (output.shape() != Shape{8, 4}) return fail("forward returned the wrong shape");
  if (!all_finite(output)) return fail("forward returned non-finite values");

  Adam optimizer(net.parameters(), net.gradients(), 1e-2);
  optimizer.zero_grad();
  net.backward(Tensor::ones({8, 4}, cpu));
  if (grad_norm(net.gradients()) <= 0.0f) return fail("backward left all gradients zero");
  clip_grad_norm(net.gradients(), 5.0);

  const std::vector<float> before = net.parameters().to_vector();
  optimizer.step();
  const std::vector<float> after = net.parameters().to_vector();
  if (before == after) return fail("the Adam step changed no parameter");
  return true;
}

}  // namespace

int main() {
  try {
    if (!run()) return 1;
  } catch (const cusbi::Error& error) {
    std::fprintf(stderr, "consumer: cusbi error: %s\n", error.what());
    return 1;
  }
  std::printf("OK\n");
  return 0;
}
