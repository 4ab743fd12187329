// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/media/v4l2-core/videobuf-dma-sg.c (6.1): a videobuf DMA buffer pins the user
// buffer into dma->pages/dma->nr_pages; videobuf_dma_free() unpins dma->nr_pages of them when
// the buffer is released.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/dma-mapping.h>

struct videobuf_dmabuf {
	u32 magic;
	int offset;
	size_t size;
	struct page **pages;
	unsigned long nr_pages;
	int direction;
	int sglen;
	void *vaddr;
};
#define dprintk(level, fmt, arg...) printk(fmt, ##arg)

// CASE NEGATIVE unbalanced-release: modelled on drivers/media/v4l2-core/videobuf-dma-sg.c:videobuf_dma_init_user_locked() in 6.1
// On a short pin the function rewrites dma->nr_pages to the number actually pinned and returns
// an error: the buffer's staged cleanup (videobuf_dma_free(), called when the failed buffer is
// released) unpins exactly those. Correct code.
static int videobuf_dma_init_user_locked(struct videobuf_dmabuf *dma, int direction,
					 unsigned long data, unsigned long size)
{
	unsigned long first, last;
	int err, rw = 0;
	unsigned int flags = FOLL_FORCE;

	dma->direction = direction;
	switch (dma->direction) {
	case DMA_FROM_DEVICE:
		rw = READ;
		break;
	case DMA_TO_DEVICE:
		rw = WRITE;
		break;
	default:
		BUG();
	}

	first = (data & PAGE_MASK) >> PAGE_SHIFT;
	last = ((data + size - 1) & PAGE_MASK) >> PAGE_SHIFT;
	dma->offset = data & ~PAGE_MASK;
	dma->size = size;
	dma->nr_pages = last - first + 1;
	dma->pages = kmalloc_array(dma->nr_pages, sizeof(struct page *), GFP_KERNEL);
	if (NULL == dma->pages)
		return -ENOMEM;

	if (rw == READ)
		flags |= FOLL_WRITE;

	err = pin_user_pages(data & PAGE_MASK, dma->nr_pages, flags | FOLL_LONGTERM,
			     dma->pages, NULL);

	if (err != dma->nr_pages) {
		dma->nr_pages = (err >= 0) ? err : 0;
		dprintk(1, "pin_user_pages: err=%d [%lu]\n", err, dma->nr_pages);
		return err < 0 ? err : -EINVAL;
	}
	return 0;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/media/v4l2-core/videobuf-dma-sg.c:videobuf_dma_init_user_locked() in 6.1
// The short-pin branch zeroes dma->nr_pages instead of recording the partial count: the error
// is returned with 'err' pages pinned and videobuf_dma_free() will unpin none of them.
static int videobuf_dma_init_user_locked_lost_count(struct videobuf_dmabuf *dma, int direction,
						    unsigned long data, unsigned long size)
{
	unsigned long first, last;
	int err;
	unsigned int flags = FOLL_FORCE;

	dma->direction = direction;
	if (direction == DMA_FROM_DEVICE)
		flags |= FOLL_WRITE;

	first = (data & PAGE_MASK) >> PAGE_SHIFT;
	last = ((data + size - 1) & PAGE_MASK) >> PAGE_SHIFT;
	dma->offset = data & ~PAGE_MASK;
	dma->size = size;
	dma->nr_pages = last - first + 1;
	dma->pages = kmalloc_array(dma->nr_pages, sizeof(struct page *), GFP_KERNEL);
	if (NULL == dma->pages)
		return -ENOMEM;

	err = pin_user_pages(data & PAGE_MASK, dma->nr_pages, flags | FOLL_LONGTERM,
			     dma->pages, NULL);

	if (err != dma->nr_pages) {
		dma->nr_pages = 0;
		return err < 0 ? err : -EINVAL;
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	}
	return 0;
}

// helper (not a case), as in videobuf-dma-sg.c:videobuf_dma_free(): the buffer's release.
int videobuf_dma_free(struct videobuf_dmabuf *dma)
{
	BUG_ON(dma->sglen);

	if (dma->pages) {
		unpin_user_pages_dirty_lock(dma->pages, dma->nr_pages,
					    dma->direction == DMA_FROM_DEVICE);
		kfree(dma->pages);
		dma->pages = NULL;
	}
	dma->direction = DMA_NONE;
	return 0;
}
