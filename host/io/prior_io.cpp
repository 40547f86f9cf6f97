// Prior (de)serialisation for model files. Types are named as sbi/torch name them, so the
// JSON reads naturally next to sbi code: {"type": "BoxUniform", "event_size": 2}.
#include "host/io/prior_io.hpp"

#include <nlohmann/json.hpp>

#include "cusbi/error.hpp"

namespace cusbi::io {

namespace {

const Tensor& tensor_in(const std::map<std::string, Tensor>& tensors, const std::string& name,
                        const Shape& shape, const std::filesystem::path& path) {
  const auto it = tensors.find(name);
  CUSBI_CHECK(it != tensors.end(), path.string() << ": the prior's tensor '" << name
                                                 << "' is missing; the file is damaged");
  CUSBI_CHECK(it->second.shape() == shape,
              path.string() << ": the prior's tensor '" << name << "' has shape "
                            << shape_str(it->second.shape()) << ", expected " << shape_str(shape)
                            << "; the file is damaged");
  return it->second;
}

}  // namespace

std::string write_prior(const Distribution& prior, std::map<std::string, Tensor>& tensors) {
  nlohmann::json j;
  j["event_size"] = prior.event_size();
  if (const auto* box = dynamic_cast<const BoxUniform*>(&prior)) {
    j["type"] = "BoxUniform";
    tensors["prior.low"] = box->low();
    tensors["prior.high"] = box->high();
  } else if (const auto* normal = dynamic_cast<const MultivariateNormal*>(&prior)) {
    j["type"] = "MultivariateNormal";
    tensors["prior.loc"] = normal->loc();
    tensors["prior.covariance"] = normal->covariance();
  } else {
    CUSBI_FAIL("save: the prior " << prior.describe()
                                  << " has no file format; cusbi saves BoxUniform and "
                                     "MultivariateNormal priors");
  }
  return j.dump();
}

std::unique_ptr<Distribution> read_prior(const std::string& json,
                                         const std::map<std::string, Tensor>& tensors,
                                         Device device, const std::filesystem::path& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception&) {
    CUSBI_FAIL(path.string() << ": metadata 'prior' is not valid JSON; the file is damaged");
  }
  CUSBI_CHECK(j.is_object() && j.contains("type") && j["type"].is_string() &&
                  j.contains("event_size") && j["event_size"].is_number_integer() &&
                  j["event_size"].get<int64_t>() >= 1,
              path.string() << ": metadata 'prior' = " << json
                            << " lacks a type or a valid event_size; the file is damaged");
  const std::string type = j["type"];
  const int64_t D = j["event_size"];
  if (type == "BoxUniform")
    return std::make_unique<BoxUniform>(tensor_in(tensors, "prior.low", {D}, path).to(device),
                                        tensor_in(tensors, "prior.high", {D}, path).to(device));
  if (type == "MultivariateNormal")
    return std::make_unique<MultivariateNormal>(
        tensor_in(tensors, "prior.loc", {D}, path).to(device),
        tensor_in(tensors, "prior.covariance", {D, D}, path).to(device));
  CUSBI_FAIL(path.string() << ": prior type '" << type
                           << "' is unknown to this cusbi (it reads BoxUniform and "
                              "MultivariateNormal); the file may come from a newer cusbi");
}

}  // namespace cusbi::io
