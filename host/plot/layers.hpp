// Internal: what each pairplot panel shows, from host copies of the samples. pairplot.cpp checks
// the inputs and lays the grid out; these functions fill a panel's layers (in data coordinates).
#pragma once
#include <cstdint>
#include <vector>

#include "cusbi/plot.hpp"
#include "host/plot/scene.hpp"

namespace cusbi::plot {

// One sample set (or one points tensor) on the host: columns[d][n], finite values only.
struct Columns {
  std::vector<std::vector<double>> columns;
  size_t rows() const { return columns.empty() ? 0 : columns[0].size(); }
};

struct PlotData {
  std::vector<Columns> samples;  // one per sample set, same D
  std::vector<Columns> points;   // one per reference-points tensor
  std::vector<Range> limits;     // per dimension of the samples (not only the plotted ones)
};

// Diagonal panel of dimension d; sets panel.y to the density range it needs.
void fill_diagonal(Panel& panel, const PlotData& data, const PairplotOptions& options, int64_t d);
// Panel above the diagonal: dimension dx across, dy up.
void fill_upper(Panel& panel, const PlotData& data, const PairplotOptions& options, int64_t dx,
                int64_t dy);

}  // namespace cusbi::plot
