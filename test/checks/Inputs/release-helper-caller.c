#include <linux/fs.h>
/* Defined in another file: drivers/mydrv/pages.c of the summaries. */
void mydrv_drop_pages(struct page **pages, int n);
int mydrv_read_user(unsigned long addr) {
  struct page *pages[8];
  int n = get_user_pages_fast(addr, 8, 0, pages);
  if (n <= 0)
    return n;
  mydrv_drop_pages(pages, n);
  return 0;
}
