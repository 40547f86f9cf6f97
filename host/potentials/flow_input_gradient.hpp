// d log q(input | condition) / d input or / d condition for a batch through the flow's loss and
// backward, the one place that knows how the flow produces those gradients. The flow's backward
// also accumulates parameter gradients, which a potential must not disturb (the user may be
// mid-training): they are saved into a preallocated buffer and put back, two flat copies per
// call. (When the flow gains an option to skip parameter gradients, only this file changes.)
#pragma once
#include "cusbi/flows.hpp"

namespace cusbi::potentials {

class FlowInputGradient {
 public:
  enum class Wrt { Input, Condition };

  // input and condition in any shapes the flow's loss takes (log_prob's broadcasting), on the
  // flow's device. Writes neg_log_q (loss's shape) = -log q and sets grad to d(-log q) / d input
  // (rows, D) or d(-log q) / d condition (rows, C), one row per loss entry in the loss's flat
  // order, a view of the flow's workspace valid until its next loss or backward. After the first
  // call at a given size, allocates nothing.
  void operator()(NeuralSplineFlow& flow, const Tensor& input, const Tensor& condition,
                  Tensor& neg_log_q, Tensor& grad, Wrt wrt = Wrt::Input);

 private:
  Tensor saved_gradients_;  // the flow's parameter gradients, held across backward
  Tensor ones_;             // d loss_sum / d loss, grow-only, all ones
};

}  // namespace cusbi::potentials
