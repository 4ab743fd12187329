// RUN: %check_pageref_tidy %s pageref-unbalanced-release %t -- -- -I%kernel_include

#include <linux/fs.h>
#include <linux/bio.h>
#include <linux/scatterlist.h>

void do_io(struct page **pages, int n);
int setup(void);

// --- Positive: the error path after a successful pin leaks the pins.
int leak_on_error(unsigned long addr, int nr) {
  struct page *pages[16];
  int ret = pin_user_pages_fast(addr, nr, FOLL_WRITE, pages);
  if (ret <= 0)
    return ret;
  if (setup() < 0)
    return -EINVAL;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: pages acquired by pin_user_pages_fast() at line [[@LINE-5]] are neither released nor handed off on the path that returns here [pageref-unbalanced-release]
  unpin_user_pages(pages, ret);
  return 0;
}

// --- Negative: goto unwinding with several labels; partial result released.
int goto_unwind(unsigned long addr, int nr, struct page **tmp) {
  struct page *pages[16];
  int ret, pinned;
  pinned = pin_user_pages_fast(addr, nr, FOLL_WRITE, pages);
  if (pinned < 0) {
    ret = pinned;
    goto out;
  }
  if (pinned != nr) {
    ret = -EFAULT;
    goto out_unpin;
  }
  ret = setup();
  if (ret)
    goto out_unpin;
  do_io(pages, pinned);
  ret = 0;
  goto out;
out_unpin:
  unpin_user_pages(pages, pinned);
out:
  return ret;
}

// --- Negative: release loop over pages[0..n), result checked with IS_ERR-style and <= 0.
long put_loop(unsigned long addr, int nr) {
  struct page *pages[8];
  long got = get_user_pages_fast(addr, nr, 0, pages);
  if (got <= 0)
    return got;
  for (int i = 0; i < got; i++)
    put_page(pages[i]);
  return 0;
}

// --- Negative: release in a helper of this file.
static void drop_all(struct page **p, int n) {
  for (int i = 0; i < n; i++)
    put_page(p[i]);
}
int helper_release(struct iov_iter *iter) {
  struct page *pages[4];
  size_t off;
  ssize_t n = iov_iter_get_pages2(iter, pages, 4 * PAGE_SIZE, 4, &off);
  if (n <= 0)
    return n;
  drop_all(pages, DIV_ROUND_UP(off + n, PAGE_SIZE));
  return 0;
}

// --- Negative: hand-off to a bio and to a scatterlist.
int to_bio(struct bio *bio, struct iov_iter *iter) {
  struct page *pages[4];
  size_t off;
  ssize_t n = iov_iter_get_pages2(iter, pages, PAGE_SIZE, 1, &off);
  if (n <= 0)
    return n;
  bio_add_page(bio, pages[0], n, off);
  return 0;
}
int to_sg(struct scatterlist *sg, unsigned long addr) {
  struct page *pages[1];
  int n = get_user_pages_fast(addr, 1, 0, pages);
  if (n != 1)
    return -EFAULT;
  sg_set_page(sg, pages[0], PAGE_SIZE, 0);
  return 0;
}

// --- Negative: conditional release under iov_iter_extract_will_pin().
ssize_t extract_then_unpin(struct iov_iter *iter) {
  struct page *pages[4], **pp = pages;
  size_t off;
  ssize_t n = iov_iter_extract_pages(iter, &pp, 4 * PAGE_SIZE, 4, 0, &off);
  if (n <= 0)
    return n;
  if (iov_iter_extract_will_pin(iter))
    unpin_user_pages(pp, DIV_ROUND_UP(off + n, PAGE_SIZE));
  return n;
}

// --- Positive: released twice on one path.
int twice(unsigned long addr) {
  struct page *pages[2];
  int n = pin_user_pages_fast(addr, 2, 0, pages);
  if (n <= 0)
    return n;
  unpin_user_pages(pages, n);
  if (setup())
    unpin_user_pages(pages, n);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: pages acquired by pin_user_pages_fast() at line [[@LINE-6]] are released twice: unpin_user_pages() runs on a path where they were already released [pageref-unbalanced-release]
  return 0;
}

// --- Negative: unpin_user_pages_dirty_lock and release_pages.
int dirty_lock(unsigned long addr, int nr) {
  struct page *pages[8];
  int n = pin_user_pages_fast(addr, nr, FOLL_WRITE, pages);
  if (n < 0)
    return n;
  unpin_user_pages_dirty_lock(pages, n, true);
  return 0;
}
int rel_pages(unsigned long addr, int nr) {
  struct page *pages[8];
  int n = get_user_pages_fast(addr, nr, 0, pages);
  if (n < 0)
    return n;
  release_pages(pages, n);
  return 0;
}

// --- Negative: get_user_pages() with no page array takes nothing.
int fault_in(unsigned long addr) {
  return get_user_pages(addr, 1, 0, NULL, NULL) == 1 ? 0 : -EFAULT;
}

