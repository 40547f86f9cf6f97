// cusbi_validate: sbibm's benchmark with cusbi's estimators. For each task x algorithm x budget
// it simulates, trains, samples 10,000 posterior draws per observation and scores them with C2ST
// against sbibm's reference posterior, then writes validation.md (one row per cell, sbibm's
// published C2ST and runtime beside it) and validation.csv (one row per observation).
//   cusbi_validate [--tasks a,b] [--algorithms npe,nle,nre] [--budgets 1000,10000]
//                  [--observations 1-10|1,4,7] [--samples N] [--device cpu|cuda|best]
//                  [--seed S] [--train-per-observation] [--out DIR] [--quick] [--no-progress]
// --quick is CI's preset (about a minute on 2 cores): it checks every cell against a threshold a
// broken estimator fails and exits with status 1 when one misses.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bench/e2e/e2e_support.hpp"
#include "cell.hpp"
#include "published.hpp"
#include "report.hpp"

namespace {

using cusbi_validation::CellResult;
using cusbi_validation::CellSpec;

struct Options {
  std::vector<std::string> tasks = {"two_moons", "gaussian_linear", "slcp", "bernoulli_glm"};
  std::vector<std::string> algorithms = {"npe"};
  std::vector<int64_t> budgets = {1000, 10000};
  std::vector<int> observations = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  int64_t samples = 10000;
  std::string device = "best";
  uint64_t seed = 1;
  bool train_per_observation = false;
  bool quick = false;
  bool progress = true;
  std::string out = ".";
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> items;
  std::string item;
  for (char c : text) {
    if (c == ',') {
      if (!item.empty()) items.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  if (!item.empty()) items.push_back(item);
  return items;
}

int64_t parse_int(const std::string& text, const std::string& what) {
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  CUSBI_CHECK(end && *end == '\0' && !text.empty(), what << " '" << text << "' is not an integer");
  return value;
}

// "1-10" or "1,4,7" -> sbibm observation numbers.
std::vector<int> parse_observations(const std::string& text) {
  std::vector<int> numbers;
  for (const std::string& item : split(text)) {
    const auto dash = item.find('-');
    const int64_t first = parse_int(item.substr(0, dash), "--observations");
    const int64_t last =
        dash == std::string::npos ? first : parse_int(item.substr(dash + 1), "--observations");
    CUSBI_CHECK(1 <= first && first <= last && last <= 10,
                "--observations '" << text << "': sbibm's observations are numbered 1 to 10");
    for (int64_t o = first; o <= last; ++o) numbers.push_back(static_cast<int>(o));
  }
  return numbers;
}

// CI's preset. The thresholds are sbibm's published mean + 3 sd of that cell: a correct
// estimator lands near the mean (2 observations, 2,000 samples: C2ST's own noise at that size is
// ~0.01), while an untrained or wrong one scores 0.95-1.0 on these tasks (prior against
// posterior), far above every threshold (0.83-0.86).
void apply_quick(Options& options) {
  options.tasks = {"two_moons", "gaussian_linear"};
  options.algorithms = {"npe"};
  options.budgets = {1000};
  options.observations = {1, 2};
  options.samples = 2000;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      CUSBI_CHECK(i + 1 < argc, arg << " needs a value");
      return argv[++i];
    };
    if (arg == "--tasks")
      options.tasks = split(value());
    else if (arg == "--algorithms")
      options.algorithms = split(value());
    else if (arg == "--budgets") {
      options.budgets.clear();
      for (const auto& b : split(value())) options.budgets.push_back(parse_int(b, "--budgets"));
    } else if (arg == "--observations")
      options.observations = parse_observations(value());
    else if (arg == "--samples")
      options.samples = parse_int(value(), "--samples");
    else if (arg == "--device")
      options.device = value();
    else if (arg == "--seed")
      options.seed = static_cast<uint64_t>(parse_int(value(), "--seed"));
    else if (arg == "--out")
      options.out = value();
    else if (arg == "--train-per-observation")
      options.train_per_observation = true;
    else if (arg == "--no-progress")
      options.progress = false;
    else if (arg == "--quick")
      options.quick = true;
    else
      CUSBI_FAIL("unknown argument '" << arg
                                      << "'; see the comment at the top of "
                                         "bench/validation/cusbi_validate.cpp for the options");
  }
  if (options.quick) apply_quick(options);
  for (const auto& a : options.algorithms)
    CUSBI_CHECK(a == "npe" || a == "nle" || a == "nre",
                "--algorithms: unknown '" << a << "'; use npe, nle or nre");
  CUSBI_CHECK(options.samples >= 10 && options.samples <= 10000,
              "--samples " << options.samples
                           << ": use 10 to 10,000 (sbibm ships 10,000 reference samples)");
  return options;
}

cusbi::Device pick_device(const std::string& name) {
  return name == "best" ? cusbi::Device::best() : cusbi_e2e::usable_device(name);
}

std::string machine(cusbi::Device device) {
  double load[1] = {0.0};
  getloadavg(load, 1);
  return device.str() + ", " + std::to_string(std::thread::hardware_concurrency()) +
         " hardware threads, 1-minute load " + std::to_string(load[0]).substr(0, 4) + " at the end";
}

int run(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const cusbi::Device device = pick_device(options.device);
  std::vector<CellResult> cells;
  bool all_pass = true;
  for (const auto& task_name : options.tasks) {
    const auto task = cusbi::tasks::get_task(task_name, device);
    for (const auto& algorithm : options.algorithms)
      for (int64_t budget : options.budgets) {
        CellSpec spec;
        spec.task = task_name;
        spec.algorithm = algorithm;
        spec.num_simulations = budget;
        spec.observations = options.observations;
        spec.num_samples = options.samples;
        spec.train_per_observation = options.train_per_observation;
        spec.seed = options.seed;
        spec.show_progress = options.progress;
        cells.push_back(cusbi_validation::run_cell(spec, *task, device));
        const CellResult& cell = cells.back();
        const auto published = cusbi_validation::published_cell(task_name, algorithm, budget);
        std::printf(
            "%-16s %s %7lld sims: C2ST %.3f +- %.3f (sbibm %s), %.1f s per run, %.1f s "
            "in all\n",
            task_name.c_str(), algorithm.c_str(), static_cast<long long>(budget), cell.c2st_mean(),
            cell.c2st_sd(),
            published ? (std::to_string(published->c2st_mean).substr(0, 5) + " +- " +
                         std::to_string(published->c2st_sd).substr(0, 5))
                            .c_str()
                      : "n/a",
            cell.seconds_per_run(), cell.total_seconds());
        std::fflush(stdout);
        if (options.quick && published) {
          const double threshold = published->c2st_mean + 3.0 * published->c2st_sd;
          if (!(cell.c2st_mean() <= threshold)) {
            std::printf("  FAIL: C2ST %.3f above the quick threshold %.3f\n", cell.c2st_mean(),
                        threshold);
            all_pass = false;
          }
        }
      }
  }
  const std::string md = options.out + "/validation.md";
  const std::string csv = options.out + "/validation.csv";
  cusbi_validation::write_file(md, cusbi_validation::markdown_table(cells, machine(device)));
  cusbi_validation::write_file(csv, cusbi_validation::csv_rows(cells));
  std::printf("wrote %s and %s\n", md.c_str(), csv.c_str());
  return all_pass ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const cusbi::Error& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}
