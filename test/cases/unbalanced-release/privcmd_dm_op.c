// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/xen/privcmd.c (6.1): IOCTL_PRIVCMD_DM_OP pins every user buffer for the
// duration of the hypercall; lock_pages() accumulates pins into the caller's array and counts
// them in *pinned, and the ioctl unpins 'pinned' pages at its single exit.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/fs.h>

#define DOMID_INVALID 0x7FF4U
typedef u16 domid_t;
struct privcmd_dm_op_buf { void __user *uptr; size_t size; };
struct privcmd_dm_op { domid_t dom; u16 num; const struct privcmd_dm_op_buf __user *ubufs; };
struct xen_dm_op_buf { void *h; u64 size; };
struct privcmd_data { domid_t domid; };
static unsigned int privcmd_dm_op_max_num = 16;
static unsigned int privcmd_dm_op_buf_max_size = 4096;
long HYPERVISOR_dm_op(domid_t dom, unsigned int nr_bufs, struct xen_dm_op_buf *bufs);
void xen_preemptible_hcall_begin(void);
void xen_preemptible_hcall_end(void);

// CASE NEGATIVE unbalanced-release: modelled on drivers/xen/privcmd.c:lock_pages() in 6.1
// Pins accumulate across iterations into the caller's pages[] and the out-count *pinned; an
// error return leaves them there on purpose: privcmd_ioctl_dm_op() unpins 'pinned' pages on
// every path. Correct code.
static int lock_pages(struct privcmd_dm_op_buf kbufs[], unsigned int num,
		      struct page *pages[], unsigned int nr_pages, unsigned int *pinned)
{
	unsigned int i, off = 0;

	for (i = 0; i < num; ) {
		unsigned int requested;
		int page_count;

		requested = DIV_ROUND_UP(offset_in_page(kbufs[i].uptr) + kbufs[i].size,
					 PAGE_SIZE) - off;
		if (requested > nr_pages)
			return -ENOSPC;

		page_count = pin_user_pages_fast((unsigned long)kbufs[i].uptr + off * PAGE_SIZE,
						 requested, FOLL_WRITE, pages);
		if (page_count <= 0)
			return page_count ? : -EFAULT;

		*pinned += page_count;
		nr_pages -= page_count;
		pages += page_count;

		off = (requested == page_count) ? 0 : off + page_count;
		i += !off;
	}

	return 0;
}

// helper (not a case), as in privcmd.c:unlock_pages().
static void unlock_pages(struct page *pages[], unsigned int nr_pages)
{
	unpin_user_pages_dirty_lock(pages, nr_pages, true);
}

// CASE NEGATIVE unbalanced-release: modelled on drivers/xen/privcmd.c:privcmd_ioctl_dm_op() in 6.1
// The pins are taken by the same-file helper lock_pages() and counted in 'pinned'; the single
// exit 'out' unpins exactly 'pinned' pages whether lock_pages() failed half-way or the
// hypercall ran. Correct code.
static long privcmd_ioctl_dm_op(struct file *file, void __user *udata)
{
	struct privcmd_data *data = file->private_data;
	struct privcmd_dm_op kdata;
	struct privcmd_dm_op_buf *kbufs;
	unsigned int nr_pages = 0;
	struct page **pages = NULL;
	struct xen_dm_op_buf *xbufs = NULL;
	unsigned int i;
	long rc;
	unsigned int pinned = 0;

	if (copy_from_user(&kdata, udata, sizeof(kdata)))
		return -EFAULT;

	if (data->domid != DOMID_INVALID && data->domid != kdata.dom)
		return -EPERM;

	if (kdata.num == 0)
		return 0;

	if (kdata.num > privcmd_dm_op_max_num)
		return -E2BIG;

	kbufs = kcalloc(kdata.num, sizeof(*kbufs), GFP_KERNEL);
	if (!kbufs)
		return -ENOMEM;

	if (copy_from_user(kbufs, kdata.ubufs, sizeof(*kbufs) * kdata.num)) {
		rc = -EFAULT;
		goto out;
	}

	for (i = 0; i < kdata.num; i++) {
		if (kbufs[i].size > privcmd_dm_op_buf_max_size) {
			rc = -E2BIG;
			goto out;
		}
		if (!access_ok(kbufs[i].uptr, kbufs[i].size)) {
			rc = -EFAULT;
			goto out;
		}
		nr_pages += DIV_ROUND_UP(offset_in_page(kbufs[i].uptr) + kbufs[i].size, PAGE_SIZE);
	}

	pages = kcalloc(nr_pages, sizeof(*pages), GFP_KERNEL);
	if (!pages) {
		rc = -ENOMEM;
		goto out;
	}

	xbufs = kcalloc(kdata.num, sizeof(*xbufs), GFP_KERNEL);
	if (!xbufs) {
		rc = -ENOMEM;
		goto out;
	}

	rc = lock_pages(kbufs, kdata.num, pages, nr_pages, &pinned);
	if (rc < 0)
		goto out;

	for (i = 0; i < kdata.num; i++) {
		xbufs[i].h = kbufs[i].uptr;
		xbufs[i].size = kbufs[i].size;
	}

	xen_preemptible_hcall_begin();
	rc = HYPERVISOR_dm_op(kdata.dom, kdata.num, xbufs);
	xen_preemptible_hcall_end();

out:
	unlock_pages(pages, pinned);
	kfree(xbufs);
	kfree(pages);
	kfree(kbufs);

	return rc;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/xen/privcmd.c:privcmd_ioctl_dm_op() in 6.1
// A lock_pages() failure frees the arrays directly instead of going through 'out': whatever
// lock_pages() pinned before failing (counted in 'pinned') is never unpinned.
static long privcmd_ioctl_dm_op_lock_fail(struct file *file, void __user *udata)
{
	struct privcmd_dm_op kdata;
	struct privcmd_dm_op_buf *kbufs;
	unsigned int nr_pages = 0;
	struct page **pages = NULL;
	struct xen_dm_op_buf *xbufs = NULL;
	unsigned int i;
	long rc;
	unsigned int pinned = 0;

	if (copy_from_user(&kdata, udata, sizeof(kdata)))
		return -EFAULT;

	if (kdata.num == 0 || kdata.num > privcmd_dm_op_max_num)
		return -E2BIG;

	kbufs = kcalloc(kdata.num, sizeof(*kbufs), GFP_KERNEL);
	if (!kbufs)
		return -ENOMEM;

	if (copy_from_user(kbufs, kdata.ubufs, sizeof(*kbufs) * kdata.num)) {
		rc = -EFAULT;
		goto out;
	}

	for (i = 0; i < kdata.num; i++)
		nr_pages += DIV_ROUND_UP(offset_in_page(kbufs[i].uptr) + kbufs[i].size, PAGE_SIZE);

	pages = kcalloc(nr_pages, sizeof(*pages), GFP_KERNEL);
	xbufs = kcalloc(kdata.num, sizeof(*xbufs), GFP_KERNEL);
	if (!pages || !xbufs) {
		rc = -ENOMEM;
		goto out;
	}

	rc = lock_pages(kbufs, kdata.num, pages, nr_pages, &pinned);
	if (rc < 0) {
		kfree(xbufs);
		kfree(pages);
		kfree(kbufs);
		return rc;
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	}

	xen_preemptible_hcall_begin();
	rc = HYPERVISOR_dm_op(kdata.dom, kdata.num, xbufs);
	xen_preemptible_hcall_end();

out:
	unlock_pages(pages, pinned);
	kfree(xbufs);
	kfree(pages);
	kfree(kbufs);

	return rc;
}