// --- Positive: the noreturn path is not an exit, the early error path is.
void BUG(void) __attribute__((noreturn));
int early_leak(unsigned long addr) {
  struct page *page[1];
  int n = get_user_pages_fast(addr, 1, 0, page);
  if (n == 0)
    BUG();
  if (n < 0)
    return n;
  if (setup())
    goto fail;
  put_page(page[0]);
  return 0;
fail:
  return -EIO;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: pages acquired by get_user_pages_fast() at line [[@LINE-11]] are neither released nor handed off on the path that returns here [pageref-unbalanced-release]
}

// --- A constructor that keeps the pages only when it returns non-NULL
// (fs/smb/client cifs_readdata_direct_alloc()): the NULL path still holds them.
struct rdata { struct page **pages; };
void *kzalloc(size_t size, gfp_t flags);
static struct rdata *rdata_alloc(struct page **pages) {
  struct rdata *r = kzalloc(sizeof(*r), GFP_KERNEL);
  if (r != NULL)
    r->pages = pages;
  return r;
}
int ctor_leak(struct iov_iter *iter, struct rdata **out) {
  struct page **pagevec;
  size_t start;
  ssize_t n = iov_iter_get_pages_alloc2(iter, &pagevec, 65536, &start);
  if (n < 0)
    return n;
  struct rdata *r = rdata_alloc(pagevec);
  if (!r)
    return -ENOMEM;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: pages acquired by iov_iter_get_pages_alloc2() at line [[@LINE-6]] are neither released nor handed off on the path that returns here [pageref-unbalanced-release]
  *out = r;
  return 0;
}
int ctor_ok(struct iov_iter *iter, struct rdata **out) {
  struct page **pagevec;
  size_t start;
  ssize_t n = iov_iter_get_pages_alloc2(iter, &pagevec, 65536, &start);
  if (n < 0)
    return n;
  struct rdata *r = rdata_alloc(pagevec);
  if (!r) {
    for (int i = 0; i < DIV_ROUND_UP(start + n, PAGE_SIZE); i++)
      put_page(pagevec[i]);
    kvfree(pagevec);
    return -ENOMEM;
  }
  *out = r;
  return 0;
}

// --- A WARN()ed "cannot happen" path is not reported.
int warned(unsigned long addr, int nr) {
  struct page *pages[8];
  int n = pin_user_pages_fast(addr, nr, 0, pages);
  if (n <= 0)
    return n;
  if (WARN_ON(n > nr))
    return -EIO;
  unpin_user_pages(pages, n);
  return 0;
}

// --- io_uring's io_pin_pages() shape: a status variable (`ret`) set on every
// path, a conditional operator, and the array pointer replaced by ERR_PTR().
void *kvmalloc_array(size_t n, size_t s, gfp_t f);
void *ERR_PTR(long e);
struct page **pin_pages_ok(unsigned long ubuf, int nr_pages) {
  struct page **pages;
  int ret = -ENOMEM, pret;
  pages = kvmalloc_array(nr_pages, sizeof(struct page *), GFP_KERNEL);
  if (!pages)
    goto done;
  ret = 0;
  pret = pin_user_pages(ubuf, nr_pages, FOLL_WRITE, pages, NULL);
  if (pret == nr_pages)
    ret = 0;
  else
    ret = pret < 0 ? pret : -EFAULT;
  if (ret) {
    if (pret > 0)
      unpin_user_pages(pages, pret);
    goto done;
  }
  ret = 0;
done:
  if (ret < 0) {
    kvfree(pages);
    pages = ERR_PTR(ret);
  }
  return pages;
}
struct page **pin_pages_leak(unsigned long ubuf, int nr_pages) {
  struct page **pages;
  int ret = -ENOMEM, pret;
  pages = kvmalloc_array(nr_pages, sizeof(struct page *), GFP_KERNEL);
  if (!pages)
    goto done;
  pret = pin_user_pages(ubuf, nr_pages, FOLL_WRITE, pages, NULL);
  if (pret == nr_pages)
    ret = 0;
  else
    ret = pret < 0 ? pret : -EFAULT;
  if (ret)
    goto done;
done:
  if (ret < 0) {
    kvfree(pages);
    pages = ERR_PTR(ret);
  }
  return pages;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: pages acquired by pin_user_pages() at line [[@LINE-13]] are neither released nor handed off on the path that returns here [pageref-unbalanced-release]
}

// --- The caller's array (rds_pin_pages() shape): a successful return hands the
// pins back; an error return after a partial pin must unpin them first.
int pin_into_caller_ok(unsigned long addr, unsigned int nr, struct page **pages) {
  int ret = pin_user_pages_fast(addr, nr, FOLL_WRITE, pages);
  if (ret >= 0 && ret < nr) {
    unpin_user_pages(pages, ret);
    ret = -EFAULT;
  }
  return ret;
}
int pin_into_caller_leak(unsigned long addr, unsigned int nr, struct page **pages) {
  int ret = pin_user_pages_fast(addr, nr, FOLL_WRITE, pages);
  if (ret >= 0 && ret < nr)
    ret = -EFAULT;
  return ret;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: pages acquired by pin_user_pages_fast() at line [[@LINE-4]] are neither released nor handed off on the path that returns here [pageref-unbalanced-release]
}
