/* Batched sgemm with numpy-style broadcasting of the batch dimensions (no copies), through the built-in SGEMM
 * (gemm.c) or OpenBLAS, an optional accelerator loaded at run time with dlopen so the path (and OPENBLAS_CORETYPE,
 * set before loading) stay the caller's choice. The caller picks per call (see the auto choice in matmul.ts). */
#include <dlfcn.h>
#include <stdio.h>

#include "rho1.h"

enum { RowMajor = 101, NoTrans = 111, Trans = 112 };
typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*sgemv_fn)(int order, int ta, int m, int n, float alpha, const float *a, int lda, const float *x,
                         int incx, float beta, float *y, int incy);
typedef void (*set_threads_fn)(int);
typedef char *(*corename_fn)(void);

static sgemm_fn sgemm = NULL;
static sgemv_fn sgemv = NULL;
static set_threads_fn set_threads = NULL;
static corename_fn corename = NULL;
static char error_text[512];
static int blas_threads_wanted = 1;
static int internal_openblas = 0; /* the strided sgemms of the other kernels (attention) */

/* blas_path NULL: the built-in SGEMM only. 0 on success; otherwise a negative code and rho1_error() says why. */
RHO1_EXPORT int rho1_init(const char *blas_path, int threads) {
  rho1_pool_start(threads > 0 ? threads : 1);
  if (blas_path != NULL && sgemm == NULL) {
    void *h = dlopen(blas_path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
      snprintf(error_text, sizeof error_text, "dlopen(%s): %s", blas_path, dlerror());
      return -1;
    }
    sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
    sgemv = (sgemv_fn)dlsym(h, "cblas_sgemv");
    set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
    corename = (corename_fn)dlsym(h, "openblas_get_corename");
    if (sgemm == NULL) {
      snprintf(error_text, sizeof error_text, "%s has no cblas_sgemm", blas_path);
      return -2;
    }
  }
  if (threads > 0 && set_threads != NULL) set_threads(threads);
  blas_threads_wanted = threads > 0 ? threads : 1;
  return 0;
}

/* Whether the other kernels' sgemms go to OpenBLAS (1) or the built-in SGEMM (0); returns the setting in force. */
RHO1_EXPORT int rho1_blas_internal(int openblas) {
  internal_openblas = openblas && sgemm != NULL;
  return internal_openblas;
}

/* Strided single sgemm for the other kernels (attention): row-major, C = alpha·op(A)·op(B) + beta·C. */
void rho1_sgemm(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                int ldb, float beta, float *c, int ldc) {
  if (!internal_openblas) {
    rho1_builtin_sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1, 0, 0, 0, NULL, NULL);
    return;
  }
  sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* While our pool runs sgemms on every core, OpenBLAS must not fan out too (nested threads oversubscribe). */
void rho1_blas_single_threaded(int on) {
  if (internal_openblas && set_threads != NULL && blas_threads_wanted > 1) set_threads(on ? 1 : blas_threads_wanted);
}

RHO1_EXPORT const char *rho1_error(void) { return error_text; }
RHO1_EXPORT const char *rho1_blas_corename(void) {
  return sgemm == NULL ? "none" : corename != NULL ? corename() : "unknown";
}
RHO1_EXPORT int rho1_threads(void) { return rho1_pool_threads(); }

/*
 * One output row (decoding one token: x · Wᵀ): OpenBLAS before 0.3.27 runs sgemm with M = 1 as a full gemm, packing
 * all of B first; sgemv streams B once (1×256 · 256×32000: 2.7 ms → 0.9 ms on 2 cores). Its sums are ordered
 * differently, so results may differ from sgemm's in the last bits.
 */
/* Below this many B elements sgemm stays: OpenBLAS's sgemv wakes its threads even for tiny matrices, where that
 * costs more than the product (a 256×256 gemv took 70 µs against sgemm's 30 µs per kernel call). */
#define GEMV_MIN_ELEMENTS (1 << 20)

static void row_times(int transB, int n, int k, const float *a, const float *b, int ldb, float *c) {
  if (sgemv == NULL) {
    sgemm(RowMajor, NoTrans, transB ? Trans : NoTrans, 1, n, k, 1.0f, a, k, b, ldb, 0.0f, c, n);
  } else if (transB) {
    sgemv(RowMajor, NoTrans, n, k, 1.0f, b, ldb, a, 1, 0.0f, c, 1); /* B [N, K]: c = B · a */
  } else {
    sgemv(RowMajor, Trans, k, n, 1.0f, b, ldb, a, 1, 0.0f, c, 1); /* B [K, N]: c = Bᵀ · a */
  }
}

/*
 * C[batch] = op(A[aIndex[batch]]) · op(B[bIndex[batch]]), every operand row-major and contiguous:
 * A blocks are [M, K] ([K, M] when transA), B blocks [K, N] ([N, K] when transB), C blocks [M, N].
 * aIndex/bIndex map each output batch to its (broadcast) operand batch; NULL means the identity.
 * openblas: 1 runs OpenBLAS (when loaded), 0 the built-in SGEMM.
 */
RHO1_EXPORT void rho1_sgemm_batched(int transA, int transB, int m, int n, int k, const float *a, const float *b,
                                    float *c, int batch, const int32_t *aIndex, const int32_t *bIndex, int openblas) {
  const int64_t aSize = (int64_t)m * k, bSize = (int64_t)k * n, cSize = (int64_t)m * n;
  const int lda = transA ? m : k, ldb = transB ? k : n;
  if (!openblas || sgemm == NULL) {
    rho1_builtin_sgemm(transA, transB, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n, batch, aSize, bSize, cSize, aIndex,
                       bIndex);
    return;
  }
  for (int i = 0; i < batch; i++) {
    const int64_t ai = aIndex ? aIndex[i] : i, bi = bIndex ? bIndex[i] : i;
    if (m == 1 && (int64_t)n * k >= GEMV_MIN_ELEMENTS) { /* A's one row is contiguous, transposed or not */
      row_times(transB, n, k, a + ai * aSize, b + bi * bSize, ldb, c + i * cSize);
      continue;
    }
    sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, 1.0f, a + ai * aSize, lda,
          b + bi * bSize, ldb, 0.0f, c + i * cSize, n);
  }
}

/* Fused-matmul epilogue: c[r, j] += bias[j % biasLen] then an optional relu (activation 1). */
RHO1_EXPORT void rho1_bias_act(float *c, int64_t rows, int n, const float *bias, int biasLen, int activation) {
  for (int64_t r = 0; r < rows; r++) {
    float *row = c + r * n;
    if (bias != NULL) {
      if (biasLen == 1) {
        for (int j = 0; j < n; j++) row[j] += bias[0];
      } else {
        for (int j = 0; j < n; j++) row[j] += bias[j];
      }
    }
    if (activation == 1) {
      for (int j = 0; j < n; j++) row[j] = row[j] > 0.0f ? row[j] : 0.0f;
    }
  }
}
