/* sig — stop requests (SIGINT, SIGTERM, SIGHUP) for commands that wait
 * or loop.  The handler only records the signal; loops look at sig_stop
 * at least every 100 ms, finish what is in hand, then sig_reraise(). */
#ifndef EVKIT_SIG_H
#define EVKIT_SIG_H

#include <signal.h>

/* Atomic, not only volatile: the bus's and filter's threads read it too. */
extern _Atomic int sig_stop;	/* the signal that asked, or 0 */

/* Installs the handlers, without SA_RESTART so blocking calls return EINTR. */
void sig_catch_stop(void);
/* If a stop was asked: flush stdout, restore the default action and raise
 * the signal again, so the parent sees a true signal death. */
void sig_reraise(void);

#endif
