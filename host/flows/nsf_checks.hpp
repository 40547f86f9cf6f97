// Argument checks of NeuralSplineFlow and build_nsf, and the row maps that turn sbi's shape
// rules (a missing sample dimension, batch sizes equal or 1, sampling's (B, n) noise read as
// (n, B)) into the flat row order s * B + b of the flow program. Every message says what was
// passed, what was expected and what to do.
#pragma once
#include <cstdint>

#include "cusbi/flows.hpp"
#include "kernels/flows.h"

namespace cusbi::flows {

void check_nsf_options(int64_t input_features, int64_t condition_features, const NsfOptions& o);
// A defined Standardize must have `features` entries.
void check_zscore(const Standardize& z, int64_t features, const char* side);
void check_on(const Tensor& t, Device device, const char* who, const char* what);

// loss: log_prob's shapes and broadcasting; out (B,) for 2-D input, (S, B) for 3-D input,
// the rows in the same flat order s * B + b.
struct LossRows {
  int64_t rows = 0;
  Shape out_shape;
  kern::RowMap input, condition;
};
LossRows loss_rows(const Tensor& input, const Tensor& condition, int64_t D, int64_t C,
                   Device device);

// log_prob: input (S, B, D) or (B, D), condition (B, C) or (S, B, C), batches broadcast.
struct LogProbRows {
  int64_t samples = 0, batch = 0;
  kern::RowMap input, condition;
};
LogProbRows log_prob_rows(const Tensor& input, const Tensor& condition, int64_t D, int64_t C,
                          Device device);

// sample / sample_from_noise: rows j * B + b, base noise and condition rows.
struct SampleRows {
  int64_t samples = 0, batch = 0;
  kern::RowMap noise, condition;
};
SampleRows noise_rows(const Tensor& noise, const Tensor& condition, int64_t D, int64_t C,
                      Device device);
SampleRows sample_rows(const Shape& sample_shape, const Tensor& condition, int64_t C,
                       Device device);

}  // namespace cusbi::flows
