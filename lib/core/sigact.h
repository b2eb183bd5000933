/* sigact — setting a signal's action, in one place for every caller
 * (stop requests, SIGPIPE, SIGCHLD, SIGABRT recovery, dying of a signal). */
#ifndef EVKIT_SIGACT_H
#define EVKIT_SIGACT_H

#include <signal.h>

/* Sets sig's action to handler (or SIG_IGN / SIG_DFL) with an empty mask
 * and flags; the action it replaces goes to *old when old is not NULL. */
void sigact_set(int sig, void (*handler)(int), int flags, struct sigaction *old);
/* The same for a handler that takes the siginfo (SA_SIGINFO). */
void sigact_set_info(int sig, void (*handler)(int, siginfo_t *, void *), int flags);
/* Restores sig's default action and raises it, so the process ends as
 * if it had never had a handler: the parent sees a true signal death.
 * Async-signal-safe. */
void sigact_die(int sig);

#endif
