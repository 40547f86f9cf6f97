// The pool of host/exec/thread_pool.hpp. A job's parts are cut into one contiguous range per
// thread (the caller's is range 0), so that from one operation to the next each thread works
// on the same rows and finds them in its cache (claiming from one shared counter instead cost
// 20% at batch 10^4). Each range is one 64-bit word (generation 32 bits | begin 16 | end 16):
// its owner claims from the front, a thread with nothing left steals from the back of another
// range, both by a compare-exchange that also checks the generation, so a worker that wakes late
// (the caller ran its job and maybe started the next) cannot claim a part of a job that is
// over: its exchange fails and it sleeps again. The job's task and context are written before
// the words are published and rewritten only after every part has been claimed and has finished.
#include "host/exec/thread_pool.hpp"

#include <omp.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace cusbi::exec {

namespace {

thread_local int t_job_depth = 0;

// Spins (in time, not iterations: a pause lasts 10 to 140 cycles depending on the CPU) before
// sleeping on a futex. Large batches queue one short job per operation, a few microseconds
// apart, so a worker must still be awake for the next one (waking from a futex costs tens of
// microseconds and halved their speed-up); longer spins would take cores from whatever else
// runs on the machine. CUSBI_POOL_SPIN_US overrides the workers' spin.
int64_t worker_spin_ns() {
  static const int64_t ns = [] {
    const char* env = std::getenv("CUSBI_POOL_SPIN_US");
    return env ? int64_t(std::atof(env) * 1000) : int64_t(100000);
  }();
  return ns;
}
constexpr int64_t kCallerSpinNs = 50000;

// True while less than `ns` has passed since `start` (checked every 64 calls: a clock read
// costs ~20 ns).
struct SpinClock {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  int calls = 0;
  bool before(int64_t ns) {
    if (++calls % 64 != 0) return true;
    return std::chrono::steady_clock::now() - start < std::chrono::nanoseconds(ns);
  }
};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

constexpr uint64_t pack(uint32_t gen, int64_t begin, int64_t end) {
  return (uint64_t(gen) << 32) | (uint64_t(begin) << 16) | uint64_t(end);
}
constexpr uint32_t gen_of(uint64_t w) { return uint32_t(w >> 32); }
constexpr int64_t begin_of(uint64_t w) { return int64_t((w >> 16) & 0xFFFF); }
constexpr int64_t end_of(uint64_t w) { return int64_t(w & 0xFFFF); }

// One thread's range of a job's parts, on its own cache line.
struct alignas(64) Range {
  std::atomic<uint64_t> word{0};
};

}  // namespace

int max_threads() { return omp_get_max_threads(); }
bool in_parallel_job() { return t_job_depth > 0; }

struct ThreadPool::State {
  std::unique_ptr<Range[]> ranges{new Range[kMaxWorkers + 1]};
  std::atomic<int> num_ranges{0};     // of the current job
  std::atomic<int64_t> job_parts{0};  // of the current job
  // Per worker: the generation last published to it; it sleeps on its own word, so a job
  // wakes only the workers it may use.
  std::unique_ptr<std::atomic<uint32_t>[]> wake { new std::atomic<uint32_t>[ kMaxWorkers ] };
  std::atomic<int> done{0};  // parts of the current job that have finished
  std::atomic<Task> task{nullptr};
  std::atomic<void*> context{nullptr};
  std::atomic<bool> stop{false};
  std::atomic<int64_t> worker_parts{0};
  std::vector<std::thread> workers;
  std::unique_ptr<std::atomic<bool>[]> stalled { new std::atomic<bool>[ kMaxWorkers ] };
  std::mutex submit;  // one job at a time
  std::mutex error_mutex;
  std::exception_ptr error;
  uint32_t generation = 0;

  // Runs one claimed part, keeping the first exception.
  void run_part(Task t, void* c, int64_t part) {
    try {
      t(c, part);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  }
  // Claims one part of range r of generation `gen`, from its front or its back; -1 when none
  // is left there.
  int64_t claim(uint32_t gen, int r, bool front) {
    std::atomic<uint64_t>& word = ranges[size_t(r)].word;
    uint64_t w = word.load(std::memory_order_acquire);
    while (gen_of(w) == gen && begin_of(w) < end_of(w)) {
      const uint64_t claimed =
          front ? pack(gen, begin_of(w) + 1, end_of(w)) : pack(gen, begin_of(w), end_of(w) - 1);
      if (word.compare_exchange_weak(w, claimed, std::memory_order_acq_rel,
                                     std::memory_order_acquire))
        return front ? begin_of(w) : end_of(w) - 1;
    }
    return -1;
  }
  // Runs parts of generation `gen`: those of range `own` first, then what is left of the others.
  void claim_parts(uint32_t gen, int own, bool worker) {
    const Task t = task.load(std::memory_order_relaxed);
    void* c = context.load(std::memory_order_relaxed);
    const int64_t parts = job_parts.load(std::memory_order_relaxed);
    const int n = std::min(num_ranges.load(std::memory_order_relaxed), kMaxWorkers + 1);
    for (int k = 0; k < n; ++k) {
      const int r = (own + k) % n;
      for (int64_t part; (part = claim(gen, r, k == 0)) >= 0;) {
        // A successful claim proves job `gen` was still running, so t, c and parts are its.
        run_part(t, c, part);
        if (worker) worker_parts.fetch_add(1, std::memory_order_relaxed);
        if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == parts) done.notify_all();
      }
    }
  }

