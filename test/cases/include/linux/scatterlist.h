#ifndef _CASES_LINUX_SCATTERLIST_H
#define _CASES_LINUX_SCATTERLIST_H
#include <linux/mm.h>
struct scatterlist {
	unsigned long page_link;
	unsigned int offset;
	unsigned int length;
	dma_addr_t dma_address;
	unsigned int dma_length;
};
struct sg_table {
	struct scatterlist *sgl;
	unsigned int nents;
	unsigned int orig_nents;
};
struct sg_append_table {
	struct sg_table sgt;
	struct scatterlist *prv;
	unsigned int total_nents;
};
void sg_set_page(struct scatterlist *sg, struct page *page, unsigned int len, unsigned int offset);
struct page *sg_page(struct scatterlist *sg);
void sg_assign_page(struct scatterlist *sg, struct page *page);
void sg_init_table(struct scatterlist *sgl, unsigned int nents);
void sg_init_one(struct scatterlist *sg, const void *buf, unsigned int buflen);
void sg_mark_end(struct scatterlist *sg);
void sg_unmark_end(struct scatterlist *sg);
struct scatterlist *sg_next(struct scatterlist *sg);
void sg_chain(struct scatterlist *chain_sg, unsigned int chain_sg_nents, struct scatterlist *sgl);
int sg_alloc_table(struct sg_table *table, unsigned int nents, gfp_t gfp_mask);
void sg_free_table(struct sg_table *table);
void sg_free_append_table(struct sg_append_table *sgt);
int sg_alloc_table_from_pages(struct sg_table *sgt, struct page **pages, unsigned int n_pages,
			      unsigned int offset, unsigned long size, gfp_t gfp_mask);
int sg_alloc_append_table_from_pages(struct sg_append_table *sgt, struct page **pages,
				     unsigned int n_pages, unsigned int offset, unsigned long size,
				     unsigned int max_segment, unsigned int left_pages,
				     gfp_t gfp_mask);
#define for_each_sg(sglist, sg, nr, __i) \
	for (__i = 0, sg = (sglist); __i < (nr); __i++, sg = sg_next(sg))
#define for_each_sgtable_sg(sgt, sg, i) for_each_sg((sgt)->sgl, sg, (sgt)->orig_nents, i)
#endif
