/*
 * Built-in SGEMM, so the native path needs no system BLAS: row-major C = alpha·op(A)·op(B) + beta·C.
 *
 * The BLIS/GotoBLAS structure: op(A) and op(B) are copied into packed panels (this is where the four transpose cases
 * disappear), and a register-blocked micro-kernel multiplies an MR-row A panel by an NR-column B panel over KC
 * steps, keeping the MR×NR tile of C in vector registers. Micro-kernels: AVX-512 12×32, AVX2+FMA 6×16 (x86-64,
 * chosen at run time from CPUID, so the same library runs on either), NEON 8×12 (arm64), and portable C 4×16.
 *
 * Threads split the output into tiles only, never K: every element of C is the same sequence of FMAs over K in KC
 * blocks whatever the tile size, thread count or kernel position, so results do not depend on the thread count
 * (bit for bit). Only the micro-kernel choice changes the rounding.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rho1.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RHO1_X86 1
#include <immintrin.h>
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#define RHO1_NEON 1
#include <arm_neon.h>
#endif

/* c[0..MR)[0..NR) (row stride ldc) = alpha·(packed A panel · packed B panel) + beta·c; beta == 0 never reads c. */
typedef void (*micro_kernel)(int kc, const float *a, const float *b, float *c, int64_t ldc, float alpha, float beta);

typedef struct {
  const char *name;
  int mr, nr, kc; /* kc: the longest K block, so that a B micro-panel (KC × NR) stays in L1 */
  micro_kernel fn;
} gemm_kernel;

/* Blocking: K blocks as long as the kernel allows (loading and storing the C tile is amortised over them), all of
 * equal size (k split evenly: independent of the thread count); row tiles of about MC_TARGET rows (an A block of
 * MC × KC stays in L2), column tiles of about NC_TARGET within blocks of NC_BLOCK columns (a B block in L3). */
#define MC_TARGET 192
#define NC_TARGET 512
#define NC_BLOCK 4096
#define PACK_ALL_B (1 << 21)

/* ---- portable C, 4×16 (the compiler vectorises the j loops) ---------------------------------------------------- */
static void kernel_portable(int kc, const float *a, const float *b, float *c, int64_t ldc, float alpha, float beta) {
  float acc[4][16];
  memset(acc, 0, sizeof acc);
  for (int p = 0; p < kc; p++, a += 4, b += 16) {
    for (int i = 0; i < 4; i++) {
      const float ai = a[i];
      for (int j = 0; j < 16; j++) acc[i][j] += ai * b[j];
    }
  }
  for (int i = 0; i < 4; i++) {
    float *ci = c + i * ldc;
    if (beta == 0.0f) {
      for (int j = 0; j < 16; j++) ci[j] = alpha * acc[i][j];
    } else {
      for (int j = 0; j < 16; j++) ci[j] = fmaf(beta, ci[j], alpha * acc[i][j]);
    }
  }
}

#ifdef RHO1_X86
/* ---- AVX-512 12×32 (24 zmm accumulators) and AVX2+FMA 6×16 (12 ymm accumulators) --------------------------------
 * One kernel written once for both widths: MR rows × two vectors of B per K step, the A value broadcast into the
 * FMAs. Each ISA names its vector type, intrinsic prefix, A broadcast and target below; X86_KERNEL pastes them in,
 * so each expands to the same code as a kernel written out by hand. */
#define T512 __attribute__((target("avx512f")))
#define VEC_512 __m512
#define PFX_512(op) _mm512_##op
#define BCAST_512(i) _mm512_set1_ps(a[i])
#define T256 __attribute__((target("avx2,fma")))
#define VEC_256 __m256
#define PFX_256(op) _mm256_##op
#define BCAST_256(i) _mm256_broadcast_ss(a + (i))

#define X86_DECL(i, isa) VEC_##isa c##i##0 = PFX_##isa(setzero_ps)(), c##i##1 = PFX_##isa(setzero_ps)();
#define X86_STEP(i, isa)                                                                                              \
  {                                                                                                                   \
    const VEC_##isa ai = BCAST_##isa(i);                                                                              \
    c##i##0 = PFX_##isa(fmadd_ps)(ai, b0, c##i##0);                                                                   \
    c##i##1 = PFX_##isa(fmadd_ps)(ai, b1, c##i##1);                                                                   \
  }
