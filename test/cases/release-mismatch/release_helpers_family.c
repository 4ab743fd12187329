// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: same-file release helpers that carry their family to the caller (6.1):
// drivers/misc/vmw_vmci/vmci_queue_pair.c:qp_release_pages() (put_page() per page) and
// drivers/tee/tee_shm.c:shm_put_kernel_pages() (put_page() per page) next to
// unpin_user_pages().
#include <linux/mm.h>
#include <linux/slab.h>

enum { VMCI_SUCCESS = 0, VMCI_ERROR_NO_MEM = (-3) };
struct vmci_queue_kern_if {
	size_t num_pages;
	union { struct { struct page **page; struct page **header_page; } h; } u;
};
struct vmci_queue { struct vmci_queue_kern_if *kernel_if; };

// helper (not a case), as in vmci_queue_pair.c:qp_release_pages(): put_page() on each page.
static void qp_release_pages(struct page **pages, u64 num_pages, bool dirty)
{
	int i;

	for (i = 0; i < num_pages; i++) {
		if (dirty)
			set_page_dirty_lock(pages[i]);
		put_page(pages[i]);
		pages[i] = NULL;
	}
}

// CASE POSITIVE release-mismatch: mutation of drivers/misc/vmw_vmci/vmci_queue_pair.c:qp_host_get_user_memory() in 6.1
// The acquisition converted to pin_user_pages_fast() but the short-pin cleanup still calls
// qp_release_pages(), whose put_page() cannot drop a pin. Reported at the helper call.
static int qp_host_get_user_memory_pinned(u64 produce_uva, struct vmci_queue *produce_q)
{
	int retval;

	retval = pin_user_pages_fast((uintptr_t)produce_uva, produce_q->kernel_if->num_pages,
				     FOLL_WRITE | FOLL_LONGTERM,
				     produce_q->kernel_if->u.h.header_page);
	if (retval < (int)produce_q->kernel_if->num_pages) {
		if (retval > 0)
			qp_release_pages(produce_q->kernel_if->u.h.header_page, retval, false);
			// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
		return VMCI_ERROR_NO_MEM;
	}
	return VMCI_SUCCESS;
}

// CASE NEGATIVE release-mismatch: modelled on drivers/misc/vmw_vmci/vmci_queue_pair.c:qp_host_get_user_memory() in 6.1
// get_user_pages_fast() references released by qp_release_pages() (put_page()): the right
// family through the helper. Correct code.
static int qp_host_get_user_memory_produce(u64 produce_uva, struct vmci_queue *produce_q)
{
	int retval;

	retval = get_user_pages_fast((uintptr_t)produce_uva, produce_q->kernel_if->num_pages,
				     FOLL_WRITE, produce_q->kernel_if->u.h.header_page);
	if (retval < (int)produce_q->kernel_if->num_pages) {
		if (retval > 0)
			qp_release_pages(produce_q->kernel_if->u.h.header_page, retval, false);
		return VMCI_ERROR_NO_MEM;
	}
	return VMCI_SUCCESS;
}

#define TEE_SHM_USER_MAPPED (1 << 1)
struct tee_shm { struct page **pages; size_t num_pages; u32 flags; };
int shm_get_kernel_pages(unsigned long start, size_t page_count, struct page **pages);
int tee_shm_register_with_driver(struct tee_shm *shm, unsigned long start);

// helper (not a case), as in tee_shm.c:shm_put_kernel_pages().
static void shm_put_kernel_pages(struct page **pages, size_t page_count)
{
	size_t n;

	for (n = 0; n < page_count; n++)
		put_page(pages[n]);
}

// CASE POSITIVE release-mismatch: mutation of drivers/tee/tee_shm.c:register_shm_helper() in 6.1
// The error path lost its TEE_SHM_USER_MAPPED test and always calls shm_put_kernel_pages():
// for a user buffer the pages were pinned by pin_user_pages_fast() and are put instead of
// unpinned. Reported at the helper call.
static int register_shm_pages(struct tee_shm *shm, unsigned long start, size_t num_pages,
			      u32 flags)
{
	int rc;

	shm->pages = kcalloc(num_pages, sizeof(*shm->pages), GFP_KERNEL);
	if (!shm->pages)
		return -ENOMEM;

	if (flags & TEE_SHM_USER_MAPPED)
		rc = pin_user_pages_fast(start, num_pages, FOLL_WRITE, shm->pages);
	else
		rc = shm_get_kernel_pages(start, num_pages, shm->pages);
	if (rc > 0)
		shm->num_pages = rc;
	if (rc != num_pages) {
		if (rc >= 0)
			rc = -ENOMEM;
		goto err_put_shm_pages;
	}

	rc = tee_shm_register_with_driver(shm, start);
	if (rc)
		goto err_put_shm_pages;

	return 0;
err_put_shm_pages:
	shm_put_kernel_pages(shm->pages, shm->num_pages);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
	kfree(shm->pages);
	shm->pages = NULL;
	return rc;
}

// CASE NEGATIVE release-mismatch: modelled on drivers/tee/tee_shm.c:release_registered_pages() in 6.1
// The release switches on the same TEE_SHM_USER_MAPPED flag that chose the acquisition
// (pins for user buffers, get_page() references for kernel buffers). Correct code.
static void release_registered_pages(struct tee_shm *shm)
{
	if (shm->pages) {
		if (shm->flags & TEE_SHM_USER_MAPPED)
			unpin_user_pages(shm->pages, shm->num_pages);
		else
			shm_put_kernel_pages(shm->pages, shm->num_pages);

		kfree(shm->pages);
	}
}
