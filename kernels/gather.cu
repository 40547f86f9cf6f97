// CUDA row gather behind take_rows: the host index list is uploaded into a stream-ordered
// allocation (cudaMallocAsync on the device's stream, so the gather is ordered with the kernels
// around it and the free waits for the kernel without blocking the host), then one grid-stride
// kernel over the output elements calls kernels/gather.h. Meant for once-per-epoch gathers: the
// upload from pageable memory may wait for the stream.
#include "kernels/cuda_api.h"
#include "kernels/cuda_check.cuh"
#include "kernels/gather.h"

namespace cusbi::cuda {

namespace {

__global__ void take_rows_kernel(const float* src, int64_t width, const int64_t* rows, int64_t n,
                                 float* out) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n;
       e += int64_t(gridDim.x) * blockDim.x)
    out[e] = kern::gather_row_element(src, width, rows, e);
}

// Device copy of the indices, freed in stream order (after the kernel that reads it).
class DeviceRows {
 public:
  explicit DeviceRows(int64_t count) {
    CUSBI_CUDA_CHECK(
        cudaMallocAsync(reinterpret_cast<void**>(&data_), size_t(count) * sizeof(int64_t), stream()));
  }
  ~DeviceRows() { (void)cudaFreeAsync(data_, stream()); }  // destructors never throw
  DeviceRows(const DeviceRows&) = delete;
  DeviceRows& operator=(const DeviceRows&) = delete;
  int64_t* data() const { return data_; }

 private:
  int64_t* data_ = nullptr;
};

}  // namespace

void take_rows(const float* src, int64_t width, const int64_t* host_rows, int64_t num_rows,
               float* out) {
  const int64_t n = num_rows * width;
  if (n == 0) return;
  DeviceRows rows(num_rows);
  // From pageable memory the driver stages the copy before returning, so host_rows may go away.
  CUSBI_CUDA_CHECK(cudaMemcpyAsync(rows.data(), host_rows, size_t(num_rows) * sizeof(int64_t),
                                   cudaMemcpyHostToDevice, stream()));
  take_rows_kernel<<<grid_for(n), kBlock, 0, stream()>>>(src, width, rows.data(), n, out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

}  // namespace cusbi::cuda
