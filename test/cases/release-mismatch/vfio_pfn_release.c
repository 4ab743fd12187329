// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/vfio/vfio_iommu_type1.c (6.1): VFIO pins user pages for the IOMMU and keeps
// only their pfns; put_pfn() turns a pfn back into its page with pfn_to_page() and unpins it.
#include <linux/mm.h>

#define IOMMU_WRITE (1 << 1)
struct vfio_dma { int prot; struct task_struct *task; };
bool is_invalid_reserved_pfn(unsigned long pfn);
bool is_zero_pfn(unsigned long pfn);
unsigned long untagged_addr(unsigned long addr);
int follow_fault_pfn(struct vm_area_struct *vma, struct mm_struct *mm, unsigned long vaddr,
		     unsigned long *pfn, bool write_fault);
struct mm_struct *get_task_mm(struct task_struct *task);
void mmput(struct mm_struct *mm);
int vfio_lock_acct(struct vfio_dma *dma, long npage, bool async);

// helper (not a case), as in vfio_iommu_type1.c:put_pfn(): a pfn view of a pinned page.
static int put_pfn(unsigned long pfn, int prot)
{
	if (!is_invalid_reserved_pfn(pfn)) {
		struct page *page = pfn_to_page(pfn);

		unpin_user_pages_dirty_lock(&page, 1, prot & IOMMU_WRITE);
		return 1;
	}
	return 0;
}

// helper (not a case): put_pfn() written with put_page(), the pre-FOLL_PIN release.
static int put_pfn_put_page(unsigned long pfn, int prot)
{
	if (!is_invalid_reserved_pfn(pfn)) {
		struct page *page = pfn_to_page(pfn);

		if (prot & IOMMU_WRITE)
			set_page_dirty_lock(page);
		put_page(page);
		return 1;
	}
	return 0;
}

// CASE NEGATIVE release-mismatch: modelled on drivers/vfio/vfio_iommu_type1.c:vaddr_get_pfns() in 6.1
// Pins into the caller's batch and returns their number; the zero pages among them are unpinned
// here with unpin_user_page() (put_pfn() will skip them as reserved). Correct code.
static int vaddr_get_pfns(struct mm_struct *mm, unsigned long vaddr, long npages, int prot,
			  unsigned long *pfn, struct page **pages)
{
	struct vm_area_struct *vma;
	unsigned int flags = 0;
	int ret;

	if (prot & IOMMU_WRITE)
		flags |= FOLL_WRITE;

	mmap_read_lock(mm);
	ret = pin_user_pages_remote(mm, vaddr, npages, flags | FOLL_LONGTERM, pages, NULL, NULL);
	if (ret > 0) {
		int i;

		for (i = 0; i < ret; i++) {
			if (unlikely(is_zero_pfn(page_to_pfn(pages[i]))))
				unpin_user_page(pages[i]);
		}

		*pfn = page_to_pfn(pages[0]);
		goto done;
	}

	vaddr = untagged_addr(vaddr);

retry:
	vma = vma_lookup(mm, vaddr);

	if (vma && vma->vm_flags & VM_PFNMAP) {
		ret = follow_fault_pfn(vma, mm, vaddr, pfn, prot & IOMMU_WRITE);
		if (ret == -EAGAIN)
			goto retry;

		if (!ret) {
			if (is_invalid_reserved_pfn(*pfn))
				ret = 1;
			else
				ret = -EFAULT;
		}
	}
done:
	mmap_read_unlock(mm);
	return ret;
}

// CASE NEGATIVE release-mismatch: modelled on drivers/vfio/vfio_iommu_type1.c:vfio_pin_page_external() in 6.1
// One page pinned through the same-file helper vaddr_get_pfns(); when accounting fails it is
// released by pfn through put_pfn(), which unpins. Correct code.
static int vfio_pin_page_external(struct vfio_dma *dma, unsigned long vaddr,
				  unsigned long *pfn_base, bool do_accounting)
{
	struct page *pages[1];
	struct mm_struct *mm;
	int ret;

	mm = get_task_mm(dma->task);
	if (!mm)
		return -ENODEV;

	ret = vaddr_get_pfns(mm, vaddr, 1, dma->prot, pfn_base, pages);
	if (ret != 1)
		goto out;

	ret = 0;

	if (do_accounting && !is_invalid_reserved_pfn(*pfn_base)) {
		ret = vfio_lock_acct(dma, 1, true);
		if (ret) {
			put_pfn(*pfn_base, dma->prot);
			if (ret == -ENOMEM)
				pr_warn("%s: Task %d (%s) RLIMIT_MEMLOCK exceeded\n", __func__, 0, "");
		}
	}

out:
	mmput(mm);
	return ret;
}

// CASE POSITIVE release-mismatch: mutation of drivers/vfio/vfio_iommu_type1.c:vfio_pin_page_external() in 6.1
// The accounting failure releases the pinned page through put_pfn_put_page(), i.e.
// put_page(pfn_to_page(pfn)): a pin dropped as a reference. Reported at the helper call.
static int vfio_pin_page_external_put(struct vfio_dma *dma, unsigned long vaddr,
				      unsigned long *pfn_base, bool do_accounting)
{
	struct page *pages[1];
	struct mm_struct *mm;
	int ret;

	mm = get_task_mm(dma->task);
	if (!mm)
		return -ENODEV;

	ret = vaddr_get_pfns(mm, vaddr, 1, dma->prot, pfn_base, pages);
	if (ret != 1)
		goto out;

	ret = 0;

	if (do_accounting && !is_invalid_reserved_pfn(*pfn_base)) {
		ret = vfio_lock_acct(dma, 1, true);
		if (ret)
			put_pfn_put_page(*pfn_base, dma->prot);
			// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
	}

out:
	mmput(mm);
	return ret;
}
