// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: mm/page_io.c (6.1): swap-over-a-file writes gather pages under writeback in a
// struct swap_iocb (its bvec[] array and kiocb side by side), initialise the kiocb with
// init_sync_kiocb() and then make it async (ki_complete = sio_write_complete), and submit
// through ->swap_rw(); the completion ends writeback and frees the sio.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/fs.h>
#include <linux/bvec.h>

#define SWAP_CLUSTER_MAX 32
struct swap_iocb {
	struct kiocb iocb;
	struct bio_vec bvec[SWAP_CLUSTER_MAX];
	int pages;
	int len;
};
struct writeback_control { struct swap_iocb **swap_plug; };
struct address_space_operations { int (*swap_rw)(struct kiocb *iocb, struct iov_iter *iter); };
struct swap_address_space { const struct address_space_operations *a_ops; };
struct swap_info_struct { struct file *swap_file; };
struct swap_info_struct *page_swap_info(struct page *page);
loff_t page_file_offset(struct page *page);
unsigned long thp_size(struct page *page);
void set_page_writeback(struct page *page);
void end_page_writeback(struct page *page);
void count_swpout_vm_event(struct page *page);
void ClearPageReclaim(struct page *page);
extern void *sio_pool;
void *mempool_alloc(void *pool, gfp_t gfp_mask);
void mempool_free(void *element, void *pool);
struct swap_address_space *swap_mapping_of(struct file *file);

// helper (not a case), as in page_io.c:sio_write_complete(): the completion frees the sio.
static void sio_write_complete(struct kiocb *iocb, long ret)
{
	struct swap_iocb *sio = container_of(iocb, struct swap_iocb, iocb);
	struct page *page = sio->bvec[0].bv_page;
	int p;

	if (ret != sio->len) {
		pr_err_ratelimited("Write error %ld on dio swapfile (%llu)\n", ret,
				   page_file_offset(page));
		for (p = 0; p < sio->pages; p++) {
			page = sio->bvec[p].bv_page;
			set_page_dirty(page);
			ClearPageReclaim(page);
		}
	} else {
		for (p = 0; p < sio->pages; p++)
			count_swpout_vm_event(sio->bvec[p].bv_page);
	}

	for (p = 0; p < sio->pages; p++)
		end_page_writeback(sio->bvec[p].bv_page);

	mempool_free(sio, sio_pool);
}

// CASE NEGATIVE async-bvec-drop: modelled on mm/page_io.c:swap_write_unplug() in 6.1
// Submits the ITER_BVEC over sio->bvec and calls the completion itself only when the result is
// not -EIOCBQUEUED; otherwise ki_complete frees the sio later. Correct code.
void swap_write_unplug(struct swap_iocb *sio)
{
	struct iov_iter from;
	struct swap_address_space *mapping = swap_mapping_of(sio->iocb.ki_filp);
	int ret;

	iov_iter_bvec(&from, ITER_SOURCE, sio->bvec, sio->pages, sio->len);
	ret = mapping->a_ops->swap_rw(&sio->iocb, &from);
	if (ret != -EIOCBQUEUED)
		sio_write_complete(&sio->iocb, ret);
}

// CASE NEGATIVE async-bvec-drop: modelled on mm/page_io.c:swap_writepage_fs() in 6.1
// init_sync_kiocb() followed by ki_complete = sio_write_complete makes the kiocb async; the
// submission goes through swap_write_unplug(), which leaves the sio to the completion when the
// write is queued. Nothing is dropped here. Correct code.
static int swap_writepage_fs(struct page *page, struct writeback_control *wbc)
{
	struct swap_iocb *sio = NULL;
	struct swap_info_struct *sis = page_swap_info(page);
	struct file *swap_file = sis->swap_file;
	loff_t pos = page_file_offset(page);

	set_page_writeback(page);
	unlock_page(page);
	if (wbc->swap_plug)
		sio = *wbc->swap_plug;
	if (sio) {
		if (sio->iocb.ki_filp != swap_file || sio->iocb.ki_pos + sio->len != pos) {
			swap_write_unplug(sio);
			sio = NULL;
		}
	}
	if (!sio) {
		sio = mempool_alloc(sio_pool, GFP_NOIO);
		init_sync_kiocb(&sio->iocb, swap_file);
		sio->iocb.ki_complete = sio_write_complete;
		sio->iocb.ki_pos = pos;
		sio->pages = 0;
		sio->len = 0;
	}
	sio->bvec[sio->pages].bv_page = page;
	sio->bvec[sio->pages].bv_len = thp_size(page);
	sio->bvec[sio->pages].bv_offset = 0;
	sio->len += thp_size(page);
	sio->pages += 1;
	if (sio->pages == ARRAY_SIZE(sio->bvec) || !wbc->swap_plug) {
		swap_write_unplug(sio);
		sio = NULL;
	}
	if (wbc->swap_plug)
		*wbc->swap_plug = sio;

	return 0;
}

// CASE POSITIVE async-bvec-drop: mutation of mm/page_io.c:swap_writepage_fs() in 6.1 (unplugged, one page)
// A single-page variant that writes at once: it starts from init_sync_kiocb() but then sets
// ki_complete, so the kiocb is async; it frees the sio (with its bvec array; kzalloc here
// instead of the mempool) right after ->swap_rw() whatever it returned, and when it returned
// -EIOCBQUEUED the write is still reading sio->bvec (and sio_write_complete() frees it again).
static int swap_writepage_fs_now(struct page *page, struct swap_address_space *mapping)
{
	struct swap_iocb *sio;
	struct swap_info_struct *sis = page_swap_info(page);
	struct iov_iter from;
	int ret;

	set_page_writeback(page);
	unlock_page(page);

	sio = kzalloc(sizeof(*sio), GFP_NOIO);
	if (!sio)
		return -ENOMEM;
	init_sync_kiocb(&sio->iocb, sis->swap_file);
	sio->iocb.ki_complete = sio_write_complete;
	sio->iocb.ki_pos = page_file_offset(page);
	bvec_set_page(&sio->bvec[0], page, thp_size(page), 0);
	sio->pages = 1;
	sio->len = thp_size(page);

	iov_iter_bvec(&from, ITER_SOURCE, sio->bvec, sio->pages, sio->len);
	ret = mapping->a_ops->swap_rw(&sio->iocb, &from);
	if (ret != sio->len)
		set_page_dirty(page);
	end_page_writeback(page);
	kfree(sio);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-async-bvec-drop]
	return 0;
}
