#ifndef _CASES_LINUX_BLK_TYPES_H
#define _CASES_LINUX_BLK_TYPES_H
#include <linux/bvec.h>
typedef u8 blk_status_t;
typedef unsigned int blk_opf_t;
#define BLK_STS_OK 0
#define BLK_STS_IOERR 10
#define BLK_STS_RESOURCE 9
#define REQ_OP_READ 0
#define REQ_OP_WRITE 1
struct block_device;
struct bio;
typedef void (bio_end_io_t)(struct bio *);
struct bio {
	struct bio *bi_next;
	struct block_device *bi_bdev;
	blk_opf_t bi_opf;
	unsigned short bi_flags;
	blk_status_t bi_status;
	struct bvec_iter bi_iter;
	bio_end_io_t *bi_end_io;
	void *bi_private;
	unsigned short bi_vcnt;
	unsigned short bi_max_vecs;
	struct bio_vec *bi_io_vec;
};
enum {
#ifndef CASES_6_12
	BIO_NO_PAGE_REF,
#else
	BIO_PAGE_PINNED,
#endif
	BIO_CLONED,
	BIO_BOUNCED,
	BIO_USER_MAPPED,
	BIO_NULL_MAPPED,
};
#endif
