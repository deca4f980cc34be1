/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the hkctl host tests: starting target programs and hkctl
 * itself, and reading what they print. Paths come from the environment
 * that 'make check' sets: HKCTL (the hkctl binary) and PROGS (the built
 * tests/progs directory).
 */
#ifndef _HK_TEST_H
#define _HK_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *hk_prog = "hkctl";

/* A started process: its pid, a pipe to its stdin and one from its stdout. */
struct hk_child {
	pid_t pid;
	int in;		/* write end of its stdin; close to end it */
	FILE *out;	/* its stdout */
};

static inline const char *hk_test_env(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v && v[0] ? v : fallback;
}

/* Start @argv with piped stdin/stdout; stderr is inherited. */
static inline int hk_child_start(struct hk_child *c, char *const argv[])
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (!c->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in = in[1];
	c->out = fdopen(out[0], "r");
	return c->out ? 0 : -errno;
}

/* Close its stdin, reap it; returns its wait status. */
static inline int hk_child_stop(struct hk_child *c)
{
	int status = -1;

	if (c->pid <= 0)
		return -1;
	close(c->in);
	if (c->out)
		fclose(c->out);
	waitpid(c->pid, &status, 0);
	c->pid = 0;
	return status;
}

/*
 * Run hkctl with @args (NULL-terminated, without argv[0]); capture stdout
 * and stderr into the given buffers (NUL-terminated, cut at @size - 1).
 * Returns the exit status, or -1.
 */
static inline int hk_run_hkctl(const char *const *args, char *out, size_t outsz, char *err,
			       size_t errsz)
{
	char outf[] = "/tmp/hk-test-out-XXXXXX", errf[] = "/tmp/hk-test-err-XXXXXX";
	const char *argv[32];
	int ofd, efd, status, i;
	ssize_t n;
	pid_t pid;

	argv[0] = hk_test_env("HKCTL", "./hkctl");
	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	ofd = mkstemp(outf);
	efd = mkstemp(errf);
	if (ofd < 0 || efd < 0)
		return -1;
	unlink(outf);
	unlink(errf);
	pid = fork();
	if (!pid) {
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	n = pread(ofd, out, outsz - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	n = pread(efd, err, errsz - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(ofd);
	close(efd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif /* _HK_TEST_H */
