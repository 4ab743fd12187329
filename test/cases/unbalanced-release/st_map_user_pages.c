// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/scsi/st.c (6.1): direct I/O for the SCSI tape driver pins the user buffer into
// a fresh array that becomes STbp->mapped_pages; sgl_unmap_user_pages() unpins it after the
// command.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>

struct rq_map_data { struct page **pages; int page_order; int nr_entries; unsigned long offset; };
struct st_buffer {
	struct rq_map_data map_data;
	struct page **mapped_pages;
	int do_dio;
};

// CASE NEGATIVE unbalanced-release: modelled on drivers/scsi/st.c:sgl_map_user_pages() in 6.1
// Success hands the array and its pins to STbp->mapped_pages (released by
// sgl_unmap_user_pages()); a short pin goes to out_unmap, which unpins 'res' pages when there
// are any. Correct code.
static int sgl_map_user_pages(struct st_buffer *STbp, const unsigned int max_pages,
			      unsigned long uaddr, size_t count, int rw)
{
	unsigned long end = (uaddr + count + PAGE_SIZE - 1) >> PAGE_SHIFT;
	unsigned long start = uaddr >> PAGE_SHIFT;
	const int nr_pages = end - start;
	int res, i;
	struct page **pages;
	struct rq_map_data *mdata = &STbp->map_data;

	if ((uaddr + count) < uaddr)
		return -EINVAL;

	if (nr_pages > max_pages)
		return -ENOMEM;

	if (count == 0)
		return 0;

	pages = kmalloc_array(max_pages, sizeof(*pages), GFP_KERNEL);
	if (pages == NULL)
		return -ENOMEM;

	res = pin_user_pages_fast(uaddr, nr_pages, rw == READ ? FOLL_WRITE : 0, pages);

	if (res < nr_pages)
		goto out_unmap;

	for (i = 0; i < nr_pages; i++)
		flush_dcache_page(pages[i]);

	mdata->offset = uaddr & ~PAGE_MASK;
	STbp->mapped_pages = pages;

	return nr_pages;
out_unmap:
	if (res > 0) {
		unpin_user_pages(pages, res);
		res = 0;
	}
	kfree(pages);
	return res;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/scsi/st.c:sgl_map_user_pages() in 6.1
// The short-pin path frees the array and returns -EFAULT without unpinning the 'res' pages
// that were pinned: they can never be unpinned.
static int sgl_map_user_pages_short(struct st_buffer *STbp, const unsigned int max_pages,
				    unsigned long uaddr, size_t count, int rw)
{
	unsigned long end = (uaddr + count + PAGE_SIZE - 1) >> PAGE_SHIFT;
	unsigned long start = uaddr >> PAGE_SHIFT;
	const int nr_pages = end - start;
	int res;
	struct page **pages;

	if (nr_pages > max_pages)
		return -ENOMEM;
	if (count == 0)
		return 0;

	pages = kmalloc_array(max_pages, sizeof(*pages), GFP_KERNEL);
	if (pages == NULL)
		return -ENOMEM;

	res = pin_user_pages_fast(uaddr, nr_pages, rw == READ ? FOLL_WRITE : 0, pages);
	if (res < nr_pages) {
		kfree(pages);
		return res < 0 ? res : -EFAULT;
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	}

	STbp->map_data.offset = uaddr & ~PAGE_MASK;
	STbp->mapped_pages = pages;

	return nr_pages;
}
