// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: crypto/af_alg.c (6.1): af_alg_make_sg() takes iov_iter_get_pages2() references into
// sgl->pages[] (count sgl->npages) and sets them into sgl->sg; af_alg_free_sg() and the TX
// path release them.
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/scatterlist.h>

#define ALG_MAX_PAGES 16
struct af_alg_sgl {
	struct scatterlist sg[ALG_MAX_PAGES + 1];
	struct page *pages[ALG_MAX_PAGES];
	unsigned int npages;
};

// CASE NEGATIVE release-mismatch: modelled on crypto/af_alg.c:af_alg_make_sg() in 6.1
// FOLL_GET references stored in the sgl; no release here. Correct code.
int af_alg_make_sg(struct af_alg_sgl *sgl, struct iov_iter *iter, int len)
{
	size_t off;
	ssize_t n;
	int npages, i;

	n = iov_iter_get_pages2(iter, sgl->pages, len, ALG_MAX_PAGES, &off);
	if (n < 0)
		return n;

	npages = DIV_ROUND_UP(off + n, PAGE_SIZE);
	if (WARN_ON(npages == 0))
		return -EINVAL;
	sg_init_table(sgl->sg, npages + 1);

	for (i = 0, len = n; i < npages; i++) {
		int plen = min_t(int, len, PAGE_SIZE - off);

		sg_set_page(sgl->sg + i, sgl->pages[i], plen, off);
		off = 0;
		len -= plen;
	}
	sg_mark_end(sgl->sg + npages - 1);
	sgl->npages = npages;

	return n;
}

// CASE NEGATIVE release-mismatch: modelled on crypto/af_alg.c:af_alg_free_sg() in 6.1
// The references af_alg_make_sg() stored are put with put_page(). Correct code.
void af_alg_free_sg(struct af_alg_sgl *sgl)
{
	int i;

	for (i = 0; i < sgl->npages; i++)
		put_page(sgl->pages[i]);
}

// CASE POSITIVE release-mismatch: mutation of crypto/af_alg.c:af_alg_free_sg() in 6.1
// Released through the scatterlist view with unpin_user_page(sg_page(...)) as if
// af_alg_make_sg() had pinned: the pages hold FOLL_GET references from iov_iter_get_pages2(),
// and unpinning them underflows the pin count.
void af_alg_free_sg_unpin(struct af_alg_sgl *sgl)
{
	int i;

	for (i = 0; i < sgl->npages; i++)
		unpin_user_page(sg_page(sgl->sg + i));
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
}
