// RatioClassifier's state (shared by host/classifiers/ratio_classifier.cpp and the builders in
// build_classifiers.cpp): options, z-scoring, the combined (D + C,) statistics the program
// reads, the parameter set and the runner of the classifier program (host/exec/runner.hpp).
#pragma once
#include <memory>
#include <string>

#include "cusbi/classifiers.hpp"
#include "host/classifiers/classifier_program.hpp"
#include "host/exec/runner.hpp"

namespace cusbi {

using ClassifierRunner =
    exec::Runner<classifiers::ClassifierLayout, classifiers::ClassifierProgram,
                 classifiers::ClassifierCpuExec<float>, classifiers::ClassifierCudaExec>;

struct RatioClassifier::Impl {
  std::string kind;
  ClassifierOptions options;
  int64_t D = 0, C = 0;
  Standardize theta_z, x_z;  // mean() undefined: "none"
  Tensor mean, std;          // (D + C,) on device: theta's then x's statistics (0 and 1: none)
  Device device = Device::cpu();
  ParameterSet params;
  std::unique_ptr<ClassifierRunner> runner;
  int64_t batch = -1;  // rows of the last forward; -1: nothing to differentiate
};

namespace classifiers {
// Registers the trunk of `kind` in sbi's state_dict names ("net.*") and returns its layout.
ClassifierLayout register_classifier(const std::string& kind, int64_t D, int64_t C,
                                     const ClassifierOptions& options, ParameterSet& params);
// A classifier of `kind` with the given (device-independent) z-scorings, on `device`,
// parameters drawn from `generator`.
std::shared_ptr<RatioClassifier::Impl> make_classifier(const std::string& kind, int64_t D,
                                                       int64_t C, const ClassifierOptions& options,
                                                       const Standardize& theta_z,
                                                       const Standardize& x_z, Device device,
                                                       Generator& generator);
}  // namespace classifiers

}  // namespace cusbi
