// SPDX-License-Identifier: GPL-2.0
/*
 * hkctl run: start a command and capture it from the first instruction of
 * its main().
 *
 * A pipe handshake before exec is not enough: exec replaces the image, so
 * the addresses of the new program are only known after it. The child
 * asks to be traced and execs; the exec stop leaves it frozen with the new
 * image mapped, but not its libraries: the dynamic loader runs later. So
 * hkctl plants a breakpoint on main (from the executable's symbol table;
 * the ELF entry point from the auxiliary vector when it is stripped), lets
 * the loader and constructors run, and at the breakpoint restores the
 * instruction, resolves the regions (executable and libraries now
 * mapped), attaches, and only then detaches ptrace and lets main run.
 * Mapping-name regions that do not exist yet at main are waited for by
 * the capture loop (capture.c, "regions that appear later").
 */
#include <elf.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gelf.h>

#include "analysis.h"
#include "capture.h"
#include "maps.h"
#include "region.h"
#include "subcommands.h"
#include "trace.h"
#include "util.h"

#if defined(__x86_64__)
typedef struct user_regs_struct run_regs;
#define RUN_PC(r)	((r).rip)
#define RUN_PC_AFTER_TRAP	1	/* int3 traps with rip after it */
#elif defined(__aarch64__)
#include <asm/ptrace.h>
typedef struct user_pt_regs run_regs;
#define RUN_PC(r)	((r).pc)
#define RUN_PC_AFTER_TRAP	0	/* brk leaves pc on itself */
#else
#error "hkctl run: breakpoint instruction unknown for this architecture"
#endif

static void run_usage(FILE *f)
{
	fprintf(f,
		"Usage: %s run --region SPEC [--region SPEC]... [options] -- CMD [ARG]...\n"
		"\n"
		"Start CMD and capture its accesses to the regions from the first\n"
		"instruction of its main() until it exits. hkctl stops CMD at main (or,\n"
		"for a stripped executable without a 'main' symbol, at its ELF entry\n"
		"point), when the executable and the libraries it links are mapped and\n"
		"their constructors have run, resolves the regions, attaches, and lets\n"
		"it go. Accesses made before that (loader, constructors) are not\n"
		"captured.\n"
		"\n"
		"Regions that appear later: a mapping NAME (starting with '/' or '[':\n"
		"[heap], a file CMD maps, /dev/shm/NAME, a library CMD loads with\n"
		"dlopen()) that CMD has not mapped yet at main is watched from when it\n"
		"appears: hkctl reads /proc/PID/maps every 10 ms and adds it to the live\n"
		"session (or, if no region exists at main, attaches then). Accesses in\n"
		"between are not captured; the report says for how long at most (the\n"
		"time from the last look without it to the module arming it). A mapping\n"
		"is resolved once, when it first appears: its later growth is not\n"
		"followed. A NAME that never appears is an error (exit status 2) named\n"
		"when the capture ends; the trace keeps the other regions. SYMBOLs and\n"
		"addresses must exist at main. With --mode page the module cannot add\n"
		"regions to a live session yet: only a first region can appear late;\n"
		"--mode auto (the default) then uses watchpoints from the start.\n"
		"\n"
		"Options (as for 'hkctl attach'):\n", hk_prog);
	hk_capture_help(f);
	fprintf(f, "\nReport options (as for 'hkctl report'):\n");
	hk_analysis_help(f, 1);
	fprintf(f,
		"  -h, --help          this text\n"
		"\n"
		"The capture ends when CMD exits, after --duration (CMD keeps running\n"
		"and hkctl waits for it), or on SIGINT/SIGTERM (SIGTERM is passed on to\n"
		"CMD; a terminal's Ctrl-C reaches CMD by itself); hkctl then waits for\n"
		"CMD to exit. CMD's standard streams are hkctl's. Then the barrier\n"
		"report of the trace is printed, as 'hkctl report' prints it.\n"
		"\n"
		"Example:\n"
		"  %s run -r counter -o counter.trace -- ./counter 4 1000\n"
		"\n"
		"Exit status: 0 the capture ran and the report has no porting finding\n"
		"(or --no-report), 1 porting findings reported, 2 error (CMD's own exit\n"
		"status is printed, not returned).\n",
		hk_prog);
}

