// Formatting of the validation results. Times: seconds per stage for the whole cell, and the
// time of one sbibm-style run (one observation) against the paper's median runtime per run.
#include "report.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cusbi/error.hpp"
#include "published.hpp"

namespace cusbi_validation {
namespace {

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

double stage_sum(const CellResult& cell, double ObservationResult::*field) {
  double total = 0.0;
  for (const auto& o : cell.observations) total += o.*field;
  return total;
}

}  // namespace

bool within_published(const CellResult& cell) {
  const auto published =
      published_cell(cell.spec.task, cell.spec.algorithm, cell.spec.num_simulations);
  return !published || cell.c2st_mean() <= published->c2st_mean + published->c2st_sd;
}

std::string markdown_table(const std::vector<CellResult>& cells, const std::string& machine) {
  std::ostringstream out;
  out << "Machine: " << machine << "\n\n"
      << "| task | algorithm | simulations | observations | C2ST cusbi | C2ST sbibm | "
         "<= sbibm mean + sd | simulate s | train s (epochs) | sample s | C2ST s | "
         "s per run | sbibm min per run | speed-up |\n"
      << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const CellResult& cell : cells) {
    const auto published =
        published_cell(cell.spec.task, cell.spec.algorithm, cell.spec.num_simulations);
    std::string epochs;
    for (size_t i = 0; i < cell.epochs.size(); ++i)
      epochs += (i ? "," : "") + std::to_string(cell.epochs[i]);
    out << "| " << cell.spec.task << " | " << cell.spec.algorithm << " | "
        << cell.spec.num_simulations << " | " << cell.observations.size() << " | "
        << fixed(cell.c2st_mean(), 3) << " ± " << fixed(cell.c2st_sd(), 3) << " | "
        << (published ? fixed(published->c2st_mean, 3) + " ± " + fixed(published->c2st_sd, 3)
                      : std::string("—"))
        << " | " << (published ? (within_published(cell) ? "yes" : "**no**") : "—") << " | "
        << fixed(cell.simulate_seconds, 2) << " | " << fixed(cell.train_seconds, 1) << " ("
        << epochs << ") | " << fixed(stage_sum(cell, &ObservationResult::sample_seconds), 2)
        << " | " << fixed(stage_sum(cell, &ObservationResult::c2st_seconds), 1) << " | "
        << fixed(cell.seconds_per_run(), 2) << " | ";
    if (published && published->runtime_minutes)
      out << fixed(*published->runtime_minutes, 1) << " | "
          << fixed(*published->runtime_minutes * 60.0 / cell.seconds_per_run(), 0) << "x |\n";
    else
      out << "— | — |\n";
  }
  return out.str();
}

std::string csv_rows(const std::vector<CellResult>& cells) {
  std::ostringstream out;
  out << "task,algorithm,num_simulations,num_observation,device,c2st,published_mean,"
         "published_sd,simulate_s,train_s,trainings,sample_s,c2st_s,seed\n";
  for (const CellResult& cell : cells) {
    const auto published =
        published_cell(cell.spec.task, cell.spec.algorithm, cell.spec.num_simulations);
    for (const auto& o : cell.observations) {
      out << cell.spec.task << ',' << cell.spec.algorithm << ',' << cell.spec.num_simulations << ','
          << o.num_observation << ',' << cell.device << ',' << fixed(o.c2st, 4) << ','
          << (published ? fixed(published->c2st_mean, 3) : "") << ','
          << (published ? fixed(published->c2st_sd, 3) : "") << ','
          << fixed(cell.simulate_seconds, 3) << ',' << fixed(cell.train_seconds, 3) << ','
          << cell.trainings << ',' << fixed(o.sample_seconds, 3) << ',' << fixed(o.c2st_seconds, 3)
          << ',' << cell.spec.seed << '\n';
    }
  }
  return out.str();
}

void write_file(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    CUSBI_CHECK(file, "cannot write '" << temporary << "'; check that its folder exists");
    file << text;
    CUSBI_CHECK(file.good(), "writing '" << temporary << "' failed (disk full?)");
  }
  std::filesystem::rename(temporary, path);
}

}  // namespace cusbi_validation
