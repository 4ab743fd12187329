// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: page-cache lookups into a folio_batch (6.1, 6.12): filemap_get_folios_contig() takes a
// reference on every folio it puts in the batch and returns how many; folio_batch_release()
// drops them all. fs/btrfs/extent_io.c:__process_pages_contig() walks a range this way.
#include <linux/mm.h>
#include <linux/errno.h>

#define PAGEVEC_SIZE 15
struct folio_batch {
	unsigned char nr;
	struct folio *folios[PAGEVEC_SIZE];
};
void folio_batch_init(struct folio_batch *fbatch);
unsigned filemap_get_folios_contig(struct address_space *mapping, pgoff_t *start, pgoff_t end,
				   struct folio_batch *fbatch);
void folio_batch_release(struct folio_batch *fbatch);
int lock_one_folio(struct folio *folio);
void cond_resched(void);

// CASE NEGATIVE unbalanced-release: modelled on fs/btrfs/extent_io.c:__process_pages_contig() in 6.1
// Each batch is released after its folios are processed, also when locking one fails and the
// walk stops. Correct code.
static int lock_range(struct address_space *mapping, pgoff_t index, pgoff_t end_index)
{
	struct folio_batch fbatch;
	int err = 0;
	int i;

	folio_batch_init(&fbatch);
	while (index <= end_index) {
		int found = filemap_get_folios_contig(mapping, &index, end_index, &fbatch);

		if (found == 0) {
			err = -EAGAIN;
			goto out;
		}
		for (i = 0; i < found; i++) {
			if (lock_one_folio(fbatch.folios[i]) < 0) {
				err = -EAGAIN;
				folio_batch_release(&fbatch);
				goto out;
			}
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
out:
	return err;
}

// CASE POSITIVE unbalanced-release: modelled on fs/btrfs/extent_io.c:__process_pages_contig() before 5909ca110b29
// The failure to lock a folio leaves the loop without releasing the batch: every reference
// the lookup took for it leaks.
static int lock_range_leak(struct address_space *mapping, pgoff_t index, pgoff_t end_index)
{
	struct folio_batch fbatch;
	int err = 0;
	int i;

	folio_batch_init(&fbatch);
	while (index <= end_index) {
		int found = filemap_get_folios_contig(mapping, &index, end_index, &fbatch);

		if (found == 0) {
			err = -EAGAIN;
			goto out;
		}
		for (i = 0; i < found; i++) {
			if (lock_one_folio(fbatch.folios[i]) < 0) {
				err = -EAGAIN;
				goto out;
			}
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
out:
	return err;
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
}
