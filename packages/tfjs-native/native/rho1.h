/* Shared declarations for the rho1 native kernels (compiled into one shared library, loaded via bun:ffi). */
#ifndef RHO1_H
#define RHO1_H

#include <stdint.h>
#include <string.h>

#define RHO1_EXPORT __attribute__((visibility("default")))

/* ---- worker pool (pool.c) ---------------------------------------------------------------------------------------
 * parallel_for splits [0, n) into chunks of `grain` items handed out dynamically to the calling thread plus the
 * pool's workers. Workers sleep on a condition variable between calls so they never spin against OpenBLAS's threads.
 * Work whose result depends on the split (reductions) must partition deterministically itself. */
typedef void (*rho1_task)(void *ctx, int64_t begin, int64_t end);
void rho1_parallel_for(int64_t n, int64_t grain, rho1_task fn, void *ctx);
/* parallel_for over `rows` rows of `row_len` elements, about `chunk` elements (at least one row) to a chunk. */
static inline void rho1_parallel_rows(int64_t rows, int64_t row_len, int64_t chunk, rho1_task fn, void *ctx) {
  rho1_parallel_for(rows, chunk / (row_len > 0 ? row_len : 1), fn, ctx);
}
int rho1_pool_threads(void);
int rho1_pool_start(int threads);

/* ---- built-in SGEMM (gemm.c): batched, row-major, strided, C_i = alpha·op(A_ai)·op(B_bi) + beta·C_i ---- */
void rho1_builtin_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int64_t lda,
                        const float *b, int64_t ldb, float beta, float *c, int64_t ldc, int batch, int64_t a_stride,
                        int64_t b_stride, int64_t c_stride, const int32_t *a_index, const int32_t *b_index);

/* ---- blas.c: row-major strided sgemm, C = alpha·op(A)·op(B) + beta·C, built-in or OpenBLAS (rho1_blas_internal) */
void rho1_sgemm(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                int ldb, float beta, float *c, int ldc);

void rho1_blas_single_threaded(int on);

/* ---- vectorisable float exp ---------------------------------------------------------------------------------------
 * Cephes-style expf: Cody–Waite reduction by ln 2 and a degree-6 polynomial, relative error ≈ 1e-7. Written with plain
 * arithmetic and integer bit tricks so GCC/Clang auto-vectorise loops calling it without -ffast-math or libmvec. */
typedef union { float f; int32_t i; } rho1_fi;

static inline float rho1_expf(float x) {
  const float hi = 88.3762626647949f, lo = -87.3365447504f;
  float xc = x > hi ? hi : x;
  xc = xc < lo ? lo : xc;
  /* n = round(x / ln2) via the 1.5·2^23 shifter (exact for |n| < 2^22). */
  const float shifter = 12582912.0f;
  float n = (xc * 1.44269504088896341f + shifter) - shifter;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  rho1_fi s;
  s.i = ((int32_t)n + 127) << 23;
  float out = y * s.f;
  /* Below the clamp the true value is under FLT_MIN: flush to 0 like a correctly rounded expf nearly does. */
  return x < lo ? 0.0f : out;
}

#endif
