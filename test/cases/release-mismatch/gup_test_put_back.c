// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: mm/gup_test.c (6.1): the GUP test ioctl acquires with the family the command names
// (get_user_pages*() for GUP_*, pin_user_pages*() for PIN_*, either for DUMP_USER_PAGES_TEST by
// a flag) and put_back_pages() releases by switching on the same command and flag.
#include <linux/mm.h>
#include <linux/slab.h>

#define GUP_FAST_BENCHMARK 1
#define PIN_FAST_BENCHMARK 2
#define PIN_LONGTERM_BENCHMARK 3
#define GUP_BASIC_TEST 4
#define PIN_BASIC_TEST 5
#define DUMP_USER_PAGES_TEST 6
#define GUP_TEST_FLAG_DUMP_PAGES_USE_PIN 0x1
typedef s64 ktime_t;
struct gup_test {
	u64 get_delta_usec;
	u64 put_delta_usec;
	u64 addr;
	u64 size;
	u32 nr_pages_per_call;
	u32 gup_flags;
	u32 test_flags;
};
ktime_t ktime_get(void);
u64 ktime_us_delta(ktime_t later, ktime_t earlier);
void verify_dma_pinned(unsigned int cmd, struct page **pages, unsigned long nr_pages);
void dump_pages_test(struct gup_test *gup, struct page **pages, unsigned long nr_pages);

// helper (not a case), as in gup_test.c:put_back_pages(): the release switches on the command.
static void put_back_pages(unsigned int cmd, struct page **pages, unsigned long nr_pages,
			   unsigned int gup_test_flags)
{
	unsigned long i;

	switch (cmd) {
	case GUP_FAST_BENCHMARK:
	case GUP_BASIC_TEST:
		for (i = 0; i < nr_pages; i++)
			put_page(pages[i]);
		break;

	case PIN_FAST_BENCHMARK:
	case PIN_BASIC_TEST:
	case PIN_LONGTERM_BENCHMARK:
		unpin_user_pages(pages, nr_pages);
		break;
	case DUMP_USER_PAGES_TEST:
		if (gup_test_flags & GUP_TEST_FLAG_DUMP_PAGES_USE_PIN) {
			unpin_user_pages(pages, nr_pages);
		} else {
			for (i = 0; i < nr_pages; i++)
				put_page(pages[i]);
		}
		break;
	}
}

