/* gwm.h - the .gwm model / checkpoint file.
 *
 * One file holds a model's metadata (UTF-8 key/value strings: architecture
 * JSON, sample rate, feature settings, provenance ...) and its named tensors.
 * Checkpoints are the same format with more tensors (optimiser moments, RNG
 * and data-order state). Full description: docs/model-format.md.
 *
 * Byte layout, all integers little-endian:
 *
 *   offset  size  field
 *   0       8     magic 0x89 'G' 'W' 'M' 0x0D 0x0A 0x1A 0x0A (PNG-style: catches
 *                 7-bit transfers and CRLF/LF translation)
 *   8       4     u32 version (1)
 *   12      4     u32 flags, must be 0
 *   16      8     u64 file size in bytes (the whole file)
 *   24      4     u32 metadata entry count
 *   28      4     u32 tensor count
 *   32      8     u64 table offset (64)
 *   40      8     u64 table size in bytes
 *   48      8     u64 data offset (first tensor data; multiple of 64)
 *   56      4     u32 CRC32C of the table bytes
 *   60      4     u32 CRC32C of header bytes 0..59
 *   64      ...   table: metadata entries, then tensor records
 *                 metadata entry: u32 key length, key bytes, u32 value length,
 *                                 value bytes (UTF-8, no NUL)
 *                 tensor record:  u32 name length, name bytes, u32 dtype,
 *                                 u32 ndim (1..4), u32 dims[ndim] (each >= 1),
 *                                 u64 data offset (multiple of 64),
 *                                 u64 byte length (= product(dims) * dtype size),
 *                                 u32 CRC32C of the data
 *   ...           zero padding up to data offset
 *   data offset   tensor data in record order, each starting at a multiple of
 *                 64, zero padding between; file size = end of the last tensor
 *
 * Every byte of the file is covered by a checksum or must be zero padding, so
 * any corruption is detected. The loader checks every count, length, offset,
 * shape product, string and checksum against the file size before trusting it
 * and reports GW_ERR_FORMAT "PATH: problem".
 */
#ifndef GW_NN_GWM_H
#define GW_NN_GWM_H

#include "base/gw_base.h"
#include "nn/params.h"

enum {
    GW_GWM_VERSION = 1,
    GW_GWM_MAX_DIMS = 4,
    GW_GWM_NAME_MAX = 255,        /* tensor name and metadata key bytes */
    GW_GWM_VALUE_MAX = 16u << 20, /* metadata value bytes */
};

typedef enum gw_gwm_dtype {
    GW_GWM_F32 = 1,
    GW_GWM_U8 = 2,
    GW_GWM_I32 = 3,
    GW_GWM_U64 = 4,
} gw_gwm_dtype;

size_t gw_gwm_dtype_size(gw_gwm_dtype t); /* 0 for an unknown dtype */
const char *gw_gwm_dtype_name(gw_gwm_dtype t);

/* CRC32C (Castagnoli), the checksum the format uses; crc = 0 to start.
 * Hardware (SSE4.2) when available, else table-driven. */
uint32_t gw_gwm_crc32c(uint32_t crc, const void *data, size_t n);
/* the table-driven path (used without SSE4.2) and the bit-wise reference
 * both fast paths are tested against */
uint32_t gw_gwm_crc32c_portable(uint32_t crc, const void *data, size_t n);
uint32_t gw_gwm_crc32c_ref(uint32_t crc, const void *data, size_t n);

/* writes "<prefix><a><b>" into buf (GW_GWM_NAME_MAX + 1 bytes); GW_ERR_ARG if
 * it would be longer than a record name may be */
gw_status gw_gwm_name(char *buf, const char *prefix, const char *a, const char *b, gw_error *err);

/* ---- reading ---- */
typedef struct gw_gwm_tensor {
    const char *name; /* NUL-terminated, points into the loaded file's copy */
    gw_gwm_dtype dtype;
    int ndim;
    int shape[GW_GWM_MAX_DIMS]; /* unused dims are 1 */
    size_t numel;
    size_t nbytes;
    const void *data; /* 64-byte aligned, valid until gw_gwm_free */
} gw_gwm_tensor;

typedef struct gw_gwm gw_gwm; /* a loaded, fully verified, read-only file */

/* Reads and verifies the whole file (every checksum) into memory. */
gw_status gw_gwm_open(gw_gwm **out, const char *path, gw_error *err);
/* the same from a buffer (copied); name is used in messages */
gw_status gw_gwm_open_memory(gw_gwm **out, const void *buf, size_t n, const char *name,
                             gw_error *err);
