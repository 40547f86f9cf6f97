// The metadata every cusbi model file shares (include/cusbi/persistence.hpp): format, version,
// kind, writer's version and the estimator's JSON. Written and checked in host/io/model_io.cpp,
// used by each kind's save/load (model_io.cpp: flows and posteriors; classifier_io.cpp).
#pragma once
#include <filesystem>
#include <map>
#include <string>

#include "cusbi/persistence.hpp"

namespace cusbi::io {

inline constexpr const char* kFlowKind = "neural_spline_flow";
inline constexpr const char* kPosteriorKind = "direct_posterior";
inline constexpr const char* kClassifierKind = "ratio_classifier";

// format, format_version, kind, cusbi_version and estimator.
std::map<std::string, std::string> model_metadata(const char* kind,
                                                  const std::string& estimator_json);
// A cusbi model's metadata, checked: format, version (not newer than this build), a known kind.
ModelFileInfo check_model_header(const std::map<std::string, std::string>& meta,
                                 const std::filesystem::path& path);
// Throws unless info.kind is one that `loader` reads, naming the loader of the file's kind.
void require_kind(const ModelFileInfo& info, const std::filesystem::path& path, const char* loader);

}  // namespace cusbi::io
