#ifndef _PAGEREF_TEST_LINUX_SKBUFF_H
#define _PAGEREF_TEST_LINUX_SKBUFF_H
#include <linux/uio.h>
struct sk_buff { unsigned int len, data_len, truesize; };
void skb_fill_page_desc(struct sk_buff *skb, int i, struct page *page, int off, int size);
struct msghdr { void *msg_name; int msg_namelen; struct iov_iter msg_iter; };
#endif
