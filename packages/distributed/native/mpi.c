/*
 * The MPI calls data-parallel training needs, as plain C functions for bun:ffi: init/finalize, rank and size,
 * in-place sum all-reduce (f32 gradients, f64 statistics), all-gather of equal-sized f32 blocks, byte broadcast,
 * barrier. Every call returns an MPI error code (0 = MPI_SUCCESS); rho1_mpi_error_string names it. Errors are
 * returned, not fatal, so that JavaScript can raise a typed error naming the call.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#define EXPORT __attribute__((visibility("default")))

static char error_text[MPI_MAX_ERROR_STRING + 64];

/*
 * bun:ffi opens this library with RTLD_LOCAL, so libmpi's symbols would not be visible to the components Open MPI
 * itself dlopens (mca_*.so): promote the already-loaded libmpi to RTLD_GLOBAL first.
 */
static void promote_libmpi(void) {
  Dl_info info;
  if (dladdr((void *)&MPI_Init_thread, &info) && info.dli_fname) {
    dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
  }
}

EXPORT int rho1_mpi_init(void) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return 0;
  promote_libmpi();
  int provided = 0;
  int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SINGLE, &provided);
  if (rc == MPI_SUCCESS) MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return rc;
}

EXPORT int rho1_mpi_finalize(void) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized ? MPI_Finalize() : 0;
}

EXPORT int rho1_mpi_rank(void) {
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

EXPORT int rho1_mpi_size(void) {
  int size = -1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

/* Large buffers go in chunks: MPI counts are int. */
#define CHUNK ((int64_t)1 << 30)

/* In place over n elements of `type` (`size` bytes each), chunk by chunk: summed across the ranks (root < 0) or
 * broadcast from rank `root`. */
static int in_chunks(void *buf, int64_t n, MPI_Datatype type, int64_t size, int root) {
  for (int64_t off = 0; off < n; off += CHUNK) {
    int count = (int)(n - off < CHUNK ? n - off : CHUNK);
    void *at = (char *)buf + off * size;
    int rc = root < 0 ? MPI_Allreduce(MPI_IN_PLACE, at, count, type, MPI_SUM, MPI_COMM_WORLD)
                      : MPI_Bcast(at, count, type, root, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return rc;
  }
  return 0;
}

EXPORT int rho1_mpi_allreduce_sum_f32(float *buf, int64_t n) { return in_chunks(buf, n, MPI_FLOAT, sizeof(float), -1); }

EXPORT int rho1_mpi_allreduce_sum_f64(double *buf, int64_t n) {
  return in_chunks(buf, n, MPI_DOUBLE, sizeof(double), -1);
}

/* recv holds size * n floats, rank r's block at r * n. */
EXPORT int rho1_mpi_allgather_f32(const float *send, float *recv, int32_t n) {
  return MPI_Allgather(send, n, MPI_FLOAT, recv, n, MPI_FLOAT, MPI_COMM_WORLD);
}

EXPORT int rho1_mpi_bcast(void *buf, int64_t nbytes, int32_t root) {
  return root < 0 ? MPI_ERR_ROOT : in_chunks(buf, nbytes, MPI_BYTE, 1, root);
}

EXPORT int rho1_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

EXPORT const char *rho1_mpi_error_string(int code) {
  int len = 0;
  char text[MPI_MAX_ERROR_STRING];
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) len = 0;
  text[len] = 0;
  snprintf(error_text, sizeof error_text, "MPI error %d: %s", code, text);
  return error_text;
}

EXPORT const char *rho1_mpi_library_version(void) {
  static char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(version, &len);
  return version;
}
