#include <linux/uio.h>
int nothing_here(struct iov_iter *i) { return iov_iter_count(i) > 0; }
