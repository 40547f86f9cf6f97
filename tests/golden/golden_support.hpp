// Shared by the golden tests: loading a fixture made by tools/make_golden_fixtures.py (tensors +
// string metadata, numbers and lists JSON-encoded), loading torch weights into a ParameterSet by
// name, and a closeness check relative to a tensor's own scale.
#pragma once
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace cusbi::golden {

struct Fixture {
  std::string file;
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> meta;

  const Tensor& at(const std::string& name) const {
    const auto it = tensors.find(name);
    if (it == tensors.end())
      throw Error("golden fixture " + file + " has no tensor '" + name + "'");
    return it->second;
  }
  bool has(const std::string& name) const { return tensors.count(name) > 0; }
  const std::string& raw(const std::string& key) const {
    const auto it = meta.find(key);
    if (it == meta.end()) throw Error("golden fixture " + file + " has no metadata '" + key + "'");
    return it->second;
  }
  double number(const std::string& key) const { return std::stod(raw(key)); }
  int64_t integer(const std::string& key) const { return std::stoll(raw(key)); }

  // A JSON list of strings, e.g. ["initial_layer.weight", "initial_layer.bias"].
  std::vector<std::string> strings(const std::string& key) const {
    std::vector<std::string> out;
    const std::string& s = raw(key);
    for (size_t open = s.find('"'); open != std::string::npos; open = s.find('"', open + 1)) {
      const size_t close = s.find('"', open + 1);
      out.push_back(s.substr(open + 1, close - open - 1));
      open = close;
    }
    return out;
  }
  // A JSON list of booleans, e.g. [true, false].
  std::vector<bool> bools(const std::string& key) const {
    std::vector<bool> out;
    const std::string& s = raw(key);
    for (size_t i = 0; i < s.size(); ++i) {
      if (s.compare(i, 4, "true") == 0) out.push_back(true);
      if (s.compare(i, 5, "false") == 0) out.push_back(false);
    }
    return out;
  }
};

inline Fixture load_fixture(const std::string& name) {
  Fixture f;
  f.file = name + ".safetensors";
  f.tensors = load_safetensors(testing::data_dir() / "golden" / f.file, Device::cpu(), &f.meta);
  return f;
}

inline ResidualNetOptions resnet_options(const Fixture& f) {
  ResidualNetOptions o;
  o.in_features = f.integer("in_features");
  o.out_features = f.integer("out_features");
  o.hidden_features = f.integer("hidden_features");
  o.context_features = f.integer("context_features");
  o.num_blocks = f.integer("num_blocks");
  return o;
}

// Offsets of each parameter in torch's flat vector (named_parameters() order, row-major).
inline std::map<std::string, int64_t> torch_offsets(const Fixture& f, const ParameterSet& params) {
  std::map<std::string, int64_t> offsets;
  int64_t offset = 0;
  for (const std::string& name : f.strings("param_names")) {
    offsets[name] = offset;
    offset += params.entry(name).slot.numel();
  }
  return offsets;
}

// Copies torch's values into every slot of `params`, by name: from the state_dict tensors when
// `flat` is undefined, else from the flat vector `flat` laid out in torch's order.
inline void load_by_name(const Fixture& f, ParameterSet& params, const Tensor& flat = Tensor()) {
  const auto offsets = flat.defined() ? torch_offsets(f, params) : std::map<std::string, int64_t>{};
  for (const auto& e : params.entries()) {
    Tensor dst = params.value(e.slot);
    if (!flat.defined()) {
      const Tensor& src = f.at(e.name);
      if (src.shape() != e.slot.shape)
        throw Error("parameter '" + e.name + "': cusbi shape " + shape_str(e.slot.shape) +
                    ", torch shape " + shape_str(src.shape()));
      dst.copy_(src);
    } else {
      const int64_t at = offsets.at(e.name);
      dst.copy_(flat.reshape({-1}).slice_rows(at, at + e.slot.numel()));
    }
  }
}

// max |actual - expected| <= rel * max |expected|. Rounding error of a float32 result built
// from sums of products is proportional to the magnitude of the terms, i.e. to the tensor's
// scale, not to each element (an element that cancels to ~0 keeps an absolute error).
inline ::testing::AssertionResult close_in_scale(const std::vector<float>& actual,
                                                 const std::vector<float>& expected, double rel) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure()
           << "sizes differ: " << actual.size() << " vs " << expected.size();
  double scale = 0.0, worst = 0.0;
  size_t worst_i = 0;
  for (float e : expected) scale = std::max(scale, std::fabs(double(e)));
  for (size_t i = 0; i < actual.size(); ++i) {
    double d = std::fabs(double(actual[i]) - double(expected[i]));
    if (std::isnan(d)) d = INFINITY;  // a NaN anywhere fails (the fixtures hold none)
    if (d > worst) {
      worst = d;
      worst_i = i;
    }
  }
  if (worst <= rel * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "element " << worst_i << ": " << actual[worst_i] << " vs torch " << expected[worst_i]
         << "; |diff| " << worst << " > " << rel << " x scale " << scale << " (rel error "
         << worst / scale << ")";
}

inline ::testing::AssertionResult close_in_scale(const Tensor& actual, const Tensor& expected,
                                                 double rel) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shapes differ: " << shape_str(actual.shape()) << " vs "
                                         << shape_str(expected.shape());
  return close_in_scale(actual.to_vector(), expected.to_vector(), rel);
}

}  // namespace cusbi::golden
