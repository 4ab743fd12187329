#ifndef _PAGEREF_TEST_LINUX_BIO_H
#define _PAGEREF_TEST_LINUX_BIO_H
#include <linux/uio.h>
enum { BIO_NO_PAGE_REF, BIO_PAGE_PINNED };
struct bio { unsigned long bi_flags; struct bio_vec *bi_io_vec; unsigned short bi_vcnt; void (*bi_end_io)(struct bio *); };
int bio_add_page(struct bio *bio, struct page *page, unsigned int len, unsigned int off);
void __bio_release_pages(struct bio *bio, bool mark_dirty);
static inline bool bio_flagged(struct bio *bio, unsigned int bit) { return bio->bi_flags & (1U << bit); }
static inline void bio_set_flag(struct bio *bio, unsigned int bit) { bio->bi_flags |= 1U << bit; }
static inline void bio_release_pages(struct bio *bio, bool mark_dirty) {
  if (bio_flagged(bio, BIO_NO_PAGE_REF))
    return;
  __bio_release_pages(bio, mark_dirty);
}
void submit_bio(struct bio *bio);
int submit_bio_wait(struct bio *bio);
#endif
