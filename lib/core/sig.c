#include <errno.h>
#include <string.h>

#include "msg.h"
#include "out.h"
#include "sig.h"

_Atomic int sig_stop;

static void
on_stop(int sig)
{
	sig_stop = sig;
}

void
sig_catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void
sig_reraise(void)
{
	int sig = sig_stop;
	struct sigaction sa;

	if (sig == 0)
		return;
	/* What was done goes out first; the signal says how the process
	 * ended, so a write error is only told. */
	if (out_flush() != 0 && errno != EPIPE)
		msg_warn_sys("write error");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(sig, &sa, NULL);
	raise(sig);
}
