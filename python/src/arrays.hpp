// NumPy/PyTorch arrays <-> cusbi::Tensor for the bindings, zero-copy both ways through DLPack
// (nanobind's ndarray). Inputs: float32 C-contiguous arrays are viewed in place; float64 and
// other dtypes are converted to float32 and non-contiguous arrays made contiguous first (a copy,
// documented in the README); a PyTorch tensor that requires grad is detached. Outputs view the
// tensor's memory and keep it alive; they come back as the kind of array the caller used.
#pragma once
#include <nanobind/nanobind.h>

#include <memory>
#include <optional>
#include <string>

#include "cusbi/device.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi::python {

namespace nb = nanobind;

// What outputs are returned as: PyTorch tensors (sbi's habit) or NumPy arrays.
enum class ArrayKind { Torch, NumPy };

// The kind of an input: Torch for a torch.Tensor, NumPy for anything else.
ArrayKind kind_of(nb::handle array);
// The kind used when no input decides it: torch when it can be imported, else NumPy, unless
// set_default_array_kind chose.
ArrayKind default_array_kind();
void set_default_array_kind(ArrayKind kind);
ArrayKind parse_array_kind(const std::string& name);  // "torch" or "numpy"

// A float32 tensor viewing `array` (a torch.Tensor, a NumPy array, anything with __dlpack__, or a
// nested sequence of numbers). `what` names the argument in error messages. With `device`, the
// tensor is copied there when it lives elsewhere.
Tensor to_tensor(nb::handle array, const char* what, std::optional<Device> device = std::nullopt);
// An array of `kind` viewing `tensor`'s memory (kept alive by the array). NumPy arrays of CUDA
// tensors are copied to the host (NumPy has no GPU memory). Waits for queued device work first.
nb::object to_array(const Tensor& tensor, ArrayKind kind);

// A sample shape as sbi takes it: an int, a tuple/list/torch.Size of ints, or () / None.
Shape parse_shape(nb::handle shape);

// "cpu", "cuda", "cuda:1", a torch.device, or None (Device::best()).
Device parse_device(nb::handle device);

// A Python object held from C++ code that may drop it without the GIL (a std::function copied
// into a worker, a tensor's owner): the reference is released under the GIL.
std::shared_ptr<nb::object> hold(nb::object object);

}  // namespace cusbi::python
