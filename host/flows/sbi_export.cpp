// sbi_state_dict: a NeuralSplineFlow written under the names, shapes and buffer conventions of
// sbi's build_nsf state_dict (the inverse of load_sbi_nsf), so that saved cusbi models load into
// sbi with `estimator.load_state_dict(...)` and load_sbi_nsf reads them back exactly. Input
// z-scoring is stored as nflows' PointwiseAffineTransform does (shift = -mean/std, scale =
// 1/std), condition z-scoring as sbi's Standardize (_mean, _std); mask buffers hold the
// alternating index lists (as float32, the only dtype cusbi writes).
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/flows.hpp"
#include "host/flows/sbi_layout.hpp"

namespace cusbi {

namespace {

using StateDict = std::map<std::string, Tensor>;

// A (n,) tensor, or a 0-dim one for sbi's "structured" statistics (all entries equal).
Tensor statistic(const std::vector<float>& values, bool structured) {
  if (structured) return Tensor::from({values.at(0)}, {}, Device::cpu());
  return Tensor::from(values, {int64_t(values.size())}, Device::cpu());
}

void add_zscore_buffers(const flows::SbiLayout& l, const NeuralSplineFlow& flow, StateDict& sd) {
  const NsfOptions& o = flow.options();
  if (!l.shift.empty()) {
    const std::vector<float> mean = flow.input_zscore().mean().to_vector();
    const std::vector<float> std = flow.input_zscore().std().to_vector();
    std::vector<float> shift(mean.size()), scale(mean.size());
    for (size_t d = 0; d < mean.size(); ++d) {
      // In double, so that load_sbi_nsf's mean = -shift/scale, std = 1/scale round-trips.
      scale[d] = float(1.0 / double(std[d]));
      shift[d] = float(-double(mean[d]) / double(std[d]));
    }
    const bool s = o.z_score_input == ZScore::Structured;
    sd[l.shift] = statistic(shift, s);
    sd[l.scale] = statistic(scale, s);
  }
  if (!l.mean.empty()) {
    const bool s = o.z_score_condition == ZScore::Structured;
    sd[l.mean] = statistic(flow.condition_zscore().mean().to_vector(), s);
    sd[l.std] = statistic(flow.condition_zscore().std().to_vector(), s);
  }
}

}  // namespace

std::map<std::string, Tensor> sbi_state_dict(const NeuralSplineFlow& flow) {
  const int64_t D = flow.input_features(), C = flow.condition_features();
  const flows::SbiLayout l = flows::sbi_layout(D, C, flow.options());
  const ParameterSet& set = flow.parameter_set();
  const std::vector<float> values = set.values().to_vector();  // one copy from the device
  StateDict sd;
  for (const flows::SbiEntry& e : l.params) {
    const std::string bare = e.name.substr(4);  // cusbi names are sbi's without "net."
    const ParameterSet::Entry* entry = nullptr;
    for (const auto& candidate : set.entries())
      if (candidate.name == e.name || candidate.name == bare) entry = &candidate;
    CUSBI_CHECK(entry != nullptr && entry->slot.shape == e.shape,
                "internal: cusbi's flow has no parameter " << e.name << " of shape "
                                                           << shape_str(e.shape)
                                                           << "; please report this");
    const auto first = values.begin() + entry->slot.offset;
    sd[e.name] = Tensor::from(std::vector<float>(first, first + shape_numel(e.shape)), e.shape,
                              Device::cpu());
  }
  for (const auto& [name, features] : l.indices)
    sd[name] = Tensor::from(std::vector<float>(features.begin(), features.end()),
                            {int64_t(features.size())}, Device::cpu());
  for (const auto& [alias, registered] : l.aliases) sd[alias] = sd.at(registered).clone();
  add_zscore_buffers(l, flow, sd);
  return sd;
}

}  // namespace cusbi
