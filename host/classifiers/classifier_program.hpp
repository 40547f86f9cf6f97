// sbi's ratio classifiers (include/cusbi/classifiers.hpp) as one program of executor operations:
// z-scored concatenation [z(theta), z(x)] (a column copy each, then one standardize pass over
// the combined statistics), then the trunk (nflows ResidualNet program, the LayerNorm MLP or one
// Linear) into the caller's logits. Instantiated on ClassifierCpuExec<float> (production CPU),
// ClassifierCudaExec (GPU) and ClassifierCpuExec<double> (tests/gradcheck), so paths agree.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "host/cpu/layer_norm.hpp"
#include "host/cpu/nn.hpp"
#include "host/exec/cuda_exec.hpp"
#include "host/exec/workspace.hpp"
#include "host/nn/linear_ops.hpp"
#include "host/nn/residual_program.hpp"
#include "kernels/api/layer_norm.h"
#include "kernels/layer_norm.h"

namespace cusbi::classifiers {

enum class Trunk : int { kResnet = 0, kMlp = 1, kLinear = 2 };

struct LayerNormOffsets {
  int64_t weight = 0, bias = 0;  // gamma, beta (features,)
};

// Where the parameters sit; theta, x: input widths D and C; hidden: H (mlp, resnet).
struct ClassifierLayout {
  Trunk trunk = Trunk::kResnet;
  int64_t theta = 0, x = 0, hidden = 0;
  nn::ResidualNetLayout resnet;  // kResnet, in = D + C, out = 1, no context
  nn::LinearOffsets linear[3];   // kMlp: net.0, net.3, net.6; kLinear: [0] = net
  LayerNormOffsets norm[2];      // kMlp: net.1, net.4
  int64_t in() const { return theta + x; }
};

// The network executors plus LayerNorm and a strided column copy.
template <class T>
struct ClassifierCpuExec : cpu::CpuExec<T> {
  void layer_norm_forward(int64_t rows, int64_t cols, const T* x, const T* gamma, const T* beta,
                          T eps, T* y, T* mean, T* rstd) {
    cpu::layer_norm_forward(rows, cols, x, gamma, beta, eps, y, mean, rstd);
  }
  void layer_norm_backward(int64_t rows, int64_t cols, const T* dy, const T* x, const T* mean,
                           const T* rstd, const T* gamma, T* dx, T* dyxhat) {
    cpu::layer_norm_backward(rows, cols, dy, x, mean, rstd, gamma, dx, dyxhat);
  }
  // dst[i, :cols] = src[i, :cols] with row pitches ldd and lds.
  void copy_cols(int64_t rows, int64_t cols, const T* src, int64_t lds, T* dst, int64_t ldd) {
    for (int64_t i = 0; i < rows; ++i)
      std::memcpy(dst + i * ldd, src + i * lds, sizeof(T) * size_t(cols));
  }
};

struct ClassifierCudaExec : exec::CudaExec {
  void layer_norm_forward(int64_t rows, int64_t cols, const float* x, const float* gamma,
                          const float* beta, float eps, float* y, float* mean, float* rstd) {
    cuda::layer_norm_forward(rows, cols, x, gamma, beta, eps, y, mean, rstd);
  }
  void layer_norm_backward(int64_t rows, int64_t cols, const float* dy, const float* x,
                           const float* mean, const float* rstd, const float* gamma, float* dx,
                           float* dyxhat) {
    cuda::layer_norm_backward(rows, cols, dy, x, mean, rstd, gamma, dx, dyxhat);
  }
  void copy_cols(int64_t rows, int64_t cols, const float* src, int64_t lds, float* dst,
                 int64_t ldd) {
    if (rows > 0 && cols > 0) cuda::copy_2d(dst, ldd, src, lds, rows, cols);
  }
};

// The pieces of one program's workspace for B rows (base null: only counted).
template <class T>
struct ClassifierBuffers {
  T *z = nullptr, *dz = nullptr;  // (B, D + C): trunk input, its gradient
  // MLP, per norm layer k: a (Linear output), y (LayerNorm output), r (ReLU), mean, rstd
  T *a[2] = {}, *y[2] = {}, *r[2] = {}, *mean[2] = {}, *rstd[2] = {};
  T *d0 = nullptr, *d1 = nullptr, *t = nullptr;  // (B, H) backward temporaries
  T* scratch = nullptr;                          // column-sum / weight-gradient partials
  T* resnet = nullptr;                           // the ResidualNet program's workspace
};

template <class Exec>
int64_t carve_classifier(const ClassifierLayout& l, int64_t B, typename Exec::Scalar* base,
                         ClassifierBuffers<typename Exec::Scalar>* b) {
  using T = typename Exec::Scalar;
  exec::Carver<T> c{base};
  ClassifierBuffers<T> tmp;
  ClassifierBuffers<T>& d = b ? *b : tmp;
  const int64_t in = l.in(), H = l.hidden;
  d.z = c.take(B * in);
  d.dz = c.take(B * in);
  if (l.trunk == Trunk::kMlp) {
    for (int k = 0; k < 2; ++k) {
      d.a[k] = c.take(B * H);
      d.y[k] = c.take(B * H);
      d.r[k] = c.take(B * H);
      d.mean[k] = c.take(B);
      d.rstd[k] = c.take(B);
    }
    d.d0 = c.take(B * H);
    d.d1 = c.take(B * H);
    d.t = c.take(B * H);
    d.scratch = c.take(
        std::max({kern::colsum_scratch(B, H), Exec::weight_grad_scratch(B, H * std::max(in, H))}));
  } else if (l.trunk == Trunk::kLinear) {
    d.scratch = c.take(nn::linear_backward_scratch<Exec>(B, in, 1));
  } else {
    d.resnet = c.take(
        nn::ResidualNetProgram<Exec>::workspace_numel(l.resnet, B, true));  // logits, dz: ours
  }
  return c.used;
}

// Caller's row-ordered outputs of one program call: logits (B,) and, in backward, d/d theta
// (B, D) (null: not wanted).
template <class T>
struct ClassifierIo {
  T* logits = nullptr;
  T* grad_theta = nullptr;
};

template <class Exec>
class ClassifierProgram {
 public:
  using T = typename Exec::Scalar;

