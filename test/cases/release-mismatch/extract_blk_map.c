// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: block/blk-map.c (6.12): bio_map_user_iov() after the conversion to
// iov_iter_extract_pages(): BIO_PAGE_PINNED is set from iov_iter_extract_will_pin(iter), and
// bio_release_page() (block/blk.h) unpins only when the bio has that flag.
#define CASES_6_12
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/bio.h>
#include <linux/blkdev.h>

/* block/blk.h */
int bio_add_hw_page(struct request_queue *q, struct bio *bio, struct page *page,
		    unsigned int len, unsigned int offset, unsigned int max_sectors,
		    bool *same_page);
// helper (not a case), as in block/blk.h:bio_release_page(): unpins only for BIO_PAGE_PINNED.
static inline void bio_release_page(struct bio *bio, struct page *page)
{
	if (bio_flagged(bio, BIO_PAGE_PINNED))
		unpin_user_page(page);
}
unsigned int queue_dma_alignment(const struct request_queue *q);
bool blk_queue_pci_p2pdma(struct request_queue *q);
struct bio *blk_rq_map_bio_alloc(struct request *rq, unsigned int nr_vecs, gfp_t gfp_mask);
void blk_mq_map_bio_put(struct bio *bio);

// CASE NEGATIVE release-mismatch: modelled on block/blk-map.c:bio_map_user_iov() in 6.12
// Every release of extracted pages is bio_release_page()/bio_release_pages(), conditional on
// BIO_PAGE_PINNED, which holds iov_iter_extract_will_pin(iter) for the iterator extracted from.
// Correct code.
static int bio_map_user_iov(struct request *rq, struct iov_iter *iter, gfp_t gfp_mask)
{
	iov_iter_extraction_t extraction_flags = 0;
	unsigned int max_sectors = queue_max_hw_sectors(rq->q);
	unsigned int nr_vecs = iov_iter_npages(iter, BIO_MAX_VECS);
	struct bio *bio;
	int ret;
	int j;

	if (!iov_iter_count(iter))
		return -EINVAL;

	bio = blk_rq_map_bio_alloc(rq, nr_vecs, gfp_mask);
	if (bio == NULL)
		return -ENOMEM;

	if (blk_queue_pci_p2pdma(rq->q))
		extraction_flags |= ITER_ALLOW_P2PDMA;
	if (iov_iter_extract_will_pin(iter))
		bio_set_flag(bio, BIO_PAGE_PINNED);

	while (iov_iter_count(iter)) {
		struct page *stack_pages[UIO_FASTIOV];
		struct page **pages = stack_pages;
		ssize_t bytes;
		size_t offs;
		int npages;

		if (nr_vecs > ARRAY_SIZE(stack_pages))
			pages = NULL;

		bytes = iov_iter_extract_pages(iter, &pages, LONG_MAX, nr_vecs, extraction_flags,
					       &offs);
		if (unlikely(bytes <= 0)) {
			ret = bytes ? bytes : -EFAULT;
			goto out_unmap;
		}

		npages = DIV_ROUND_UP(offs + bytes, PAGE_SIZE);

		if (unlikely(offs & queue_dma_alignment(rq->q)))
			j = 0;
		else {
			for (j = 0; j < npages; j++) {
				struct page *page = pages[j];
				unsigned int n = PAGE_SIZE - offs;
				bool same_page = false;

				if (n > bytes)
					n = bytes;

				if (!bio_add_hw_page(rq->q, bio, page, n, offs, max_sectors, &same_page))
					break;

				if (same_page)
					bio_release_page(bio, page);
				bytes -= n;
				offs = 0;
			}
		}
		while (j < npages)
			bio_release_page(bio, pages[j++]);
		if (pages != stack_pages)
			kvfree(pages);
		if (bytes) {
			iov_iter_revert(iter, bytes);
			break;
		}
	}

	ret = blk_rq_append_bio(rq, bio);
	if (ret)
		goto out_unmap;
	return 0;

out_unmap:
	bio_release_pages(bio, false);
	blk_mq_map_bio_put(bio);
	return ret;
}

