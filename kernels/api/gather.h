// CUDA entry point of the row gather (take_rows in include/cusbi/tensor.hpp). CUDA-free:
// host/ops/take_rows.cpp includes it with g++. src and out are device pointers on the current
// device; the row indices are a host array, uploaded by the call. Work is queued on the default
// stream.
#pragma once
#include <cstdint>

namespace cusbi::cuda {

// out (num_rows, width) row i = src row host_rows[i]; every index already checked to be a row of
// src. host_rows is copied before the call returns (the upload from pageable memory may wait for
// the stream: call it once per epoch, not per step).
void take_rows(const float* src, int64_t width, const int64_t* host_rows, int64_t num_rows,
               float* out);

}  // namespace cusbi::cuda
