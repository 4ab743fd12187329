// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: io_uring/memmap.c and io_uring/rsrc.c (6.12): registered buffers are pinned by
// io_pin_pages() and, when registration fails, unpinned through the folio view
// (unpin_user_folio(page_folio(pages[i]), 1)).
#define CASES_6_12
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/bvec.h>
#include <linux/refcount.h>

struct io_ring_ctx;
struct io_mapped_ubuf {
	u64 ubuf;
	unsigned int len;
	unsigned int nr_bvecs;
	unsigned int folio_shift;
	refcount_t refs;
	unsigned long acct_pages;
	struct bio_vec bvec[];
};
struct io_imu_folio_data { unsigned int nr_pages_head; unsigned int folio_shift; };
#define struct_size(p, member, n) (sizeof(*(p)) + sizeof((p)->member[0]) * (n))
bool io_try_coalesce_buffer(struct page ***pages, int *nr_pages, struct io_imu_folio_data *data);
int io_buffer_account_pin(struct io_ring_ctx *ctx, struct page **pages, int nr_pages,
			  struct io_mapped_ubuf *imu, struct page **last_hpage);

// CASE NEGATIVE release-mismatch: modelled on io_uring/memmap.c:io_pin_pages() in 6.12
// A partial pin is unpinned with unpin_user_pages() before the ERR_PTR return; a full pin is
// returned to the caller. Correct code.
struct page **io_pin_pages(unsigned long uaddr, unsigned long len, int *npages)
{
	unsigned long start, end, nr_pages;
	struct page **pages;
	int ret;

	if (check_add_overflow(uaddr, len, &end))
		return ERR_PTR(-EOVERFLOW);
	if (check_add_overflow(end, PAGE_SIZE - 1, &end))
		return ERR_PTR(-EOVERFLOW);

	end = end >> PAGE_SHIFT;
	start = uaddr >> PAGE_SHIFT;
	nr_pages = end - start;
	if (WARN_ON_ONCE(!nr_pages))
		return ERR_PTR(-EINVAL);

	pages = kvmalloc_array(nr_pages, sizeof(struct page *), GFP_KERNEL);
	if (!pages)
		return ERR_PTR(-ENOMEM);

	ret = pin_user_pages_fast(uaddr, nr_pages, FOLL_WRITE | FOLL_LONGTERM, pages);
	if (ret == nr_pages) {
		*npages = nr_pages;
		return pages;
	}

	if (ret >= 0) {
		if (ret)
			unpin_user_pages(pages, ret);
		ret = -EFAULT;
	}
	kvfree(pages);
	return ERR_PTR(ret);
}

// CASE NEGATIVE release-mismatch: modelled on io_uring/rsrc.c:io_sqe_buffer_register() in 6.12
// The pins come from the same-file helper io_pin_pages(); on failure each page is unpinned
// through its folio with unpin_user_folio(page_folio(pages[i]), 1); on success the bvecs of
// the mapped buffer own them. Correct code.
static int io_sqe_buffer_register(struct io_ring_ctx *ctx, struct iovec *iov,
				  struct io_mapped_ubuf **pimu, struct page **last_hpage)
{
	struct io_mapped_ubuf *imu = NULL;
	struct page **pages = NULL;
	unsigned long off;
	size_t size;
	int ret, nr_pages, i;
	struct io_imu_folio_data data;
	bool coalesced;

	*pimu = NULL;
	if (!iov->iov_base)
		return 0;

	ret = -ENOMEM;
	pages = io_pin_pages((unsigned long)iov->iov_base, iov->iov_len, &nr_pages);
	if (IS_ERR(pages)) {
		ret = PTR_ERR(pages);
		pages = NULL;
		goto done;
	}

	coalesced = io_try_coalesce_buffer(&pages, &nr_pages, &data);

	imu = kvmalloc(struct_size(imu, bvec, nr_pages), GFP_KERNEL_ACCOUNT);
	if (!imu)
		goto done;

	ret = io_buffer_account_pin(ctx, pages, nr_pages, imu, last_hpage);
	if (ret)
		goto done;

	size = iov->iov_len;
	imu->ubuf = (unsigned long)iov->iov_base;
	imu->len = iov->iov_len;
	imu->nr_bvecs = nr_pages;
	imu->folio_shift = PAGE_SHIFT;
	if (coalesced)
		imu->folio_shift = data.folio_shift;
	refcount_set(&imu->refs, 1);
	off = (unsigned long)iov->iov_base & ~PAGE_MASK;
	*pimu = imu;
	ret = 0;

	for (i = 0; i < nr_pages; i++) {
		size_t vec_len;

		vec_len = min_t(size_t, size, (1UL << imu->folio_shift) - off);
		bvec_set_page(&imu->bvec[i], pages[i], vec_len, off);
		off = 0;
		size -= vec_len;
	}
done:
	if (ret) {
		kvfree(imu);
		if (pages) {
			for (i = 0; i < nr_pages; i++)
				unpin_user_folio(page_folio(pages[i]), 1);
		}
	}
	kvfree(pages);
	return ret;
}

// CASE POSITIVE release-mismatch: mutation of io_uring/rsrc.c:io_sqe_buffer_register() in 6.12
// The failure path drops each page through its folio with folio_put(page_folio(pages[i])):
// the pages were pinned by io_pin_pages() (FOLL_PIN | FOLL_LONGTERM) and need unpin_folio()
// or unpin_user_folio(); folio_put() leaves the pin count behind.
static int io_sqe_buffer_register_folio_put(struct io_ring_ctx *ctx, struct iovec *iov,
					    struct io_mapped_ubuf **pimu,
					    struct page **last_hpage)
{
	struct io_mapped_ubuf *imu = NULL;
	struct page **pages = NULL;
	int ret, nr_pages, i;

	*pimu = NULL;
	if (!iov->iov_base)
		return 0;

	ret = -ENOMEM;
	pages = io_pin_pages((unsigned long)iov->iov_base, iov->iov_len, &nr_pages);
	if (IS_ERR(pages)) {
		ret = PTR_ERR(pages);
		pages = NULL;
		goto done;
	}

	imu = kvmalloc(struct_size(imu, bvec, nr_pages), GFP_KERNEL_ACCOUNT);
	if (!imu)
		goto done;

	ret = io_buffer_account_pin(ctx, pages, nr_pages, imu, last_hpage);
	if (ret)
		goto done;

	imu->ubuf = (unsigned long)iov->iov_base;
	imu->len = iov->iov_len;
	imu->nr_bvecs = nr_pages;
	refcount_set(&imu->refs, 1);
	*pimu = imu;
	ret = 0;

	for (i = 0; i < nr_pages; i++)
		bvec_set_page(&imu->bvec[i], pages[i], PAGE_SIZE, 0);
done:
	if (ret) {
		kvfree(imu);
		if (pages) {
			for (i = 0; i < nr_pages; i++)
				folio_put(page_folio(pages[i]));
				// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
		}
	}
	kvfree(pages);
	return ret;
}
