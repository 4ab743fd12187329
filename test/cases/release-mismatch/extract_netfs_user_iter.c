// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: fs/netfs/iterator.c and fs/netfs/direct_read.c (6.12): netfs_extract_user_iter()
// pins a user iterator's pages into a bvec array and returns an ITER_BVEC over them; the read
// request records whether to unpin them from iov_iter_extract_will_pin() of the user iterator.
#define CASES_6_12
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/bvec.h>

#define array_size(a, b) ((a) * (b))
struct netfs_io_request {
	struct iov_iter iter;
	struct bio_vec *direct_bv;
	unsigned int direct_bv_count;
	bool direct_bv_unpin;
	size_t len;
};

// CASE NEGATIVE release-mismatch: modelled on fs/netfs/iterator.c:netfs_extract_user_iter() in 6.12
// The WARN_ON_ONCE() guard returns for anything but ITER_UBUF/ITER_IOVEC, so every extracted
// page is a pin and the cleanup's unpin_user_page(bv[i].bv_page) matches. Correct code.
ssize_t netfs_extract_user_iter(struct iov_iter *orig, size_t orig_len, struct iov_iter *new,
				iov_iter_extraction_t extraction_flags)
{
	struct bio_vec *bv = NULL;
	struct page **pages;
	unsigned int cur_npages;
	unsigned int max_pages;
	unsigned int npages = 0;
	unsigned int i;
	ssize_t ret = 0;
	size_t count = orig_len, offset, len;
	size_t bv_size, pg_size;

	if (WARN_ON_ONCE(!iter_is_ubuf(orig) && !iter_is_iovec(orig)))
		return -EIO;

	max_pages = iov_iter_npages(orig, INT_MAX);
	bv_size = array_size(max_pages, sizeof(*bv));
	bv = kvmalloc(bv_size, GFP_KERNEL);
	if (!bv)
		return -ENOMEM;

	pg_size = array_size(max_pages, sizeof(*pages));
	pages = (void *)bv + bv_size - pg_size;

	while (count && npages < max_pages) {
		ret = iov_iter_extract_pages(orig, &pages, count, max_pages - npages,
					     extraction_flags, &offset);
		if (unlikely(ret <= 0)) {
			ret = ret ?: -EIO;
			break;
		}

		if (WARN(ret > count, "%s: extract_pages overrun %zd > %zu bytes\n", __func__, ret,
			 count)) {
			ret = -EIO;
			break;
		}

		cur_npages = DIV_ROUND_UP(offset + ret, PAGE_SIZE);
		if (WARN(cur_npages > max_pages - npages, "%s: extract_pages overrun %u > %u pages\n",
			 __func__, npages + cur_npages, max_pages)) {
			ret = -EIO;
			break;
		}

		count -= ret;
		ret += offset;

		for (i = 0; i < cur_npages; i++) {
			len = ret > PAGE_SIZE ? PAGE_SIZE : ret;
			bvec_set_page(bv + npages + i, *pages++, len - offset, offset);
			ret -= len;
			offset = 0;
		}

		npages += cur_npages;
	}

	if (ret < 0 && (ret == -ENOMEM || npages == 0)) {
		for (i = 0; i < npages; i++)
			unpin_user_page(bv[i].bv_page);
		kvfree(bv);
		return ret;
	}

	iov_iter_bvec(new, orig->data_source, bv, npages, orig_len - count);
	return npages;
}

