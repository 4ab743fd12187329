// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/rapidio/devices/rio_mport_cdev.c (6.1): a DMA transfer from a user buffer pins
// it into page_list, hands the list to a refcounted request (req->page_list) and lets the kref
// release, dma_req_free(), unpin it, possibly after the ioctl returned (async transfers).
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/kref.h>
#include <linux/completion.h>
#include <linux/scatterlist.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>

enum rio_transfer_sync { RIO_TRANSFER_SYNC, RIO_TRANSFER_ASYNC, RIO_TRANSFER_FAF };
struct dma_device { struct device *dev; };
struct dma_chan { struct dma_device *device; };
struct mport_cdev_priv { struct dma_chan *dmach; };
struct rio_transfer_io { u64 rio_addr; u64 loc_addr; u64 handle; u64 offset; u64 length; };
struct mport_dma_req {
	struct kref refcount;
	struct completion req_comp;
	struct mport_cdev_priv *priv;
	struct sg_table sgt;
	struct page **page_list;
	unsigned int nr_pages;
	struct dma_chan *dmach;
	enum dma_data_direction dir;
	enum rio_transfer_sync sync;
	struct file *filp;
};
int get_dma_channel(struct mport_cdev_priv *priv);
int do_dma_request(struct mport_dma_req *req, struct rio_transfer_io *xfer,
		   enum rio_transfer_sync sync, int nents);

// helper (not a case), as in rio_mport_cdev.c:dma_req_free(): the kref release unpins the list.
static void dma_req_free(struct kref *ref)
{
	struct mport_dma_req *req = container_of(ref, struct mport_dma_req, refcount);

	dma_unmap_sg(req->dmach->device->dev, req->sgt.sgl, req->sgt.nents, req->dir);
	sg_free_table(&req->sgt);
	if (req->page_list) {
		unpin_user_pages(req->page_list, req->nr_pages);
		kfree(req->page_list);
	}
	kfree(req);
}

// CASE NEGATIVE unbalanced-release: modelled on drivers/rapidio/devices/rio_mport_cdev.c:rio_dma_transfer() in 6.1
// Once req->page_list is set the request owns the pins and dma_req_free() (the kref release)
// unpins them, also after an ASYNC return; before that, err_pg unpins nr_pages, which the
// short-pin branch rewrote to the pinned count. Correct code.
static int rio_dma_transfer(struct file *filp, u32 transfer_mode, enum rio_transfer_sync sync,
			    enum dma_data_direction dir, struct rio_transfer_io *xfer)
{
	struct mport_cdev_priv *priv = filp->private_data;
	unsigned long nr_pages = 0;
	struct page **page_list = NULL;
	struct mport_dma_req *req;
	struct dma_chan *chan;
	int ret;
	int nents;

	if (xfer->length == 0)
		return -EINVAL;
	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;

	ret = get_dma_channel(priv);
	if (ret) {
		kfree(req);
		return ret;
	}
	chan = priv->dmach;

	kref_init(&req->refcount);
	init_completion(&req->req_comp);
	req->dir = dir;
	req->filp = filp;
	req->priv = priv;
	req->dmach = chan;
	req->sync = sync;

	if (xfer->loc_addr) {
		unsigned int offset;
		long pinned;

		offset = lower_32_bits(offset_in_page(xfer->loc_addr));
		nr_pages = PAGE_ALIGN(xfer->length + offset) >> PAGE_SHIFT;

		page_list = kmalloc_array(nr_pages, sizeof(*page_list), GFP_KERNEL);
		if (page_list == NULL) {
			ret = -ENOMEM;
			goto err_req;
		}

		pinned = pin_user_pages_fast((unsigned long)xfer->loc_addr & PAGE_MASK, nr_pages,
					     dir == DMA_FROM_DEVICE ? FOLL_WRITE : 0, page_list);

		if (pinned != nr_pages) {
			if (pinned < 0) {
				pr_err("pin_user_pages_fast err=%ld", pinned);
				nr_pages = 0;
			} else {
				pr_err("pinned %ld out of %ld pages", pinned, nr_pages);
				nr_pages = pinned;
			}
			ret = -EFAULT;
			goto err_pg;
		}

		ret = sg_alloc_table_from_pages(&req->sgt, page_list, nr_pages, offset,
						xfer->length, GFP_KERNEL);
		if (ret) {
			pr_err("sg_alloc_table failed with err=%d", ret);
			goto err_pg;
		}

		req->page_list = page_list;
		req->nr_pages = nr_pages;
	} else {
		ret = sg_alloc_table(&req->sgt, 1, GFP_KERNEL);
		if (unlikely(ret))
			goto err_req;
	}

	nents = dma_map_sg(chan->device->dev, req->sgt.sgl, req->sgt.nents, dir);
	if (nents == 0) {
		pr_err("Failed to map SG list");
		ret = -EFAULT;
		goto err_pg;
	}

	ret = do_dma_request(req, xfer, sync, nents);

