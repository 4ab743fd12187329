#include <linux/uio.h>
#include <linux/pipe_fs_i.h>

int bvec_path(struct bio_vec *bv) {
  struct iov_iter it;
  struct page *pages[4];
  size_t off;
  iov_iter_bvec(&it, ITER_SOURCE, bv, 4, 16384);
  ssize_t n = iov_iter_get_pages2(&it, pages, 16384, 4, &off);
  if (n < 0)
    return n;
  put_page(pages[0]);
  return 0;
}

int pipe_path(struct iov_iter *from, struct pipe_buffer *buf) {
  struct page **pages;
  size_t off;
  ssize_t n;
  n = iov_iter_get_pages_alloc2(from, &pages, 4096, &off);
  if (n <= 0)
    return n;
  buf->page = pages[0];
  kvfree(pages);
  return 0;
}
