// The validation program's outputs: a Markdown table (one row per cell, sbibm's published numbers
// beside cusbi's) and a CSV with one row per cell and observation, for later analysis.
#pragma once
#include <string>
#include <vector>

#include "cell.hpp"

namespace cusbi_validation {

// Whether the cell's mean C2ST is within sbibm's published mean + 1 sd (the goal);
// true when the paper has no such cell.
bool within_published(const CellResult& cell);

std::string markdown_table(const std::vector<CellResult>& cells, const std::string& machine);
std::string csv_rows(const std::vector<CellResult>& cells);

// Writes `text` to `path` atomically (a temporary file renamed over it).
void write_file(const std::string& path, const std::string& text);

}  // namespace cusbi_validation
