// sbi's analysis and persistence tools: pairplot (drawn by cusbi's cairo renderer into a
// cusbi.Figure that writes .png / .svg; no matplotlib), and saving / loading trained models as
// cusbi's safetensors model files (cusbi.save, cusbi.load dispatching on the file's kind, the
// typed loaders, and load_sbi_nsf for flows exported from sbi).
#include <nanobind/nanobind.h>
#include <nanobind/stl/array.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "cusbi/classifiers.hpp"
#include "cusbi/error.hpp"
#include "cusbi/flows.hpp"
#include "cusbi/persistence.hpp"
#include "cusbi/plot.hpp"
#include "cusbi/posteriors.hpp"

namespace cusbi::python {

namespace {

using Path = std::filesystem::path;

// One array, or a list / tuple of arrays (sbi's samples and points).
std::vector<Tensor> tensor_list(nb::handle value, const char* what) {
  std::vector<Tensor> out;
  if (nb::isinstance<nb::list>(value) || nb::isinstance<nb::tuple>(value)) {
    for (nb::handle item : value) out.push_back(to_tensor(item, what, Device::cpu()));
  } else {
    out.push_back(to_tensor(value, what, Device::cpu()));
  }
  return out;
}

std::vector<std::string> string_list(nb::handle value) {
  std::vector<std::string> out;
  for (nb::handle item : value) out.push_back(nb::cast<std::string>(nb::str(item)));
  return out;
}

// sbi's limits: [low, high] for every dimension, or one [low, high] per dimension.
std::vector<std::pair<double, double>> parse_limits(nb::handle limits) {
  const std::vector<float> v = to_tensor(limits, "limits", Device::cpu()).to_vector();
  CUSBI_CHECK(v.size() % 2 == 0 && !v.empty(),
              "limits must be [low, high] or one [low, high] per dimension");
  std::vector<std::pair<double, double>> out;
  for (size_t i = 0; i < v.size(); i += 2) out.emplace_back(v[i], v[i + 1]);
  return out;
}

std::string style(nb::handle value) {
  if (value.is_none()) return "none";
  CUSBI_CHECK(nb::isinstance<nb::str>(value),
              "upper and diag take one style for all sample sets: \"hist\", \"scatter\", "
              "\"contour\", \"kde\" or None");
  return nb::cast<std::string>(value);
}

// The keys of sbi's *_kwargs dicts that cusbi draws with; others are cosmetic (matplotlib
// styling) and are ignored with a warning naming them.
void read_kwargs(nb::handle kwargs, const char* name, PairplotOptions& o) {
  if (kwargs.is_none()) return;
  CUSBI_CHECK(nb::isinstance<nb::dict>(kwargs), name << " must be a dict or None");
  std::string ignored;
  for (auto [k, value] : nb::cast<nb::dict>(kwargs)) {
    const std::string key = nb::cast<std::string>(k);
    const std::string where = name;
    if (where == "diag_kwargs" && key == "bins" && nb::isinstance<nb::int_>(value)) {
      o.diag_bins = nb::cast<int>(value);
    } else if (where == "upper_kwargs" && key == "bins" && nb::isinstance<nb::int_>(value)) {
      o.upper_bins = nb::cast<int>(value);
    } else if (where == "upper_kwargs" && key == "levels") {
      o.levels =
          nb::cast<std::vector<double>>(nb::module_::import_("builtins").attr("list")(value));
    } else if (where == "fig_kwargs" && key == "title") {
      o.title = nb::cast<std::string>(nb::str(value));
    } else if (where == "fig_kwargs" && key == "samples_labels") {
      o.samples_labels = string_list(value);
    } else if (where == "fig_kwargs" && key == "points_labels") {
      o.points_labels = string_list(value);
    } else {
      ignored += (ignored.empty() ? "" : ", ") + key;
    }
  }
  if (!ignored.empty()) {
    const std::string message =
        std::string("pairplot: ") + name + " keys ignored by cusbi: " + ignored;
    PyErr_WarnEx(PyExc_UserWarning, message.c_str(), 1);
  }
}

Figure plot(nb::handle samples, nb::handle points, nb::handle limits, nb::handle subset,
            nb::handle upper, nb::handle diag, std::pair<double, double> figsize, nb::handle labels,
            nb::handle offdiag, nb::handle diag_kwargs, nb::handle upper_kwargs,
            nb::handle fig_kwargs, nb::handle samples_labels, nb::handle points_labels,
            nb::handle title, double dpi, nb::handle path) {
  PairplotOptions o;
  const std::vector<Tensor> sets = tensor_list(samples, "samples");
  if (!points.is_none()) o.points = tensor_list(points, "points");
  if (!limits.is_none()) o.limits = parse_limits(limits);
  if (!subset.is_none()) {
    for (nb::handle i : subset) o.subset.push_back(nb::cast<int64_t>(i));
  }
  o.upper = style(offdiag.is_none() ? upper : offdiag);  // offdiag: sbi's older name
  o.diag = style(diag);
  o.figsize = figsize;
  o.dpi = dpi;
  if (!labels.is_none()) o.labels = string_list(labels);
  read_kwargs(diag_kwargs, "diag_kwargs", o);
  read_kwargs(upper_kwargs, "upper_kwargs", o);
  read_kwargs(fig_kwargs, "fig_kwargs", o);
  if (!samples_labels.is_none()) o.samples_labels = string_list(samples_labels);
  if (!points_labels.is_none()) o.points_labels = string_list(points_labels);
  if (!title.is_none()) o.title = nb::cast<std::string>(nb::str(title));
  const std::optional<Path> target =
      path.is_none() ? std::nullopt : std::optional<Path>(nb::cast<Path>(path));
  nb::gil_scoped_release release;
  Figure figure = pairplot(sets, o);
  if (target) figure.save(*target);
  return figure;
}

// The model of any cusbi model file, as its Python class.
nb::object load_any(const Path& path, nb::handle device) {
  const Device where = parse_device(device);
  const std::string kind = inspect_model(path).kind;
  if (kind == "neural_spline_flow") return nb::cast(load_nsf(path, where));
  if (kind == "direct_posterior") return nb::cast(load_direct_posterior(path, where));
  if (kind == "ratio_classifier") return nb::cast(load_ratio_classifier(path, where));
  CUSBI_FAIL(path.string() << " holds a model of kind '" << kind
                           << "' that this cusbi cannot load; update cusbi");
}

nb::dict info_dict(const ModelFileInfo& info) {
  nb::object json = nb::module_::import_("json");
  nb::dict d;
  d["kind"] = info.kind;
  d["format_version"] = info.format_version;
  d["cusbi_version"] = info.cusbi_version;
  d["estimator"] =
      info.estimator_json.empty() ? nb::none() : json.attr("loads")(info.estimator_json);
  d["prior"] = info.prior_json.empty() ? nb::none() : json.attr("loads")(info.prior_json);
  return d;
}

}  // namespace

void bind_tools(nb::module_& m) {
  nb::class_<Figure>(m, "Figure", "A drawn pairplot: save(path) writes .png or .svg.")
      .def(
          "save",
          [](const Figure& f, const Path& path) {
            nb::gil_scoped_release release;
            f.save(path);
          },
          nb::arg("path"), "Writes PNG or SVG, by the extension (atomically).")
      .def(
          "savefig",
          [](const Figure& f, const Path& path) {
            nb::gil_scoped_release release;
            f.save(path);
          },
          nb::arg("fname"), "matplotlib's name for save(): writes .png or .svg.")
      .def("svg", &Figure::svg, "The SVG document (str).")
      .def(
          "png",
          [](const Figure& f) {
            const std::vector<unsigned char> bytes = f.png();
            return nb::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
          },
          "The PNG file's bytes.")
      .def("_repr_png_",
           [](const Figure& f) {
             const std::vector<unsigned char> bytes = f.png();
             return nb::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
           })
      .def_prop_ro("width_px", &Figure::width_px)
      .def_prop_ro("height_px", &Figure::height_px)
      .def("pixel_of", &Figure::pixel_of, nb::arg("row"), nb::arg("col"), nb::arg("x"),
           nb::arg("y"), "Where data point (x, y) of panel (row, col) lands in the PNG.");

  m.def("plot_available", &plot_available,
        "Whether this build draws pairplots (cusbi built with cairo).");
  m.def("pairplot", &plot, nb::arg("samples"), nb::arg("points") = nb::none(),
        nb::arg("limits") = nb::none(), nb::arg("subset") = nb::none(), nb::arg("upper") = "hist",
        nb::arg("diag") = "hist", nb::arg("figsize") = std::make_pair(10.0, 10.0),
        nb::arg("labels") = nb::none(), nb::arg("offdiag") = nb::none(),
        nb::arg("diag_kwargs") = nb::none(), nb::arg("upper_kwargs") = nb::none(),
        nb::arg("fig_kwargs") = nb::none(), nb::arg("samples_labels") = nb::none(),
        nb::arg("points_labels") = nb::none(), nb::arg("title") = nb::none(),
        nb::arg("dpi") = 100.0, nb::arg("path") = nb::none(),
        "sbi's pairplot: samples (N, D) or a list of them -> a cusbi.Figure (written to path "
        "when given). Raises cusbi.Error on drawing when cusbi was built without cairo.");

  m.def(
      "save", [](const NeuralSplineFlow& estimator, const Path& path) { save(estimator, path); },
      nb::arg("obj"), nb::arg("path"));
  m.def(
      "save", [](const DirectPosterior& posterior, const Path& path) { save(posterior, path); },
      nb::arg("obj"), nb::arg("path"));
  m.def(
      "save", [](const RatioClassifier& classifier, const Path& path) { save(classifier, path); },
      nb::arg("obj"), nb::arg("path"),
      "Saves a NeuralSplineFlow, DirectPosterior or RatioClassifier as a cusbi model file "
      "(safetensors; written atomically).");
  m.def("load", &load_any, nb::arg("path"), nb::arg("device") = nb::none(),
        "Loads any cusbi model file as its class (NeuralSplineFlow, DirectPosterior or "
        "RatioClassifier), on `device` (None: the GPU when usable, else the CPU).");
  m.def(
      "load_nsf",
      [](const Path& path, nb::handle device) { return load_nsf(path, parse_device(device)); },
      nb::arg("path"), nb::arg("device") = nb::none(),
      "The NeuralSplineFlow of a flow or DirectPosterior file.");
  m.def(
      "load_direct_posterior",
      [](const Path& path, nb::handle device) {
        return load_direct_posterior(path, parse_device(device));
      },
      nb::arg("path"), nb::arg("device") = nb::none(),
      "A DirectPosterior file: flow, prior and default x.");
  m.def(
      "load_ratio_classifier",
      [](const Path& path, nb::handle device) {
        return load_ratio_classifier(path, parse_device(device));
      },
      nb::arg("path"), nb::arg("device") = nb::none(), "A RatioClassifier file.");
  m.def(
      "inspect_model", [](const Path& path) { return info_dict(inspect_model(path)); },
      nb::arg("path"),
      "A model file's header: kind, format_version, cusbi_version, estimator and prior (dicts).");
  m.def(
      "load_sbi_nsf",
      [](const Path& path, nb::handle device) {
        return load_sbi_nsf(path.string(), parse_device(device));
      },
      nb::arg("path"), nb::arg("device") = nb::none(),
      "A flow trained by sbi, exported by tools/export_sbi_nsf.py (safetensors).");
}

}  // namespace cusbi::python
