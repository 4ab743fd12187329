// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: block/bio-integrity.c and block/blk-integrity.c (6.12): user integrity (metadata)
// buffers for passthrough commands are extracted from an ITER_UBUF iterator built by
// blk_rq_integrity_map_user(), so the pages are always pinned; merged pages and the bvec
// table are unpinned with unpin_user_page().
#define CASES_6_12
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/bio.h>
#include <linux/blkdev.h>

#define REQ_NOMERGE (1U << 20)
#define REQ_INTEGRITY (1U << 21)
struct queue_limits { unsigned int max_integrity_segments; };
struct bio_integrity_payload;
struct bio_integrity_payload *bio_integrity(struct bio *bio);
unsigned long blk_lim_dma_alignment_and_pad(struct queue_limits *lim);
struct queue_limits *bdev_limits(struct block_device *bdev);
unsigned int queue_max_integrity_segments(const struct request_queue *q);
bool is_pci_p2pdma_page(const struct page *page);
int bio_integrity_copy_user(struct bio *bio, struct bio_vec *bvec, int nr_vecs, unsigned int len);
int bio_integrity_init_user(struct bio *bio, struct bio_vec *bvec, int nr_vecs, unsigned int len);
bool op_is_write(unsigned int op);
unsigned int req_op(const struct request *req);
unsigned short blk_rq_count_integrity_sg(struct request_queue *q, struct bio *bio);
struct request_ext { struct request rq; unsigned short nr_integrity_segments; unsigned int cmd_flags; };

// helper (not a case), as in bio-integrity.c:bio_integrity_unpin_bvec().
static void bio_integrity_unpin_bvec(struct bio_vec *bv, int nr_vecs)
{
	int i;

	for (i = 0; i < nr_vecs; i++)
		unpin_user_page(bv[i].bv_page);
}

// helper (not a case), as in bio-integrity.c:bvec_from_pages(): pages merged into the previous
// bvec of the same folio are unpinned (the bvec keeps one pin per folio run).
static unsigned int bvec_from_pages(struct bio_vec *bvec, struct page **pages, int nr_vecs,
				    ssize_t bytes, ssize_t offset, bool *is_p2p)
{
	unsigned int nr_bvecs = 0;
	int i, j;

	for (i = 0; i < nr_vecs; i = j) {
		size_t size = min_t(size_t, bytes, PAGE_SIZE - offset);
		struct folio *folio = page_folio(pages[i]);

		bytes -= size;
		for (j = i + 1; j < nr_vecs; j++) {
			size_t next = min_t(size_t, PAGE_SIZE, bytes);

			if (page_folio(pages[j]) != folio || pages[j] != pages[j - 1] + 1)
				break;
			unpin_user_page(pages[j]);
			size += next;
			bytes -= next;
		}

		if (is_pci_p2pdma_page(pages[i]))
			*is_p2p = true;

		bvec_set_page(&bvec[nr_bvecs], pages[i], size, offset);
		offset = 0;
		nr_bvecs++;
	}

	return nr_bvecs;
}

