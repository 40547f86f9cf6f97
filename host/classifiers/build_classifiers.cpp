// sbi's classifier builders (sbi/neural_nets/net_builders/classifier.py): option and z-score
// checks, z-scoring statistics as sbi's standardizing_net (finite rows, unbiased std floored at
// 1e-7, "structured" = one scalar mean and the mean per-row std, a single row keeps std 1), and
// the trunk registered under sbi's state_dict names in torch's construction order.
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/progress.hpp"
#include "host/classifiers/classifier_impl.hpp"

namespace cusbi {

namespace classifiers {

namespace {

constexpr float kMinStd = 1e-7f;  // standardizing_net's min_std

nn::LinearOffsets add_linear(ParameterSet& params, const std::string& name, int64_t in,
                             int64_t out) {
  const Linear l(params, name, in, out);
  return {l.weight_slot().offset, l.bias_slot().offset, in, out};
}

// torch.nn.LayerNorm's init: weight 1, bias 0 (no random numbers drawn).
LayerNormOffsets add_layer_norm(ParameterSet& params, const std::string& name, int64_t n) {
  const ParamSlot w = params.add_constant(name + ".weight", {n}, 1.0f);
  const ParamSlot b = params.add_constant(name + ".bias", {n}, 0.0f);
  return {w.offset, b.offset};
}

// sbi's z_score_parser: is it z-scored, and structured?
std::pair<bool, bool> parse_zscore(const std::string& mode, const char* who, const char* side) {
  if (mode == "none") return {false, false};
  if (mode == "independent") return {true, false};
  if (mode == "structured") return {true, true};
  CUSBI_CHECK(mode != "transform_to_unconstrained",
              who << ": z_score_" << side
                  << " = \"transform_to_unconstrained\" is not supported by ratio classifiers "
                     "(as in sbi); use \"none\", \"independent\" or \"structured\"");
  CUSBI_FAIL(who << ": unknown z_score_" << side << " \"" << mode
                 << "\"; use \"none\", \"independent\" or \"structured\"");
}

Standardize fit_zscore(const Tensor& data, const std::string& mode, const char* who,
                       const char* side) {
  const auto [z, structured] = parse_zscore(mode, who, side);
  if (!z) return Standardize();
  const int64_t D = data.size(1);
  CUSBI_CHECK(!structured || D >= 2, who << ": structured z-scoring of " << side
                                         << " needs at least 2 features (a per-sample std), got "
                                         << D << "; use \"independent\"");
  if (data.size(0) == 1) {
    // standardizing_net with one row: mean = that row (its average when structured), std 1.
    check_finite(data, std::string(who) + ": the single " + side + " row");
    warn(std::string(who) + ": z-scoring " + side +
         " from a single row keeps std = 1, which is not representative of the data (fine "
         "when loading a trained classifier; otherwise pass more rows)");
    std::vector<float> row = data.to_vector();
    if (structured) {
      double s = 0.0;
      for (float v : row) s += v;
      row.assign(size_t(D), float(s / double(D)));
    }
    return Standardize(Tensor::from(row, {D}, Device::cpu()), Tensor::ones({D}, Device::cpu()));
  }
  try {
    const Standardize fitted = Standardize::fit(data, kMinStd, structured);
    return Standardize(fitted.mean().to(Device::cpu()), fitted.std().to(Device::cpu()));
  } catch (const Error& e) {
    CUSBI_FAIL(who << ": cannot z-score " << side << ": " << e.what() << " (or pass z_score_"
                   << side << " = \"none\")");
  }
}

void check_batch(const Tensor& t, const char* who, const char* what) {
  CUSBI_CHECK(t.defined() && t.dim() == 2 && t.size(0) >= 1 && t.size(1) >= 1,
              who << ": " << what << " has shape "
                  << (t.defined() ? shape_str(t.shape()) : "undefined")
                  << "; pass samples as (N, features) with N >= 1 and features >= 1");
}

RatioClassifier build(const std::string& kind, const char* who, const Tensor& batch_theta,
                      const Tensor& batch_x, const ClassifierOptions& options,
                      Generator* generator) {
  check_batch(batch_theta, who, "batch_theta");
  check_batch(batch_x, who, "batch_x");
  CUSBI_CHECK(batch_theta.device() == batch_x.device(),
              who << ": batch_theta is on " << batch_theta.device().str() << " but batch_x on "
                  << batch_x.device().str() << "; put both on one device");
  const Standardize tz = fit_zscore(batch_theta, options.z_score_theta, who, "theta");
  const Standardize xz = fit_zscore(batch_x, options.z_score_x, who, "x");
  return RatioClassifier(make_classifier(kind, batch_theta.size(1), batch_x.size(1), options, tz,
                                         xz, batch_theta.device(),
                                         generator ? *generator : default_generator()));
}

}  // namespace

ClassifierLayout register_classifier(const std::string& kind, int64_t D, int64_t C,
                                     const ClassifierOptions& o, ParameterSet& params) {
  ClassifierLayout l;
  l.theta = D;
  l.x = C;
  l.hidden = o.hidden_features;
  const int64_t in = D + C, H = o.hidden_features;
  if (kind == "resnet") {
    l.trunk = Trunk::kResnet;
    ResidualNetOptions r;
    r.in_features = in;
    r.out_features = 1;
    r.hidden_features = H;
    r.num_blocks = o.num_blocks;
    l.resnet = nn::register_residual_net(r, params, "net.");
  } else if (kind == "mlp") {
    l.trunk = Trunk::kMlp;
    l.linear[0] = add_linear(params, "net.0", in, H);
    l.norm[0] = add_layer_norm(params, "net.1", H);
    l.linear[1] = add_linear(params, "net.3", H, H);
    l.norm[1] = add_layer_norm(params, "net.4", H);
    l.linear[2] = add_linear(params, "net.6", H, 1);
  } else {
    CUSBI_CHECK(kind == "linear",
                "unknown classifier kind '" << kind << "'; use \"resnet\", \"mlp\" or \"linear\"");
    l.trunk = Trunk::kLinear;
    l.hidden = 0;
    l.linear[0] = add_linear(params, "net", in, 1);
  }
  return l;
}

std::shared_ptr<RatioClassifier::Impl> make_classifier(const std::string& kind, int64_t D,
                                                       int64_t C, const ClassifierOptions& options,
                                                       const Standardize& theta_z,
                                                       const Standardize& x_z, Device device,
                                                       Generator& generator) {
  const char* who = "RatioClassifier";
  if (kind != "linear") {
    CUSBI_CHECK(options.hidden_features >= 1,
                who << ": hidden_features must be >= 1, got " << options.hidden_features);
  }
  if (kind == "resnet") {
    CUSBI_CHECK(options.num_blocks >= 0,
                who << ": num_blocks must be >= 0, got " << options.num_blocks);
    CUSBI_CHECK(options.dropout_probability == 0.0f,
                who << ": dropout_probability " << options.dropout_probability
                    << " is not supported (training-time dropout); use 0, sbi's default");
    CUSBI_CHECK(!options.use_batch_norm,
                who << ": use_batch_norm = true is not supported; use false, sbi's default");
  }
  check_device_usable(device);
  auto m = std::make_shared<RatioClassifier::Impl>();
  m->kind = kind;
  m->options = options;
  m->D = D;
  m->C = C;
  m->device = device;
  // The combined statistics, theta's then x's; "none" is (v - 0) / 1 = v exactly.
  std::vector<float> mean(size_t(D + C), 0.0f), std(size_t(D + C), 1.0f);
  auto put = [&](const Standardize& z, int64_t at, int64_t n, Standardize& keep) {
    if (!z.mean().defined()) return;
    CUSBI_CHECK(z.features() == n,
                who << ": a z-scoring of " << z.features() << " features for an input of " << n);
    const std::vector<float> zm = z.mean().to_vector(), zs = z.std().to_vector();
    std::copy(zm.begin(), zm.end(), mean.begin() + at);
    std::copy(zs.begin(), zs.end(), std.begin() + at);
    keep = Standardize(z.mean().to(device).clone(), z.std().to(device).clone());
  };
  put(theta_z, 0, D, m->theta_z);
  put(x_z, D, C, m->x_z);
  m->mean = Tensor::from(mean, {D + C}, device);
  m->std = Tensor::from(std, {D + C}, device);
  const ClassifierLayout layout = register_classifier(kind, D, C, options, m->params);
  m->params.materialize(device, generator);
  m->runner = std::make_unique<ClassifierRunner>(layout);
  return m;
}

}  // namespace classifiers

RatioClassifier build_resnet_classifier(const Tensor& batch_theta, const Tensor& batch_x,
                                        const ClassifierOptions& options, Generator* generator) {
  return classifiers::build("resnet", "build_resnet_classifier", batch_theta, batch_x, options,
                            generator);
}
RatioClassifier build_mlp_classifier(const Tensor& batch_theta, const Tensor& batch_x,
                                     const ClassifierOptions& options, Generator* generator) {
  return classifiers::build("mlp", "build_mlp_classifier", batch_theta, batch_x, options,
                            generator);
}
RatioClassifier build_linear_classifier(const Tensor& batch_theta, const Tensor& batch_x,
                                        const ClassifierOptions& options, Generator* generator) {
  return classifiers::build("linear", "build_linear_classifier", batch_theta, batch_x, options,
                            generator);
}

}  // namespace cusbi