// CASE NEGATIVE release-mismatch: modelled on mm/gup_test.c:__gup_test_ioctl() in 6.1
// Each command acquires with one family and put_back_pages() releases with the same one (same
// cmd, same test flag); pins accumulate across iterations in pages[0..i) and nr_pages is
// rewritten to the total before the release. The 'default' exit happens on the first
// iteration, before anything was acquired. Correct code.
static int __gup_test_ioctl(unsigned int cmd, struct gup_test *gup)
{
	ktime_t start_time, end_time;
	unsigned long i, nr_pages, addr, next;
	long nr;
	struct page **pages;
	int ret = 0;
	bool needs_mmap_lock = cmd != GUP_FAST_BENCHMARK && cmd != PIN_FAST_BENCHMARK;

	if (gup->size > ULONG_MAX)
		return -EINVAL;

	nr_pages = gup->size / PAGE_SIZE;
	pages = kvcalloc(nr_pages, sizeof(void *), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	if (needs_mmap_lock && mmap_read_lock_killable(current->mm)) {
		ret = -EINTR;
		goto free_pages;
	}

	i = 0;
	nr = gup->nr_pages_per_call;
	start_time = ktime_get();
	for (addr = gup->addr; addr < gup->addr + gup->size; addr = next) {
		if (nr != gup->nr_pages_per_call)
			break;

		next = addr + nr * PAGE_SIZE;
		if (next > gup->addr + gup->size) {
			next = gup->addr + gup->size;
			nr = (next - addr) / PAGE_SIZE;
		}

		switch (cmd) {
		case GUP_FAST_BENCHMARK:
			nr = get_user_pages_fast(addr, nr, gup->gup_flags, pages + i);
			break;
		case GUP_BASIC_TEST:
			nr = get_user_pages(addr, nr, gup->gup_flags, pages + i, NULL);
			break;
		case PIN_FAST_BENCHMARK:
			nr = pin_user_pages_fast(addr, nr, gup->gup_flags, pages + i);
			break;
		case PIN_BASIC_TEST:
			nr = pin_user_pages(addr, nr, gup->gup_flags, pages + i, NULL);
			break;
		case PIN_LONGTERM_BENCHMARK:
			nr = pin_user_pages(addr, nr, gup->gup_flags | FOLL_LONGTERM, pages + i, NULL);
			break;
		case DUMP_USER_PAGES_TEST:
			if (gup->test_flags & GUP_TEST_FLAG_DUMP_PAGES_USE_PIN)
				nr = pin_user_pages(addr, nr, gup->gup_flags, pages + i, NULL);
			else
				nr = get_user_pages(addr, nr, gup->gup_flags, pages + i, NULL);
			break;
		default:
			ret = -EINVAL;
			goto unlock;
		}

		if (nr <= 0)
			break;
		i += nr;
	}
	end_time = ktime_get();

	nr_pages = i;

	gup->get_delta_usec = ktime_us_delta(end_time, start_time);
	gup->size = addr - gup->addr;

	verify_dma_pinned(cmd, pages, nr_pages);

	if (cmd == DUMP_USER_PAGES_TEST)
		dump_pages_test(gup, pages, nr_pages);

	start_time = ktime_get();

	put_back_pages(cmd, pages, nr_pages, gup->test_flags);

	end_time = ktime_get();
	gup->put_delta_usec = ktime_us_delta(end_time, start_time);

unlock:
	if (needs_mmap_lock)
		mmap_read_unlock(current->mm);
free_pages:
	kvfree(pages);
	return ret;
}

// helper (not a case): put_back_pages() with the dump test's flag test lost: DUMP_USER_PAGES_TEST
// always puts, also the pages the test pinned.
static void put_back_pages_dump_put(unsigned int cmd, struct page **pages,
				    unsigned long nr_pages, unsigned int gup_test_flags)
{
	unsigned long i;

	switch (cmd) {
	case PIN_FAST_BENCHMARK:
	case PIN_BASIC_TEST:
	case PIN_LONGTERM_BENCHMARK:
		unpin_user_pages(pages, nr_pages);
		break;
	default:
		for (i = 0; i < nr_pages; i++)
			put_page(pages[i]);
		break;
	}
}

// CASE POSITIVE release-mismatch: mutation of mm/gup_test.c:__gup_test_ioctl() in 6.1
// DUMP_USER_PAGES_TEST with GUP_TEST_FLAG_DUMP_PAGES_USE_PIN pins with pin_user_pages(), but
// the release helper it calls puts every page of that command with put_page(): the pins'
// GUP_PIN_COUNTING_BIAS is left behind. The warning belongs on the helper call.
static int gup_test_dump_ioctl(unsigned int cmd, struct gup_test *gup)
{
	unsigned long nr_pages;
	long nr;
	struct page **pages;
	int ret = 0;

	if (cmd != DUMP_USER_PAGES_TEST)
		return -EINVAL;

	nr_pages = gup->size / PAGE_SIZE;
	pages = kvcalloc(nr_pages, sizeof(void *), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	if (mmap_read_lock_killable(current->mm)) {
		ret = -EINTR;
		goto free_pages;
	}

	if (gup->test_flags & GUP_TEST_FLAG_DUMP_PAGES_USE_PIN)
		nr = pin_user_pages(gup->addr, nr_pages, gup->gup_flags, pages, NULL);
	else
		nr = get_user_pages(gup->addr, nr_pages, gup->gup_flags, pages, NULL);
	if (nr <= 0) {
		ret = nr ? nr : -EFAULT;
		goto unlock;
	}

	dump_pages_test(gup, pages, nr);

	put_back_pages_dump_put(cmd, pages, nr, gup->test_flags);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]

unlock:
	mmap_read_unlock(current->mm);
free_pages:
	kvfree(pages);
	return ret;
}
