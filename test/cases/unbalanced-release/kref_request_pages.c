// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/rapidio/devices/rio_mport_cdev.c (6.12): rio_dma_transfer() pins the user
// buffer into page_list, gives it to a kref-counted request (req->page_list), and every exit
// drops the request with kref_put(&req->refcount, dma_req_free); dma_req_free() unpins the
// request's pages.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/kref.h>
#include <linux/kernel.h>
#include <linux/errno.h>

struct dma_req {
	struct kref refcount;
	struct page **page_list;
	unsigned int nr_pages;
};
int start_transfer(struct dma_req *req);

// helper (not a case), as in rio_mport_cdev.c:dma_req_free(): the request's release.
static void dma_req_free(struct kref *ref)
{
	struct dma_req *req = container_of(ref, struct dma_req, refcount);

	if (req->page_list) {
		unpin_user_pages(req->page_list, req->nr_pages);
		kfree(req->page_list);
	}
	kfree(req);
}

// CASE NEGATIVE unbalanced-release: modelled on drivers/rapidio/devices/rio_mport_cdev.c:rio_dma_transfer() in 6.12
// After `req->page_list = page_list` the request owns the pins: a failed transfer drops the
// request, whose release unpins them. Correct code.
static int dma_transfer(unsigned long uaddr, unsigned int nr_pages)
{
	struct page **page_list;
	struct dma_req *req;
	long pinned;
	int ret;

	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	kref_init(&req->refcount);
	page_list = kmalloc_array(nr_pages, sizeof(*page_list), GFP_KERNEL);
	if (!page_list) {
		ret = -ENOMEM;
		goto err_req;
	}
	pinned = pin_user_pages_fast(uaddr, nr_pages, FOLL_WRITE, page_list);
	if (pinned != nr_pages) {
		if (pinned > 0)
			unpin_user_pages(page_list, pinned);
		kfree(page_list);
		ret = -EFAULT;
		goto err_req;
	}
	req->page_list = page_list;
	req->nr_pages = nr_pages;
	ret = start_transfer(req);
err_req:
	kref_put(&req->refcount, dma_req_free);
	return ret;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/rapidio/devices/rio_mport_cdev.c:rio_dma_transfer() in 6.12
// The request is dropped before it was given the pages: its release unpins nothing, and the
// function's own pins leak.
static int dma_transfer_not_given(unsigned long uaddr, unsigned int nr_pages)
{
	struct page **page_list;
	struct dma_req *req;
	long pinned;
	int ret;

	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	kref_init(&req->refcount);
	page_list = kmalloc_array(nr_pages, sizeof(*page_list), GFP_KERNEL);
	if (!page_list) {
		ret = -ENOMEM;
		goto err_req;
	}
	pinned = pin_user_pages_fast(uaddr, nr_pages, FOLL_WRITE, page_list);
	if (pinned != nr_pages) {
		if (pinned > 0)
			unpin_user_pages(page_list, pinned);
		kfree(page_list);
		ret = -EFAULT;
		goto err_req;
	}
	if (uaddr & 4095) {
		ret = -EINVAL;
		kref_put(&req->refcount, dma_req_free);
		return ret;
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	}
	req->page_list = page_list;
	req->nr_pages = nr_pages;
	ret = start_transfer(req);
err_req:
	kref_put(&req->refcount, dma_req_free);
	return ret;
}
