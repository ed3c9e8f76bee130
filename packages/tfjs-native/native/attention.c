/*
 * Causal grouped-query attention, forward and backward, on the contract layout: q [B, Tq, nH, D], k/v [B, Tk, nKv, D],
 * keyMask [B, Tk]. Query i (key index i + qOff) sees key j iff j <= i + qOff and keyMask[b, j] != 0; query head h
 * reads KV head h / (nH / nKv). Each (batch, head, query block) runs as strided OpenBLAS sgemms straight on the
 * tensors (no transposes or copies) with a max-subtracted float softmax in between; a row that sees no key gives 0.
 * The backward pass recomputes the probabilities (nothing but the inputs is saved).
 */
#include <math.h>
#include <stdlib.h>

#include "rho1.h"

#define QBLOCK 128

typedef struct {
  int b, tq, tk, nh, nkv, d, qoff;
  float scale;
  const float *mask;
} attn_dims;

/* Scores block (already scaled) → probabilities in place; returns nothing, invisible entries become 0. */
static void softmax_block(float *s, int rows, int nk, int i0, const attn_dims *a, const float *maskRow) {
  for (int r = 0; r < rows; r++) {
    float *row = s + (int64_t)r * nk;
    int last = i0 + r + a->qoff; /* highest visible key index */
    int lim = last + 1 < nk ? last + 1 : nk;
    if (lim < 0) lim = 0;
    float m = -INFINITY;
    for (int j = 0; j < lim; j++)
      if (maskRow[j] != 0.0f && row[j] > m) m = row[j];
    if (m == -INFINITY) {
      for (int j = 0; j < nk; j++) row[j] = 0.0f;
      continue;
    }
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < lim; j++) {
      float e = maskRow[j] != 0.0f ? rho1_expf(row[j] - m) : 0.0f;
      row[j] = e;
      sum += e;
    }
    for (int j = lim; j < nk; j++) row[j] = 0.0f;
    float inv = 1.0f / sum;
#pragma omp simd
    for (int j = 0; j < lim; j++) row[j] *= inv;
  }
}

/* Visible key count for the query block [i0, i1): keys beyond the last query's horizon are skipped entirely. */
static int block_keys(const attn_dims *a, int i1) {
  int nk = i1 + a->qoff;
  return nk < a->tk ? (nk > 0 ? nk : 0) : a->tk;
}

typedef struct {
  attn_dims a;
  const float *q, *k, *v, *dout;
  float *out, *dq, *dk, *dv;
} attn_ctx;

/* One task per (batch, query head): the query blocks of that head. */
static void attn_fwd_task(void *p, int64_t begin, int64_t end) {
  attn_ctx *c = p;
  const attn_dims *a = &c->a;
  const int group = a->nh / a->nkv, ldq = a->nh * a->d, ldk = a->nkv * a->d, d = a->d;
  float *s = malloc(sizeof(float) * QBLOCK * (a->tk > 0 ? a->tk : 1));
  for (int64_t task = begin; task < end; task++) {
    const int bi = (int)(task / a->nh), h = (int)(task % a->nh), g = h / group;
    const int64_t kvOff = ((int64_t)bi * a->tk * a->nkv + g) * d;
    for (int i0 = 0; i0 < a->tq; i0 += QBLOCK) {
      const int rows = i0 + QBLOCK < a->tq ? QBLOCK : a->tq - i0;
      const int nk = block_keys(a, i0 + rows);
      float *ob = c->out + ((int64_t)(bi * a->tq + i0) * a->nh + h) * d;
      if (nk == 0) {
        for (int r = 0; r < rows; r++) memset(ob + (int64_t)r * ldq, 0, sizeof(float) * d);
        continue;
      }
      const float *qb = c->q + ((int64_t)(bi * a->tq + i0) * a->nh + h) * d;
      rho1_sgemm(0, 1, rows, nk, d, a->scale, qb, ldq, c->k + kvOff, ldk, 0.0f, s, nk);
      softmax_block(s, rows, nk, i0, a, a->mask + (int64_t)bi * a->tk);
      rho1_sgemm(0, 0, rows, d, nk, 1.0f, s, nk, c->v + kvOff, ldk, 0.0f, ob, ldq);
    }
  }
  free(s);
}

