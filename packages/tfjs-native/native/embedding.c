/* Embedding gather and its scatter-add gradient. The gradient partitions the vocabulary across tasks, so each table
 * row is summed by one task in token order: no atomics, same result for any thread count. */
#include "rho1.h"

/* Returns the index of the first id outside [0, v), or -1 when all are valid. */
RHO1_EXPORT int64_t rho1_embedding_check(const int32_t *ids, int64_t n, int64_t v) {
  for (int64_t i = 0; i < n; i++)
    if (ids[i] < 0 || ids[i] >= v) return i;
  return -1;
}

typedef struct {
  const float *src;
  const int32_t *ids;
  float *dst;
  int64_t n, v, h, parts;
} emb_ctx;

static void gather_task(void *p, int64_t begin, int64_t end) {
  emb_ctx *c = p;
  for (int64_t i = begin; i < end; i++) memcpy(c->dst + i * c->h, c->src + (int64_t)c->ids[i] * c->h, sizeof(float) * c->h);
}

RHO1_EXPORT void rho1_embedding_fwd(const float *table, const int32_t *ids, float *out, int64_t n, int64_t v, int64_t h) {
  emb_ctx c = {.src = table, .ids = ids, .dst = out, .n = n, .v = v, .h = h};
  rho1_parallel_rows(n, h, 65536, gather_task, &c);
}

static void scatter_task(void *p, int64_t begin, int64_t end) {
  emb_ctx *c = p;
  for (int64_t part = begin; part < end; part++) {
    int64_t lo = c->v * part / c->parts, hi = c->v * (part + 1) / c->parts;
    for (int64_t i = 0; i < c->n; i++) {
      int64_t id = c->ids[i];
      if (id < lo || id >= hi) continue;
      float *row = c->dst + id * c->h;
      const float *g = c->src + i * c->h;
#pragma omp simd
      for (int64_t j = 0; j < c->h; j++) row[j] += g[j];
    }
  }
}

/* dtable must arrive zero-filled; ids outside [0, v) are skipped. */
RHO1_EXPORT void rho1_embedding_bwd(const float *dy, const int32_t *ids, float *dtable, int64_t n, int64_t v, int64_t h) {
  emb_ctx c = {.src = dy, .ids = ids, .dst = dtable, .n = n, .v = v, .h = h, .parts = 16};
  rho1_parallel_for(c.parts, 1, scatter_task, &c);
}
