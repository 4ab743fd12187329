// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: VMware VMCI host side, drivers/misc/vmw_vmci/vmci_queue_pair.c and vmci_host.c (6.1):
// queue-pair pages taken with get_user_pages_fast() into the queue's header_page array, and the
// context's notify page.
#include <linux/mm.h>
#include <linux/highmem.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/string.h>

enum {
	VMCI_SUCCESS = 0,
	VMCI_ERROR_NO_MEM = (-3),
	VMCI_ERROR_DUPLICATE_ENTRY = (-9),
	VMCI_ERROR_GENERIC = (-13),
};

struct vmci_queue_kern_if {
	struct mutex __mutex;
	struct mutex *mutex;
	size_t num_pages;
	bool host;
	union {
		struct {
			dma_addr_t *pas;
			void **vas;
		} g;
		struct {
			struct page **page;
			struct page **header_page;
		} h;
	} u;
};

struct vmci_queue {
	void *q_header;
	void *saved_header;
	struct vmci_queue_kern_if *kernel_if;
};

struct vmci_ctx {
	spinlock_t lock;
	struct page *notify_page;
	bool *notify;
};

void vmci_ctx_check_signal_notify(struct vmci_ctx *context);

// helper (not a case), as in vmci_queue_pair.c:qp_release_pages(): drops num_pages references.
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

// CASE NEGATIVE unbalanced-release: modelled on drivers/misc/vmw_vmci/vmci_queue_pair.c:qp_host_get_user_memory() in 6.1
// The pages go into the queues' header_page arrays, which qp_host_unregister_user_memory()
// releases at detach. Each failure path releases what it took: the partial produce pin, and on
// a consume failure both the partial consume pin and the full produce set. Correct code.
static int qp_host_get_user_memory(u64 produce_uva, u64 consume_uva,
				   struct vmci_queue *produce_q,
				   struct vmci_queue *consume_q)
{
	int retval;
	int err = VMCI_SUCCESS;

	retval = get_user_pages_fast((uintptr_t)produce_uva,
				     produce_q->kernel_if->num_pages,
				     FOLL_WRITE,
				     produce_q->kernel_if->u.h.header_page);
	if (retval < (int)produce_q->kernel_if->num_pages) {
		pr_debug("get_user_pages_fast(produce) failed (retval=%d)", retval);
		if (retval > 0)
			qp_release_pages(produce_q->kernel_if->u.h.header_page,
					 retval, false);
		err = VMCI_ERROR_NO_MEM;
		goto out;
	}

	retval = get_user_pages_fast((uintptr_t)consume_uva,
				     consume_q->kernel_if->num_pages,
				     FOLL_WRITE,
				     consume_q->kernel_if->u.h.header_page);
	if (retval < (int)consume_q->kernel_if->num_pages) {
		pr_debug("get_user_pages_fast(consume) failed (retval=%d)", retval);
		if (retval > 0)
			qp_release_pages(consume_q->kernel_if->u.h.header_page,
					 retval, false);
		qp_release_pages(produce_q->kernel_if->u.h.header_page,
				 produce_q->kernel_if->num_pages, false);
		err = VMCI_ERROR_NO_MEM;
	}

out:
	return err;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/misc/vmw_vmci/vmci_queue_pair.c:qp_host_get_user_memory() in 6.1
// The release of the produce pages is dropped from the consume-failure branch: the function
// returns VMCI_ERROR_NO_MEM, the caller (qp_broker_create()) frees the queue structs without
// unregistering user memory, so every produce page keeps its reference.
static int qp_host_get_user_memory_consume_leak(u64 produce_uva, u64 consume_uva,
						struct vmci_queue *produce_q,
						struct vmci_queue *consume_q)
{
	int retval;
	int err = VMCI_SUCCESS;

	retval = get_user_pages_fast((uintptr_t)produce_uva,
				     produce_q->kernel_if->num_pages,
				     FOLL_WRITE,
				     produce_q->kernel_if->u.h.header_page);
	if (retval < (int)produce_q->kernel_if->num_pages) {
		if (retval > 0)
			qp_release_pages(produce_q->kernel_if->u.h.header_page,
					 retval, false);
		err = VMCI_ERROR_NO_MEM;
		goto out;
	}

	retval = get_user_pages_fast((uintptr_t)consume_uva,
				     consume_q->kernel_if->num_pages,
				     FOLL_WRITE,
				     consume_q->kernel_if->u.h.header_page);
	if (retval < (int)consume_q->kernel_if->num_pages) {
		if (retval > 0)
			qp_release_pages(consume_q->kernel_if->u.h.header_page,
					 retval, false);
		err = VMCI_ERROR_NO_MEM;
	}

out:
	return err;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
}

// CASE NEGATIVE unbalanced-release: modelled on drivers/misc/vmw_vmci/vmci_host.c:vmci_host_setup_notify() in 6.1
// One page asked for and the result tested (retval != 1); the page then belongs to the context
// (context->notify_page) and vmci_ctx_unset_notify() kunmaps and puts it. Correct code.
static int vmci_host_setup_notify(struct vmci_ctx *context, unsigned long uva)
{
	struct page *page;
	int retval;

	if (context->notify_page) {
		pr_devel("%s: Notify mechanism is already set up\n", __func__);
		return VMCI_ERROR_DUPLICATE_ENTRY;
	}

	retval = get_user_pages_fast(uva, 1, FOLL_WRITE, &page);
	if (retval != 1)
		return VMCI_ERROR_GENERIC;

	context->notify_page = page;

	context->notify = kmap(context->notify_page) + (uva & (PAGE_SIZE - 1));
	vmci_ctx_check_signal_notify(context);

	return VMCI_SUCCESS;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/misc/vmw_vmci/vmci_host.c:vmci_host_setup_notify() in 6.1
// The "already set up" test moved after the get_user_pages_fast(): the duplicate path returns
// without put_page(), leaking the reference on the user page.
static int vmci_host_setup_notify_late_check(struct vmci_ctx *context, unsigned long uva)
{
	struct page *page;
	int retval;

	retval = get_user_pages_fast(uva, 1, FOLL_WRITE, &page);
	if (retval != 1)
		return VMCI_ERROR_GENERIC;

	if (context->notify_page) {
		pr_devel("%s: Notify mechanism is already set up\n", __func__);
		return VMCI_ERROR_DUPLICATE_ENTRY;
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	}

	context->notify_page = page;
	context->notify = kmap(context->notify_page) + (uva & (PAGE_SIZE - 1));
	vmci_ctx_check_signal_notify(context);

	return VMCI_SUCCESS;
}

// helper (not a case), as in vmci_context.c:vmci_ctx_unset_notify(): the owner's release.
void vmci_ctx_unset_notify(struct vmci_ctx *context)
{
	struct page *notify_page;

	spin_lock(&context->lock);
	notify_page = context->notify_page;
	context->notify_page = NULL;
	spin_unlock(&context->lock);

	if (notify_page) {
		kunmap(notify_page);
		put_page(notify_page);
	}
}
