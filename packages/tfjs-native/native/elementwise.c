/* RMSNorm and SwiGLU, forward and backward. Row work runs on the pool; reductions across rows (the RMSNorm weight
 * gradient) use a fixed partition summed in order, so results do not depend on the thread count. */
#include <math.h>
#include <stdlib.h>

#include "rho1.h"

typedef struct {
  const float *x, *w, *dy;
  float *y, *dx;
  double *partial; /* [blocks, h] weight-gradient partial sums */
  int64_t rows, blockRows;
  int h;
  float eps;
} norm_ctx;

static float rms_rstd(const float *xr, int h, float eps) {
  double ss = 0.0;
#pragma omp simd reduction(+ : ss)
  for (int j = 0; j < h; j++) ss += (double)xr[j] * xr[j];
  float variance = (float)(ss / h);
  return (float)(1.0 / sqrt((double)(variance + eps)));
}

static void rmsnorm_fwd_task(void *p, int64_t begin, int64_t end) {
  norm_ctx *c = p;
  for (int64_t r = begin; r < end; r++) {
    const float *xr = c->x + r * c->h;
    float *yr = c->y + r * c->h;
    float rstd = rms_rstd(xr, c->h, c->eps);
#pragma omp simd
    for (int j = 0; j < c->h; j++) yr[j] = (xr[j] * rstd) * c->w[j];
  }
}

RHO1_EXPORT void rho1_rmsnorm_fwd(const float *x, const float *w, float *y, int64_t rows, int h, float eps) {
  norm_ctx c = {.x = x, .w = w, .y = y, .rows = rows, .h = h, .eps = eps};
  rho1_parallel_rows(rows, h, 16384, rmsnorm_fwd_task, &c);
}

/* dx_k = r·w_k·dy_k − r³·x_k/H · Σ_h dy_h·w_h·x_h ;  dw_h = Σ_rows dy_h·x_h·r. */
static void rmsnorm_bwd_task(void *p, int64_t bBegin, int64_t bEnd) {
  norm_ctx *c = p;
  const int h = c->h;
  for (int64_t blk = bBegin; blk < bEnd; blk++) {
    double *dw = c->partial + blk * h;
    for (int j = 0; j < h; j++) dw[j] = 0.0;
    int64_t r0 = blk * c->blockRows, r1 = r0 + c->blockRows < c->rows ? r0 + c->blockRows : c->rows;
    for (int64_t r = r0; r < r1; r++) {
      const float *xr = c->x + r * h, *dyr = c->dy + r * h;
      float *dxr = c->dx + r * h;
      float rstd = rms_rstd(xr, h, c->eps);
      double dot = 0.0;
#pragma omp simd reduction(+ : dot)
      for (int j = 0; j < h; j++) dot += (double)dyr[j] * c->w[j] * xr[j];
      float coef = (float)(dot * rstd * rstd * rstd / h);
#pragma omp simd
      for (int j = 0; j < h; j++) {
        dxr[j] = rstd * c->w[j] * dyr[j] - coef * xr[j];
        dw[j] += (double)(dyr[j] * xr[j] * rstd);
      }
    }
  }
}

RHO1_EXPORT void rho1_rmsnorm_bwd(const float *dy, const float *x, const float *w, float *dx, float *dw, int64_t rows,
                                  int h, float eps) {
  int64_t blocks = rows < 32 ? rows : 32;
  if (blocks < 1) {
    for (int j = 0; j < h; j++) dw[j] = 0.0f;
    return;
  }
  norm_ctx c = {.x = x, .w = w, .dy = dy, .dx = dx, .rows = rows, .h = h, .eps = eps};
  c.blockRows = (rows + blocks - 1) / blocks;
  blocks = (rows + c.blockRows - 1) / c.blockRows;
  c.partial = malloc(sizeof(double) * blocks * h);
  rho1_parallel_for(blocks, 1, rmsnorm_bwd_task, &c);
  for (int j = 0; j < h; j++) {
    double s = 0.0;
    for (int64_t b = 0; b < blocks; b++) s += c.partial[b * h + j];
    dw[j] = (float)s;
  }
  free(c.partial);
}

