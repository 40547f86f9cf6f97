// The pool of host/exec/thread_pool.hpp. One 64-bit job word (generation 32 bits | parts 16 |
// next part 16) is the whole protocol: a part is claimed by a compare-exchange that also checks
// the generation and the part count, so a worker that wakes late (the caller ran its job and
// maybe started the next) cannot claim a part of a job that is over: its exchange fails and it
// sleeps again. The job's task and context are written before the word is published and
// rewritten only after every part of the job has been claimed and has finished.
#include "host/exec/thread_pool.hpp"

#include <omp.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace cusbi::exec {

namespace {

thread_local int t_job_depth = 0;

// Short spins before sleeping: a job at sbi's batch size follows the previous one within
// microseconds, and a futex wake costs about as much; longer spins would take cores from
// whatever else runs on the machine.
constexpr int kWorkerSpins = 2000;
constexpr int kCallerSpins = 4000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

constexpr uint64_t pack(uint32_t gen, int64_t parts, int64_t next) {
  return (uint64_t(gen) << 32) | (uint64_t(parts) << 16) | uint64_t(next);
}
constexpr uint32_t gen_of(uint64_t w) { return uint32_t(w >> 32); }
constexpr int64_t parts_of(uint64_t w) { return int64_t((w >> 16) & 0xFFFF); }
constexpr int64_t next_of(uint64_t w) { return int64_t(w & 0xFFFF); }

}  // namespace

int max_threads() { return omp_get_max_threads(); }
bool in_parallel_job() { return t_job_depth > 0; }

struct ThreadPool::State {
  std::atomic<uint64_t> word{0};
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
  // Claims and runs parts of generation `gen` until none is left.
  void claim_parts(uint32_t gen, bool worker) {
    uint64_t w = word.load(std::memory_order_acquire);
    while (gen_of(w) == gen && next_of(w) < parts_of(w)) {
      const Task t = task.load(std::memory_order_relaxed);
      void* c = context.load(std::memory_order_relaxed);
      if (!word.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire))
        continue;  // w now holds the current word
      run_part(t, c, next_of(w));
      if (worker) worker_parts.fetch_add(1, std::memory_order_relaxed);
      if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == parts_of(w)) done.notify_all();
      w = word.load(std::memory_order_acquire);
    }
  }

  void worker_loop(int id) {
    t_job_depth = 1;
    std::atomic<uint32_t>& my_wake = wake[size_t(id)];
    uint32_t seen = my_wake.load(std::memory_order_acquire);
    for (;;) {
      for (int spin = 0; my_wake.load(std::memory_order_acquire) == seen; ++spin) {
        if (stop.load(std::memory_order_acquire)) return;
        if (spin < kWorkerSpins) {
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
      claim_parts(seen, true);
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
    s.done.store(0, std::memory_order_relaxed);
    const uint32_t gen = ++s.generation;
    s.word.store(pack(gen, parts, 0), std::memory_order_release);
    for (int i = 0; i < helpers; ++i) {
      s.wake[size_t(i)].store(gen, std::memory_order_release);
      s.wake[size_t(i)].notify_one();
    }
    ++t_job_depth;
    s.claim_parts(gen, false);
    --t_job_depth;
    // Only parts already claimed by running workers remain: wait for those.
    for (int spin = 0;; ++spin) {
      const int d = s.done.load(std::memory_order_acquire);
      if (d == parts) break;
      if (spin < kCallerSpins) {
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
