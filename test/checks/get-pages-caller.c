// RUN: %check_pageref_tidy %s pageref-get-pages-caller %t -- -- -I%kernel_include

#include <linux/fs.h>
#include <linux/bio.h>
#include <linux/skbuff.h>
#include <linux/pipe_fs_i.h>
#include <linux/scatterlist.h>

// --- A helper reached from a ->read_iter narrowed to user memory and from a
// local BVEC iterator; pages dropped by a release helper of this file.
static void release_all(struct page **pages, int n) {
  for (int i = 0; i < n; i++)
    put_page(pages[i]);
}

static ssize_t fill(struct iov_iter *iter) {
  struct page *pages[16];
  size_t start;
  ssize_t bytes = iov_iter_get_pages2(iter, pages, LONG_MAX, 16, &start);
  // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: iov_iter_get_pages2() in fill(): iterator kinds IOVEC|UBUF|BVEC; pages kept locally; released by put_page(); verdict extract-ready: the pages are released by put_page() in release_all() at line 13 and handed to no owner that keeps them{{.*}} [pageref-get-pages-caller]
  if (bytes <= 0)
    return bytes;
  release_all(pages, DIV_ROUND_UP(start + bytes, PAGE_SIZE));
  return bytes;
}

static ssize_t my_read_iter(struct kiocb *iocb, struct iov_iter *to) {
  if (!user_backed_iter(to))
    return -EINVAL;
  return fill(to);
}

const struct file_operations my_fops = { .read_iter = my_read_iter };

int from_bvec(struct bio_vec *bv, int n) {
  struct iov_iter it;
  iov_iter_bvec(&it, ITER_DEST, bv, n, 4096);
  return fill(&it);
}

// --- Only user memory reaches it: WARN_ON() guard with an early return.
ssize_t user_only(struct iov_iter *iter, struct page **pages) {
  size_t off;
  ssize_t n;
  if (WARN_ON(!user_backed_iter(iter)))
    return -EINVAL;
  n = iov_iter_get_pages2(iter, pages, PAGE_SIZE, 1, &off);
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: iov_iter_get_pages2() in user_only(): iterator kinds IOVEC|UBUF; {{.*}}verdict extract-ready: only user-backed iterators (IOVEC|UBUF) reach it{{.*}}
  if (n > 0)
    put_page(pages[0]);
  return n;
}

// --- Pages that end up in pipe buffers: the pipe drops them.
struct pipe_buffer *next_buf(struct pipe_inode_info *pipe);
ssize_t to_pipe(struct pipe_inode_info *pipe, struct iov_iter *from) {
  struct page *pages[16];
  size_t start;
  ssize_t left = iov_iter_get_pages2(from, pages, ~0UL, 16, &start);
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: {{.*}}pages go to pipe-buffers; {{.*}}verdict needs-refs: pages go into pipe-buffers (pipe_buffer::page in to_pipe() at line [[@LINE+5]]){{.*}}
  if (left <= 0)
    return left;
  for (int n = 0; n < 16; n++) {
    struct pipe_buffer *buf = next_buf(pipe);
    buf->page = pages[n];
  }
  return left;
}

