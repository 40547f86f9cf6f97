// sbi's state_dict layout of a build_nsf estimator for (D, C, options): every parameter and
// buffer name with its shape, in named_parameters() order. Shared by load_sbi_nsf (which checks
// a file against it) and sbi_state_dict (which writes a flow under these names).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cusbi/flows.hpp"

namespace cusbi::flows {

inline const std::string kSbiTransforms = "net._transform._transforms.";
inline const std::string kSbiEmbedding = "net._embedding_net.0.";  // Sequential(Standardize, Identity)

struct SbiEntry {
  std::string name;
  Shape shape;
  bool scalar_ok = false;  // "structured" z-scoring stores 0-dim statistics
};

// Where everything sits in sbi's state_dict for one architecture.
struct SbiLayout {
  std::vector<SbiEntry> params;                         // named_parameters() order
  std::vector<SbiEntry> buffers;                        // statistics, mask index lists, aliases
  std::map<std::string, std::string> aliases;           // shared Linear: duplicate -> registered
  std::map<std::string, std::vector<int64_t>> indices;  // mask buffer -> expected feature list
  std::string shift, scale, mean, std;                  // empty without z-scoring
};

SbiLayout sbi_layout(int64_t D, int64_t C, const NsfOptions& o);
const char* zscore_name(ZScore z);

}  // namespace cusbi::flows
