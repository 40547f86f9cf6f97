// CUDA-free declarations of every CUDA entry point host/ calls, one header per topic in
// kernels/api/. Defined by kernels/*.cu in a CUDA build and by host/cuda_stub/*.cpp (each throws
// "built without CUDA") otherwise, so host/ compiles with plain g++ either way.
#pragma once
#include "kernels/api/runtime.h"
#if __has_include("kernels/api/elementwise.h")
#include "kernels/api/elementwise.h"
#endif
#if __has_include("kernels/api/reduce.h")
#include "kernels/api/reduce.h"
#endif
#if __has_include("kernels/api/nn.h")
#include "kernels/api/nn.h"
#endif
#if __has_include("kernels/api/optim.h")
#include "kernels/api/optim.h"
#endif
#if __has_include("kernels/api/flows.h")
#include "kernels/api/flows.h"
#endif
#if __has_include("kernels/api/lu.h")
#include "kernels/api/lu.h"
#endif
#if __has_include("kernels/api/distributions.h")
#include "kernels/api/distributions.h"
#endif
#if __has_include("kernels/api/gather.h")
#include "kernels/api/gather.h"
#endif
#if __has_include("kernels/api/slice.h")
#include "kernels/api/slice.h"
#endif
#if __has_include("kernels/api/nre_loss.h")
#include "kernels/api/nre_loss.h"
#endif
#if __has_include("kernels/api/atoms.h")
#include "kernels/api/atoms.h"
#endif
#if __has_include("kernels/api/layer_norm.h")
#include "kernels/api/layer_norm.h"
#endif
#if __has_include("kernels/api/tensor_ops.h")
#include "kernels/api/tensor_ops.h"
#endif
