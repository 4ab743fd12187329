#ifndef _PAGEREF_TEST_LINUX_UIO_H
#define _PAGEREF_TEST_LINUX_UIO_H
#include <linux/types.h>
#include <linux/bvec.h>
struct iovec { void *iov_base; size_t iov_len; };
struct kvec { void *iov_base; size_t iov_len; };
struct pipe_inode_info;
struct xarray;
enum iter_type {
  ITER_IOVEC,
  ITER_KVEC,
  ITER_BVEC,
  ITER_PIPE,
  ITER_XARRAY,
  ITER_DISCARD,
  ITER_UBUF,
};
#define ITER_SOURCE 1
#define ITER_DEST 0
struct iov_iter {
  unsigned char iter_type;
  bool nofault;
  bool data_source;
  bool user_backed;
  size_t iov_offset;
  size_t count;
  union {
    const struct iovec *iov;
    const struct kvec *kvec;
    const struct bio_vec *bvec;
    struct xarray *xarray;
    struct pipe_inode_info *pipe;
    void *ubuf;
  };
  unsigned long nr_segs;
};
static inline enum iter_type iov_iter_type(const struct iov_iter *i) { return (enum iter_type)i->iter_type; }
static inline bool iter_is_ubuf(const struct iov_iter *i) { return iov_iter_type(i) == ITER_UBUF; }
static inline bool iter_is_iovec(const struct iov_iter *i) { return iov_iter_type(i) == ITER_IOVEC; }
static inline bool iov_iter_is_kvec(const struct iov_iter *i) { return iov_iter_type(i) == ITER_KVEC; }
static inline bool iov_iter_is_bvec(const struct iov_iter *i) { return iov_iter_type(i) == ITER_BVEC; }
static inline bool iov_iter_is_pipe(const struct iov_iter *i) { return iov_iter_type(i) == ITER_PIPE; }
static inline bool iov_iter_is_discard(const struct iov_iter *i) { return iov_iter_type(i) == ITER_DISCARD; }
static inline bool iov_iter_is_xarray(const struct iov_iter *i) { return iov_iter_type(i) == ITER_XARRAY; }
static inline bool user_backed_iter(const struct iov_iter *i) { return i->user_backed; }
static inline size_t iov_iter_count(const struct iov_iter *i) { return i->count; }
void iov_iter_init(struct iov_iter *i, unsigned int direction, const struct iovec *iov,
                   unsigned long nr_segs, size_t count);
void iov_iter_kvec(struct iov_iter *i, unsigned int direction, const struct kvec *kvec,
                   unsigned long nr_segs, size_t count);
void iov_iter_bvec(struct iov_iter *i, unsigned int direction, const struct bio_vec *bvec,
                   unsigned long nr_segs, size_t count);
void iov_iter_pipe(struct iov_iter *i, unsigned int direction, struct pipe_inode_info *pipe, size_t count);
void iov_iter_discard(struct iov_iter *i, unsigned int direction, size_t count);
void iov_iter_xarray(struct iov_iter *i, unsigned int direction, struct xarray *xarray, loff_t start,
                     size_t count);
void iov_iter_advance(struct iov_iter *i, size_t bytes);
void iov_iter_revert(struct iov_iter *i, size_t bytes);
ssize_t iov_iter_get_pages2(struct iov_iter *i, struct page **pages, size_t maxsize, unsigned maxpages,
                            size_t *start);
ssize_t iov_iter_get_pages_alloc2(struct iov_iter *i, struct page ***pages, size_t maxsize, size_t *start);
/* 6.3+ */
ssize_t iov_iter_extract_pages(struct iov_iter *i, struct page ***pages, size_t maxsize, unsigned int maxpages,
                               unsigned int extraction_flags, size_t *offset0);
static inline bool iov_iter_extract_will_pin(const struct iov_iter *iter) { return user_backed_iter(iter); }
int import_single_range(int type, void *buf, size_t len, struct iovec *iov, struct iov_iter *i);
#endif