typedef struct {
  const float *g, *u, *dy;
  float *out, *dg, *du;
} swiglu_ctx;

static void swiglu_fwd_task(void *p, int64_t begin, int64_t end) {
  swiglu_ctx *c = p;
  const float *g = c->g, *u = c->u;
  float *out = c->out;
#pragma omp simd
  for (int64_t i = begin; i < end; i++) {
    float s = 1.0f / (1.0f + rho1_expf(-g[i]));
    out[i] = (g[i] * s) * u[i];
  }
}

static void swiglu_bwd_task(void *p, int64_t begin, int64_t end) {
  swiglu_ctx *c = p;
  const float *g = c->g, *u = c->u, *dy = c->dy;
  float *dg = c->dg, *du = c->du;
#pragma omp simd
  for (int64_t i = begin; i < end; i++) {
    float s = 1.0f / (1.0f + rho1_expf(-g[i]));
    du[i] = dy[i] * (g[i] * s);
    dg[i] = dy[i] * u[i] * (s + g[i] * s * (1.0f - s));
  }
}

RHO1_EXPORT void rho1_swiglu_fwd(const float *g, const float *u, float *out, int64_t n) {
  swiglu_ctx c = {.g = g, .u = u, .out = out};
  rho1_parallel_for(n, 65536, swiglu_fwd_task, &c);
}

RHO1_EXPORT void rho1_swiglu_bwd(const float *dy, const float *g, const float *u, float *dg, float *du, int64_t n) {
  swiglu_ctx c = {.g = g, .u = u, .dy = dy, .dg = dg, .du = du};
  rho1_parallel_for(n, 65536, swiglu_bwd_task, &c);
}

/* ---- AdamW (PyTorch semantics), float storage with the per-element update in double ---- */
typedef struct {
  const float *p, *g, *m, *v;
  float *po, *mo, *vo;
  double lr, b1, b2, eps, wd, bc1, bc2;
} adamw_ctx;

static void adamw_task(void *q, int64_t begin, int64_t end) {
  adamw_ctx *c = q;
  const double lr = c->lr, b1 = c->b1, b2 = c->b2, eps = c->eps, decay = c->lr * c->wd, bc1 = c->bc1, bc2 = c->bc2;
#pragma omp simd
  for (int64_t i = begin; i < end; i++) {
    double g = c->g[i];
    double p = (double)c->p[i] - decay * c->p[i];
    double m = b1 * c->m[i] + (1.0 - b1) * g;
    double v = b2 * c->v[i] + (1.0 - b2) * g * g;
    float mf = (float)m, vf = (float)v;
    c->mo[i] = mf;
    c->vo[i] = vf;
    c->po[i] = (float)(p - lr * ((double)mf / bc1) / (sqrt((double)vf / bc2) + eps));
  }
}

RHO1_EXPORT void rho1_adamw(const float *p, const float *g, const float *m, const float *v, float *po, float *mo,
                            float *vo, int64_t n, double lr, double b1, double b2, double eps, double wd, double step) {
  adamw_ctx c = {.p = p, .g = g, .m = m, .v = v, .po = po, .mo = mo, .vo = vo, .lr = lr, .b1 = b1, .b2 = b2,
                 .eps = eps, .wd = wd};
  c.bc1 = 1.0 - pow(b1, step);
  c.bc2 = 1.0 - pow(b2, step);
  rho1_parallel_for(n, 65536, adamw_task, &c);
}

/* ---- same-shape float32 Add (residual connections and gradient accumulation) ---- */
typedef struct {
  const float *a, *b;
  float *out;
} add_ctx;

static void add_task(void *p, int64_t begin, int64_t end) {
  add_ctx *c = p;
#pragma omp simd
  for (int64_t i = begin; i < end; i++) c->out[i] = c->a[i] + c->b[i];
}

RHO1_EXPORT void rho1_add(const float *a, const float *b, float *out, int64_t n) {
  add_ctx c = {.a = a, .b = b, .out = out};
  rho1_parallel_for(n, 131072, add_task, &c);
}
