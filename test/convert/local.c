// Releases in the acquiring function itself. copy_some() asks its iterator,
// which nothing replaces, at the release; two_passes() re-initialises its
// iterator after the extraction, so the decision is taken into a local before
// the call (asking the replaced iterator would be upstream's will-pin bug).
// A local array: the call gets a pointer to it.
// RUN: %python %S/Inputs/convert-test.py --pageref %pageref --include %kernel_include --input %s --work %t | FileCheck %s

#include <linux/fs.h>

static ssize_t copy_some(struct iov_iter *iter, size_t len) {
  struct page *pages[16];
  size_t start;
  ssize_t bytes;
  int i, n;

  bytes = iov_iter_get_pages2(iter, pages, len, 16, &start);
  if (bytes <= 0)
    return bytes;
  n = DIV_ROUND_UP(start + bytes, PAGE_SIZE);
  for (i = 0; i < n; i++)
    put_page(pages[i]);
  return bytes;
}

int from_bvec(struct bio_vec *bv, int n) {
  struct iov_iter it;
  iov_iter_bvec(&it, ITER_DEST, bv, n, 4096);
  return copy_some(&it, 4096);
}

int two_passes(struct bio_vec *bv, int n, struct page **pages) {
  struct iov_iter it;
  size_t start;
  ssize_t got;

  iov_iter_bvec(&it, ITER_DEST, bv, n, 4096);
  got = iov_iter_get_pages2(&it, pages, 4096, 1, &start);
  if (got <= 0)
    return got;
  iov_iter_bvec(&it, ITER_SOURCE, bv, n, 4096);
  put_page(pages[0]);
  return got;
}

static ssize_t my_read_iter(struct kiocb *iocb, struct iov_iter *to) { return copy_some(to, 4096); }
const struct file_operations my_fops = { .read_iter = my_read_iter };

// CHECK: SITE copy_some: unverified
// CHECK: SITE two_passes: unverified
// CHECK: PATCH 0001-drv-use-iov_iter_extract_pages-in-copy_some-and-two_.patch
// CHECK: Subject: [PATCH] drv: use iov_iter_extract_pages() in copy_some() and two_passes()
// CHECK: Signed-off-by: A U Thor <author@example.org>
// CHECK:       ssize_t bytes;
// CHECK-NEXT:  int i, n;
// CHECK-NEXT: +  struct page **pages_dst;
// CHECK:      -  bytes = iov_iter_get_pages2(iter, pages, len, 16, &start);
// CHECK-NEXT: +  pages_dst = pages;
// CHECK-NEXT: +  bytes = iov_iter_extract_pages(iter, &pages_dst, len, 16, 0, &start);
// CHECK:      -    put_page(pages[i]);
// CHECK-NEXT: +    if (iov_iter_extract_will_pin(iter))
// CHECK-NEXT: +      unpin_user_page(pages[i]);
// CHECK:       ssize_t got;
// CHECK-NEXT: +  bool is_pinned;
// CHECK:      -  got = iov_iter_get_pages2(&it, pages, 4096, 1, &start);
// CHECK-NEXT: +  is_pinned = iov_iter_extract_will_pin(&it);
// CHECK-NEXT: +  got = iov_iter_extract_pages(&it, &pages, 4096, 1, 0, &start);
// CHECK:      -  put_page(pages[0]);
// CHECK-NEXT: +  if (is_pinned)
// CHECK-NEXT: +    unpin_user_page(pages[0]);
// CHECK: COMPILE: ok
// CHECK-DAG: RESCAN copy_some: iov_iter_extract_pages already-conditional
// CHECK-DAG: RESCAN two_passes: iov_iter_extract_pages already-conditional
// CHECK-NOT: NEW FINDING
// CHECK: END
