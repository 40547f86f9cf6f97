// classifier_logits: the tutorial's atom construction and classifier call in one function.
// Allocates its atom rows per call (a custom loop's convenience; the NRE trainer keeps
// workspaces instead).
#include "cusbi/error.hpp"
#include "cusbi/nre.hpp"

namespace cusbi {

Tensor classifier_logits(RatioClassifier& net, const Tensor& theta, const Tensor& x,
                         int64_t num_atoms, Generator* generator) {
  CUSBI_CHECK(theta.dim() == 2 && x.dim() == 2 && theta.size(0) == x.size(0),
              "classifier_logits: theta " << shape_str(theta.shape()) << " and x "
                                          << shape_str(x.shape())
                                          << " must be (B, D) and (B, C) with the same B");
  const int64_t b = theta.size(0);
  const Tensor indices = contrasting_indices(b, num_atoms, theta.device(), generator);
  Tensor theta_rows = Tensor::empty({b * num_atoms, theta.size(1)}, theta.device());
  Tensor x_rows = Tensor::empty({b * num_atoms, x.size(1)}, theta.device());
  atom_rows(theta, x, indices, theta_rows, x_rows);
  return net.forward(theta_rows, x_rows);
}

}  // namespace cusbi
