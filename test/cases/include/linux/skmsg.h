#ifndef _CASES_LINUX_SKMSG_H
#define _CASES_LINUX_SKMSG_H
#include <linux/scatterlist.h>
#include <net/sock.h>
#define MAX_MSG_FRAGS MAX_SKB_FRAGS
#define NR_MSG_FRAG_IDS (MAX_MSG_FRAGS + 1)
struct sk_msg_sg {
	u32 start;
	u32 curr;
	u32 end;
	u32 size;
	u32 copybreak;
	struct scatterlist data[MAX_MSG_FRAGS + 2];
};
struct sk_msg {
	struct sk_msg_sg sg;
	void *data;
	void *data_end;
	u32 apply_bytes;
	u32 cork_bytes;
	struct sock *sk;
};
bool sk_msg_full(const struct sk_msg *msg);
int sk_msg_elem_used(const struct sk_msg *msg);
static inline struct scatterlist *sk_msg_elem(struct sk_msg *msg, int which)
{
	return &msg->sg.data[which];
}
static inline void sk_msg_page_add(struct sk_msg *msg, struct page *page, u32 len, u32 offset)
{
	struct scatterlist *sge;

	get_page(page);
	sge = sk_msg_elem(msg, msg->sg.end);
	sg_set_page(sge, page, len, offset);
	sg_unmark_end(sge);

	msg->sg.size += len;
	if (++msg->sg.end == NR_MSG_FRAG_IDS)
		msg->sg.end = 0;
}
void sk_msg_trim(struct sock *sk, struct sk_msg *msg, int len);
void sk_mem_uncharge(struct sock *sk, int size);
#define sk_msg_iter_var_next(var) do { (var)++; if ((var) == NR_MSG_FRAG_IDS) (var) = 0; } while (0)
#define sk_msg_iter_next(msg, which) sk_msg_iter_var_next((msg)->sg.which)
#endif