void gw_gwm_free(gw_gwm *f); /* NULL is fine */
/* For fuzzing (tests/fuzz/fuzz_gwm.c): recomputes, in place and best effort,
 * every checksum and the declared size of a .gwm image, so mutated bytes
 * reach the parsers behind the checksums. Reads nothing out of bounds,
 * whatever b holds. */
void gw_gwm_fix_checksums(unsigned char *b, size_t n);
const char *gw_gwm_path(const gw_gwm *f);

/* metadata: value for key, NULL if absent */
const char *gw_gwm_meta(const gw_gwm *f, const char *key);
size_t gw_gwm_meta_count(const gw_gwm *f);
void gw_gwm_meta_at(const gw_gwm *f, size_t i, const char **key, const char **value);
/* required metadata parsed as a number; errors name the key and the file */
gw_status gw_gwm_meta_i64(const gw_gwm *f, const char *key, int64_t *out, gw_error *err);
gw_status gw_gwm_meta_f64(const gw_gwm *f, const char *key, double *out, gw_error *err);

size_t gw_gwm_count(const gw_gwm *f);
const gw_gwm_tensor *gw_gwm_at(const gw_gwm *f, size_t i);
const gw_gwm_tensor *gw_gwm_find(const gw_gwm *f, const char *name); /* NULL if absent */
/* the tensor if present with this dtype and exactly this shape; otherwise an
 * error naming the file, the tensor and both shapes */
gw_status gw_gwm_get(const gw_gwm *f, const char *name, gw_gwm_dtype dtype, int ndim,
                     const int *shape, const gw_gwm_tensor **out, gw_error *err);
/* gw_gwm_get + copy its bytes to dst */
gw_status gw_gwm_read(const gw_gwm *f, const char *name, gw_gwm_dtype dtype, int ndim,
                      const int *shape, void *dst, gw_error *err);
/* copies "<prefix><param name>" into every tensor of p (which must be
 * allocated); every name must be present with the right shape, f32 */
gw_status gw_gwm_load_params(const gw_gwm *f, gw_params *p, const char *prefix, gw_error *err);

/* the same for any array laid out like p->data (p->total floats: optimiser
 * moments, EMA shadows): copies "<prefix><what><param name>" to dst +
 * param offset for every param (skip_state: except GW_PARAM_STATE ones).
 * All are checked before any is copied; dst NULL only checks. */
gw_status gw_gwm_load_layout(const gw_gwm *f, const gw_params *p, float *dst, const char *prefix,
                             const char *what, int skip_state, gw_error *err);

/* ---- writing ---- */
typedef struct gw_gwm_writer gw_gwm_writer;

gw_status gw_gwm_writer_create(gw_gwm_writer **out, gw_error *err);
void gw_gwm_writer_free(gw_gwm_writer *w); /* NULL is fine */
/* sets key (replacing an earlier value for the same key) */
gw_status gw_gwm_writer_meta(gw_gwm_writer *w, const char *key, const char *value, gw_error *err);
gw_status gw_gwm_writer_metaf(gw_gwm_writer *w, gw_error *err, const char *key, const char *fmt,
                              ...) __attribute__((format(printf, 4, 5)));
/* adds a tensor; the data (product(shape) * dtype size bytes) is copied, so
 * the caller's buffer may change or go away afterwards. Duplicate names are
 * an error. */
gw_status gw_gwm_writer_add(gw_gwm_writer *w, const char *name, gw_gwm_dtype dtype, int ndim,
                            const int *shape, const void *data, gw_error *err);
/* adds every tensor of p as f32 "<prefix><param name>" */
gw_status gw_gwm_writer_add_params(gw_gwm_writer *w, const gw_params *p, const char *prefix,
                                   gw_error *err);
/* adds src + param offset as "<prefix><what><param name>" for every param
 * of p (skip_state: except GW_PARAM_STATE ones); src is laid out like p->data */
gw_status gw_gwm_writer_add_layout(gw_gwm_writer *w, const gw_params *p, const float *src,
                                   const char *prefix, const char *what, int skip_state,
                                   gw_error *err);
/* writes the file atomically (gw_afile: temp file, fsync, rename); the writer
 * stays usable (e.g. to write the same content elsewhere) */
gw_status gw_gwm_writer_commit(gw_gwm_writer *w, const char *path, gw_error *err);

#endif
