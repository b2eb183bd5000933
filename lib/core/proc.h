/* proc — child processes for handlers and targets: each in its own
 * process group, every signal back to its default, nothing blocked, and
 * (Linux) killed by the kernel when the thread that spawned it ends, so
 * a SIGKILLed evkit command leaves no children behind.  Reap a child
 * before its spawning thread exits. */
#ifndef EVKIT_PROC_H
#define EVKIT_PROC_H

#include <sys/types.h>

/* Spawns argv (searched in PATH) with fd0 as its stdin and fd1 as its
 * stdout (-1: inherit ours).  Returns 0 and *pid, or posix_spawnp's
 * error (ENOENT, EACCES …). */
int proc_spawn(char *const *argv, int fd0, int fd1, pid_t *pid);

/* Everything a spawn can be told: envp is the child's environment (NULL:
 * ours, else see proc_env below), fd[] its stdin, stdout and stderr (-1:
 * inherit ours), flags PROC_SAME_GROUP keeps it in our process group,
 * PROC_SUBREAPER makes it (Linux) the subreaper of its descendants, so
 * what it starts and leaves stays in its tree while it lives. */
enum { PROC_SAME_GROUP = 1, PROC_SUBREAPER = 2 };
struct proc_spec {
	char *const *argv;
	char *const *envp;
	int flags;
	int fd[3];
};
int proc_spawn_spec(const struct proc_spec *s, pid_t *pid);
/* proc_spawn_spec with stderr inherited. */
int proc_spawn_env(char *const *argv, char *const *envp, int flags, int fd0, int fd1,
    pid_t *pid);

/* The environment a handler or target gets: not all of ours, only the
 * allow-list PATH, HOME, LANG, LC_*, TZ, TMPDIR, USER, LOGNAME, SHELL,
 * TERM, EVKIT_HOME and XDG_DATA_HOME (or everything with inherit), then
 * what the caller sets.  v is
 * NULL-terminated, for proc_spawn_env. */
struct proc_env {
	char **v;
	size_t n, cap;
};
void proc_env_init(struct proc_env *pe, int inherit);
/* Sets NAME to value, replacing an earlier NAME. */
void proc_env_set(struct proc_env *pe, const char *name, const char *value);
/* -E / --env: "NAME=VALUE" sets; "NAME" alone passes ours (nothing when
 * we have none). */
void proc_env_put(struct proc_env *pe, const char *spec);
/* NAME's value, or NULL. */
const char *proc_env_get(const struct proc_env *pe, const char *name);
void proc_env_free(struct proc_env *pe);

#endif
