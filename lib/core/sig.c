#include <errno.h>
#include <string.h>

#include "msg.h"
#include "out.h"
#include "sig.h"
#include "sigact.h"

_Atomic int sig_stop;

static void
on_stop(int sig)
{
	sig_stop = sig;
}

void
sig_catch_stop(void)
{
	sigact_set(SIGINT, on_stop, 0, NULL);
	sigact_set(SIGTERM, on_stop, 0, NULL);
	sigact_set(SIGHUP, on_stop, 0, NULL);
}

void
sig_reraise(void)
{
	int sig = sig_stop;

	if (sig == 0)
		return;
	/* What was done goes out first; the signal says how the process
	 * ended, so a write error is only told. */
	if (out_flush() != 0 && errno != EPIPE)
		msg_warn_sys("write error");
	sigact_die(sig);
}
