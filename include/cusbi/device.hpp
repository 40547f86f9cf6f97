// Where a tensor's memory lives and where the ops on it run. The device comes from the data:
// model, trainer and posterior code never branch on it, the ops dispatch on the tensors' device.
#pragma once
#include <string>

namespace cusbi {

enum class DeviceType { CPU, CUDA };

class Device {
 public:
  static Device cpu() { return Device(DeviceType::CPU, 0); }
  static Device cuda(int index = 0) { return Device(DeviceType::CUDA, index); }
  // The first GPU when one is usable, else the CPU.
  static Device best();

  DeviceType type() const { return type_; }
  int index() const { return index_; }
  bool is_cpu() const { return type_ == DeviceType::CPU; }
  bool is_cuda() const { return type_ == DeviceType::CUDA; }
  std::string str() const;  // "cpu" or "cuda:0"

  friend bool operator==(const Device&, const Device&) = default;

 private:
  Device(DeviceType type, int index) : type_(type), index_(index) {}
  DeviceType type_;
  int index_;
};

// True when this build has the CUDA backend and at least one GPU is visible.
bool cuda_available();
// Number of visible GPUs (0 in a CPU-only build or on a machine without a GPU).
int cuda_device_count();
// Why no GPU can be used, empty when one can: "built without CUDA", "no CUDA GPU is visible",
// or the CUDA runtime's own error when it could not tell (an old driver, e.g. "...
// (cudaErrorInsufficientDriver: CUDA driver version is insufficient for CUDA runtime
// version); install or update the driver"). Device::best() falls back to the CPU silently;
// this says why.
std::string cuda_unavailable_reason();
// Throws cusbi::Error unless `device` can be used here (e.g. CUDA in a CPU-only build). A CUDA
// device is checked this way by everything that puts memory or work on it (a tensor, a model),
// and the message carries cuda_unavailable_reason().
void check_device_usable(const Device& device);
// Waits for all queued work on `device` (no-op on the CPU).
void synchronize(const Device& device);

}  // namespace cusbi
