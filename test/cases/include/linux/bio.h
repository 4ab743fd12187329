#ifndef _CASES_LINUX_BIO_H
#define _CASES_LINUX_BIO_H
#include <linux/blk_types.h>
#include <linux/uio.h>
struct request_queue;
#define BIO_MAX_VECS 256U
static inline bool bio_flagged(struct bio *bio, unsigned int bit)
{
	return (bio->bi_flags & (1U << bit)) != 0;
}
static inline void bio_set_flag(struct bio *bio, unsigned int bit)
{
	bio->bi_flags |= (1U << bit);
}
struct bio *bio_alloc(struct block_device *bdev, unsigned short nr_vecs, blk_opf_t opf, gfp_t gfp);
struct bio *bio_kmalloc(unsigned short nr_vecs, gfp_t gfp_mask);
void bio_init(struct bio *bio, struct block_device *bdev, struct bio_vec *table,
	      unsigned short max_vecs, blk_opf_t opf);
void bio_uninit(struct bio *bio);
void bio_put(struct bio *bio);
void bio_endio(struct bio *bio);
int bio_add_page(struct bio *bio, struct page *page, unsigned len, unsigned off);
int bio_add_pc_page(struct request_queue *q, struct bio *bio, struct page *page, unsigned int len,
		    unsigned int offset);
int bio_iov_iter_get_pages(struct bio *bio, struct iov_iter *iter);
void __bio_release_pages(struct bio *bio, bool mark_dirty);
#ifndef CASES_6_12
static inline void bio_release_pages(struct bio *bio, bool mark_dirty)
{
	if (!bio_flagged(bio, BIO_NO_PAGE_REF))
		__bio_release_pages(bio, mark_dirty);
}
#else
static inline void bio_release_pages(struct bio *bio, bool mark_dirty)
{
	if (bio_flagged(bio, BIO_PAGE_PINNED))
		__bio_release_pages(bio, mark_dirty);
}
#endif
void submit_bio(struct bio *bio);
int submit_bio_wait(struct bio *bio);
#endif
