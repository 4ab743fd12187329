#ifndef _CASES_LINUX_SKBUFF_H
#define _CASES_LINUX_SKBUFF_H
#include <linux/mm.h>
#include <linux/net.h>
#define MAX_SKB_FRAGS 17
struct sk_buff;
typedef struct skb_frag {
	struct page *bv_page;
	unsigned int bv_len;
	unsigned int bv_offset;
} skb_frag_t;
struct skb_shared_info {
	u8 flags;
	u8 nr_frags;
	skb_frag_t frags[MAX_SKB_FRAGS];
};
struct sk_buff {
	struct sk_buff *next;
	struct sock *sk;
	unsigned int len;
	unsigned int data_len;
	unsigned int truesize;
	u8 ip_summed;
	unsigned char *head;
	unsigned char *data;
};
struct skb_shared_info *skb_shinfo(const struct sk_buff *skb);
void skb_fill_page_desc(struct sk_buff *skb, int i, struct page *page, int off, int size);
void skb_fill_page_desc_noacc(struct sk_buff *skb, int i, struct page *page, int off, int size);
bool skb_can_coalesce(struct sk_buff *skb, int i, const struct page *page, int off);
void skb_frag_size_add(skb_frag_t *frag, int delta);
struct page *skb_frag_page(const skb_frag_t *frag);
unsigned int skb_frag_off(const skb_frag_t *frag);
unsigned int skb_frag_size(const skb_frag_t *frag);
bool skb_zcopy_pure(const struct sk_buff *skb);
void page_ref_sub(struct page *page, int nr);
void skb_len_add(struct sk_buff *skb, int delta);
#ifndef CASES_6_12
int skb_append_pagefrags(struct sk_buff *skb, struct page *page, int offset, size_t size);
#else
int skb_append_pagefrags(struct sk_buff *skb, struct page *page, int offset, size_t size,
			 size_t max_frags);
#endif
bool sendpage_ok(struct page *page);
#define CHECKSUM_NONE 0
void skb_zcopy_downgrade_managed(struct sk_buff *skb);
struct sk_buff *alloc_skb(unsigned int size, gfp_t priority);
void kfree_skb(struct sk_buff *skb);
void consume_skb(struct sk_buff *skb);
int skb_tailroom(const struct sk_buff *skb);
#endif
