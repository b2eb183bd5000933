#include "sigact.h"

static void
install(int sig, struct sigaction *sa, int flags, struct sigaction *old)
{
	sa->sa_flags = flags;
	sigemptyset(&sa->sa_mask);
	sigaction(sig, sa, old);
}

void
sigact_set(int sig, void (*handler)(int), int flags, struct sigaction *old)
{
	struct sigaction sa = { .sa_handler = handler };

	install(sig, &sa, flags, old);
}

void
sigact_set_info(int sig, void (*handler)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa = { .sa_sigaction = handler };

	install(sig, &sa, flags | SA_SIGINFO, NULL);
}

void
sigact_die(int sig)
{
	sigact_set(sig, SIG_DFL, 0, NULL);
	raise(sig);
}
