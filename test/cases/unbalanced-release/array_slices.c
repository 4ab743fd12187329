// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/gpu/drm/vmwgfx/vmwgfx_msg.c (6.1, 6.12): vmw_mksstat_add_ioctl() allocates
// one page-pointer array and cuts it into three slices (pages_info = pages_stat + n, ...), one
// per user buffer; each slice is filled by its own pin_user_pages_fast() and each error label
// unpins its own slice.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/errno.h>

#define NSTAT 8
#define NINFO 4
#define NSTRS 4
struct stat_desc {
	unsigned long stat_ppn[NSTAT], info_ppn[NINFO], strs_ppn[NSTRS];
};
void hypervisor_add(struct stat_desc *d);

// CASE NEGATIVE unbalanced-release: modelled on drivers/gpu/drm/vmwgfx/vmwgfx_msg.c:vmw_mksstat_add_ioctl() in 6.12
// Three disjoint slices of one array, each pinned and unpinned once: the labels fall through
// from the last slice to the first, and no page is unpinned twice.
static int mksstat_add(struct stat_desc *d, unsigned long stat, int nstat, unsigned long info, int ninfo,
		       unsigned long strs, int nstrs)
{
	struct page **pages_stat, **pages_info, **pages_strs;
	int nr_stat = 0, nr_info = 0, nr_strs = 0, i;

	pages_stat = kmalloc_array(NSTAT + NINFO + NSTRS, sizeof(*pages_stat), GFP_KERNEL);
	if (!pages_stat)
		return -ENOMEM;
	pages_info = pages_stat + NSTAT;
	pages_strs = pages_info + NINFO;

	nr_stat = pin_user_pages_fast(stat, nstat, FOLL_LONGTERM, pages_stat);
	if (nr_stat != nstat)
		goto err_pin_stat;
	for (i = 0; i < nstat; ++i)
		d->stat_ppn[i] = page_to_pfn(pages_stat[i]);

	nr_info = pin_user_pages_fast(info, ninfo, FOLL_LONGTERM, pages_info);
	if (nr_info != ninfo)
		goto err_pin_info;
	for (i = 0; i < ninfo; ++i)
		d->info_ppn[i] = page_to_pfn(pages_info[i]);

	nr_strs = pin_user_pages_fast(strs, nstrs, FOLL_LONGTERM, pages_strs);
	if (nr_strs != nstrs)
		goto err_pin_strs;
	for (i = 0; i < nstrs; ++i)
		d->strs_ppn[i] = page_to_pfn(pages_strs[i]);

	hypervisor_add(d);
	kfree(pages_stat);
	return 0;

err_pin_strs:
	if (nr_strs > 0)
		unpin_user_pages(pages_strs, nr_strs);
err_pin_info:
	if (nr_info > 0)
		unpin_user_pages(pages_info, nr_info);
err_pin_stat:
	if (nr_stat > 0)
		unpin_user_pages(pages_stat, nr_stat);
	kfree(pages_stat);
	return -ENOMEM;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/gpu/drm/vmwgfx/vmwgfx_msg.c:vmw_mksstat_add_ioctl() in 6.12
// A copy-and-paste slip in the last label: it unpins the info slice, which the next label
// unpins again, and the strs slice keeps its pins.
static int mksstat_add_wrong_slice(struct stat_desc *d, unsigned long stat, int nstat, unsigned long info,
				   int ninfo, unsigned long strs, int nstrs)
{
	struct page **pages_stat, **pages_info, **pages_strs;
	int nr_stat = 0, nr_info = 0, nr_strs = 0, i;

	pages_stat = kmalloc_array(NSTAT + NINFO + NSTRS, sizeof(*pages_stat), GFP_KERNEL);
	if (!pages_stat)
		return -ENOMEM;
	pages_info = pages_stat + NSTAT;
	pages_strs = pages_info + NINFO;

	nr_stat = pin_user_pages_fast(stat, nstat, FOLL_LONGTERM, pages_stat);
	if (nr_stat != nstat)
		goto err_pin_stat;
	for (i = 0; i < nstat; ++i)
		d->stat_ppn[i] = page_to_pfn(pages_stat[i]);

	nr_info = pin_user_pages_fast(info, ninfo, FOLL_LONGTERM, pages_info);
	if (nr_info != ninfo)
		goto err_pin_info;
	for (i = 0; i < ninfo; ++i)
		d->info_ppn[i] = page_to_pfn(pages_info[i]);

	nr_strs = pin_user_pages_fast(strs, nstrs, FOLL_LONGTERM, pages_strs);
	if (nr_strs != nstrs)
		goto err_pin_strs;
	for (i = 0; i < nstrs; ++i)
		d->strs_ppn[i] = page_to_pfn(pages_strs[i]);

	hypervisor_add(d);
	kfree(pages_stat);
	return 0;

err_pin_strs:
	if (nr_strs > 0)
		unpin_user_pages(pages_info, nr_strs);
err_pin_info:
	if (nr_info > 0)
		unpin_user_pages(pages_info, nr_info);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
err_pin_stat:
	if (nr_stat > 0)
		unpin_user_pages(pages_stat, nr_stat);
	kfree(pages_stat);
	return -ENOMEM;
}