struct run_target {
	struct hk_capture_target t;
	int resumed;
};

static int run_get_regs(pid_t pid, run_regs *regs)
{
	struct iovec iov = { regs, sizeof(*regs) };

	return ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov) ? -errno : 0;
}

static int run_set_regs(pid_t pid, run_regs *regs)
{
	struct iovec iov = { regs, sizeof(*regs) };

	return ptrace(PTRACE_SETREGSET, pid, (void *)NT_PRSTATUS, &iov) ? -errno : 0;
}

static long run_patch(long word)
{
#if defined(__x86_64__)
	return (word & ~0xffL) | 0xcc;				/* int3 */
#else
	return (word & ~0xffffffffL) | 0xd4200000L;		/* brk #0 */
#endif
}

/* AT_ENTRY from /proc/PID/auxv: where the kernel starts the program. */
static int run_auxv_entry(pid_t pid, uint64_t *entry)
{
	uint64_t av[2];
	char path[64];
	FILE *f;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fread(av, sizeof(av), 1, f) == 1 && av[0] != AT_NULL) {
		if (av[0] == AT_ENTRY) {
			*entry = av[1];
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* Where to stop the child: main, else the entry point. */
static int run_stop_address(pid_t pid, uint64_t *addr, const char **what)
{
	struct hk_maps maps;
	uint64_t size;
	char *exe;
	int ret, type;

	ret = hk_maps_read(pid, &maps);
	if (ret)
		return ret;
	exe = hk_exe_path(pid);
	ret = exe ? hk_elf_symbol(&maps, exe, "main", addr, &size, &type) : 0;
	free(exe);
	hk_maps_free(&maps);
	if (ret == 1 && type == STT_FUNC) {
		*what = "main";
		return 0;
	}
	*what = "the entry point";
	return run_auxv_entry(pid, addr);
}

/*
 * Continue the traced child until it reaches @addr. Signals it gets on
 * the way are delivered to it, as they would be without hkctl.
 */
static int run_to(pid_t pid, uint64_t addr, int *status)
{
	run_regs regs;
	long word;
	int sig = 0, ret;

	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, (void *)addr, NULL);
	if (errno)
		return -errno;
	if (ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)run_patch(word)))
		return -errno;
	for (;;) {
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig))
			return -errno;
		if (waitpid(pid, status, 0) < 0)
			return -errno;
		if (!WIFSTOPPED(*status))
			return -ECHILD;		/* exited or killed before main */
		sig = WSTOPSIG(*status);
		if (sig != SIGTRAP)
			continue;
		ret = run_get_regs(pid, &regs);
		if (ret)
			return ret;
		if (RUN_PC(regs) - RUN_PC_AFTER_TRAP == addr)
			break;
		sig = 0;	/* a trap that is not ours: not meant for the program */
	}
	if (ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)word))
		return -errno;
	RUN_PC(regs) = addr;
	return run_set_regs(pid, &regs);
}

static int run_resume(struct hk_capture_target *t)
{
	struct run_target *rt = (struct run_target *)t;

	if (ptrace(PTRACE_DETACH, t->pid, NULL, NULL))
		return -errno;
	rt->resumed = 1;
	return 0;
}

static int run_reap(struct hk_capture_target *t, int *status)
{
	return waitpid(t->pid, status, WNOHANG);
}

static pid_t run_start(char *argv[])
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL)) {
		fprintf(stderr, "%s run: cannot be traced: %s\n", hk_prog, strerror(errno));
		_exit(127);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "%s run: cannot run %s: %s\n", hk_prog, argv[0], strerror(errno));
	_exit(127);
}

