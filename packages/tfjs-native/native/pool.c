/* A tiny persistent pthread pool. One job at a time (kernels are called synchronously from JavaScript). */
#include <pthread.h>
#include <stdlib.h>

#include "rho1.h"

#define MAX_THREADS 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t cv_done = PTHREAD_COND_INITIALIZER;
static int n_threads = 1; /* including the caller */
static int64_t generation = 0;
static int busy_workers = 0;
static int pool_in_use = 0; /* a second caller (another JS worker thread) runs its job inline */

static struct {
  rho1_task fn;
  void *ctx;
  int64_t n, grain;
  int64_t next; /* atomically incremented chunk cursor */
} job;

static void run_chunks(void) {
  for (;;) {
    int64_t begin = __atomic_fetch_add(&job.next, job.grain, __ATOMIC_RELAXED);
    if (begin >= job.n) return;
    int64_t end = begin + job.grain < job.n ? begin + job.grain : job.n;
    job.fn(job.ctx, begin, end);
  }
}

static void *worker(void *arg) {
  (void)arg;
  int64_t seen = 0;
  pthread_mutex_lock(&mu);
  for (;;) {
    while (generation == seen) pthread_cond_wait(&cv_work, &mu);
    seen = generation;
    pthread_mutex_unlock(&mu);
    run_chunks();
    pthread_mutex_lock(&mu);
    if (--busy_workers == 0) pthread_cond_signal(&cv_done);
  }
  return NULL;
}

int rho1_pool_start(int threads) {
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  pthread_mutex_lock(&mu);
  int have = n_threads;
  pthread_mutex_unlock(&mu);
  /* Grow only: threads that exist keep sleeping harmlessly. */
  for (int i = have; i < threads; i++) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, worker, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) break;
    pthread_mutex_lock(&mu);
    n_threads++;
    pthread_mutex_unlock(&mu);
  }
  return n_threads;
}

int rho1_pool_threads(void) { return n_threads; }

void rho1_parallel_for(int64_t n, int64_t grain, rho1_task fn, void *ctx) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (n_threads == 1 || n <= grain || __atomic_exchange_n(&pool_in_use, 1, __ATOMIC_ACQUIRE)) {
    fn(ctx, 0, n);
    return;
  }
  pthread_mutex_lock(&mu);
  job.fn = fn;
  job.ctx = ctx;
  job.n = n;
  job.grain = grain;
  job.next = 0;
  busy_workers = n_threads - 1;
  generation++;
  pthread_cond_broadcast(&cv_work);
  pthread_mutex_unlock(&mu);
  run_chunks();
  pthread_mutex_lock(&mu);
  while (busy_workers > 0) pthread_cond_wait(&cv_done, &mu);
  pthread_mutex_unlock(&mu);
  __atomic_store_n(&pool_in_use, 0, __ATOMIC_RELEASE);
}

