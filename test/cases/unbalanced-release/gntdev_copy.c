// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/xen/gntdev.c (6.1): IOCTL_GNTDEV_GRANT_COPY pins one user page per local
// segment into batch->pages[] and unpins the whole batch in gntdev_put_pages() after each
// hypercall, and on every error of the ioctl loop.
#include <linux/mm.h>
#include <linux/uaccess.h>

#define GNTDEV_COPY_BATCH 16
#define XEN_PAGE_SIZE PAGE_SIZE
#define XEN_PAGE_MASK PAGE_MASK
#define XEN_PFN_DOWN(x) ((x) >> PAGE_SHIFT)
#define GNTCOPY_source_gref (1 << 0)
#define GNTCOPY_dest_gref (1 << 1)
#define GNTST_okay 0
#define DOMID_SELF 0x7FF0U

struct gnttab_copy_ptr { union { u32 ref; unsigned long gmfn; } u; u16 domid; u16 offset; };
struct gnttab_copy { struct gnttab_copy_ptr source, dest; u16 len; u16 flags; s16 status; };
struct gntdev_grant_copy_segment {
	union { void __user *virt; struct { u32 ref; u16 offset; u16 domid; } foreign; } source, dest;
	u16 len;
	u16 flags;
	s16 status;
};
struct gntdev_copy_batch {
	struct gnttab_copy ops[GNTDEV_COPY_BATCH];
	struct page *pages[GNTDEV_COPY_BATCH];
	s16 __user *status[GNTDEV_COPY_BATCH];
	unsigned int nr_ops;
	unsigned int nr_pages;
	bool writeable;
};
unsigned long page_to_xen_pfn(struct page *page);
unsigned long pfn_to_gfn(unsigned long pfn);
int gntdev_copy(struct gntdev_copy_batch *batch);

// CASE NEGATIVE unbalanced-release: modelled on drivers/xen/gntdev.c:gntdev_get_page() in 6.1
// The pinned page is stored in batch->pages[batch->nr_pages++]: the batch owns it and
// gntdev_put_pages() unpins all of them. Correct code.
static int gntdev_get_page(struct gntdev_copy_batch *batch, void __user *virt,
			   unsigned long *gfn)
{
	unsigned long addr = (unsigned long)virt;
	struct page *page;
	unsigned long xen_pfn;
	int ret;

	ret = pin_user_pages_fast(addr, 1, batch->writeable ? FOLL_WRITE : 0, &page);
	if (ret < 0)
		return ret;

	batch->pages[batch->nr_pages++] = page;

	xen_pfn = page_to_xen_pfn(page) + XEN_PFN_DOWN(addr & ~PAGE_MASK);
	*gfn = pfn_to_gfn(xen_pfn);

	return 0;
}

// helper (not a case), as in gntdev.c:gntdev_put_pages().
static void gntdev_put_pages(struct gntdev_copy_batch *batch)
{
	unpin_user_pages_dirty_lock(batch->pages, batch->nr_pages, batch->writeable);
	batch->nr_pages = 0;
	batch->writeable = false;
}

// CASE NEGATIVE unbalanced-release: modelled on drivers/xen/gntdev.c:gntdev_grant_copy_seg() in 6.1
// Error returns in the middle of a segment leave pages in the batch: the ioctl
// (gntdev_ioctl_grant_copy()) calls gntdev_put_pages(batch) when a segment fails. Correct code.
static int gntdev_grant_copy_seg(struct gntdev_copy_batch *batch,
				 struct gntdev_grant_copy_segment *seg, s16 __user *status)
{
	u16 copied = 0;

	if (!(seg->flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref)))
		return -EINVAL;

	if (put_user(GNTST_okay, status))
		return -EFAULT;

	while (copied < seg->len) {
		struct gnttab_copy *op;
		void __user *virt;
		size_t len, off;
		unsigned long gfn;
		int ret;

		if (batch->nr_ops >= GNTDEV_COPY_BATCH) {
			ret = gntdev_copy(batch);
			if (ret < 0)
				return ret;
		}

		len = seg->len - copied;

		op = &batch->ops[batch->nr_ops];
		op->flags = 0;

		if (seg->flags & GNTCOPY_source_gref) {
			op->source.u.ref = seg->source.foreign.ref;
			op->source.domid = seg->source.foreign.domid;
			op->source.offset = seg->source.foreign.offset + copied;
			op->flags |= GNTCOPY_source_gref;
		} else {
			virt = seg->source.virt + copied;
			off = (unsigned long)virt & ~XEN_PAGE_MASK;
			len = min(len, (size_t)XEN_PAGE_SIZE - off);
			batch->writeable = false;

			ret = gntdev_get_page(batch, virt, &gfn);
			if (ret < 0)
				return ret;

			op->source.u.gmfn = gfn;
			op->source.domid = DOMID_SELF;
			op->source.offset = off;
		}

		if (seg->flags & GNTCOPY_dest_gref) {
			op->dest.u.ref = seg->dest.foreign.ref;
			op->dest.domid = seg->dest.foreign.domid;
			op->dest.offset = seg->dest.foreign.offset + copied;
			op->flags |= GNTCOPY_dest_gref;
		} else {
			virt = seg->dest.virt + copied;
			off = (unsigned long)virt & ~XEN_PAGE_MASK;
			len = min(len, (size_t)XEN_PAGE_SIZE - off);
			batch->writeable = true;

			ret = gntdev_get_page(batch, virt, &gfn);
			if (ret < 0)
				return ret;

			op->dest.u.gmfn = gfn;
			op->dest.domid = DOMID_SELF;
			op->dest.offset = off;
		}

		op->len = len;
		copied += len;

		batch->status[batch->nr_ops] = status;
		batch->nr_ops++;
	}

	return 0;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/xen/gntdev.c:gntdev_get_page() in 6.1
// The page is pinned but a later check fails before it is recorded in the batch, so
// gntdev_put_pages() never sees it: the pin on the user page is leaked.
static int gntdev_get_page_full_batch(struct gntdev_copy_batch *batch, void __user *virt,
				      unsigned long *gfn)
{
	unsigned long addr = (unsigned long)virt;
	struct page *page;
	int ret;

	ret = pin_user_pages_fast(addr, 1, batch->writeable ? FOLL_WRITE : 0, &page);
	if (ret < 0)
		return ret;

	if (batch->nr_pages >= GNTDEV_COPY_BATCH)
		return -E2BIG;
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]

	batch->pages[batch->nr_pages++] = page;
	*gfn = pfn_to_gfn(page_to_xen_pfn(page) + XEN_PFN_DOWN(addr & ~PAGE_MASK));

	return 0;
}
