// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: fs/direct-io.c (6.12): the legacy direct-I/O engine extracts pages into dio->pages[]
// with iov_iter_extract_pages() and records once, in dio->is_pinned, whether the source
// iterator made that a pin (iov_iter_extract_will_pin()); every release tests that field.
#define CASES_6_12
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/blk_types.h>

#define DIO_PAGES 64
#define REQ_OP_MASK 0xff
enum req_op { REQ_OP_READ_ = 0, REQ_OP_WRITE_ = 1 };
struct dio {
	int flags;
	blk_opf_t opf;
	bool is_pinned;
	int page_errors;
	struct page *pages[DIO_PAGES];
};
struct dio_submit {
	unsigned blocks_available;
	struct iov_iter *iter;
	unsigned head;
	unsigned tail;
	size_t from, to;
};
struct page *zero_page_0(void);

// CASE NEGATIVE release-mismatch: modelled on fs/direct-io.c:dio_refill_pages() in 6.12
// Fills the dio's queue; nothing is released here. The queue (head..tail) is drained by
// dio_cleanup()/dio_unpin_page(), which test dio->is_pinned. Correct code.
static inline int dio_refill_pages(struct dio *dio, struct dio_submit *sdio)
{
	struct page **pages = dio->pages;
	const enum req_op dio_op = dio->opf & REQ_OP_MASK;
	ssize_t ret;

	ret = iov_iter_extract_pages(sdio->iter, &pages, LONG_MAX, DIO_PAGES, 0, &sdio->from);

	if (ret < 0 && sdio->blocks_available && dio_op == REQ_OP_WRITE_) {
		if (dio->page_errors == 0)
			dio->page_errors = ret;
		dio->pages[0] = zero_page_0();
		sdio->head = 0;
		sdio->tail = 1;
		sdio->from = 0;
		sdio->to = PAGE_SIZE;
		return 0;
	}

	if (ret >= 0) {
		ret += sdio->from;
		sdio->head = 0;
		sdio->tail = (ret + PAGE_SIZE - 1) / PAGE_SIZE;
		sdio->to = ((ret - 1) & (PAGE_SIZE - 1)) + 1;
		return 0;
	}
	return ret;
}

// CASE NEGATIVE release-mismatch: modelled on fs/direct-io.c:dio_cleanup() in 6.12
// Unpins the queued extracted pages only when dio->is_pinned, the stored answer of
// iov_iter_extract_will_pin() for the source iterator. Correct code.
static inline void dio_cleanup(struct dio *dio, struct dio_submit *sdio)
{
	if (dio->is_pinned)
		unpin_user_pages(dio->pages + sdio->head, sdio->tail - sdio->head);
	sdio->head = sdio->tail;
}

// CASE NEGATIVE release-mismatch: modelled on fs/direct-io.c:__blockdev_direct_IO() in 6.12 (setup and error exit)
// The will-pin answer is taken from the caller's iterator before any extraction and kept in
// dio->is_pinned; the error exit drains the queue through dio_cleanup(). Correct code.
static ssize_t dio_setup_and_fail(struct dio *dio, struct dio_submit *sdio, struct iov_iter *iter)
{
	int ret;

	dio->is_pinned = iov_iter_extract_will_pin(iter);
	sdio->iter = iter;

	ret = dio_refill_pages(dio, sdio);
	if (ret)
		return ret;

	if (dio->page_errors) {
		dio_cleanup(dio, sdio);
		return dio->page_errors;
	}
	return 0;
}

// CASE POSITIVE release-mismatch: mutation of fs/direct-io.c:dio_cleanup() in 6.12
// The 6.1 body kept after the switch to iov_iter_extract_pages():
// 'while (sdio->head < sdio->tail) put_page(dio->pages[sdio->head++]);'. Extracted pages are
// pinned (user iterators) or not referenced at all: put_page() is wrong for both.
static inline void dio_cleanup_put(struct dio *dio, struct dio_submit *sdio)
{
	while (sdio->head < sdio->tail)
		put_page(dio->pages[sdio->head++]);
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
}
