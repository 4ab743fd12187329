// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: mm/gup_test.c (6.12): pin_longterm_test_start() publishes its page array in a file
// global before pinning into it batch by batch, and adds each batch's count to a global that
// pin_longterm_test_stop() (the error path, the STOP command, the release of the file) unpins.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/errno.h>

static struct page **test_pages;
static unsigned long test_nr_pages;

// helper (not a case), as in gup_test.c:pin_longterm_test_stop().
static void test_stop(void)
{
	if (test_pages) {
		if (test_nr_pages)
			unpin_user_pages(test_pages, test_nr_pages);
		kvfree(test_pages);
		test_pages = NULL;
		test_nr_pages = 0;
	}
}

// CASE NEGATIVE unbalanced-release: modelled on mm/gup_test.c:pin_longterm_test_start() in 6.12
// Every batch's pins land in the global array and their count in the global count before the
// next batch; a failing batch pinned nothing and test_stop() unpins what the count says.
static int test_start(unsigned long addr, unsigned long nr_pages, unsigned int gup_flags)
{
	struct page **pages;
	long cur_pages;
	int ret = 0;

	pages = kvcalloc(nr_pages, sizeof(void *), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	test_pages = pages;
	test_nr_pages = 0;

	while (nr_pages - test_nr_pages) {
		cur_pages = pin_user_pages_fast(addr + test_nr_pages * PAGE_SIZE, nr_pages - test_nr_pages,
						gup_flags, pages);
		if (cur_pages < 0) {
			test_stop();
			ret = cur_pages;
			break;
		}
		test_nr_pages += cur_pages;
		pages += cur_pages;
	}
	return ret;
}

// CASE POSITIVE unbalanced-release: mutation of mm/gup_test.c:pin_longterm_test_start() in 6.12
// A short batch is now refused before its count reaches the global: test_stop() unpins only
// the earlier batches, and this batch's pins stay.
static int test_start_short(unsigned long addr, unsigned long nr_pages, unsigned int gup_flags)
{
	struct page **pages;
	long cur_pages;
	int ret = 0;

	pages = kvcalloc(nr_pages, sizeof(void *), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	test_pages = pages;
	test_nr_pages = 0;

	while (nr_pages - test_nr_pages) {
		cur_pages = pin_user_pages_fast(addr + test_nr_pages * PAGE_SIZE, nr_pages - test_nr_pages,
						gup_flags, pages);
		if (cur_pages < 0) {
			test_stop();
			ret = cur_pages;
			break;
		}
		if (cur_pages < nr_pages - test_nr_pages) {
			test_stop();
			return -EFAULT;
			// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
		}
		test_nr_pages += cur_pages;
		pages += cur_pages;
	}
	return ret;
}