/* One task per (batch, KV head): it owns dk/dv of that head and walks the query heads of its group. */
static void attn_bwd_task(void *p, int64_t begin, int64_t end) {
  attn_ctx *c = p;
  const attn_dims *a = &c->a;
  const int group = a->nh / a->nkv, ldq = a->nh * a->d, ldk = a->nkv * a->d, d = a->d;
  float *pb = malloc(sizeof(float) * QBLOCK * (a->tk > 0 ? a->tk : 1));
  float *dp = malloc(sizeof(float) * QBLOCK * (a->tk > 0 ? a->tk : 1));
  for (int64_t task = begin; task < end; task++) {
    const int bi = (int)(task / a->nkv), g = (int)(task % a->nkv);
    const int64_t kvOff = ((int64_t)bi * a->tk * a->nkv + g) * d;
    for (int h = g * group; h < (g + 1) * group; h++) {
      for (int i0 = 0; i0 < a->tq; i0 += QBLOCK) {
        const int rows = i0 + QBLOCK < a->tq ? QBLOCK : a->tq - i0;
        const int nk = block_keys(a, i0 + rows);
        const int64_t qOffs = ((int64_t)(bi * a->tq + i0) * a->nh + h) * d;
        if (nk == 0) {
          for (int r = 0; r < rows; r++) memset(c->dq + qOffs + (int64_t)r * ldq, 0, sizeof(float) * d);
          continue;
        }
        rho1_sgemm(0, 1, rows, nk, d, a->scale, c->q + qOffs, ldq, c->k + kvOff, ldk, 0.0f, pb, nk);
        softmax_block(pb, rows, nk, i0, a, a->mask + (int64_t)bi * a->tk);
        /* dP = dO·Vᵀ, then dS = P ∘ (dP − rowsum(P ∘ dP)) in place. */
        rho1_sgemm(0, 1, rows, nk, d, 1.0f, c->dout + qOffs, ldq, c->v + kvOff, ldk, 0.0f, dp, nk);
        for (int r = 0; r < rows; r++) {
          float *pr = pb + (int64_t)r * nk, *dr = dp + (int64_t)r * nk;
          float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
          for (int j = 0; j < nk; j++) dot += pr[j] * dr[j];
#pragma omp simd
          for (int j = 0; j < nk; j++) dr[j] = pr[j] * (dr[j] - dot);
        }
        rho1_sgemm(0, 0, rows, d, nk, a->scale, dp, nk, c->k + kvOff, ldk, 0.0f, c->dq + qOffs, ldq);
        rho1_sgemm(1, 0, nk, d, rows, a->scale, dp, nk, c->q + qOffs, ldq, 1.0f, c->dk + kvOff, ldk);
        rho1_sgemm(1, 0, nk, d, rows, 1.0f, pb, nk, c->dout + qOffs, ldq, 1.0f, c->dv + kvOff, ldk);
      }
    }
  }
  free(pb);
  free(dp);
}

/* Below this many multiply-adds (q·kᵀ plus p·v over all heads) the tasks run inline: decoding one token of a small
 * model is a few microseconds of work, less than waking the pool and switching OpenBLAS's thread count twice. */
#define ATTN_PARALLEL_MIN_WORK (1 << 18)

/* With at least as many tasks as threads the pool runs them with single-threaded sgemms; otherwise (decoding one
 * sequence) the tasks run in order and OpenBLAS parallelises each sgemm. */
static void run_tasks(int64_t tasks, rho1_task fn, attn_ctx *c) {
  const int64_t work = 2 * (int64_t)c->a.b * c->a.nh * c->a.tq * c->a.tk * c->a.d;
  if (rho1_pool_threads() > 1 && tasks >= rho1_pool_threads() && work >= ATTN_PARALLEL_MIN_WORK) {
    rho1_blas_single_threaded(1);
    rho1_parallel_for(tasks, 1, fn, c);
    rho1_blas_single_threaded(0);
  } else {
    fn(c, 0, tasks);
  }
}

RHO1_EXPORT void rho1_attention_fwd(const float *q, const float *k, const float *v, const float *mask, float *out,
                                    int b, int tq, int tk, int nh, int nkv, int d, float scale, int qoff) {
  attn_ctx c = {.a = {b, tq, tk, nh, nkv, d, qoff, scale, mask}, .q = q, .k = k, .v = v, .out = out};
  run_tasks((int64_t)b * nh, attn_fwd_task, &c);
}

/* dq is fully written; dk and dv must arrive zero-filled (they accumulate over the heads of a group). */
RHO1_EXPORT void rho1_attention_bwd(const float *dout, const float *q, const float *k, const float *v,
                                    const float *mask, float *dq, float *dk, float *dv, int b, int tq, int tk, int nh,
                                    int nkv, int d, float scale, int qoff) {
  attn_ctx c = {.a = {b, tq, tk, nh, nkv, d, qoff, scale, mask}, .q = q, .k = k, .v = v, .dout = dout, .dq = dq,
                .dk = dk, .dv = dv};
  run_tasks((int64_t)b * nkv, attn_bwd_task, &c);
}