// CASE POSITIVE release-mismatch: mutation of fs/netfs/iterator.c:netfs_extract_user_iter() in 6.12
// The user-only guard replaced by a will-pin test asked of the iterator being built, 'new',
// which the failure path re-initialises as the ITER_BVEC over bv before asking: the answer is
// false, so the pins taken from a user 'orig' are never unpinned on that path (a leak, hence
// the unbalanced-release expectation on its return too); and for a non-user
// 'orig' (allowed now) the success path would hand out pages nobody pinned. The will-pin
// answer must come from the iterator extracted from.
ssize_t netfs_extract_iter_wrong_pin_test(struct iov_iter *orig, size_t orig_len,
					  struct iov_iter *new,
					  iov_iter_extraction_t extraction_flags)
{
	struct bio_vec *bv = NULL;
	struct page **pages;
	unsigned int cur_npages;
	unsigned int max_pages;
	unsigned int npages = 0;
	unsigned int i;
	ssize_t ret = 0;
	size_t count = orig_len, offset, len;
	size_t bv_size, pg_size;

	max_pages = iov_iter_npages(orig, INT_MAX);
	bv_size = array_size(max_pages, sizeof(*bv));
	bv = kvmalloc(bv_size, GFP_KERNEL);
	if (!bv)
		return -ENOMEM;

	pg_size = array_size(max_pages, sizeof(*pages));
	pages = (void *)bv + bv_size - pg_size;

	while (count && npages < max_pages) {
		ret = iov_iter_extract_pages(orig, &pages, count, max_pages - npages,
					     extraction_flags, &offset);
		if (unlikely(ret <= 0)) {
			ret = ret ?: -EIO;
			break;
		}

		cur_npages = DIV_ROUND_UP(offset + ret, PAGE_SIZE);
		count -= ret;
		ret += offset;

		for (i = 0; i < cur_npages; i++) {
			len = ret > PAGE_SIZE ? PAGE_SIZE : ret;
			bvec_set_page(bv + npages + i, *pages++, len - offset, offset);
			ret -= len;
			offset = 0;
		}

		npages += cur_npages;
	}

	if (ret < 0 && npages) {
		iov_iter_bvec(new, orig->data_source, bv, npages, orig_len - count);
		if (iov_iter_extract_will_pin(new)) {
			for (i = 0; i < npages; i++)
				unpin_user_page(bv[i].bv_page);
				// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
		}
		kvfree(bv);
		return ret;
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	}

	iov_iter_bvec(new, orig->data_source, bv, npages, orig_len - count);
	return npages;
}

// CASE NEGATIVE release-mismatch: modelled on fs/netfs/direct_read.c:netfs_unbuffered_read_iter_locked() in 6.12
// direct_bv_unpin takes iov_iter_extract_will_pin() of the caller's user iterator (still
// user-backed after the extraction advanced it), not of the BVEC built over the pins; the
// request's free routine unpins by that field. Correct code.
static int netfs_dio_setup_buffer(struct netfs_io_request *rreq, struct iov_iter *iter,
				  size_t orig_count)
{
	ssize_t ret;

	if (user_backed_iter(iter)) {
		ret = netfs_extract_user_iter(iter, rreq->len, &rreq->iter, 0);
		if (ret < 0)
			return ret;
		rreq->direct_bv = (struct bio_vec *)rreq->iter.bvec;
		rreq->direct_bv_count = ret;
		rreq->direct_bv_unpin = iov_iter_extract_will_pin(iter);
		rreq->len = iov_iter_count(&rreq->iter);
	} else {
		rreq->iter = *iter;
		rreq->len = orig_count;
		rreq->direct_bv_unpin = false;
		iov_iter_advance(iter, orig_count);
	}
	return 0;
}

// CASE NEGATIVE release-mismatch: modelled on fs/netfs/objects.c:netfs_free_request() in 6.12
// Unpins the direct bvec only when rreq->direct_bv_unpin (the stored will-pin answer).
static void netfs_free_direct_bv(struct netfs_io_request *rreq)
{
	unsigned int i;

	if (rreq->direct_bv) {
		for (i = 0; i < rreq->direct_bv_count; i++) {
			if (rreq->direct_bv[i].bv_page) {
				if (rreq->direct_bv_unpin)
					unpin_user_page(rreq->direct_bv[i].bv_page);
			}
		}
		kvfree(rreq->direct_bv);
	}
}