  explicit ClassifierProgram(const ClassifierLayout& layout) : l_(layout), resnet_(layout.resnet) {}
  static int64_t workspace_numel(const ClassifierLayout& layout, int64_t batch) {
    return carve_classifier<Exec>(layout, batch, nullptr, nullptr);
  }

  // Flat parameters and gradients, the combined z-score statistics (D + C,) ("none": 0 and 1),
  // a workspace of workspace_numel(batch) elements and the caller's outputs.
  void bind(const T* params, T* grads, const T* mean, const T* std, T* workspace, int64_t batch,
            const ClassifierIo<T>& io) {
    p_ = params;
    g_ = grads;
    mean_ = mean;
    std_ = std;
    B_ = batch;
    io_ = io;
    carve_classifier<Exec>(l_, batch, workspace, &buf_);
    if (l_.trunk == Trunk::kResnet) {
      const nn::ResidualNetOutputs<T> out{io.logits, buf_.dz, nullptr};
      resnet_.bind(params, grads, buf_.resnet, batch, &out);
    }
  }

  // theta (B, D), x (B, C) -> io.logits (B,). Keeps what backward reads in the workspace.
  void forward(Exec& ex, const T* theta, const T* x) {
    const int64_t D = l_.theta, C = l_.x, in = l_.in(), H = l_.hidden;
    ex.copy_cols(B_, D, theta, D, buf_.z, in);
    ex.copy_cols(B_, C, x, C, buf_.z + D, in);
    ex.standardize(kern::StandardizeMode::kForward, B_, in, buf_.z, mean_, std_, buf_.z);
    if (l_.trunk == Trunk::kResnet) {
      resnet_.forward(ex, buf_.z, nullptr);
    } else if (l_.trunk == Trunk::kLinear) {
      linear(ex, 0, in, 1, buf_.z, io_.logits);
    } else {
      const T* h = buf_.z;
      int64_t width = in;
      for (int k = 0; k < 2; ++k) {
        linear(ex, k, width, H, h, buf_.a[k]);
        ex.layer_norm_forward(B_, H, buf_.a[k], p_ + l_.norm[k].weight, p_ + l_.norm[k].bias,
                              T(kern::kLayerNormEps), buf_.y[k], buf_.mean[k], buf_.rstd[k]);
        ex.relu(B_ * H, buf_.y[k], buf_.r[k]);
        h = buf_.r[k];
        width = H;
      }
      linear(ex, 2, H, 1, h, io_.logits);
    }
  }

