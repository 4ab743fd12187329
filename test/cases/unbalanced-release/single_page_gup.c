// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: one-page get_user_pages*() callers (6.1) whose result is tested in place and whose
// page is either put right away, handed to the memory-failure code with MF_COUNT_INCREASED,
// or taken without a page array at all.
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/highmem.h>

#define MF_SW_SIMULATED (1 << 5)
bool capable_sys_admin(void);
bool PageHWPoison(struct page *page);

// CASE NEGATIVE unbalanced-release: modelled on drivers/misc/sgi-gru/grufault.c:non_atomic_pte_lookup() in 6.1
// 'if (get_user_pages(vaddr, 1, ...) <= 0) return -EFAULT;': one page asked for, the result
// tested in place; the page is put once its physical address is read. Correct code.
static int non_atomic_pte_lookup(struct vm_area_struct *vma, unsigned long vaddr, int write,
				 unsigned long *paddr, int *pageshift)
{
	struct page *page;

	*pageshift = PAGE_SHIFT;
	if (get_user_pages(vaddr, 1, write ? FOLL_WRITE : 0, &page, NULL) <= 0)
		return -EFAULT;
	*paddr = page_to_phys(page);
	put_page(page);
	return 0;
}

// CASE NEGATIVE unbalanced-release: modelled on mm/madvise.c:madvise_inject_error() in 6.1
// The reference from get_user_pages_fast() is handed to soft_offline_page() /
// memory_failure() with MF_COUNT_INCREASED: those take it over (they put it themselves). The
// 'ret != 1' return took nothing when it returns (for one page: 0 or a negative errno). Correct.
static int madvise_inject_error(int behavior, unsigned long start, unsigned long end)
{
	unsigned long size;

	if (!capable_sys_admin())
		return -EPERM;

	for (; start < end; start += size) {
		unsigned long pfn;
		struct page *page;
		int ret;

		ret = get_user_pages_fast(start, 1, 0, &page);
		if (ret != 1)
			return ret;
		pfn = page_to_pfn(page);

		size = page_size(compound_head(page));

		if (behavior == MADV_SOFT_OFFLINE) {
			pr_info("Soft offlining pfn %#lx at process virtual address %#lx\n", pfn, start);
			ret = soft_offline_page(pfn, MF_COUNT_INCREASED);
		} else {
			pr_info("Injecting memory failure for pfn %#lx at process virtual address %#lx\n",
				pfn, start);
			ret = memory_failure(pfn, MF_COUNT_INCREASED | MF_SW_SIMULATED);
			if (ret == -EOPNOTSUPP)
				ret = 0;
		}

		if (ret)
			return ret;
	}

	return 0;
}

// CASE POSITIVE unbalanced-release: mutation of mm/madvise.c:madvise_inject_error() in 6.1
// An "already poisoned, skip it" shortcut added before the hand-off: the page referenced by
// get_user_pages_fast() is neither given to memory_failure() nor put, on every skipped page.
static int madvise_inject_error_skip_poisoned(int behavior, unsigned long start,
					      unsigned long end)
{
	unsigned long size;

	if (!capable_sys_admin())
		return -EPERM;

	for (; start < end; start += size) {
		unsigned long pfn;
		struct page *page;
		int ret;

		ret = get_user_pages_fast(start, 1, 0, &page);
		if (ret != 1)
			return ret;
		pfn = page_to_pfn(page);
		size = page_size(compound_head(page));

		if (PageHWPoison(page))
			continue;

		if (behavior == MADV_SOFT_OFFLINE)
			ret = soft_offline_page(pfn, MF_COUNT_INCREASED);
		else
			ret = memory_failure(pfn, MF_COUNT_INCREASED | MF_SW_SIMULATED);

		if (ret)
			return ret;
	}

	return 0;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
}

struct kvm_async_pf { struct mm_struct *mm; unsigned long addr; };

// CASE NEGATIVE unbalanced-release: modelled on virt/kvm/async_pf.c:async_pf_execute() in 6.1
// get_user_pages_remote() with a NULL page array only faults the page in: no reference is
// taken, so there is nothing to release.
static void async_pf_execute_fault_in(struct kvm_async_pf *apf)
{
	struct mm_struct *mm = apf->mm;
	unsigned long addr = apf->addr;
	int locked = 1;

	might_sleep();

	mmap_read_lock(mm);
	get_user_pages_remote(mm, addr, 1, FOLL_WRITE, NULL, NULL, &locked);
	if (locked)
		mmap_read_unlock(mm);
}

