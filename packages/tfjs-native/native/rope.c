/* Rotary embedding (Hugging Face rotate_half convention) on x [rows = B·T, nHeads, D] at int32 positions [rows].
 * cos/sin come from double-precision angles p·invFreq[i] rounded to float, exactly like the composite's host tables.
 * inverse = 1 rotates by −angle (the gradient). */
#include <math.h>
#include <stdlib.h>

#include "rho1.h"

typedef struct {
  const float *x;
  const int32_t *pos;
  const float *cosT, *sinT; /* [positions - pmin, half] */
  float *y;
  int64_t pmin;
  int perRow; /* table row r instead of pos[r] - pmin */
  int nh, d;
  float sign;
} rope_ctx;

static void rope_task(void *p, int64_t begin, int64_t end) {
  rope_ctx *c = p;
  const int half = c->d / 2;
  for (int64_t r = begin; r < end; r++) {
    const int64_t t = c->perRow ? r : c->pos[r] - c->pmin;
    const float *cs = c->cosT + t * half;
    const float *sn = c->sinT + t * half;
    for (int h = 0; h < c->nh; h++) {
      const float *x = c->x + (r * c->nh + h) * c->d;
      float *y = c->y + (r * c->nh + h) * c->d;
#pragma omp simd
      for (int i = 0; i < half; i++) {
        float s = c->sign * sn[i];
        float x1 = x[i], x2 = x[i + half];
        y[i] = x1 * cs[i] - x2 * s;
        y[i + half] = x2 * cs[i] + x1 * s;
      }
    }
  }
}

RHO1_EXPORT void rho1_rope(const float *x, const int32_t *pos, const double *invFreq, float *y, int64_t rows, int nh,
                           int d, int inverse) {
  if (rows <= 0) return;
  const int half = d / 2;
  int64_t pmin = pos[0], pmax = pos[0];
  for (int64_t r = 1; r < rows; r++) {
    if (pos[r] < pmin) pmin = pos[r];
    if (pos[r] > pmax) pmax = pos[r];
  }
  /* Positions repeat across the batch: one table row per distinct position in [pmin, pmax], unless the positions
   * are sparse, then one per row. */
  int64_t span = pmax - pmin + 1;
  const int perRow = span > rows;
  if (perRow) span = rows;
  float *cosT = malloc(sizeof(float) * span * half), *sinT = malloc(sizeof(float) * span * half);
  for (int64_t q = 0; q < span; q++) {
    double p = perRow ? (double)pos[q] : (double)(pmin + q);
    for (int i = 0; i < half; i++) {
      double a = p * invFreq[i];
      cosT[q * half + i] = (float)cos(a);
      sinT[q * half + i] = (float)sin(a);
    }
  }
  rope_ctx c = {.x = x, .pos = pos, .cosT = cosT, .sinT = sinT, .y = y, .pmin = pmin, .perRow = perRow, .nh = nh, .d = d,
                .sign = inverse ? -1.0f : 1.0f};
  rho1_parallel_rows(rows, (int64_t)nh * d, 16384, rope_task, &c);
  free(cosT);
  free(sinT);
}
