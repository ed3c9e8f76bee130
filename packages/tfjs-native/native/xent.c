/* Per-token cross-entropy over logits [N, V] with int32 labels: loss = logsumexp − logit[label] (0 for a label outside
 * [0, V)), and its gradient dy·(softmax − onehot). Rows run on the pool; exp is the vectorised rho1_expf. */
#include <math.h>

#include "rho1.h"

typedef struct {
  const float *x, *dy;
  const int32_t *labels;
  float *out;
  float *lse; /* forward: written when not NULL; backward: read when not NULL (else recomputed) */
  int64_t v;
} xent_ctx;

/* logsumexp in one sweep over memory: per 1024-wide block (L1-resident) a max pass and an exp-sum pass, merged into
 * a running (max, sum) pair. */
static float row_lse(const float *x, int64_t v) {
  float big = -INFINITY;
  double total = 0.0;
  for (int64_t j0 = 0; j0 < v; j0 += 1024) {
    const int64_t j1 = j0 + 1024 < v ? j0 + 1024 : v;
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (int64_t j = j0; j < j1; j++) m = x[j] > m ? x[j] : m;
    if (m == -INFINITY) continue;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t j = j0; j < j1; j++) s += rho1_expf(x[j] - m);
    if (m > big) {
      total = total * exp((double)big - m) + s;
      big = m;
    } else {
      total += s * exp((double)m - big);
    }
  }
  return big + (float)log(total);
}

static void xent_fwd_task(void *p, int64_t begin, int64_t end) {
  xent_ctx *c = p;
  for (int64_t n = begin; n < end; n++) {
    int32_t label = c->labels[n];
    if (label < 0 || label >= c->v) {
      c->out[n] = 0.0f;
      if (c->lse) c->lse[n] = 0.0f;
      continue;
    }
    const float *x = c->x + n * c->v;
    const float lse = row_lse(x, c->v);
    if (c->lse) c->lse[n] = lse;
    c->out[n] = lse - x[label];
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
    const float lse = c->lse ? c->lse[n] : row_lse(x, c->v), d = c->dy[n];
#pragma omp simd
    for (int64_t j = 0; j < c->v; j++) g[j] = d * rho1_expf(x[j] - lse);
    g[label] -= d;
  }
}

/* lse (optional, [n]) receives each row's logsumexp for the backward pass. */
RHO1_EXPORT void rho1_xent_fwd(const float *logits, const int32_t *labels, float *loss, float *lse, int64_t n,
                               int64_t v) {
  xent_ctx c = {.x = logits, .labels = labels, .out = loss, .lse = lse, .v = v};
  rho1_parallel_rows(n, v, 65536, xent_fwd_task, &c);
}

/* lse (optional) is the forward pass's; NULL recomputes it. */
RHO1_EXPORT void rho1_xent_bwd(const float *dy, const float *logits, const int32_t *labels, const float *lse,
                               float *dlogits, int64_t n, int64_t v) {
  xent_ctx c = {.x = logits, .dy = dy, .labels = labels, .out = dlogits, .lse = (float *)lse, .v = v};
  rho1_parallel_rows(n, v, 65536, xent_bwd_task, &c);
}
