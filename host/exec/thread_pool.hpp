// The CPU's threads for the programs: one small persistent pool whose jobs are numbered parts
// claimed one at a time from an atomic counter, by the calling thread as well as by the
// workers. The caller never waits for a worker that has not started: parts nobody claimed it
// runs itself, and it waits only for parts already claimed (running) elsewhere. A static
// OpenMP split instead hands half the work to a partner thread and waits at the barrier for
// it, so when the cores are oversubscribed (a simulator, a notebook, a build beside us) every
// region costs a scheduler time slice: measured 3-16x slower on 2 busy cores, 10-70x under
// parallel builds. Which thread ran a part never changes a result: callers give each part its
// own outputs (partials are combined in part order afterwards).
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace cusbi::exec {

// The threads a CPU job may use, caller included: OpenMP's setting for the calling thread
// (OMP_NUM_THREADS, omp_set_num_threads), which users already know how to set.
int max_threads();

// True on a pool worker, or on the caller while it runs a job's parts: a parallel_for there
// runs its parts inline, in order (the outer job already uses every thread).
bool in_parallel_job();

class ThreadPool {
 public:
  using Task = void (*)(void* context, int64_t part);

  // The process's pool; workers start when a job first wants them.
  static ThreadPool& instance();

  // Runs task(context, part) for every part in [0, parts), on the caller and on up to
  // `helpers` workers, and returns when all have run. An exception thrown by a part is
  // rethrown here (the first one; in the pool the remaining parts still run). A second thread
  // submitting while a job runs, or more than kMaxJobParts parts, runs its parts inline instead
  // (there an exception stops the loop).
  void run(int64_t parts, int helpers, Task task, void* context);

  static constexpr int64_t kMaxJobParts = 0xFFFF;  // the part fields of the job word are 16 bits
  static constexpr int kMaxWorkers = 63;

  // Test hooks: a stalled worker wakes for jobs but does not claim parts until released (a
  // descheduled thread); parts_run_by_workers() counts parts workers ran since the start.
  void stall_worker_for_testing(int worker, bool stalled);
  int64_t parts_run_by_workers() const;

  ThreadPool();
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

 private:
  struct State;
  State* s_;
};

// f(i) for i in [0, count). With `parallel` (the work is worth waking threads for), outside
// any other job and with more than one thread allowed, the parts run on the pool; otherwise
// in order on the caller. f must give each i its own outputs.
template <class F>
void parallel_for(int64_t count, bool parallel, F&& f) {
  if (count <= 0) return;
  int helpers = 0;
  if (parallel && count > 1 && count <= ThreadPool::kMaxJobParts && !in_parallel_job()) {
    const int64_t threads = max_threads();
    helpers = static_cast<int>(std::min<int64_t>(threads, count) - 1);
  }
  if (helpers <= 0) {
    for (int64_t i = 0; i < count; ++i) f(i);
    return;
  }
  using Fn = std::remove_reference_t<F>;
  ThreadPool::instance().run(
      count, helpers, [](void* c, int64_t i) { (*static_cast<Fn*>(c))(i); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

// f(begin, end) over consecutive ranges covering [0, n), each of about `grain` iterations (at
// most kMaxJobParts ranges), on the pool when `parallel`, else as one range on the caller: the
// pool's form of an OpenMP `parallel for` over elements.
template <class F>
void parallel_range(int64_t n, bool parallel, F&& f, int64_t grain = int64_t(1) << 13) {
  if (n <= 0) return;
  if (!parallel) {
    f(int64_t(0), n);
    return;
  }
  const int64_t ranges = std::min<int64_t>((n + grain - 1) / grain, ThreadPool::kMaxJobParts);
  const int64_t size = (n + ranges - 1) / ranges;
  parallel_for(ranges, true, [&](int64_t k) {
    const int64_t begin = k * size, end = std::min(n, begin + size);
    if (begin < end) f(begin, end);
  });
}

}  // namespace cusbi::exec