#define X86_STORE(i, isa)                                                                                             \
  store##isa(c + (i) * ldc, c##i##0, valpha, beta);                                                                   \
  store##isa(c + (i) * ldc + W_##isa, c##i##1, valpha, beta);
#define W_512 16
#define W_256 8
#define ROWS6(X, isa) X(0, isa) X(1, isa) X(2, isa) X(3, isa) X(4, isa) X(5, isa)
#define ROWS12(X, isa) ROWS6(X, isa) X(6, isa) X(7, isa) X(8, isa) X(9, isa) X(10, isa) X(11, isa)

#define X86_KERNEL(isa, name, ROWS, mr)                                                                               \
  T##isa static inline void store##isa(float *c, VEC_##isa x, VEC_##isa valpha, float beta) {                         \
    if (beta == 0.0f)                                                                                                 \
      PFX_##isa(storeu_ps)(c, PFX_##isa(mul_ps)(valpha, x));                                                          \
    else                                                                                                              \
      PFX_##isa(storeu_ps)(c, PFX_##isa(fmadd_ps)(PFX_##isa(set1_ps)(beta), PFX_##isa(loadu_ps)(c),                   \
                                                  PFX_##isa(mul_ps)(valpha, x)));                                     \
  }                                                                                                                   \
  T##isa static void name(int kc, const float *a, const float *b, float *c, int64_t ldc, float alpha, float beta) {   \
    ROWS(X86_DECL, isa)                                                                                               \
    for (int p = 0; p < kc; p++, a += mr, b += 2 * W_##isa) {                                                         \
      const VEC_##isa b0 = PFX_##isa(load_ps)(b), b1 = PFX_##isa(load_ps)(b + W_##isa);                               \
      ROWS(X86_STEP, isa)                                                                                             \
    }                                                                                                                 \
    const VEC_##isa valpha = PFX_##isa(set1_ps)(alpha);                                                               \
    ROWS(X86_STORE, isa)                                                                                              \
  }

X86_KERNEL(512, kernel_avx512, ROWS12, 12)
X86_KERNEL(256, kernel_avx2, ROWS6, 6)
#endif

#ifdef RHO1_NEON
/* ---- NEON, 8×12: 24 q-register accumulators, A's 8 values in two registers used by lane -------------------------- */
static inline void store128(float *c, float32x4_t x, float alpha, float beta) {
  if (beta == 0.0f)
    vst1q_f32(c, vmulq_n_f32(x, alpha));
  else
    vst1q_f32(c, vfmaq_n_f32(vmulq_n_f32(x, alpha), vld1q_f32(c), beta));
}

#define KN_DECL(i) float32x4_t c##i##0 = vdupq_n_f32(0.0f), c##i##1 = vdupq_n_f32(0.0f), c##i##2 = vdupq_n_f32(0.0f);
#define KN_STEP(i, reg, lane)                                                                                         \
  c##i##0 = vfmaq_laneq_f32(c##i##0, b0, reg, lane);                                                                  \
  c##i##1 = vfmaq_laneq_f32(c##i##1, b1, reg, lane);                                                                  \
  c##i##2 = vfmaq_laneq_f32(c##i##2, b2, reg, lane);
