// A prior as tensors + a JSON description, for model files (host/io/model_io.cpp): BoxUniform
// stores "prior.low"/"prior.high", MultivariateNormal "prior.loc"/"prior.covariance".
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "cusbi/distributions.hpp"

namespace cusbi::io {

// Adds the prior's tensors to `tensors` and returns its JSON description.
std::string write_prior(const Distribution& prior, std::map<std::string, Tensor>& tensors);
// The prior described by `json` from `tensors`, on `device`; errors name `path`.
std::unique_ptr<Distribution> read_prior(const std::string& json,
                                         const std::map<std::string, Tensor>& tensors,
                                         Device device, const std::filesystem::path& path);

}  // namespace cusbi::io
