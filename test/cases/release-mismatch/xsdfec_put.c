// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/misc/xilinx_sdfec.c (6.1): a table write pins the user table, copies it into
// registers page by page and releases each page as it goes.
#include <linux/mm.h>

#define MAX_NUM_PAGES 64

// CASE POSITIVE release-mismatch: mutation of drivers/misc/xilinx_sdfec.c:xsdfec_table_write() in 6.1
// The other half-conversion: pin_user_pages_fast() but the per-page release of the copy loop is
// still put_page(), which leaves the pin behind on every page.
static int xsdfec_table_write_put(u32 *src_ptr, u32 len, u32 *regs)
{
	u32 reg = 0;
	int res, i, nr_pages;
	u32 *addr = NULL;
	struct page *pages[MAX_NUM_PAGES];

	nr_pages = DIV_ROUND_UP(len * 4, PAGE_SIZE);
	if (nr_pages > MAX_NUM_PAGES)
		return -EINVAL;

	res = pin_user_pages_fast((unsigned long)src_ptr, nr_pages, 0, pages);
	if (res < nr_pages) {
		if (res > 0)
			unpin_user_pages(pages, res);
		return -EINVAL;
	}

	for (i = 0; i < nr_pages; i++) {
		addr = page_address(pages[i]);
		do {
			regs[reg] = addr[reg];
			reg++;
		} while ((reg < len) && ((reg * 4) % PAGE_SIZE));
		put_page(pages[i]);
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
	}
	return 0;
}
