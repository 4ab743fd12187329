#ifndef _CASES_LINUX_BLKDEV_H
#define _CASES_LINUX_BLKDEV_H
#include <linux/bio.h>
#include <linux/fs.h>
struct request_queue { unsigned long queue_flags; };
struct request {
	struct request_queue *q;
	struct bio *bio;
	struct bio *biotail;
	unsigned int __data_len;
	int tag;
};
struct request_queue *bdev_get_queue(struct block_device *bdev);
unsigned int queue_max_hw_sectors(struct request_queue *q);
unsigned int blk_rq_bytes(struct request *rq);
unsigned int blk_rq_payload_bytes(struct request *rq);
sector_t blk_rq_pos(struct request *rq);
unsigned int blk_rq_nr_phys_segments(struct request *rq);
void *blk_mq_rq_to_pdu(struct request *rq);
struct request *blk_mq_rq_from_pdu(void *pdu);
void blk_mq_complete_request(struct request *rq);
bool blk_mq_complete_request_remote(struct request *rq);
void blk_mq_end_request(struct request *rq, blk_status_t error);
int blk_rq_append_bio(struct request *rq, struct bio *bio);
#define SECTOR_SHIFT 9
#endif