static void run_report_exit(const char *cmd, int status)
{
	if (WIFEXITED(status))
		fprintf(stderr, "%s run: %s exited with status %d\n", hk_prog, cmd,
			WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		fprintf(stderr, "%s run: %s was killed by signal %d (%s)\n", hk_prog, cmd,
			WTERMSIG(status), strsignal(WTERMSIG(status)));
}

/* Start @argv stopped at main; returns 0 with rt->t.pid set, or -errno. */
static int run_prepare(struct run_target *rt, char *argv[])
{
	const char *what;
	uint64_t addr;
	int status, ret;

	rt->t.pid = run_start(argv);
	if (rt->t.pid < 0) {
		hk_err("run", "fork: %s", strerror(errno));
		return -errno;
	}
	if (waitpid(rt->t.pid, &status, 0) < 0 || !WIFSTOPPED(status)) {
		rt->t.reaped = 1;	/* exec failed: the child said why */
		return -ENOEXEC;
	}
	/* If hkctl dies before it lets go, the half-started child dies too. */
	ptrace(PTRACE_SETOPTIONS, rt->t.pid, NULL, (void *)(long)PTRACE_O_EXITKILL);
	ret = run_stop_address(rt->t.pid, &addr, &what);
	if (ret) {
		hk_err("run", "cannot find main or the entry point of %s: %s", argv[0],
		       strerror(-ret));
		return ret;
	}
	ret = run_to(rt->t.pid, addr, &status);
	if (ret == -ECHILD) {
		rt->t.reaped = 1;
		hk_err("run", "%s ended before reaching %s", argv[0], what);
		run_report_exit(argv[0], status);
		return ret;
	}
	if (ret)
		hk_err("run", "cannot stop %s at %s: %s", argv[0], what, strerror(-ret));
	return ret;
}

/* After the capture: CMD has exited, or make it (signal) or wait for it. */
static void run_wait(struct run_target *rt, const char *cmd)
{
	int status;

	if (!rt->resumed) {
		/* still stopped under ptrace: it never ran main; do not leave it */
		kill(rt->t.pid, SIGKILL);
		waitpid(rt->t.pid, &status, 0);
		return;
	}
	if (!rt->t.reaped) {
		if (rt->t.end_reason == HK_TRACE_END_SIGNAL)
			kill(rt->t.pid, SIGTERM);
		if (waitpid(rt->t.pid, &status, 0) == rt->t.pid) {
			rt->t.reaped = 1;
			rt->t.exit_status = status;
		}
	}
	if (rt->t.reaped)
		run_report_exit(cmd, rt->t.exit_status);
}

int run_main(int argc, char *argv[])
{
	struct run_target rt = { .t = { .started = 1, .resume = run_resume, .reap = run_reap } };
	struct hk_analysis_opts ao;
	struct hk_capture_opts o;
	int ret;

	/* '+': stop at the first non-option, CMD's options are CMD's */
	ret = hk_capture_parse_args(argc, argv, "run", "+r:d:o:h", run_usage, &o, &ao);
	if (ret >= 0)
		return ret;
	if (optind >= argc) {
		hk_err("run", "no command given: %s run [options] -- CMD [ARG]...", hk_prog);
		return HK_EXIT_ERROR;
	}
	if (!o.nspecs) {
		hk_err("run", "no --region given: say which memory to watch");
		return HK_EXIT_ERROR;
	}
	ret = run_prepare(&rt, argv + optind);
	if (ret) {
		if (!rt.t.reaped && rt.t.pid > 0)
			run_wait(&rt, argv[optind]);
		return HK_EXIT_ERROR;
	}
	ret = hk_capture("run", &rt.t, &o);
	run_wait(&rt, argv[optind]);
	if (ret == HK_EXIT_OK && ao.enabled)
		ret = hk_analysis_report("run", o.output, &ao);
	return ret;
}
