// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: lib/scatterlist.c (6.12): extract_iter_to_sg() dispatches on iov_iter_type(); only
// ITER_UBUF/ITER_IOVEC reach extract_user_to_sg(), whose pages are pinned, so its failure path
// unpins them through the sg_page() view.
#define CASES_6_12
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/scatterlist.h>

#define array_size(a, b) ((a) * (b))
ssize_t extract_bvec_to_sg(struct iov_iter *iter, ssize_t maxsize, struct sg_table *sgtable,
			   unsigned int sg_max, iov_iter_extraction_t extraction_flags);
ssize_t extract_kvec_to_sg(struct iov_iter *iter, ssize_t maxsize, struct sg_table *sgtable,
			   unsigned int sg_max, iov_iter_extraction_t extraction_flags);
ssize_t extract_folioq_to_sg(struct iov_iter *iter, ssize_t maxsize, struct sg_table *sgtable,
			     unsigned int sg_max, iov_iter_extraction_t extraction_flags);
ssize_t extract_xarray_to_sg(struct iov_iter *iter, ssize_t maxsize, struct sg_table *sgtable,
			     unsigned int sg_max, iov_iter_extraction_t extraction_flags);

// CASE NEGATIVE release-mismatch: modelled on lib/scatterlist.c:extract_user_to_sg() in 6.12
// Reached only from the ITER_UBUF/ITER_IOVEC arm of extract_iter_to_sg()'s switch: the pages
// are pins, the sg entries own them, and the failure path unpins the entries it added. Correct.
static ssize_t extract_user_to_sg(struct iov_iter *iter, ssize_t maxsize,
				  struct sg_table *sgtable, unsigned int sg_max,
				  iov_iter_extraction_t extraction_flags)
{
	struct scatterlist *sg = sgtable->sgl + sgtable->nents;
	struct page **pages;
	unsigned int npages;
	ssize_t ret = 0, res;
	size_t len, off;

	pages = (void *)sg + array_size(sg_max, sizeof(struct scatterlist));
	pages -= sg_max;

	do {
		res = iov_iter_extract_pages(iter, &pages, maxsize, sg_max, extraction_flags, &off);
		if (res <= 0)
			goto failed;

		len = res;
		maxsize -= len;
		ret += len;
		npages = DIV_ROUND_UP(off + len, PAGE_SIZE);
		sg_max -= npages;

		for (; npages > 0; npages--) {
			struct page *page = *pages;
			size_t seg = min_t(size_t, PAGE_SIZE - off, len);

			*pages++ = NULL;
			sg_set_page(sg, page, seg, off);
			sgtable->nents++;
			sg++;
			len -= seg;
			off = 0;
		}
	} while (maxsize > 0 && sg_max > 0);

	return ret;

failed:
	while (sgtable->nents > sgtable->orig_nents)
		unpin_user_page(sg_page(&sgtable->sgl[--sgtable->nents]));
	return res;
}

// CASE POSITIVE release-mismatch: mutation of lib/scatterlist.c:extract_user_to_sg() in 6.12
// The failure path drops the entries with put_page(sg_page(...)): the extracted user pages are
// pins (FOLL_PIN), not references.
static ssize_t extract_user_to_sg_put(struct iov_iter *iter, ssize_t maxsize,
				      struct sg_table *sgtable, unsigned int sg_max,
				      iov_iter_extraction_t extraction_flags)
{
	struct scatterlist *sg = sgtable->sgl + sgtable->nents;
	struct page **pages;
	unsigned int npages;
	ssize_t ret = 0, res;
	size_t len, off;

	pages = (void *)sg + array_size(sg_max, sizeof(struct scatterlist));
	pages -= sg_max;

	do {
		res = iov_iter_extract_pages(iter, &pages, maxsize, sg_max, extraction_flags, &off);
		if (res <= 0)
			goto failed;

		len = res;
		maxsize -= len;
		ret += len;
		npages = DIV_ROUND_UP(off + len, PAGE_SIZE);
		sg_max -= npages;

		for (; npages > 0; npages--) {
			struct page *page = *pages;
			size_t seg = min_t(size_t, PAGE_SIZE - off, len);

			*pages++ = NULL;
			sg_set_page(sg, page, seg, off);
			sgtable->nents++;
			sg++;
			len -= seg;
			off = 0;
		}
	} while (maxsize > 0 && sg_max > 0);

	return ret;

failed:
	while (sgtable->nents > sgtable->orig_nents)
		put_page(sg_page(&sgtable->sgl[--sgtable->nents]));
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
	return res;
}

// CASE NEGATIVE release-mismatch: modelled on lib/scatterlist.c:extract_iter_to_sg() in 6.12
// The dispatcher: the user arm is the only one that pins. No pages handled here.
ssize_t extract_iter_to_sg(struct iov_iter *iter, size_t maxsize, struct sg_table *sgtable,
			   unsigned int sg_max, iov_iter_extraction_t extraction_flags)
{
	if (maxsize == 0 || sg_max == 0)
		return 0;

	switch (iov_iter_type(iter)) {
	case ITER_UBUF:
	case ITER_IOVEC:
		return extract_user_to_sg(iter, maxsize, sgtable, sg_max, extraction_flags);
	case ITER_BVEC:
		return extract_bvec_to_sg(iter, maxsize, sgtable, sg_max, extraction_flags);
	case ITER_KVEC:
		return extract_kvec_to_sg(iter, maxsize, sgtable, sg_max, extraction_flags);
	case ITER_FOLIOQ:
		return extract_folioq_to_sg(iter, maxsize, sgtable, sg_max, extraction_flags);
	case ITER_XARRAY:
		return extract_xarray_to_sg(iter, maxsize, sgtable, sg_max, extraction_flags);
	default:
		pr_err("%s(%u) unsupported\n", __func__, iov_iter_type(iter));
		WARN_ON_ONCE(1);
		return -EIO;
	}
}

// caller (not a case): the same dispatcher for the mutated extract_user_to_sg_put().
ssize_t extract_iter_to_sg_put(struct iov_iter *iter, size_t maxsize, struct sg_table *sgtable,
			       unsigned int sg_max, iov_iter_extraction_t extraction_flags)
{
	if (maxsize == 0 || sg_max == 0)
		return 0;
	if (user_backed_iter(iter))
		return extract_user_to_sg_put(iter, maxsize, sgtable, sg_max, extraction_flags);
	return extract_kvec_to_sg(iter, maxsize, sgtable, sg_max, extraction_flags);
}