// --- Zero-copy send: pages become skb frags through compound_head().
struct page *_compound_head(const struct page *page);
int zerocopy(struct sk_buff *skb, struct iov_iter *from) {
  struct page *pages[16], *head;
  size_t start;
  ssize_t copied = iov_iter_get_pages2(from, pages, 65536, 16, &start);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: {{.*}}pages go to skb-frags; {{.*}}verdict needs-refs: pages go into skb-frags (skb_fill_page_desc() in zerocopy(){{.*}}
  if (copied < 0)
    return -EFAULT;
  for (int n = 0; n < 16; n++) {
    head = _compound_head(pages[n]);
    skb_fill_page_desc(skb, n, head, 0, 4096);
  }
  return 0;
}

// --- 6.3+: extracted pages unpinned only when iov_iter_extract_will_pin().
ssize_t extract_cond(struct iov_iter *iter) {
  struct page *pages[4], **pp = pages;
  size_t off;
  ssize_t n = iov_iter_extract_pages(iter, &pp, 4 * PAGE_SIZE, 4, 0, &off);
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: iov_iter_extract_pages() in extract_cond(): {{.*}}verdict already-conditional: iov_iter_extract_pages() pins only user-backed iterators and the release follows that: unpin_user_pages() in extract_cond() at line [[@LINE+4]] under 'iov_iter_extract_will_pin(iter)'
  if (n <= 0)
    return n;
  if (iov_iter_extract_will_pin(iter))
    unpin_user_pages(pp, DIV_ROUND_UP(off + n, PAGE_SIZE));
  return n;
}

// --- Extracted pages put unconditionally: not a conversion, a bug.
ssize_t extract_put(struct iov_iter *iter) {
  struct page *pages[1], **pp = pages;
  size_t off;
  ssize_t n = iov_iter_extract_pages(iter, &pp, PAGE_SIZE, 1, 0, &off);
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: {{.*}}verdict unknown: pages from iov_iter_extract_pages() are released unconditionally by put_page() in extract_put() at line [[@LINE+2]], without testing iov_iter_extract_will_pin()
  if (n > 0)
    put_page(pp[0]);
  return n;
}

// --- Pages handed to a function of another file: the tool says where it stopped.
void consume_pages(struct page **pages, int n);
ssize_t handed_off(struct iov_iter *iter) {
  struct page **pages;
  size_t off;
  ssize_t n = iov_iter_get_pages_alloc2(iter, &pages, 65536, &off);
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: {{.*}}released by nothing found; verdict unknown: no release of the pages found in this translation unit (pages passed to consume_pages(), not defined in this translation unit)
  if (n > 0)
    consume_pages(pages, DIV_ROUND_UP(off + n, PAGE_SIZE));
  return n;
}

// --- Pages kept in a request; the completion of this file drops them.
struct my_req { struct page *pages[8]; int npages; struct bio *bio; };
static void my_req_done(struct my_req *req) {
  for (int i = 0; i < req->npages; i++)
    put_page(req->pages[i]);
}
ssize_t start_req(struct my_req *req, struct bio_vec *bv, int n) {
  struct iov_iter iter;
  size_t off;
  ssize_t got;
  iov_iter_bvec(&iter, ITER_SOURCE, bv, n, 8 * PAGE_SIZE);
  got = iov_iter_get_pages2(&iter, req->pages, 8 * PAGE_SIZE, 8, &off);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: iov_iter_get_pages2() in start_req(): iterator kinds BVEC; {{.*}}verdict extract-ready: the pages are released by put_page() in my_req_done() at line [[@LINE-8]]{{.*}}
  return got;
}

// --- Kernel-internal KVEC excluded by the guard; the rest from the caller.
ssize_t not_kvec(struct iov_iter *data, struct scatterlist *sg) {
  struct page **pages;
  size_t off;
  ssize_t n;
  if (iov_iter_is_kvec(data))
    return 0;
  n = iov_iter_get_pages_alloc2(data, &pages, 65536, &off);
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: iov_iter_get_pages_alloc2() in not_kvec(): iterator kinds IOVEC|UBUF|BVEC|XARRAY|PIPE|DISCARD; pages go to scatterlist; {{.*}}
  if (n > 0)
    sg_set_page(sg, pages[0], n, off);
  kvfree(pages);
  return n;
}

// --- The bio drops its pages by a flag set per iterator (6.3+ shape).
int map_bio(struct bio *bio, struct iov_iter *iter) {
  struct page **pages;
  size_t off;
  ssize_t n = iov_iter_extract_pages(iter, &pages, 65536, 16, 0, &off);
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: {{.*}}pages go to bio; {{.*}}verdict already-conditional: {{.*}}bio_release_pages() in end_io() at line {{[0-9]+}} under 'bio_set_flag(bio, BIO_PAGE_PINNED) under 'iov_iter_extract_will_pin(iter)''
  if (n <= 0)
    return n;
  if (iov_iter_extract_will_pin(iter))
    bio_set_flag(bio, BIO_PAGE_PINNED);
  bio_add_page(bio, pages[0], n, off);
  return 0;
}
void end_io(struct bio *bio) { bio_release_pages(bio, false); }

// --- switch (iov_iter_type()) narrows, and a user-only extract may unpin unconditionally.
static ssize_t extract_user(struct iov_iter *iter, struct page **pages) {
  size_t off;
  ssize_t n = iov_iter_extract_pages(iter, &pages, PAGE_SIZE, 1, 0, &off);
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: iov_iter_extract_pages() in extract_user(): iterator kinds IOVEC|UBUF; {{.*}}verdict already-conditional: only user-backed iterators (IOVEC|UBUF) reach it, so iov_iter_extract_pages() always pins and unpin_user_page() in extract_user() at line [[@LINE+2]] is the matching release
  if (n > 0)
    unpin_user_page(pages[0]);
  return n;
}
ssize_t extract_any(struct iov_iter *iter, struct page **pages) {
  switch (iov_iter_type(iter)) {
  case ITER_UBUF:
  case ITER_IOVEC:
    return extract_user(iter, pages);
  default:
    return -EINVAL;
  }
}

// --- An iterator a helper of this file builds; extract from KVEC takes nothing.
static void load_kvec(struct iov_iter *i, struct kvec *kv) { iov_iter_kvec(i, ITER_DEST, kv, 1, kv->iov_len); }
ssize_t from_helper(struct kvec *kv) {
  struct iov_iter iter;
  struct page *pages[1], **pp = pages;
  size_t off;
  load_kvec(&iter, kv);
  return iov_iter_extract_pages(&iter, &pp, PAGE_SIZE, 1, 0, &off);
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: iov_iter_extract_pages() in from_helper(): iterator kinds KVEC; {{.*}}verdict already-conditional: only KVEC iterators reach it: iov_iter_extract_pages() takes no references for them and none are released
}

// --- Viro's third rule: references dropped by an async completion that the
// submitting path does not wait for are classified (not warned about).
struct dio_req { struct kiocb *iocb; struct page *pages[4]; int n; };
static void dio_req_complete(struct kiocb *iocb, long ret) {
  struct dio_req *r = iocb->private;
  for (int i = 0; i < r->n; i++)
    put_page(r->pages[i]);
}
void submit_dio(struct dio_req *r);
ssize_t start_dio(struct dio_req *r, struct iov_iter *iter) {
  size_t off;
  ssize_t n = iov_iter_get_pages2(iter, r->pages, 4 * PAGE_SIZE, 4, &off);
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: iov_iter_get_pages2() in start_dio(): {{.*}}; references owned by async completion dio_req_complete() (ki_complete), not waited for on the submitting path; verdict {{.*}}
  if (n <= 0)
    return n;
  r->iocb->ki_complete = dio_req_complete;
  submit_dio(r);
  return -EIOCBQUEUED;
}
