/* Shared by the foo driver's files. */
#include <linux/mm.h>
void foo_drop_pages(struct page **pages, int n);
int foo_setup(void);