// CASE NEGATIVE unbalanced-release: modelled on kernel/events/uprobes.c:__update_ref_ctr() in 6.1
// One page, result tested ('ret <= 0' returns -EBUSY or the error with nothing taken); every
// later exit goes through 'out', which puts the page. Correct code.
static int __update_ref_ctr(struct mm_struct *mm, unsigned long vaddr, short d)
{
	void *kaddr;
	struct page *page;
	struct vm_area_struct *vma;
	int ret;
	short *ptr;

	if (!vaddr || !d)
		return -EINVAL;

	ret = get_user_pages_remote(mm, vaddr, 1, FOLL_WRITE, &page, &vma, NULL);
	if (unlikely(ret <= 0)) {
		return ret == 0 ? -EBUSY : ret;
	}

	kaddr = kmap_atomic(page);
	ptr = kaddr + (vaddr & ~PAGE_MASK);

	if (unlikely(*ptr + d < 0)) {
		pr_warn("ref_ctr going negative. vaddr: 0x%lx, curr val: %d, delta: %d\n",
			vaddr, *ptr, d);
		ret = -EINVAL;
		goto out;
	}

	*ptr += d;
	ret = 0;
out:
	kunmap_atomic(kaddr);
	put_page(page);
	return ret;
}

// CASE POSITIVE unbalanced-release: mutation of kernel/events/uprobes.c:__update_ref_ctr() in 6.1
// The "going negative" check returns directly instead of going to 'out': the page stays
// kmapped and referenced.
static int __update_ref_ctr_negative(struct mm_struct *mm, unsigned long vaddr, short d)
{
	void *kaddr;
	struct page *page;
	struct vm_area_struct *vma;
	int ret;
	short *ptr;

	ret = get_user_pages_remote(mm, vaddr, 1, FOLL_WRITE, &page, &vma, NULL);
	if (unlikely(ret <= 0))
		return ret == 0 ? -EBUSY : ret;

	kaddr = kmap_atomic(page);
	ptr = kaddr + (vaddr & ~PAGE_MASK);

	if (unlikely(*ptr + d < 0))
		return -EINVAL;
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]

	*ptr += d;
	kunmap_atomic(kaddr);
	put_page(page);
	return 0;
}

// CASE POSITIVE unbalanced-release: modelled on kernel/events/core.c:perf_virt_to_phys() before 4716023a8f6a
// The release is keyed on the page pointer, not on the result: when
// get_user_page_fast_only() fails it took no reference, whatever it left in 'p'.
static u64 virt_to_phys_put_on_failure(unsigned long virt)
{
	u64 phys_addr = 0;
	struct page *p = NULL;

	if (get_user_page_fast_only(virt, 0, &p))
		phys_addr = page_to_phys(p) + virt % PAGE_SIZE;
	if (p)
		put_page(p);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	return phys_addr;
}

// CASE NEGATIVE unbalanced-release: modelled on kernel/events/core.c:perf_virt_to_phys() in 6.1
// The fixed form: the put is under the successful result. Correct code.
static u64 virt_to_phys_put_on_success(unsigned long virt)
{
	u64 phys_addr = 0;
	struct page *p;

	if (get_user_page_fast_only(virt, 0, &p)) {
		phys_addr = page_to_phys(p) + virt % PAGE_SIZE;
		put_page(p);
	}
	return phys_addr;
}

// CASE NEGATIVE unbalanced-release: modelled on kernel/futex/core.c:get_futex_key() in 6.1
// A failed writable lookup is retried read-only into the same pointer: the put at the end
// drops the retry's reference, not the failed call's. Correct code.
static int futex_like_key(unsigned long address, int want_read, unsigned long *pfn)
{
	struct page *page;
	int err;

	err = get_user_pages_fast(address, 1, FOLL_WRITE, &page);
	if (err == -EFAULT && want_read)
		err = get_user_pages_fast(address, 1, 0, &page);
	if (err < 0)
		return err;
	*pfn = page_to_pfn(page);
	put_page(page);
	return 0;
}