  void worker_loop(int id) {
    t_job_depth = 1;
    std::atomic<uint32_t>& my_wake = wake[size_t(id)];
    uint32_t seen = my_wake.load(std::memory_order_acquire);
    for (;;) {
      SpinClock clock;
      const int64_t spin_ns = worker_spin_ns();
      while (my_wake.load(std::memory_order_acquire) == seen) {
        if (stop.load(std::memory_order_acquire)) return;
        if (clock.before(spin_ns)) {
          cpu_relax();
        } else {
          my_wake.wait(seen, std::memory_order_acquire);
        }
      }
      if (stop.load(std::memory_order_acquire)) return;
      seen = my_wake.load(std::memory_order_acquire);
      while (stalled[size_t(id)].load(std::memory_order_acquire) &&
             !stop.load(std::memory_order_acquire))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      claim_parts(seen, id + 1, true);
    }
  }
};

ThreadPool::ThreadPool() : s_(new State) {
  for (int i = 0; i < kMaxWorkers; ++i) {
    s_->stalled[size_t(i)] = false;
    s_->wake[size_t(i)] = 0;
  }
}

ThreadPool::~ThreadPool() {
  s_->stop.store(true, std::memory_order_release);
  for (size_t i = 0; i < s_->workers.size(); ++i) {
    s_->wake[i].fetch_add(1, std::memory_order_acq_rel);
    s_->wake[i].notify_one();
  }
  for (std::thread& t : s_->workers) t.join();
  delete s_;
}

ThreadPool& ThreadPool::instance() {
  static ThreadPool pool;
  return pool;
}

void ThreadPool::run(int64_t parts, int helpers, Task task, void* context) {
  State& s = *s_;
  std::unique_lock<std::mutex> lock(s.submit, std::try_to_lock);
  if (!lock.owns_lock() || parts > kMaxJobParts || helpers <= 0 || in_parallel_job()) {
    struct Depth {
      Depth() { ++t_job_depth; }
      ~Depth() { --t_job_depth; }
    } depth;
    for (int64_t i = 0; i < parts; ++i) task(context, i);
    return;
  }
  {
    helpers = std::min(helpers, kMaxWorkers);
    while (int(s.workers.size()) < helpers) {
      const int id = int(s.workers.size());
      s.workers.emplace_back([&s, id] { s.worker_loop(id); });
    }
    s.task.store(task, std::memory_order_relaxed);
    s.context.store(context, std::memory_order_relaxed);
    s.job_parts.store(parts, std::memory_order_relaxed);
    s.done.store(0, std::memory_order_relaxed);
    const int n = helpers + 1;
    s.num_ranges.store(n, std::memory_order_relaxed);
    const uint32_t gen = ++s.generation;
    for (int r = 0; r < n; ++r)
      s.ranges[size_t(r)].word.store(pack(gen, parts * r / n, parts * (r + 1) / n),
                                     std::memory_order_release);
    for (int i = 0; i < helpers; ++i) {
      s.wake[size_t(i)].store(gen, std::memory_order_release);
      s.wake[size_t(i)].notify_one();
    }
    ++t_job_depth;
    s.claim_parts(gen, 0, false);
    --t_job_depth;
    // Only parts already claimed by running workers remain: wait for those.
    for (SpinClock clock;;) {
      const int d = s.done.load(std::memory_order_acquire);
      if (d == parts) break;
      if (clock.before(kCallerSpinNs)) {
        cpu_relax();
      } else {
        s.done.wait(d, std::memory_order_acquire);
      }
    }
  }
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> guard(s.error_mutex);
    std::swap(error, s.error);
  }
  if (error) std::rethrow_exception(error);
}

void ThreadPool::stall_worker_for_testing(int worker, bool stalled) {
  if (worker >= 0 && worker < kMaxWorkers) s_->stalled[size_t(worker)].store(stalled);
}

int64_t ThreadPool::parts_run_by_workers() const {
  return s_->worker_parts.load(std::memory_order_relaxed);
}

}  // namespace cusbi::exec
