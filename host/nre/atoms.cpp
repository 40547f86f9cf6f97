// NRE's atoms (include/cusbi/nre.hpp): the contrasting indices from the generator's Philox
// stream (kernels/atoms.h on either device) and the classifier's (theta, x) rows, theta by the
// device-index take_rows and x by a repeat copy (kernels/atoms.cu or host/cpu/atoms.cpp).
#include "host/cpu/atoms.hpp"

#include "cusbi/error.hpp"
#include "cusbi/nre.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

void contrasting_indices(Tensor& out, Generator* generator) {
  constexpr const char* op = "contrasting_indices";
  ops::check_defined(out, op);
  CUSBI_CHECK(out.dtype() == DType::Int64 && out.dim() == 2,
              op << ": out is a " << dtype_name(out.dtype()) << " tensor of shape "
                 << shape_str(out.shape()) << "; it must be int64 (batch, num_atoms)");
  const int64_t batch = out.size(0), atoms = out.size(1);
  CUSBI_CHECK(atoms >= 2 && atoms <= batch,
              op << ": num_atoms = " << atoms << " with batch " << batch
                 << "; it must lie in [2, batch]: each x needs its own theta and num_atoms - 1 "
                    "distinct others from the batch (sbi clamps num_atoms to this range)");
  CUSBI_CHECK(batch <= (int64_t{1} << 32),
              op << ": batch " << batch << " exceeds the 2^32 random streams (one per row)");
  Generator& g = generator ? *generator : default_generator();
  const uint64_t offset = g.advance(static_cast<uint64_t>(atoms - 1));
  if (ops::runs_on_cpu(out.device()))
    cpu::contrasting_indices(batch, atoms, g.seed(), offset, out.data_as<int64_t>());
  else
    cuda::contrasting_indices(batch, atoms, g.seed(), offset, out.data_as<int64_t>());
}

Tensor contrasting_indices(int64_t batch, int64_t num_atoms, Device device, Generator* generator) {
  CUSBI_CHECK(batch >= 2 && num_atoms >= 2 && num_atoms <= batch,
              "contrasting_indices: batch " << batch << ", num_atoms " << num_atoms
                                            << "; need 2 <= num_atoms <= batch (each x gets its "
                                               "own theta and num_atoms - 1 distinct others)");
  Tensor out = Tensor::empty({batch, num_atoms}, DType::Int64, device);
  contrasting_indices(out, generator);
  return out;
}

void atom_rows(const Tensor& theta, const Tensor& x, const Tensor& indices, Tensor& theta_out,
               Tensor& x_out) {
  constexpr const char* op = "atom_rows";
  ops::check_float(theta, op);
  ops::check_float(x, op);
  ops::check_defined(indices, op);
  const Device device = ops::common_device(theta, x, op);
  CUSBI_CHECK(theta.dim() == 2 && x.dim() == 2 && theta.size(0) == x.size(0),
              op << ": theta " << shape_str(theta.shape()) << " and x " << shape_str(x.shape())
                 << " must be (B, D) and (B, C) with the same B");
  const int64_t batch = theta.size(0);
  CUSBI_CHECK(indices.dtype() == DType::Int64 && indices.dim() == 2 && indices.size(0) == batch &&
                  indices.device() == device,
              op << ": indices are a " << dtype_name(indices.dtype()) << " tensor of shape "
                 << shape_str(indices.shape()) << " on " << indices.device().str()
                 << "; expected int64 (" << batch << ", K) on " << device.str()
                 << " from contrasting_indices");
  const int64_t atoms = indices.size(1), rows = batch * atoms;
  ops::check_out(theta_out, Shape{rows, theta.size(1)}, device, op);
  ops::check_out(x_out, Shape{rows, x.size(1)}, device, op);
  ops::check_overlap(x_out, x, false, op);
  ops::check_overlap(x_out, theta_out, false, op);
  take_rows(theta, indices.reshape({rows}), theta_out);  // checks its own overlap and indices
  if (ops::runs_on_cpu(device))
    cpu::repeat_rows(x.data(), batch, x.size(1), atoms, x_out.data());
  else
    cuda::repeat_rows(x.data(), batch, x.size(1), atoms, x_out.data());
}

}  // namespace cusbi
