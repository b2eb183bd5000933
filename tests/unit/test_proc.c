/* Unit tests of core/proc's environment builder and spawn. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/proc.h"
#include "unit.h"

static void
test_env(void)
{
	struct proc_env pe;

	setenv("PATH", "/bin", 1);
	setenv("LC_TIME", "C", 1);
	setenv("SECRET_TOKEN", "s", 1);
	setenv("OURS", "o", 1);
	unsetenv("NOT_OURS");
	proc_env_init(&pe, 0);
	CHECK_STR(proc_env_get(&pe, "PATH"), "/bin");
	CHECK_STR(proc_env_get(&pe, "LC_TIME"), "C");
	CHECK(proc_env_get(&pe, "SECRET_TOKEN") == NULL);
	CHECK(proc_env_get(&pe, "PAT") == NULL);
	proc_env_set(&pe, "PATH", "/usr/bin");
	CHECK_STR(proc_env_get(&pe, "PATH"), "/usr/bin");
	proc_env_put(&pe, "OURS");
	proc_env_put(&pe, "NOT_OURS");
	proc_env_put(&pe, "X2=a=b");
	CHECK_STR(proc_env_get(&pe, "OURS"), "o");
	CHECK(proc_env_get(&pe, "NOT_OURS") == NULL);
	CHECK_STR(proc_env_get(&pe, "X2"), "a=b");
	CHECK(pe.v[pe.n] == NULL);
	size_t paths = 0;
	for (size_t i = 0; i < pe.n; i++)
		paths += strncmp(pe.v[i], "PATH=", 5) == 0;
	CHECK(paths == 1);
	proc_env_free(&pe);
	proc_env_init(&pe, 1);
	CHECK_STR(proc_env_get(&pe, "SECRET_TOKEN"), "s");
	proc_env_free(&pe);
}

/* The child sees exactly the environment it was given. */
static void
test_spawn_env(void)
{
	char *const argv[] = { "sh", "-c", "echo \"$X2/${SECRET_TOKEN-unset}\"", NULL };
	char *const envp[] = { "X2=two", "PATH=/bin:/usr/bin", NULL };
	char buf[64] = { 0 };
	int p[2], st;
	pid_t pid;

	CHECK(pipe2(p, O_CLOEXEC) == 0);
	CHECK(proc_spawn_env(argv, envp, 0, -1, p[1], &pid) == 0);
	close(p[1]);
	ssize_t n = read(p[0], buf, sizeof buf - 1);
	close(p[0]);
	waitpid(pid, &st, 0);
	CHECK(n > 0);
	CHECK_STR(buf, "two/unset\n");
}

int
main(void)
{
	test_env();
	test_spawn_env();
	return UNIT_DONE();
}
