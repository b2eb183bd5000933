/* fn_mem — --memory: the resident memory of a handler's process tree,
 * sampled from /proc, and the kill when it passes the limit.
 *
 * Lambda's limit is its sandbox's cgroup: past it the kernel kills the
 * runtime.  Unprivileged and without a delegated cgroup, the nearest we
 * can do is watch: the sum of VmRSS over the handler and its descendants
 * (children lists under /proc/PID/task; those that left the handler's
 * tree are its shim's children, so they count too), every FN_MEM_TICK_MS while
 * limited handlers run, and SIGKILL to the whole group past the limit. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fn_int.h"

/* Deepest descendant chain followed; deeper ones are not counted. */
enum { MAX_DEPTH = 16 };

/* VmRSS of one process in KiB (statm's resident pages), 0 when gone. */
static long
rss_kib(long pid)
{
	char path[64];
	long size, pages = 0;

	snprintf(path, sizeof path, "/proc/%ld/statm", pid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &pages) != 2)
		pages = 0;
	fclose(f);
	return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/* fn_each_child: the RSS of child and every descendant, in KiB, down
 * to MAX_DEPTH. */
static long
tree_kib(long child, void *depth)
{
	long kib = rss_kib(child);
	int d = *(int *)depth + 1;

	if (kib > 0 && d < MAX_DEPTH)
		kib += fn_each_child(child, tree_kib, &d);
	return kib;
}

/* Samples every limited handler that runs: records its peak, and kills
 * its group (SIGKILL, as the kernel would) once it is over the limit. */
void
fn_mem_enforce(struct fn_runner *r)
{
	long limit = (long)r->o.memory_mb * 1024;

	for (size_t i = 0; i < r->ninv; i++) {
		struct fn_inv *v = &r->inv[i];
		if (v->state != FN_RUNNING || v->exited || v->timed_out || v->oom || v->pid <= 0)
			continue;
		int depth = 0;
		long kib = tree_kib((long)v->pid, &depth);
		if (kib > v->peak_kib)
			v->peak_kib = kib;
		if (kib > limit) {
			v->oom = 1;
			fn_proc_kill_group(v->pid);
		}
	}
}