  // dlogits (B,) for the last forward: accumulates parameter gradients; writes io.grad_theta
  // when it is non-null.
  void backward(Exec& ex, const T* dlogits) {
    const int64_t D = l_.theta, in = l_.in(), H = l_.hidden;
    const bool want_theta = io_.grad_theta != nullptr;
    if (l_.trunk == Trunk::kResnet) {
      resnet_.backward(ex, buf_.z, nullptr, dlogits, false);  // writes buf_.dz
    } else if (l_.trunk == Trunk::kLinear) {
      linear_grad(ex, 0, in, 1, buf_.z, dlogits, want_theta ? buf_.dz : nullptr);
    } else {
      // dr: gradient w.r.t. the ReLU output r_k, dn: w.r.t. the LayerNorm output y_k; the
      // LayerNorm's input gradient reuses dr's buffer, and the next ReLU's goes to dn's.
      T *dr = buf_.d0, *dn = buf_.d1;
      linear_grad(ex, 2, H, 1, buf_.r[1], dlogits, dr);
      for (int k = 1; k >= 0; --k) {
        ex.relu_backward(B_ * H, buf_.y[k], dr, dn);
        ex.layer_norm_backward(B_, H, dn, buf_.a[k], buf_.mean[k], buf_.rstd[k],
                               p_ + l_.norm[k].weight, dr, buf_.t);  // dr = d a_k
        ex.colsum(B_, H, buf_.t, g_ + l_.norm[k].weight, buf_.scratch);
        ex.colsum(B_, H, dn, g_ + l_.norm[k].bias, buf_.scratch);
        if (k == 1) {
          linear_grad(ex, 1, H, H, buf_.r[0], dr, dn);  // dn = d r_0
          std::swap(dr, dn);
        } else {
          linear_grad(ex, 0, in, H, buf_.z, dr, want_theta ? buf_.dz : nullptr);
        }
      }
    }
    if (want_theta) {
      // d/d theta = dz[:, :D] / std_theta (the z-scoring's Jacobian is diagonal).
      ex.copy_cols(B_, D, buf_.dz, in, io_.grad_theta, D);
      ex.standardize(kern::StandardizeMode::kBackward, B_, D, io_.grad_theta, mean_, std_,
                     io_.grad_theta);
    }
  }

  const ClassifierBuffers<T>& buffers() const { return buf_; }

 private:
  void linear(Exec& ex, int k, int64_t in, int64_t out, const T* x, T* y) {
    const nn::LinearOffsets& o = l_.linear[k];
    nn::linear_forward(ex, p_ + o.weight, p_ + o.bias, B_, in, out, x, y);
  }
  void linear_grad(Exec& ex, int k, int64_t in, int64_t out, const T* x, const T* dy, T* dx) {
    const nn::LinearOffsets& o = l_.linear[k];
    nn::linear_backward(ex, p_ + o.weight, g_ + o.weight, g_ + o.bias, B_, in, out, x, dy, dx,
                        false, buf_.scratch);
  }

  ClassifierLayout l_;
  nn::ResidualNetProgram<Exec> resnet_;
  ClassifierBuffers<T> buf_;
  const T *p_ = nullptr, *mean_ = nullptr, *std_ = nullptr;
  T* g_ = nullptr;
  int64_t B_ = 0;
  ClassifierIo<T> io_;
};

}  // namespace cusbi::classifiers
