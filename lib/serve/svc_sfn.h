/* svc_sfn — the Step Functions service's state (svc_sfn.c). */
#ifndef EVKIT_SERVE_SVC_SFN_H
#define EVKIT_SERVE_SVC_SFN_H

#include <stdint.h>

#include <jv.h>

struct sfn;

struct sm {			/* a state machine */
	struct sfn *s;
	char *name, *arn, *def, *type, *role;
	int64_t created_ms;
	struct flow *fl;	/* its engine: every execution of it */
	struct sm *next;
};

struct sx {			/* an execution, kept until the server stops */
	struct sm *m;		/* NULL once the machine is deleted */
	char *arn, *sm_arn, *name, *input;
	char status[16];
	int64_t start_ms, stop_ms;
	jv result;		/* flow's envelope once it ended (output or error, cause) */
	jv history;		/* GetExecutionHistory's events */
	struct serve_call *sync;	/* StartSyncExecution's call, waiting */
	struct sx *next;
};

struct sfn {
	struct serve *srv;
	char *home, *rules;
	struct sm *sms;
	struct sx *xs;
};

#endif
