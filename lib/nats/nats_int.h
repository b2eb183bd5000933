/* nats_int — what the nats_*.c files share; not for other modules. */
#ifndef EVKIT_NATS_IMPL_H
#define EVKIT_NATS_IMPL_H

#include <pthread.h>

#include "nats.h"

/* One message published and not yet reported. */
struct natsp_slot {
	natsMsg *msg;			/* while in flight: only to find the slot */
	natsMsg *retry;			/* ours again: to publish once more */
	void *tag;
	uint64_t seq;
	int state;			/* SLOT_* */
	int dup;
	natsStatus err;
	jsErrCode jerr;
};
enum { SLOT_FLIGHT, SLOT_OK, SLOT_FAILED };

struct nats_conn {
	natsConnection *nc;
	jsCtx *js;
	char *shown;
	/* The async publisher's slots: the ack handler (a cnats thread)
	 * fills them under mu. */
	pthread_mutex_t mu;
	struct natsp_slot *slots;
	size_t nslots, cursor;
};

void natsp_ack_handler(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure);

#endif
