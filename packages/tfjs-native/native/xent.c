/* Per-token cross-entropy over logits [N, V] with int32 labels: loss = logsumexp − logit[label] (0 for a label outside
 * [0, V)), and its gradient dy·(softmax − onehot). Rows run on the pool; exp is the vectorised rho1_expf. */
#include <math.h>

#include "rho1.h"

typedef struct {
  const float *x, *dy;
  const int32_t *labels;
  float *out;
  int64_t v;
} xent_ctx;

static float row_lse(const float *x, int64_t v) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < v; j++) m = x[j] > m ? x[j] : m;
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < v; j++) s += rho1_expf(x[j] - m);
  return m + logf(s);
}

static void xent_fwd_task(void *p, int64_t begin, int64_t end) {
  xent_ctx *c = p;
  for (int64_t n = begin; n < end; n++) {
    int32_t label = c->labels[n];
    if (label < 0 || label >= c->v) {
      c->out[n] = 0.0f;
      continue;
    }
    const float *x = c->x + n * c->v;
    c->out[n] = row_lse(x, c->v) - x[label];
  }
}

static void xent_bwd_task(void *p, int64_t begin, int64_t end) {
  xent_ctx *c = p;
  for (int64_t n = begin; n < end; n++) {
    int32_t label = c->labels[n];
    float *g = c->out + n * c->v;
    if (label < 0 || label >= c->v) {
      for (int64_t j = 0; j < c->v; j++) g[j] = 0.0f;
      continue;
    }
    const float *x = c->x + n * c->v;
    const float lse = row_lse(x, c->v), d = c->dy[n];
#pragma omp simd
    for (int64_t j = 0; j < c->v; j++) g[j] = d * rho1_expf(x[j] - lse);
    g[label] -= d;
  }
}

RHO1_EXPORT void rho1_xent_fwd(const float *logits, const int32_t *labels, float *loss, int64_t n, int64_t v) {
  xent_ctx c = {.x = logits, .labels = labels, .out = loss, .v = v};
  int64_t grain = 65536 / (v > 0 ? v : 1);
  rho1_parallel_for(n, grain > 0 ? grain : 1, xent_fwd_task, &c);
}

RHO1_EXPORT void rho1_xent_bwd(const float *dy, const float *logits, const int32_t *labels, float *dlogits, int64_t n,
                               int64_t v) {
  xent_ctx c = {.x = logits, .dy = dy, .labels = labels, .out = dlogits, .v = v};
  int64_t grain = 65536 / (v > 0 ? v : 1);
  rho1_parallel_for(n, grain > 0 ? grain : 1, xent_bwd_task, &c);
}