#define KN_STORE(i)                                                                                                   \
  store128(c + (i) * ldc, c##i##0, alpha, beta);                                                                      \
  store128(c + (i) * ldc + 4, c##i##1, alpha, beta);                                                                  \
  store128(c + (i) * ldc + 8, c##i##2, alpha, beta);
#define ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

static void kernel_neon(int kc, const float *a, const float *b, float *c, int64_t ldc, float alpha, float beta) {
  ROWS8(KN_DECL)
  for (int p = 0; p < kc; p++, a += 8, b += 12) {
    const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
    KN_STEP(0, a0, 0) KN_STEP(1, a0, 1) KN_STEP(2, a0, 2) KN_STEP(3, a0, 3)
    KN_STEP(4, a1, 0) KN_STEP(5, a1, 1) KN_STEP(6, a1, 2) KN_STEP(7, a1, 3)
  }
  ROWS8(KN_STORE)
}
#endif

enum { KERNEL_AUTO = 0, KERNEL_AVX512 = 1, KERNEL_AVX2 = 2, KERNEL_NEON = 3, KERNEL_PORTABLE = 4 };

static const gemm_kernel KERNELS[] = {
    {"none", 0, 0, 0, NULL},
#ifdef RHO1_X86
    {"avx512 12x32", 12, 32, 256, kernel_avx512},
    {"avx2 6x16", 6, 16, 384, kernel_avx2},
#else
    {"avx512 12x32", 0, 0, 0, NULL},
    {"avx2 6x16", 0, 0, 0, NULL},
#endif
#ifdef RHO1_NEON
    {"neon 8x12", 8, 12, 512, kernel_neon},
#else
    {"neon 8x12", 0, 0, 0, NULL},
#endif
    {"portable 4x16", 4, 16, 256, kernel_portable},
};

static int kernel_supported(int id) {
  if (id < 1 || id > KERNEL_PORTABLE || KERNELS[id].fn == NULL) return 0;
#ifdef RHO1_X86
  __builtin_cpu_init();
  if (id == KERNEL_AVX512) return __builtin_cpu_supports("avx512f");
  if (id == KERNEL_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return 1;
}

static const gemm_kernel *active = NULL;

/* Picks the micro-kernel (KERNEL_AUTO: the widest this CPU runs). Returns 0 when `id` is not available here. */
RHO1_EXPORT int rho1_gemm_select(int id) {
  if (id == KERNEL_AUTO) {
    for (int k = KERNEL_AVX512; k <= KERNEL_PORTABLE; k++) {
      if (kernel_supported(k)) {
        active = &KERNELS[k];
        return 1;
      }
    }
    return 0;
  }
  if (!kernel_supported(id)) return 0;
  active = &KERNELS[id];
  return 1;
}

RHO1_EXPORT const char *rho1_gemm_kernel(void) {
  if (active == NULL) rho1_gemm_select(KERNEL_AUTO);
  return active->name;
}

/* ---- packing ----------------------------------------------------------------------------------------------------
 * A panel holds `width` lanes (MR rows of op(A) or NR columns of op(B)) for kc steps of K, k-major:
 * dst[p·width + l] = src[l·ls + p·ks], lanes past `lanes` zero. Either the lanes are contiguous for each k (ls 1: a
 * copy) or each lane is contiguous over k (ks 1: a transpose, done in 4×4 blocks). */

#define ALWAYS_INLINE __attribute__((always_inline)) inline

static ALWAYS_INLINE void pack_panel_w(const float *src, int64_t ls, int64_t ks, int lanes, int kc, float *dst,
                                       const int width) {
  if (lanes < width)
    for (int p = 0; p < kc; p++)
      for (int l = lanes; l < width; l++) dst[p * width + l] = 0.0f;
  if (ls == 1 && lanes == width) {
    for (int p = 0; p < kc; p++)
      for (int l = 0; l < width; l++) dst[p * width + l] = src[p * ks + l];
    return;
  }
  if (ks != 1) {
    for (int p = 0; p < kc; p++)
      for (int l = 0; l < lanes; l++) dst[p * width + l] = src[p * ks + l * ls];
    return;
  }
  int l = 0;
#ifdef RHO1_X86
  for (; l + 4 <= lanes; l += 4) {
    const float *r0 = src + l * ls, *r1 = r0 + ls, *r2 = r1 + ls, *r3 = r2 + ls;
    int p = 0;
    for (; p + 4 <= kc; p += 4) {
      __m128 x0 = _mm_loadu_ps(r0 + p), x1 = _mm_loadu_ps(r1 + p), x2 = _mm_loadu_ps(r2 + p),
             x3 = _mm_loadu_ps(r3 + p);
      _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
      _mm_storeu_ps(dst + p * width + l, x0);
      _mm_storeu_ps(dst + (p + 1) * width + l, x1);
      _mm_storeu_ps(dst + (p + 2) * width + l, x2);
      _mm_storeu_ps(dst + (p + 3) * width + l, x3);
    }
    for (; p < kc; p++) {
      dst[p * width + l] = r0[p];
      dst[p * width + l + 1] = r1[p];
      dst[p * width + l + 2] = r2[p];
      dst[p * width + l + 3] = r3[p];
    }
  }
#endif
  for (; l < lanes; l++) {
    const float *row = src + l * ls;
    for (int p = 0; p < kc; p++) dst[p * width + l] = row[p];
  }
}

/* One panel: the switch gives the compiler a constant width to unroll and vectorise against. */
static void pack_panel(const float *src, int64_t ls, int64_t ks, int lanes, int kc, float *dst, int width) {
  switch (width) {
    case 4: pack_panel_w(src, ls, ks, lanes, kc, dst, 4); break;
    case 6: pack_panel_w(src, ls, ks, lanes, kc, dst, 6); break;
    case 8: pack_panel_w(src, ls, ks, lanes, kc, dst, 8); break;
    case 12: pack_panel_w(src, ls, ks, lanes, kc, dst, 12); break;
    case 16: pack_panel_w(src, ls, ks, lanes, kc, dst, 16); break;
    case 32: pack_panel_w(src, ls, ks, lanes, kc, dst, 32); break;
    default: pack_panel_w(src, ls, ks, lanes, kc, dst, width); break;
  }
}

/* Rows [i0, i0+mc) × K [p0, p0+kc) of op(A) (op(A)[i][p] = a[i·rs + p·cs]) into MR-row panels. */
static void pack_a(const float *a, int64_t rs, int64_t cs, int i0, int mc, int p0, int kc, int mr, float *dst) {
  for (int ir = 0; ir < mc; ir += mr, dst += (int64_t)mr * kc)
    pack_panel(a + (int64_t)(i0 + ir) * rs + (int64_t)p0 * cs, rs, cs, mc - ir < mr ? mc - ir : mr, kc, dst, mr);
}

/* K [p0, p0+kc) × columns [j0, j0+nc) of op(B) (op(B)[p][j] = b[p·rs + j·cs]) into NR-column panels. */
static void pack_b(const float *b, int64_t rs, int64_t cs, int p0, int kc, int j0, int nc, int nr, float *dst) {
  for (int jr = 0; jr < nc; jr += nr, dst += (int64_t)nr * kc)
    pack_panel(b + (int64_t)p0 * rs + (int64_t)(j0 + jr) * cs, cs, rs, nc - jr < nr ? nc - jr : nr, kc, dst, nr);
}

/* ---- the threaded driver ----------------------------------------------------------------------------------------
 * For each item, each block of NC_BLOCK columns and each K block: all threads pack the B block (KC × NC_BLOCK, kept
 * in L3) together, then split the output into tiles of about MC_TARGET rows × NC_TARGET columns; a tile packs its A
 * rows (MC × KC, kept in L2) and walks the B micro-panels (KC × NR, in L1) against every A micro-panel. */

typedef struct {
  const gemm_kernel *kern;
  int m, n, k, kc;
  float alpha, beta;
  const float *a, *b;
  float *c;
  int64_t ars, acs, brs, bcs, ldc;       /* op(A)[i][p] = a[i·ars + p·acs], op(B)[p][j] = b[p·brs + j·bcs] */
  int64_t a_stride, b_stride, c_stride; /* between batch items */
  const int32_t *a_index, *b_index;     /* batch item → operand item (NULL: identity) */
} gemm_args;

typedef struct {
  const gemm_args *g;
  const float *a, *b; /* this item's operands */
  float *c;
  int j0, nb;         /* the column block [j0, j0+nb) */
  int p_begin, p_end; /* the K range packed in pb (whole K blocks) */
  int nb_pad;         /* nb rounded up to NR: a packed K block of B holds kc · nb_pad floats */
  float *pb;          /* the packed B: K block after K block, each NR-column panels */
  int mc, tiles_m, ncc, tiles_n;
} gemm_block;

/* Per-thread packing buffers, grown on demand: A blocks (any thread running tiles) and B blocks (the thread that
 * drives a product). Two JavaScript threads may drive products at once, so nothing here is global. */
static __thread float *tl_a = NULL, *tl_b = NULL;
static __thread size_t tl_a_cap = 0, tl_b_cap = 0;

static float *scratch(float **buf, size_t *cap, size_t floats) {
  if (floats > *cap) {
    free(*buf);
    *buf = aligned_alloc(64, ((floats * sizeof(float) + 63) / 64) * 64);
    *cap = *buf ? floats : 0;
    if (*buf == NULL) abort();
  }
  return *buf;
}

static size_t round16(size_t x) { return (x + 15) & ~(size_t)15; }

static void pack_b_panels(void *ctx, int64_t begin, int64_t end) {
  const gemm_block *blk = ctx;
  const gemm_args *g = blk->g;
  const int nr = g->kern->nr, jr = (int)begin * nr;
  const int cols = blk->nb - jr < (int)(end - begin) * nr ? blk->nb - jr : (int)(end - begin) * nr;
  for (int p0 = blk->p_begin; p0 < blk->p_end; p0 += g->kc) {
    const int kc = g->k - p0 < g->kc ? g->k - p0 : g->kc;
    float *dst = blk->pb + (int64_t)(p0 - blk->p_begin) * blk->nb_pad + (int64_t)jr * kc;
    pack_b(blk->b, g->brs, g->bcs, p0, kc, blk->j0 + jr, cols, nr, dst);
  }
}

static void compute_tiles(void *ctx, int64_t begin, int64_t end) {
  const gemm_block *blk = ctx;
  const gemm_args *g = blk->g;
  const int mr = g->kern->mr, nr = g->kern->nr;
  const int mc_pad = (blk->mc + mr - 1) / mr * mr;
  float *pa = scratch(&tl_a, &tl_a_cap, round16((size_t)mc_pad * g->kc) + (size_t)mr * nr);
  float *edge = pa + round16((size_t)mc_pad * g->kc);
  const float alpha = g->alpha;
  for (int64_t t = begin; t < end; t++) {
    const int i0 = (int)(t / blk->tiles_n) * blk->mc, jc = (int)(t % blk->tiles_n) * blk->ncc;
    const int rows_t = g->m - i0 < blk->mc ? g->m - i0 : blk->mc;
    const int cols_t = blk->nb - jc < blk->ncc ? blk->nb - jc : blk->ncc;
    for (int p0 = blk->p_begin; p0 < blk->p_end; p0 += g->kc) {
      const int kc = g->k - p0 < g->kc ? g->k - p0 : g->kc;
      const float beta = p0 == 0 ? g->beta : 1.0f;
      const float *pb = blk->pb + (int64_t)(p0 - blk->p_begin) * blk->nb_pad;
      pack_a(blk->a, g->ars, g->acs, i0, rows_t, p0, kc, mr, pa);
      for (int jr = 0; jr < cols_t; jr += nr) {
        const int cols = cols_t - jr < nr ? cols_t - jr : nr;
        const float *bp = pb + (int64_t)(jc + jr) * kc;
        for (int ir = 0; ir < rows_t; ir += mr) {
          const int rows = rows_t - ir < mr ? rows_t - ir : mr;
          float *ct = blk->c + (int64_t)(i0 + ir) * g->ldc + blk->j0 + jc + jr;
          const float *ap = pa + (int64_t)ir * kc;
          if (rows == mr && cols == nr) {
            g->kern->fn(kc, ap, bp, ct, g->ldc, alpha, beta);
          } else { /* edge tile: the full tile into scratch, then the valid part, rounded as the kernels round */
            g->kern->fn(kc, ap, bp, edge, nr, alpha, 0.0f);
            for (int r = 0; r < rows; r++) {
              float *cr = ct + r * g->ldc;
              const float *er = edge + r * nr;
              if (beta == 0.0f)
                memcpy(cr, er, sizeof(float) * cols);
              else
                for (int j = 0; j < cols; j++) cr[j] = fmaf(beta, cr[j], er[j]);
            }
          }
        }
      }
    }
  }
}

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

/*
 * One batch item, on `threads` threads (1: entirely on the calling thread). Where the packed B of a column block
 * for all of K is small (PACK_ALL_B floats), it is packed once and every tile runs all of K, keeping its C tile in
 * cache; otherwise K blocks are the outer loop (C goes through memory once per K block).
 */
static void gemm_item(const gemm_args *g, int64_t item, int threads) {
  const int mr = g->kern->mr, nr = g->kern->nr;
  gemm_block blk = {.g = g,
                    .a = g->a + (g->a_index ? g->a_index[item] : item) * g->a_stride,
                    .b = g->b + (g->b_index ? g->b_index[item] : item) * g->b_stride,
                    .c = g->c + item * g->c_stride};
  const int ncb = g->n < NC_BLOCK ? g->n : NC_BLOCK;
  const int all_k = (int64_t)g->k * ceil_div(ncb, nr) * nr <= PACK_ALL_B;
  const int k_step = all_k ? g->k : g->kc;
  blk.pb = scratch(&tl_b, &tl_b_cap, (size_t)ceil_div(ncb, nr) * nr * k_step);
  for (blk.j0 = 0; blk.j0 < g->n; blk.j0 += NC_BLOCK) {
    blk.nb = g->n - blk.j0 < NC_BLOCK ? g->n - blk.j0 : NC_BLOCK;
    blk.nb_pad = ceil_div(blk.nb, nr) * nr;
    /* Tiles of about MC_TARGET × NC_TARGET, then more row tiles until every thread gets as many tiles (or there are
     * enough that the last round hardly matters). Tile sizes change only the speed, never a result. */
    blk.tiles_n = ceil_div(blk.nb, NC_TARGET);
    blk.ncc = ceil_div(ceil_div(blk.nb, blk.tiles_n), nr) * nr;
    blk.tiles_n = ceil_div(blk.nb, blk.ncc);
    int tiles_m = ceil_div(g->m, MC_TARGET);
    const int max_tiles_m = ceil_div(g->m, mr);
    while (threads > 1 && tiles_m < max_tiles_m && tiles_m * blk.tiles_n < 8 * threads &&
           (tiles_m * blk.tiles_n) % threads != 0)
      tiles_m++;
    blk.mc = ceil_div(ceil_div(g->m, tiles_m), mr) * mr;
    blk.tiles_m = ceil_div(g->m, blk.mc);
    const int panels = blk.nb_pad / nr, tiles = blk.tiles_m * blk.tiles_n;
    for (blk.p_begin = 0; blk.p_begin < g->k; blk.p_begin += k_step) {
      blk.p_end = g->k - blk.p_begin < k_step ? g->k : blk.p_begin + k_step;
      if (threads > 1 && panels >= 2 * threads)
        rho1_parallel_for(panels, ceil_div(panels, 4 * threads), pack_b_panels, &blk);
      else
        pack_b_panels(&blk, 0, panels);
      if (threads > 1 && tiles > 1)
        rho1_parallel_for(tiles, 1, compute_tiles, &blk);
      else
        compute_tiles(&blk, 0, tiles);
    }
  }
}

static void gemm_items(void *ctx, int64_t begin, int64_t end) {
  for (int64_t item = begin; item < end; item++) gemm_item(ctx, item, 1);
}

/* One output row: c = alpha·a·op(B) + beta·c, B streamed once; threads split the output columns. */
typedef struct {
  int n, k, trans_b;
  float alpha, beta;
  const float *a, *b;
  int64_t ldb;
  float *c;
} gemv_job;

#define GEMV_COLS 256

static void gemv_cols(void *ctx, int64_t begin, int64_t end) {
  const gemv_job *g = ctx;
  for (int64_t chunk = begin; chunk < end; chunk++) {
    const int j0 = (int)chunk * GEMV_COLS, j1 = j0 + GEMV_COLS < g->n ? j0 + GEMV_COLS : g->n;
    float acc[GEMV_COLS];
    if (g->trans_b) { /* B [N, K]: a dot product per column, eight at a time (independent FMA chains) */
      int j = j0;
      for (; j + 8 <= j1; j += 8) {
        const float *r = g->b + (int64_t)j * g->ldb;
        const int64_t ld = g->ldb;
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, s4 = 0.0f, s5 = 0.0f, s6 = 0.0f, s7 = 0.0f;
#pragma omp simd reduction(+ : s0, s1, s2, s3, s4, s5, s6, s7)
        for (int p = 0; p < g->k; p++) {
          const float ap = g->a[p];
          s0 += ap * r[p];
          s1 += ap * r[ld + p];
          s2 += ap * r[2 * ld + p];
          s3 += ap * r[3 * ld + p];
          s4 += ap * r[4 * ld + p];
          s5 += ap * r[5 * ld + p];
          s6 += ap * r[6 * ld + p];
          s7 += ap * r[7 * ld + p];
        }
        float *o = acc + (j - j0);
        o[0] = s0, o[1] = s1, o[2] = s2, o[3] = s3, o[4] = s4, o[5] = s5, o[6] = s6, o[7] = s7;
      }
      for (; j < j1; j++) {
        const float *row = g->b + (int64_t)j * g->ldb;
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int p = 0; p < g->k; p++) s += g->a[p] * row[p];
        acc[j - j0] = s;
      }
    } else { /* B [K, N]: accumulate scaled rows, four rows per pass over acc */
      memset(acc, 0, sizeof acc);
      const int w = j1 - j0;
      int p = 0;
      for (; p + 4 <= g->k; p += 4) {
        const float a0 = g->a[p], a1 = g->a[p + 1], a2 = g->a[p + 2], a3 = g->a[p + 3];
        const float *r0 = g->b + (int64_t)p * g->ldb + j0, *r1 = r0 + g->ldb, *r2 = r1 + g->ldb, *r3 = r2 + g->ldb;
#pragma omp simd
        for (int j = 0; j < w; j++) acc[j] = acc[j] + a0 * r0[j] + a1 * r1[j] + a2 * r2[j] + a3 * r3[j];
      }
      for (; p < g->k; p++) {
        const float ap = g->a[p];
        const float *row = g->b + (int64_t)p * g->ldb + j0;
#pragma omp simd
        for (int j = 0; j < w; j++) acc[j] += ap * row[j];
      }
    }
    float *c = g->c + j0;
    if (g->beta == 0.0f)
      for (int j = 0; j < j1 - j0; j++) c[j] = g->alpha * acc[j];
    else
      for (int j = 0; j < j1 - j0; j++) c[j] = g->alpha * acc[j] + g->beta * c[j];
  }
}

/* Below this many multiply-adds a product runs on the calling thread: waking the pool costs more. Batches of
 * products smaller than ITEM_SERIAL_WORK each run one product per thread. */
#define GEMM_PARALLEL_MIN_WORK (1 << 17)
#define ITEM_SERIAL_WORK (1 << 22)

/*
 * Batched strided sgemm: for each batch item i, C_i = alpha·op(A_{ai})·op(B_{bi}) + beta·C_i, with a/b_index mapping
 * items to operand items (NULL: identity) and *_stride the distance between items. lda/ldb/ldc are row strides.
 */
void rho1_builtin_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int64_t lda,
                        const float *b, int64_t ldb, float beta, float *c, int64_t ldc, int batch, int64_t a_stride,
                        int64_t b_stride, int64_t c_stride, const int32_t *a_index, const int32_t *b_index) {
  if (m <= 0 || n <= 0 || batch <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    for (int i = 0; i < batch; i++)
      for (int r = 0; r < m; r++) {
        float *cr = c + i * c_stride + (int64_t)r * ldc;
        if (beta == 0.0f)
          memset(cr, 0, sizeof(float) * n);
        else
          for (int j = 0; j < n; j++) cr[j] *= beta;
      }
    return;
  }
  const int64_t item_work = (int64_t)m * n * k;
  const int threads = item_work * batch >= GEMM_PARALLEL_MIN_WORK ? rho1_pool_threads() : 1;
  if (m == 1 && (!trans_a || lda == 1)) { /* one output row, op(A)'s row contiguous: sgemv */
    for (int i = 0; i < batch; i++) {
      gemv_job g = {n, k, trans_b, alpha, beta, a + (a_index ? a_index[i] : i) * a_stride,
                    b + (b_index ? b_index[i] : i) * b_stride, ldb, c + i * c_stride};
      const int chunks = ceil_div(n, GEMV_COLS);
      if (threads > 1)
        rho1_parallel_for(chunks, 1, gemv_cols, &g);
      else
        gemv_cols(&g, 0, chunks);
    }
    return;
  }
  if (active == NULL) rho1_gemm_select(KERNEL_AUTO);
  gemm_args g = {.kern = active, .m = m, .n = n, .k = k, .alpha = alpha, .beta = beta, .a = a, .b = b, .c = c,
                 .ars = trans_a ? 1 : lda, .acs = trans_a ? lda : 1, .brs = trans_b ? 1 : ldb,
                 .bcs = trans_b ? ldb : 1, .ldc = ldc, .a_stride = a_stride, .b_stride = b_stride,
                 .c_stride = c_stride, .a_index = a_index, .b_index = b_index};
  g.kc = ceil_div(k, ceil_div(k, active->kc)); /* equal K blocks: a function of k and the kernel only */
  if (threads > 1 && batch >= threads && item_work < ITEM_SERIAL_WORK) {
    rho1_parallel_for(batch, 1, gemm_items, &g);
  } else {
    for (int64_t i = 0; i < batch; i++) gemm_item(&g, i, threads);
  }
}
