// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: arch/x86/kvm/svm/sev.c (6.1): SEV pins guest memory for launch/debug commands and
// returns the array to the caller with its count; sev_unpin_memory() releases it.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

struct kvm_sev_info { unsigned long pages_locked; };
struct kvm { struct kvm_sev_info sev_info; };
unsigned long rlimit_memlock(void);
bool capable_ipc_lock(void);
void *__vmalloc(unsigned long size, gfp_t gfp_mask);

// CASE NEGATIVE unbalanced-release: modelled on arch/x86/kvm/svm/sev.c:sev_pin_memory() in 6.1
// Success returns the pinned array (the caller owns it and calls sev_unpin_memory()); the error
// label unpins npinned when positive. Correct code.
static struct page **sev_pin_memory(struct kvm *kvm, unsigned long uaddr, unsigned long ulen,
				    unsigned long *n, unsigned int flags)
{
	struct kvm_sev_info *sev = &kvm->sev_info;
	unsigned long npages, size;
	int npinned;
	unsigned long locked, lock_limit;
	struct page **pages;
	unsigned long first, last;
	int ret;

	if (ulen == 0 || uaddr + ulen < uaddr)
		return ERR_PTR(-EINVAL);

	first = (uaddr & PAGE_MASK) >> PAGE_SHIFT;
	last = ((uaddr + ulen - 1) & PAGE_MASK) >> PAGE_SHIFT;
	npages = (last - first + 1);
	if (npages > INT_MAX)
		return ERR_PTR(-EINVAL);

	locked = sev->pages_locked + npages;
	lock_limit = rlimit_memlock() >> PAGE_SHIFT;
	if (locked > lock_limit && !capable_ipc_lock()) {
		pr_err("SEV: %lu locked pages exceed the lock limit of %lu.\n", locked, lock_limit);
		return ERR_PTR(-ENOMEM);
	}

	size = npages * sizeof(struct page *);
	if (size > PAGE_SIZE)
		pages = __vmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	else
		pages = kmalloc(size, GFP_KERNEL_ACCOUNT);

	if (!pages)
		return ERR_PTR(-ENOMEM);

	npinned = pin_user_pages_fast(uaddr, npages, flags, pages);
	if (npinned != npages) {
		pr_err("SEV: Failure locking %lu pages.\n", npages);
		ret = -ENOMEM;
		goto err;
	}

	*n = npages;
	sev->pages_locked = locked;

	return pages;

err:
	if (npinned > 0)
		unpin_user_pages(pages, npinned);

	kvfree(pages);
	return ERR_PTR(ret);
}

// CASE POSITIVE unbalanced-release: mutation of arch/x86/kvm/svm/sev.c:sev_pin_memory() in 6.1
// The short-pin branch frees the array and returns ERR_PTR(-ENOMEM) itself, skipping the
// unpin at 'err': a partial pin of guest memory is leaked.
static struct page **sev_pin_memory_short(struct kvm *kvm, unsigned long uaddr,
					  unsigned long ulen, unsigned long *n, unsigned int flags)
{
	struct kvm_sev_info *sev = &kvm->sev_info;
	unsigned long npages, first, last;
	int npinned;
	struct page **pages;

	if (ulen == 0 || uaddr + ulen < uaddr)
		return ERR_PTR(-EINVAL);

	first = (uaddr & PAGE_MASK) >> PAGE_SHIFT;
	last = ((uaddr + ulen - 1) & PAGE_MASK) >> PAGE_SHIFT;
	npages = (last - first + 1);
	if (npages > INT_MAX)
		return ERR_PTR(-EINVAL);

	pages = kvmalloc_array(npages, sizeof(struct page *), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return ERR_PTR(-ENOMEM);

	npinned = pin_user_pages_fast(uaddr, npages, flags, pages);
	if (npinned != npages) {
		pr_err("SEV: Failure locking %lu pages.\n", npages);
		kvfree(pages);
		return ERR_PTR(-ENOMEM);
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	}

	*n = npages;
	sev->pages_locked += npages;

	return pages;
}

// helper (not a case), as in sev.c:sev_unpin_memory().
static void sev_unpin_memory(struct kvm *kvm, struct page **pages, unsigned long npages)
{
	unpin_user_pages(pages, npages);
	kvfree(pages);
	kvm->sev_info.pages_locked -= npages;
}
