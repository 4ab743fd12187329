// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: block/blk-map.c (6.1): mapping a user iov_iter into a passthrough request takes page
// references with iov_iter_get_pages2()/_alloc2(), hands each page to the bio with
// bio_add_hw_page() and puts the pages the bio did not take.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/bio.h>
#include <linux/blkdev.h>

/* block/blk.h */
int bio_add_hw_page(struct request_queue *q, struct bio *bio, struct page *page,
		    unsigned int len, unsigned int offset, unsigned int max_sectors,
		    bool *same_page);
unsigned int queue_dma_alignment(const struct request_queue *q);
struct bio *blk_rq_map_bio_alloc(struct request *rq, unsigned int nr_vecs, gfp_t gfp_mask);
void blk_mq_map_bio_put(struct bio *bio);

// CASE POSITIVE unbalanced-release: modelled on block/blk-map.c:bio_map_user_iov() in 6.1 (as it is)
// Reclassified by the lead after reading upstream: this 6.1 code drops the extra reference of a
// same-page merge only in the "bio_add_hw_page() failed" branch, where same_page is never set; on
// a successful merge the bio holds one reference for both segments and this one leaks. Fixed
// upstream by 5905afc2c7bb ("block: fix pin count management when merging same-page segments"),
// replay testdata/kernel/replays/blk-map-same-page-merge-ref-leak.
static int bio_map_user_iov(struct request *rq, struct iov_iter *iter, gfp_t gfp_mask)
{
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

	while (iov_iter_count(iter)) {
		struct page **pages, *stack_pages[UIO_FASTIOV];
		ssize_t bytes;
		size_t offs;
		int npages;

		if (nr_vecs <= ARRAY_SIZE(stack_pages)) {
			pages = stack_pages;
			bytes = iov_iter_get_pages2(iter, pages, LONG_MAX, nr_vecs, &offs);
		} else {
			bytes = iov_iter_get_pages_alloc2(iter, &pages, LONG_MAX, &offs);
		}
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

				if (!bio_add_hw_page(rq->q, bio, page, n, offs, max_sectors,
						     &same_page)) {
					if (same_page)
						put_page(page);
					break;
				}

				bytes -= n;
				offs = 0;
			}
		}
		while (j < npages)
			put_page(pages[j++]);
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
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]

out_unmap:
	bio_release_pages(bio, false);
	blk_mq_map_bio_put(bio);
	return ret;
}

// CASE POSITIVE unbalanced-release: mutation of block/blk-map.c:bio_map_user_iov() in 6.1
// The loop that puts the pages bio_add_hw_page() refused is gone: when the bio fills up (or
// the offset is misaligned, j = 0) pages[j..npages) keep their references and only the array
// is freed. This is the leftover-pages leak the real loop exists to prevent.
static int bio_map_user_iov_leftover(struct request *rq, struct iov_iter *iter, gfp_t gfp_mask)
{
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

	while (iov_iter_count(iter)) {
		struct page **pages;
		ssize_t bytes;
		size_t offs;
		int npages;

		bytes = iov_iter_get_pages_alloc2(iter, &pages, LONG_MAX, &offs);
		if (unlikely(bytes <= 0)) {
			ret = bytes ? bytes : -EFAULT;
			goto out_unmap;
		}

		npages = DIV_ROUND_UP(offs + bytes, PAGE_SIZE);

		for (j = 0; j < npages; j++) {
			struct page *page = pages[j];
			unsigned int n = PAGE_SIZE - offs;
			bool same_page = false;

			if (n > bytes)
				n = bytes;

			if (!bio_add_hw_page(rq->q, bio, page, n, offs, max_sectors, &same_page)) {
				if (same_page)
					put_page(page);
				break;
			}

			bytes -= n;
			offs = 0;
		}
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
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]

out_unmap:
	bio_release_pages(bio, false);
	blk_mq_map_bio_put(bio);
	return ret;
}
