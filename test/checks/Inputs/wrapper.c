#include <linux/uio.h>
void mydrv_put_pages(struct page **pages, int n);
int mydrv_map(struct iov_iter *iter) {
  struct page *pages[8];
  size_t off;
  ssize_t n = iov_iter_get_pages2(iter, pages, 8 * PAGE_SIZE, 8, &off);
  if (n <= 0)
    return n;
  mydrv_put_pages(pages, DIV_ROUND_UP(off + n, PAGE_SIZE));
  return 0;
}
