// RUN: %check_pageref_tidy %s pageref-release-mismatch %t -- -- -I%kernel_include

#include <linux/fs.h>

int pin_put(unsigned long addr) {
  struct page *pages[1];
  int n = pin_user_pages_fast(addr, 1, FOLL_WRITE, pages);
  if (n != 1)
    return -EFAULT;
  put_page(pages[0]);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: pages pinned by pin_user_pages_fast() at line [[@LINE-4]] are released with put_page(): FOLL_PIN pages must go back through unpin_user_page*(); put_page() leaves the pin count behind [pageref-release-mismatch]
  // CHECK-FIXES: unpin_user_page(pages[0]);
  return 0;
}

int pin_release_pages(unsigned long addr, int nr) {
  struct page *pages[8];
  int n = pin_user_pages_fast(addr, nr, 0, pages);
  if (n <= 0)
    return n;
  release_pages(pages, n);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: pages pinned by pin_user_pages_fast() at line [[@LINE-4]] are released with release_pages(){{.*}}
  // CHECK-FIXES: unpin_user_pages(pages, n);
  return 0;
}

int get_unpin(unsigned long addr) {
  struct page *pages[1];
  long n = get_user_pages(addr, 1, 0, pages, NULL);
  if (n != 1)
    return -EFAULT;
  unpin_user_page(pages[0]);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: page references taken by get_user_pages() at line [[@LINE-4]] are released with unpin_user_page(): FOLL_GET references must be dropped with put_page() or release_pages(); unpinning them underflows the pin count [pageref-release-mismatch]
  // CHECK-FIXES: put_page(pages[0]);
  return 0;
}

ssize_t extract_put(struct iov_iter *iter) {
  struct page *pages[1], **pp = pages;
  size_t off;
  ssize_t n = iov_iter_extract_pages(iter, &pp, PAGE_SIZE, 1, 0, &off);
  if (n <= 0)
    return n;
  put_page(pp[0]);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: pages from iov_iter_extract_pages() at line [[@LINE-4]] are released with put_page(): iov_iter_extract_pages() takes pins (user-backed iterators) or nothing; release with unpin_user_page*() only when iov_iter_extract_will_pin() [pageref-release-mismatch]
  return n;
}

ssize_t extract_unpin_always(struct iov_iter *iter) {
  struct page *pages[1], **pp = pages;
  size_t off;
  ssize_t n = iov_iter_extract_pages(iter, &pp, PAGE_SIZE, 1, 0, &off);
  if (n <= 0)
    return n;
  unpin_user_page(pp[0]);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: pages from iov_iter_extract_pages() at line [[@LINE-4]] are unpinned by unpin_user_page() without a test of iov_iter_extract_will_pin(): for iterators that are not user-backed nothing was pinned [pageref-release-mismatch]
  return n;
}

// --- Negatives: the right family; extract with a will-pin test; a user-only extract.
int pin_unpin(unsigned long addr) {
  struct page *pages[1];
  int n = pin_user_pages_fast(addr, 1, 0, pages);
  if (n != 1)
    return -EFAULT;
  unpin_user_page(pages[0]);
  return 0;
}
ssize_t extract_ok(struct iov_iter *iter) {
  struct page *pages[1], **pp = pages;
  size_t off;
  ssize_t n = iov_iter_extract_pages(iter, &pp, PAGE_SIZE, 1, 0, &off);
  if (n > 0 && iov_iter_extract_will_pin(iter))
    unpin_user_page(pp[0]);
  return n;
}
static ssize_t extract_user(struct iov_iter *iter) {
  struct page *pages[1], **pp = pages;
  size_t off;
  ssize_t n = iov_iter_extract_pages(iter, &pp, PAGE_SIZE, 1, 0, &off);
  if (n > 0)
    unpin_user_page(pp[0]);
  return n;
}
ssize_t only_user(struct iov_iter *iter) {
  if (!user_backed_iter(iter))
    return -EINVAL;
  return extract_user(iter);
}