	if (ret >= 0) {
		if (sync == RIO_TRANSFER_ASYNC)
			return ret;
	}

err_pg:
	if (!req->page_list) {
		unpin_user_pages(page_list, nr_pages);
		kfree(page_list);
	}
err_req:
	kref_put(&req->refcount, dma_req_free);
	return ret;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/rapidio/devices/rio_mport_cdev.c:rio_dma_transfer() in 6.1
// The sg_alloc_table_from_pages() failure (an allocation after the pin) jumps to err_req,
// past err_pg: req->page_list is not set yet, so dma_req_free() does not unpin either, and the
// nr_pages pins are leaked.
static int rio_dma_transfer_sgt_fail(struct file *filp, enum rio_transfer_sync sync,
				     enum dma_data_direction dir, struct rio_transfer_io *xfer)
{
	struct mport_cdev_priv *priv = filp->private_data;
	unsigned long nr_pages = 0;
	struct page **page_list = NULL;
	struct mport_dma_req *req;
	int ret;
	int nents;
	unsigned int offset;
	long pinned;

	if (xfer->length == 0 || !xfer->loc_addr)
		return -EINVAL;
	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;

	kref_init(&req->refcount);
	req->dir = dir;
	req->priv = priv;
	req->dmach = priv->dmach;
	req->sync = sync;

	offset = lower_32_bits(offset_in_page(xfer->loc_addr));
	nr_pages = PAGE_ALIGN(xfer->length + offset) >> PAGE_SHIFT;

	page_list = kmalloc_array(nr_pages, sizeof(*page_list), GFP_KERNEL);
	if (page_list == NULL) {
		ret = -ENOMEM;
		goto err_req;
	}

	pinned = pin_user_pages_fast((unsigned long)xfer->loc_addr & PAGE_MASK, nr_pages,
				     dir == DMA_FROM_DEVICE ? FOLL_WRITE : 0, page_list);
	if (pinned != nr_pages) {
		nr_pages = pinned < 0 ? 0 : pinned;
		ret = -EFAULT;
		goto err_pg;
	}

	ret = sg_alloc_table_from_pages(&req->sgt, page_list, nr_pages, offset, xfer->length,
					GFP_KERNEL);
	if (ret)
		goto err_req;

	req->page_list = page_list;
	req->nr_pages = nr_pages;

	nents = dma_map_sg(req->dmach->device->dev, req->sgt.sgl, req->sgt.nents, dir);
	if (nents == 0) {
		ret = -EFAULT;
		goto err_pg;
	}

	ret = do_dma_request(req, xfer, sync, nents);
	if (ret >= 0 && sync == RIO_TRANSFER_ASYNC)
		return ret;

err_pg:
	if (!req->page_list) {
		unpin_user_pages(page_list, nr_pages);
		kfree(page_list);
	}
err_req:
	kref_put(&req->refcount, dma_req_free);
	return ret;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
}

// CASE POSITIVE unbalanced-release: modelled on drivers/rapidio/devices/rio_mport_cdev.c:rio_dma_transfer() before ffca476a0a8d
// A short pin goes to the common release with nr_pages still the number asked for: the
// entries past `pinned` were never filled, and unpinning them drops pins nobody took.
static int rio_dma_transfer_short_pin(struct mport_dma_req *req, struct rio_transfer_io *xfer,
				      enum dma_data_direction dir)
{
	unsigned long nr_pages;
	struct page **page_list;
	unsigned int offset;
	long pinned;
	int ret;

	offset = lower_32_bits(offset_in_page(xfer->loc_addr));
	nr_pages = PAGE_ALIGN(xfer->length + offset) >> PAGE_SHIFT;
	page_list = kmalloc_array(nr_pages, sizeof(*page_list), GFP_KERNEL);
	if (!page_list)
		return -ENOMEM;

	pinned = pin_user_pages_fast((unsigned long)xfer->loc_addr & PAGE_MASK, nr_pages,
				     dir == DMA_FROM_DEVICE ? FOLL_WRITE : 0, page_list);
	if (pinned != nr_pages) {
		if (pinned < 0)
			nr_pages = 0;
		else
			pr_err("pinned %ld out of %ld pages", pinned, nr_pages);
		ret = -EFAULT;
		goto err_pg;
	}

	ret = sg_alloc_table_from_pages(&req->sgt, page_list, nr_pages, offset, xfer->length,
					GFP_KERNEL);
	if (ret)
		goto err_pg;
	req->page_list = page_list;
	req->nr_pages = nr_pages;
	return 0;

err_pg:
	unpin_user_pages(page_list, nr_pages);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	kfree(page_list);
	return ret;
}

// CASE NEGATIVE unbalanced-release: modelled on drivers/gpu/drm/radeon/radeon_ttm.c:radeon_ttm_tt_pin_userptr() in 6.1
// The loop asks for what is left each round and stops at the first failure; the release count
// is the number pinned so far, never the number asked for. Correct code.
static int pin_in_chunks(unsigned long addr, unsigned long total, struct page **pages)
{
	unsigned long pinned = 0;
	long r;

	do {
		unsigned long left = total - pinned;

		r = pin_user_pages_fast(addr + pinned * PAGE_SIZE, left, FOLL_WRITE, pages + pinned);
		if (r < 0)
			goto release;
		pinned += r;
	} while (pinned < total);
	return 0;

release:
	unpin_user_pages(pages, pinned);
	return r;
}