// CASE POSITIVE unbalanced-release: modelled on block/bio-integrity.c:bio_integrity_map_user() in 6.12 (as it is)
// With more than UIO_FASTIOV vectors 'pages' is NULL, so iov_iter_extract_pages() allocates the
// page array; when the extraction then fails (ret < 0: -ENOMEM, or pin_user_pages_fast()'s
// error) the function jumps to free_bvec, which frees only the bvec table. Unlike
// iov_iter_get_pages_alloc2(), iov_iter_extract_pages() does not free the array it allocated
// on failure (lib/iov_iter.c, want_pages_array()), so it leaks. (The partial-pin branch frees
// it; the mismatch side of this function is fine: only ITER_UBUF reaches it, see below.)
int bio_integrity_map_user(struct bio *bio, struct iov_iter *iter)
{
	struct request_queue *q = bdev_get_queue(bio->bi_bdev);
	struct page *stack_pages[UIO_FASTIOV], **pages = stack_pages;
	struct bio_vec stack_vec[UIO_FASTIOV], *bvec = stack_vec;
	iov_iter_extraction_t extraction_flags = 0;
	size_t offset, bytes = iter->count;
	bool copy, is_p2p = false;
	unsigned int nr_bvecs;
	int ret, nr_vecs;

	if (bio_integrity(bio))
		return -EINVAL;
	if (bytes >> SECTOR_SHIFT > queue_max_hw_sectors(q))
		return -E2BIG;

	nr_vecs = iov_iter_npages(iter, BIO_MAX_VECS + 1);
	if (nr_vecs > BIO_MAX_VECS)
		return -E2BIG;
	if (nr_vecs > UIO_FASTIOV) {
		bvec = kcalloc(nr_vecs, sizeof(*bvec), GFP_KERNEL);
		if (!bvec)
			return -ENOMEM;
		pages = NULL;
	}

	copy = iov_iter_alignment(iter) & blk_lim_dma_alignment_and_pad(bdev_limits(bio->bi_bdev));

	ret = iov_iter_extract_pages(iter, &pages, bytes, nr_vecs, extraction_flags, &offset);
	if (unlikely(ret < 0))
		goto free_bvec;

	if (user_backed_iter(iter) && unlikely(ret != bytes)) {
		if (ret > 0) {
			int npinned = DIV_ROUND_UP(offset + ret, PAGE_SIZE);
			int i;

			for (i = 0; i < npinned; i++)
				unpin_user_page(pages[i]);
		}
		if (pages != stack_pages)
			kvfree(pages);
		ret = -EFAULT;
		goto free_bvec;
	}

	nr_bvecs = bvec_from_pages(bvec, pages, nr_vecs, bytes, offset, &is_p2p);
	if (pages != stack_pages)
		kvfree(pages);
	if (nr_bvecs > queue_max_integrity_segments(q))
		copy = true;
	if (is_p2p)
		bio->bi_opf |= REQ_NOMERGE;

	if (copy)
		ret = bio_integrity_copy_user(bio, bvec, nr_bvecs, bytes);
	else
		ret = bio_integrity_init_user(bio, bvec, nr_bvecs, bytes);
	if (ret)
		goto release_pages;
	if (bvec != stack_vec)
		kfree(bvec);

	return 0;

release_pages:
	bio_integrity_unpin_bvec(bvec, nr_bvecs);
free_bvec:
	if (bvec != stack_vec)
		kfree(bvec);
	return ret;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
}

// CASE NEGATIVE release-mismatch: modelled on block/blk-integrity.c:blk_rq_integrity_map_user() in 6.12
// The only caller of bio_integrity_map_user(): it builds an ITER_UBUF iterator, so the
// unconditional unpin_user_page() calls above always match a pin. Correct code.
int blk_rq_integrity_map_user(struct request_ext *rqx, void __user *ubuf, ssize_t bytes)
{
	struct request *rq = &rqx->rq;
	int ret;
	struct iov_iter iter;
	unsigned int direction;

	if (op_is_write(req_op(rq)))
		direction = ITER_DEST;
	else
		direction = ITER_SOURCE;
	iov_iter_ubuf(&iter, direction, ubuf, bytes);
	ret = bio_integrity_map_user(rq->bio, &iter);
	if (ret)
		return ret;

	rqx->nr_integrity_segments = blk_rq_count_integrity_sg(rq->q, rq->bio);
	rqx->cmd_flags |= REQ_INTEGRITY;
	return 0;
}

// CASE POSITIVE release-mismatch: mutation of block/bio-integrity.c:bio_integrity_map_user() in 6.12
// The partial-pin cleanup written with put_page(): the ITER_UBUF pages were pinned by
// iov_iter_extract_pages() (pin_user_pages_fast()), never referenced.
int bio_integrity_map_user_put(struct bio *bio, struct iov_iter *iter)
{
	struct page *stack_pages[UIO_FASTIOV], **pages = stack_pages;
	struct bio_vec stack_vec[UIO_FASTIOV], *bvec = stack_vec;
	size_t offset, bytes = iter->count;
	bool is_p2p = false;
	unsigned int nr_bvecs;
	int ret, nr_vecs;

	nr_vecs = iov_iter_npages(iter, UIO_FASTIOV + 1);
	if (nr_vecs > UIO_FASTIOV)
		return -E2BIG;

	ret = iov_iter_extract_pages(iter, &pages, bytes, nr_vecs, 0, &offset);
	if (unlikely(ret < 0))
		return ret;

	if (user_backed_iter(iter) && unlikely(ret != bytes)) {
		if (ret > 0) {
			int npinned = DIV_ROUND_UP(offset + ret, PAGE_SIZE);
			int i;

			for (i = 0; i < npinned; i++)
				put_page(pages[i]);
				// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
		}
		return -EFAULT;
	}

	nr_bvecs = bvec_from_pages(bvec, pages, nr_vecs, bytes, offset, &is_p2p);
	ret = bio_integrity_init_user(bio, bvec, nr_bvecs, bytes);
	if (ret)
		bio_integrity_unpin_bvec(bvec, nr_bvecs);
	return ret;
}
