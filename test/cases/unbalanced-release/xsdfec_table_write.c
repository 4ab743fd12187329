// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/misc/xilinx_sdfec.c (6.1): a table write pins the user table into an on-stack
// array, copies it into device registers page by page and unpins each page as it goes.
#include <linux/mm.h>
#include <linux/highmem.h>
#include <linux/device.h>

#define MAX_NUM_PAGES 64
#define XSDFEC_REG_WIDTH_JUMP 4
struct xsdfec_dev { struct device *dev; void *regs; };
void xsdfec_regwrite(struct xsdfec_dev *xsdfec, u32 addr, u32 value);

// CASE NEGATIVE unbalanced-release: modelled on drivers/misc/xilinx_sdfec.c:xsdfec_table_write() in 6.1
// A short pin unpins the 'res' pages it got before returning; afterwards every page is unpinned
// by the copy loop. Correct code.
static int xsdfec_table_write(struct xsdfec_dev *xsdfec, u32 offset, u32 *src_ptr, u32 len,
			      const u32 base_addr, const u32 depth)
{
	u32 reg = 0;
	int res, i, nr_pages;
	u32 n;
	u32 *addr = NULL;
	struct page *pages[MAX_NUM_PAGES];

	if (offset > depth / XSDFEC_REG_WIDTH_JUMP ||
	    len > depth / XSDFEC_REG_WIDTH_JUMP ||
	    offset + len > depth / XSDFEC_REG_WIDTH_JUMP) {
		dev_dbg(xsdfec->dev, "Write exceeds SC table length");
		return -EINVAL;
	}

	n = (len * XSDFEC_REG_WIDTH_JUMP) / PAGE_SIZE;
	if ((len * XSDFEC_REG_WIDTH_JUMP) % PAGE_SIZE)
		n += 1;

	if (WARN_ON_ONCE(n > INT_MAX))
		return -EINVAL;

	nr_pages = n;

	res = pin_user_pages_fast((unsigned long)src_ptr, nr_pages, 0, pages);
	if (res < nr_pages) {
		if (res > 0)
			unpin_user_pages(pages, res);

		return -EINVAL;
	}

	for (i = 0; i < nr_pages; i++) {
		addr = kmap_local_page(pages[i]);
		do {
			xsdfec_regwrite(xsdfec, base_addr + ((offset + reg) * XSDFEC_REG_WIDTH_JUMP),
					addr[reg]);
			reg++;
		} while ((reg < len) && ((reg * XSDFEC_REG_WIDTH_JUMP) % PAGE_SIZE));
		kunmap_local(addr);
		unpin_user_page(pages[i]);
	}
	return 0;
}

// CASE POSITIVE unbalanced-release: mutation of drivers/misc/xilinx_sdfec.c:xsdfec_table_write() in 6.1
// The copy loop stops at the first register beyond the table and returns -EINVAL: the current
// page and every later one are still pinned on that path.
static int xsdfec_table_write_bounds(struct xsdfec_dev *xsdfec, u32 offset, u32 *src_ptr,
				     u32 len, const u32 base_addr, const u32 depth)
{
	u32 reg = 0;
	int res, i, nr_pages;
	u32 *addr = NULL;
	struct page *pages[MAX_NUM_PAGES];

	nr_pages = DIV_ROUND_UP(len * XSDFEC_REG_WIDTH_JUMP, PAGE_SIZE);
	if (nr_pages > MAX_NUM_PAGES)
		return -EINVAL;

	res = pin_user_pages_fast((unsigned long)src_ptr, nr_pages, 0, pages);
	if (res < nr_pages) {
		if (res > 0)
			unpin_user_pages(pages, res);
		return -EINVAL;
	}

	for (i = 0; i < nr_pages; i++) {
		addr = kmap_local_page(pages[i]);
		do {
			if (offset + reg >= depth / XSDFEC_REG_WIDTH_JUMP) {
				kunmap_local(addr);
				return -EINVAL;
				// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
			}
			xsdfec_regwrite(xsdfec, base_addr + ((offset + reg) * XSDFEC_REG_WIDTH_JUMP),
					addr[reg]);
			reg++;
		} while ((reg < len) && ((reg * XSDFEC_REG_WIDTH_JUMP) % PAGE_SIZE));
		kunmap_local(addr);
		unpin_user_page(pages[i]);
	}
	return 0;
}
