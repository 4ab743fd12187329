// Releases in same-file helpers. release_all() only releases: it unpins now
// and the callers call it only for pinned pages. put_dirty() also dirties the
// pages: it gets the decision as a parameter. The _alloc2 form: the array the
// call allocates is set to NULL first and freed when no pages came back.
// RUN: %python %S/Inputs/convert-test.py --pageref %pageref --include %kernel_include --input %s --work %t | FileCheck %s

#include <linux/fs.h>

void consume(struct page **pages, int n);

static void release_all(struct page **pages, unsigned int n) {
  unsigned int i;
  for (i = 0; i < n; i++)
    put_page(pages[i]);
}

static void put_dirty(struct page **pages, unsigned int n) {
  unsigned int i;
  for (i = 0; i < n; i++) {
    set_page_dirty_lock(pages[i]);
    put_page(pages[i]);
  }
}

static ssize_t read_some(struct iov_iter *iter, size_t len) {
  struct page **pagevec;
  size_t start;
  ssize_t result;
  unsigned int n;

  result = iov_iter_get_pages_alloc2(iter, &pagevec, len, &start);
  if (result < 0)
    return result;
  n = DIV_ROUND_UP(start + result, PAGE_SIZE);
  consume(pagevec, n);
  release_all(pagevec, n);
  kvfree(pagevec);
  return result;
}

static ssize_t write_some(struct iov_iter *iter, struct page **pages, size_t len) {
  size_t start;
  ssize_t result;

  result = iov_iter_get_pages2(iter, pages, len, 8, &start);
  if (result <= 0)
    return result;
  put_dirty(pages, DIV_ROUND_UP(start + result, PAGE_SIZE));
  return result;
}

static ssize_t my_read_iter(struct kiocb *iocb, struct iov_iter *to) { return read_some(to, 4096); }
static ssize_t my_write_iter(struct kiocb *iocb, struct iov_iter *from) {
  struct page *pages[8];
  return write_some(from, pages, 4096);
}
const struct file_operations my_fops = { .read_iter = my_read_iter, .write_iter = my_write_iter };

// CHECK: SITE read_some: unverified
// CHECK: SITE write_some: unverified
// CHECK: Subject: [PATCH] drv: use iov_iter_extract_pages() in read_some() and write_some()
// CHECK: -    put_page(pages[i]);
// CHECK-NEXT: +    unpin_user_page(pages[i]);
// CHECK: -static void put_dirty(struct page **pages, unsigned int n) {
// CHECK-NEXT: +static void put_dirty(struct page **pages, unsigned int n, bool is_pinned) {
// CHECK:      set_page_dirty_lock(pages[i]);
// CHECK-NEXT: -    put_page(pages[i]);
// CHECK-NEXT: +    if (is_pinned)
// CHECK-NEXT: +      unpin_user_page(pages[i]);
// CHECK:      -  result = iov_iter_get_pages_alloc2(iter, &pagevec, len, &start);
// CHECK-NEXT: +  pagevec = NULL;
// CHECK-NEXT: +  result = iov_iter_extract_pages(iter, &pagevec, len, UINT_MAX, 0, &start);
// CHECK-NEXT: +  if (result <= 0) {
// CHECK-NEXT: +    kvfree(pagevec);
// CHECK-NEXT: +    pagevec = NULL;
// CHECK-NEXT: +  }
// CHECK:      -  release_all(pagevec, n);
// CHECK-NEXT: +  if (iov_iter_extract_will_pin(iter))
// CHECK-NEXT: +    release_all(pagevec, n);
// CHECK:      -  result = iov_iter_get_pages2(iter, pages, len, 8, &start);
// CHECK-NEXT: +  result = iov_iter_extract_pages(iter, &pages, len, 8, 0, &start);
// CHECK:      -  put_dirty(pages, DIV_ROUND_UP(start + result, PAGE_SIZE));
// CHECK-NEXT: +  put_dirty(pages, DIV_ROUND_UP(start + result, PAGE_SIZE), iov_iter_extract_will_pin(iter));
// CHECK: COMPILE: ok
// CHECK-DAG: RESCAN read_some: iov_iter_extract_pages already-conditional
// CHECK-DAG: RESCAN write_some: iov_iter_extract_pages already-conditional
// CHECK-NOT: NEW FINDING
// CHECK: END
