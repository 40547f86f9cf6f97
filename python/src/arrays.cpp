// Array conversion for the bindings (see arrays.hpp): DLPack views in both directions, with the
// dtype and layout fixes done by the array's own library (torch / numpy) so that a conversion
// happens only when one is needed, and the data pointer is shared otherwise.
#include "arrays.hpp"

#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "cusbi/error.hpp"

namespace cusbi::python {

namespace {

std::atomic<int> g_default_kind{-1};  // -1: not decided yet

bool is_torch_tensor(nb::handle array) {
  // Without importing torch: a torch.Tensor's type lives in the "torch" module.
  nb::handle type = array.type();
  if (!nb::hasattr(type, "__module__")) return false;
  const std::string module = nb::cast<std::string>(type.attr("__module__"));
  return module == "torch" || module.rfind("torch.", 0) == 0;
}

// torch: detach, float32, contiguous; every step returns the tensor itself when already so.
nb::object torch_float32_contiguous(nb::handle array) {
  nb::module_ torch = nb::module_::import_("torch");
  nb::object t = nb::borrow(array);
  if (nb::cast<bool>(t.attr("requires_grad"))) t = t.attr("detach")();
  if (!t.attr("dtype").equal(torch.attr("float32"))) t = t.attr("to")(torch.attr("float32"));
  if (!nb::cast<bool>(t.attr("is_contiguous")())) t = t.attr("contiguous")();
  if (nb::cast<bool>(t.attr("is_cuda")))  // the producer's stream must be done with it
    torch.attr("cuda").attr("current_stream")(t.attr("device")).attr("synchronize")();
  return t;
}

// numpy.ascontiguousarray(x, dtype=float32): the array itself when already so; also turns
// lists, scalars and other DLPack/buffer producers into an array.
nb::object numpy_float32_contiguous(nb::handle array) {
  nb::module_ numpy = nb::module_::import_("numpy");
  if (nb::hasattr(array, "__dlpack__") && !nb::isinstance<nb::list>(array) &&
      !nb::hasattr(array, "__array_interface__")) {
    // A foreign DLPack producer (e.g. a CuPy or JAX array): view it as it is.
    return nb::borrow(array);
  }
  return numpy.attr("ascontiguousarray")(array, nb::arg("dtype") = numpy.attr("float32"));
}

Device device_of(const nb::ndarray<>& a) {
  if (a.device_type() == nb::device::cpu::value) return Device::cpu();
  if (a.device_type() == nb::device::cuda::value) return Device::cuda(a.device_id());
  CUSBI_FAIL("arrays on DLPack device type " << a.device_type()
                                             << " are not supported; pass a CPU or CUDA array");
}

}  // namespace

ArrayKind kind_of(nb::handle array) {
  return is_torch_tensor(array) ? ArrayKind::Torch : ArrayKind::NumPy;
}

ArrayKind default_array_kind() {
  int kind = g_default_kind.load();
  if (kind < 0) {
    bool has_torch = true;
    try {
      nb::module_::import_("torch");
    } catch (const nb::python_error&) {
      has_torch = false;
    }
    kind = static_cast<int>(has_torch ? ArrayKind::Torch : ArrayKind::NumPy);
    g_default_kind.store(kind);
  }
  return static_cast<ArrayKind>(kind);
}

void set_default_array_kind(ArrayKind kind) { g_default_kind.store(static_cast<int>(kind)); }

ArrayKind parse_array_kind(const std::string& name) {
  if (name == "torch") return ArrayKind::Torch;
  if (name == "numpy") return ArrayKind::NumPy;
  CUSBI_FAIL("unknown array kind '" << name << "'; use \"torch\" or \"numpy\"");
}

std::shared_ptr<nb::object> hold(nb::object object) {
  return std::shared_ptr<nb::object>(new nb::object(std::move(object)), [](nb::object* o) {
    if (nb::detail::cleanup_guard guard{}) {
      delete o;
    } else {
      o->release();  // the interpreter is gone: leak the reference rather than crash
      delete o;
    }
  });
}

Tensor to_tensor(nb::handle array, const char* what, std::optional<Device> device) {
  CUSBI_CHECK(array.is_valid() && !array.is_none(),
              what << " is None; pass a torch.Tensor or a NumPy array");
  nb::object prepared;
  try {
    prepared =
        is_torch_tensor(array) ? torch_float32_contiguous(array) : numpy_float32_contiguous(array);
  } catch (const nb::python_error& e) {
    CUSBI_FAIL(what << " of type " << nb::cast<std::string>(nb::str(array.type()))
                    << " cannot be read as float32 numbers (" << e.what()
                    << "); pass a torch.Tensor or a NumPy array");
  }
  nb::ndarray<> view;
  try {
    view = nb::cast<nb::ndarray<>>(prepared);
  } catch (const std::exception&) {
    CUSBI_FAIL(what << " of type " << nb::cast<std::string>(nb::str(array.type()))
                    << " cannot be read as an array; pass a torch.Tensor or a NumPy array");
  }
  CUSBI_CHECK(view.dtype() == nb::dtype<float>(),
              what << " has an unsupported dtype; pass float32 (or float64) values");
  Shape shape(view.ndim());
  int64_t expected_stride = 1;
  for (size_t d = view.ndim(); d-- > 0;) {
    shape[d] = static_cast<int64_t>(view.shape(d));
    CUSBI_CHECK(shape[d] <= 1 || view.stride(d) == expected_stride,
                what << " is not contiguous; pass x.contiguous() or numpy.ascontiguousarray(x)");
    expected_stride *= shape[d];
  }
  const Device where = device_of(view);
  void* data = static_cast<char*>(view.data()) + 0;
  Tensor tensor =
      Tensor::from_external(data, shape, DType::Float32, where, hold(std::move(prepared)));
  if (device && *device != where) return tensor.to(*device);
  return tensor;
}

nb::object to_array(const Tensor& tensor, ArrayKind kind) {
  CUSBI_CHECK(tensor.defined(), "internal: no tensor to return");
  Tensor source = tensor;
  if (kind == ArrayKind::NumPy && source.device().is_cuda()) source = source.to(Device::cpu());
  synchronize(source.device());
  std::vector<size_t> shape(source.shape().begin(), source.shape().end());
  nb::dlpack::dtype dtype;
  switch (source.dtype()) {
    case DType::Float32:
      dtype = nb::dtype<float>();
      break;
    case DType::Float64:
      dtype = nb::dtype<double>();
      break;
    case DType::Int32:
      dtype = nb::dtype<int32_t>();
      break;
    case DType::Int64:
      dtype = nb::dtype<int64_t>();
      break;
    case DType::UInt32:
      dtype = nb::dtype<uint32_t>();
      break;
  }
  void* data = nullptr;
  switch (source.dtype()) {
    case DType::Float32:
      data = source.data();
      break;
    case DType::Float64:
      data = source.data_as<double>();
      break;
    case DType::Int32:
      data = source.data_as<int32_t>();
      break;
    case DType::Int64:
      data = source.data_as<int64_t>();
      break;
    case DType::UInt32:
      data = source.data_as<uint32_t>();
      break;
  }
  // The array's owner: a heap handle on the tensor, freed when the array goes away.
  nb::capsule owner(new Tensor(source), [](void* p) noexcept { delete static_cast<Tensor*>(p); });
  const int device_type =
      source.device().is_cuda() ? nb::device::cuda::value : nb::device::cpu::value;
  const int device_id = source.device().is_cuda() ? source.device().index() : 0;
  if (kind == ArrayKind::Torch) {
    nb::ndarray<nb::pytorch> out(data, shape.size(), shape.data(), owner, nullptr, dtype,
                                 device_type, device_id);
    return out.cast();
  }
  nb::ndarray<nb::numpy> out(data, shape.size(), shape.data(), owner, nullptr, dtype, device_type,
                             device_id);
  return out.cast();
}

Shape parse_shape(nb::handle shape) {
  if (!shape.is_valid() || shape.is_none()) return {};
  if (nb::isinstance<nb::int_>(shape)) return {nb::cast<int64_t>(shape)};
  Shape out;
  try {
    for (nb::handle d : shape) out.push_back(nb::cast<int64_t>(d));
  } catch (const std::exception&) {
    CUSBI_FAIL("sample_shape must be an int or a tuple of ints such as (1000,), got "
               << nb::cast<std::string>(nb::repr(shape)));
  }
  return out;
}

Device parse_device(nb::handle device) {
  if (!device.is_valid() || device.is_none()) return Device::best();
  const std::string name = nb::cast<std::string>(nb::str(device));
  if (name == "cpu") return Device::cpu();
  if (name == "cuda" || name == "gpu") return Device::cuda(0);
  if (name.rfind("cuda:", 0) == 0) {
    try {
      return Device::cuda(std::stoi(name.substr(5)));
    } catch (const std::exception&) {
    }
  }
  CUSBI_FAIL("unknown device '" << name << "'; use \"cpu\", \"cuda\" or \"cuda:N\"");
}

}  // namespace cusbi::python