// CASE POSITIVE release-mismatch: mutation of block/blk-map.c:bio_map_user_iov() in 6.12
// The leftover loop kept its 6.1 form, put_page(pages[j++]), after the switch to
// iov_iter_extract_pages(): a user iterator's pages are pinned and a kernel iterator's are not
// referenced at all.
static int bio_map_user_iov_put_leftover(struct request *rq, struct iov_iter *iter,
					 gfp_t gfp_mask)
{
	unsigned int max_sectors = queue_max_hw_sectors(rq->q);
	unsigned int nr_vecs = iov_iter_npages(iter, BIO_MAX_VECS);
	struct bio *bio;
	int ret;
	int j;

	bio = blk_rq_map_bio_alloc(rq, nr_vecs, gfp_mask);
	if (bio == NULL)
		return -ENOMEM;

	if (iov_iter_extract_will_pin(iter))
		bio_set_flag(bio, BIO_PAGE_PINNED);

	while (iov_iter_count(iter)) {
		struct page *stack_pages[UIO_FASTIOV];
		struct page **pages = stack_pages;
		ssize_t bytes;
		size_t offs;
		int npages;

		bytes = iov_iter_extract_pages(iter, &pages, LONG_MAX, UIO_FASTIOV, 0, &offs);
		if (unlikely(bytes <= 0)) {
			ret = bytes ? bytes : -EFAULT;
			goto out_unmap;
		}

		npages = DIV_ROUND_UP(offs + bytes, PAGE_SIZE);
		for (j = 0; j < npages; j++) {
			unsigned int n = min_t(unsigned int, PAGE_SIZE - offs, bytes);
			bool same_page = false;

			if (!bio_add_hw_page(rq->q, bio, pages[j], n, offs, max_sectors, &same_page))
				break;
			if (same_page)
				bio_release_page(bio, pages[j]);
			bytes -= n;
			offs = 0;
		}
		while (j < npages)
			put_page(pages[j++]);
			// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
		if (bytes) {
			iov_iter_revert(iter, bytes);
			break;
		}
	}

	ret = blk_rq_append_bio(rq, bio);
	if (ret)
		goto out_unmap;
	return 0;

out_unmap:
	bio_release_pages(bio, false);
	blk_mq_map_bio_put(bio);
	return ret;
}

// CASE POSITIVE release-mismatch: mutation of block/blk-map.c:bio_map_user_iov() in 6.12
// The leftover pages are unpinned unconditionally (unpin_user_pages(pages + j, npages - j))
// with no iov_iter_extract_will_pin() test. The real blk_rq_map_user_iov() only sends
// user-backed iterators here (BVEC goes to blk_rq_map_user_bvec(), other kernel iterators are
// copied), but this file's caller, blk_rq_map_user_iov_nocopy() below, sends every kind:
// a BVEC/KVEC iterator's extracted pages carry no pin and are unpinned anyway.
static int bio_map_user_iov_unpin_leftover(struct request *rq, struct iov_iter *iter,
					   gfp_t gfp_mask)
{
	unsigned int max_sectors = queue_max_hw_sectors(rq->q);
	unsigned int nr_vecs = iov_iter_npages(iter, BIO_MAX_VECS);
	struct bio *bio;
	int ret;
	int j;

	bio = blk_rq_map_bio_alloc(rq, nr_vecs, gfp_mask);
	if (bio == NULL)
		return -ENOMEM;

	if (iov_iter_extract_will_pin(iter))
		bio_set_flag(bio, BIO_PAGE_PINNED);

	while (iov_iter_count(iter)) {
		struct page *stack_pages[UIO_FASTIOV];
		struct page **pages = stack_pages;
		ssize_t bytes;
		size_t offs;
		int npages;

		bytes = iov_iter_extract_pages(iter, &pages, LONG_MAX, UIO_FASTIOV, 0, &offs);
		if (unlikely(bytes <= 0)) {
			ret = bytes ? bytes : -EFAULT;
			goto out_unmap;
		}

		npages = DIV_ROUND_UP(offs + bytes, PAGE_SIZE);
		for (j = 0; j < npages; j++) {
			unsigned int n = min_t(unsigned int, PAGE_SIZE - offs, bytes);
			bool same_page = false;

			if (!bio_add_hw_page(rq->q, bio, pages[j], n, offs, max_sectors, &same_page))
				break;
			if (same_page)
				bio_release_page(bio, pages[j]);
			bytes -= n;
			offs = 0;
		}
		if (j < npages)
			unpin_user_pages(pages + j, npages - j);
			// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
		if (bytes) {
			iov_iter_revert(iter, bytes);
			break;
		}
	}

	ret = blk_rq_append_bio(rq, bio);
	if (ret)
		goto out_unmap;
	return 0;

out_unmap:
	bio_release_pages(bio, false);
	blk_mq_map_bio_put(bio);
	return ret;
}

struct rq_map_data;
int bio_copy_user_iov(struct request *rq, struct rq_map_data *map_data, struct iov_iter *iter,
		      gfp_t gfp_mask);
void blk_rq_unmap_user(struct bio *bio);

// helper (not a case), mutation of block/blk-map.c:blk_rq_map_user_iov() in 6.12: the routing of
// BVEC and non-user iterators away from the zero-copy path is gone.
int blk_rq_map_user_iov_nocopy(struct request_queue *q, struct request *rq,
			       struct rq_map_data *map_data, const struct iov_iter *iter,
			       gfp_t gfp_mask)
{
	struct bio *bio = NULL;
	struct iov_iter i;
	int ret = -EINVAL;

	i = *iter;
	do {
		if (map_data)
			ret = bio_copy_user_iov(rq, map_data, &i, gfp_mask);
		else
			ret = bio_map_user_iov_unpin_leftover(rq, &i, gfp_mask);
		if (ret)
			goto unmap_rq;
		if (!bio)
			bio = rq->bio;
	} while (iov_iter_count(&i));

	return 0;

unmap_rq:
	blk_rq_unmap_user(bio);
	rq->bio = NULL;
	return ret;
}
