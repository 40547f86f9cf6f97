// ParameterSet: one flat value buffer and one flat gradient buffer for all parameters of a model.
// Initial values are drawn on the CPU in registration order (so every device starts from the
// same numbers for a seed) and then copied to the target device once.
#include <cmath>

#include "cusbi/error.hpp"
#include "cusbi/nn.hpp"

namespace cusbi {

ParamSlot ParameterSet::add(const std::string& name, const Shape& shape, float init_bound) {
  CUSBI_CHECK(!materialized(), "cannot add parameter '"
                                   << name
                                   << "' after the ParameterSet was materialized; "
                                      "register every layer before calling materialize()");
  CUSBI_CHECK(!name.empty(), "a parameter needs a non-empty name (its state_dict key)");
  for (const Entry& e : entries_)
    CUSBI_CHECK(e.name != name, "parameter '" << name
                                              << "' is registered twice; give each layer a "
                                                 "unique name or prefix");
  for (int64_t d : shape)
    CUSBI_CHECK(d >= 0, "parameter '" << name << "' has invalid shape " << shape_str(shape));
  CUSBI_CHECK(
      init_bound >= 0.0f && std::isfinite(init_bound),
      "parameter '" << name << "': init bound " << init_bound << " must be finite and >= 0");
  ParamSlot slot{numel_, shape};
  numel_ += slot.numel();
  entries_.push_back(Entry{name, slot, init_bound});
  return slot;
}

ParamSlot ParameterSet::add_constant(const std::string& name, const Shape& shape, float value) {
  CUSBI_CHECK(std::isfinite(value),
              "parameter '" << name << "': constant init value " << value << " must be finite");
  const ParamSlot slot = add(name, shape, 0.0f);
  entries_.back().constant = true;
  entries_.back().constant_value = value;
  return slot;
}

void ParameterSet::materialize(Device device, Generator& generator) {
  CUSBI_CHECK(!materialized(), "the ParameterSet is already materialized");
  Tensor host = Tensor::empty({numel_}, Device::cpu());
  for (const Entry& e : entries_) {
    Tensor target = host.slice_rows(e.slot.offset, e.slot.offset + e.slot.numel());
    if (e.constant)
      target.fill_(e.constant_value);
    else
      target.copy_(uniform(e.slot.shape, -e.init_bound, e.init_bound, Device::cpu(), &generator));
  }
  values_ = host.to(device);
  grads_ = Tensor::zeros({numel_}, device);
}

Device ParameterSet::device() const {
  CUSBI_CHECK(materialized(), "the ParameterSet is not materialized yet; call materialize()");
  return values_.device();
}

namespace {
Tensor slot_view(const Tensor& flat, const ParamSlot& slot, const char* what) {
  CUSBI_CHECK(flat.defined(), "cannot take a parameter " << what
                                                         << " before the ParameterSet is "
                                                            "materialized; call materialize()");
  CUSBI_CHECK(slot.offset >= 0 && slot.offset + slot.numel() <= flat.numel(),
              "parameter slot [" << slot.offset << ", " << slot.offset + slot.numel()
                                 << ") is outside this ParameterSet (" << flat.numel()
                                 << " elements); use a slot from this set");
  return flat.slice_rows(slot.offset, slot.offset + slot.numel()).reshape(slot.shape);
}
}  // namespace

Tensor ParameterSet::value(const ParamSlot& slot) const {
  return slot_view(values_, slot, "value");
}
Tensor ParameterSet::grad(const ParamSlot& slot) const {
  return slot_view(grads_, slot, "gradient");
}

const ParameterSet::Entry& ParameterSet::entry(const std::string& name) const {
  for (const Entry& e : entries_)
    if (e.name == name) return e;
  std::string known;
  for (size_t i = 0; i < entries_.size() && i < 8; ++i) known += (i ? ", " : "") + entries_[i].name;
  if (entries_.size() > 8) known += ", ...";
  CUSBI_FAIL("no parameter named '" << name << "' (this set has " << entries_.size()
                                    << " entries: " << known << "); check the state_dict key");
}

void ParameterSet::to(Device device) {
  CUSBI_CHECK(materialized(), "cannot move a ParameterSet that is not materialized");
  values_ = values_.to(device);
  grads_ = grads_.to(device);
}

}  // namespace cusbi
