// Devices: names, equality, Device::best() and, on this machine or a GPU one, the error a user
// gets for a CUDA device that cannot be used (it must say what to do, not just fail).
#include "kernels/cuda_api.h"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::contains;
using cusbi::testing::error_of;

TEST(Device, NamesAndEquality) {
  EXPECT_EQ(Device::cpu().str(), "cpu");
  EXPECT_EQ(Device::cuda().str(), "cuda:0");
  EXPECT_EQ(Device::cuda(3).str(), "cuda:3");
  EXPECT_TRUE(Device::cpu().is_cpu());
  EXPECT_TRUE(Device::cuda(1).is_cuda());
  EXPECT_EQ(Device::cuda(1).index(), 1);
  EXPECT_EQ(Device::cuda(), Device::cuda(0));
  EXPECT_NE(Device::cuda(0), Device::cuda(1));
  EXPECT_NE(Device::cpu(), Device::cuda(0));
}

TEST(Device, BestIsTheFirstGpuOrTheCpu) {
  EXPECT_EQ(cuda_available(), cuda_device_count() > 0);
  EXPECT_EQ(Device::best(), cuda_available() ? Device::cuda(0) : Device::cpu());
  EXPECT_NO_THROW(check_device_usable(Device::cpu()));
  EXPECT_NO_THROW(synchronize(Device::cpu()));
}

// Without a GPU (this CPU-only machine, or a CUDA build on a machine without one) a CUDA
// tensor cannot be created, and the message points to Device::cpu(). With GPUs, an index past
// the last one fails the same way and says how many there are.
TEST(Device, UnusableCudaDeviceThrowsAHelpfulError) {
  if (!cuda_available()) {
    const std::string msg = error_of([] { Tensor::zeros({2}, Device::cuda()); });
    EXPECT_TRUE(contains(msg, "cannot use cuda:0"));
    EXPECT_TRUE(contains(msg, "Device::cpu()"));
    EXPECT_THROW(check_device_usable(Device::cuda()), Error);
    EXPECT_THROW(Tensor::zeros({2}, Device::cpu()).to(Device::cuda()), Error);
  } else {
    const int count = cuda_device_count();
    const std::string msg = error_of([&] { Tensor::zeros({2}, Device::cuda(count)); });
    EXPECT_TRUE(contains(msg, "cannot use cuda:" + std::to_string(count)));
    EXPECT_TRUE(contains(msg, "only " + std::to_string(count) + " GPU(s)"));
  }
}

// Why there is no GPU is kept and reported, with the CUDA runtime's own error in a CUDA build
// (on this machine whatever cudaGetDeviceCount returned: no device, or no driver), so that an
// old driver is not mistaken for "no GPU". Empty when a GPU is usable.
TEST(Device, UnavailableReasonCarriesTheRuntimeError) {
  const std::string reason = cuda_unavailable_reason();
  if (cuda_available()) {
    EXPECT_EQ(reason, "");
    return;
  }
  ASSERT_FALSE(reason.empty());
  if (cuda::built_with_cuda())
    EXPECT_TRUE(contains(reason, "(cudaError")) << reason;  // "(cudaErrorName: text)"
  else
    EXPECT_TRUE(contains(reason, "built without CUDA")) << reason;
  EXPECT_EQ(Device::best(), Device::cpu());  // still falls back
  const std::string msg = error_of([] { check_device_usable(Device::cuda(0)); });
  EXPECT_TRUE(contains(msg, cuda::built_with_cuda() ? reason : "built without CUDA")) << msg;
  EXPECT_TRUE(contains(msg, "Device::cpu()")) << msg;
}

TEST(Device, RoundTripThroughTheGpuKeepsValues) {
  CUSBI_REQUIRE_GPU();
  const std::vector<float> v = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-38f};
  const Tensor cpu = Tensor::from(v, {2, 3}, Device::cpu());
  const Tensor gpu = cpu.to(Device::cuda());
  EXPECT_TRUE(gpu.device().is_cuda());
  EXPECT_EQ(gpu.shape(), cpu.shape());
  EXPECT_EQ(gpu.to_vector(), v);
  EXPECT_EQ(gpu.to(Device::cpu()).to_vector(), v);
  // Views, fill_ and copy_ on the GPU behave as on the CPU.
  Tensor g = gpu.clone();
  g[1].fill_(7.0f);
  g[0].copy_(cpu[1]);
  EXPECT_EQ(g.to_vector(), (std::vector<float>{3.25f, 0.0f, -0.0f, 7.0f, 7.0f, 7.0f}));
  EXPECT_EQ(gpu.to_vector(), v);  // clone was independent
  EXPECT_EQ(g[1][2].item(), 7.0f);
  synchronize(Device::cuda());
}

}  // namespace
}  // namespace cusbi
