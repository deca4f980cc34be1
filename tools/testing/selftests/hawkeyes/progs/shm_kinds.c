// SPDX-License-Identifier: GPL-2.0
/*
 * System V and memfd segments for shm_test.c: two processes map one
 * 16-byte segment at different addresses and store data (offset 8) then
 * flag (offset 0) in rounds 200 us apart for SECONDS.
 *
 *   shm_kinds sysv-create KEY SECONDS   create (IPC_CREAT) and attach
 *   shm_kinds sysv-attach KEY SECONDS   attach an existing one
 *   shm_kinds memfd-serve PATH SECONDS  create a memfd, print "fd N", hand
 *                                       it out over the Unix socket PATH
 *   shm_kinds memfd-recv PATH SECONDS   receive it over PATH (SCM_RIGHTS)
 *
 * The attaching side maps a spare page first, so that its address of the
 * segment differs from the creator's even without ASLR.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))

struct seg {
	long flag;	/* offset 0 */
	long data;	/* offset 8 */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void run(struct seg *m, double seconds)
{
	double end = now() + seconds;
	long i = 0;

	while (now() < end) {
		i++;
		WRITE_ONCE(m->data, i);
		WRITE_ONCE(m->flag, i);
		usleep(200);
	}
	printf("rounds %ld at %p\n", i, (void *)m);
}

static int unix_sock(const char *path, int serve)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0), tries = 0;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (s < 0)
		die("socket");
	if (serve) {
		unlink(path);
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1))
			die("bind");
		return s;
	}
	while (connect(s, (struct sockaddr *)&a, sizeof(a)))
		if (++tries > 500)
			die("connect");
		else
			usleep(10000);
	return s;
}

int main(int argc, char *argv[])
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 'x';
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	struct seg *m;
	int id, fd, s, conn;

	if (argc != 4)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(argv[1], "sysv-create") || !strcmp(argv[1], "sysv-attach")) {
		int create = argv[1][5] == 'c';

		if (!create && mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
		    MAP_FAILED)
			die("mmap");
		id = shmget(strtol(argv[2], NULL, 0), sizeof(*m), create ? IPC_CREAT | 0600 : 0);
		if (id < 0)
			die("shmget");
		m = shmat(id, NULL, 0);
		if (m == (void *)-1)
			die("shmat");
		printf("id %d\n", id);
		run(m, atof(argv[3]));
		shmdt(m);
		return 0;
	}
	if (!strcmp(argv[1], "memfd-serve")) {
		fd = memfd_create("hk_memfd", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, sizeof(*m)))
			die("memfd_create");
		m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			die("mmap");
		s = unix_sock(argv[2], 1);
		printf("fd %d\n", fd);
		conn = accept(s, NULL, NULL);
		if (conn < 0)
			die("accept");
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
		if (sendmsg(conn, &msg, 0) != 1)
			die("sendmsg");
		close(conn);
		close(s);
		unlink(argv[2]);
		run(m, atof(argv[3]));
		return 0;
	}
	if (!strcmp(argv[1], "memfd-recv")) {
		if (mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
			die("mmap");
		s = unix_sock(argv[2], 0);
		if (recvmsg(s, &msg, 0) != 1)
			die("recvmsg");
		c = CMSG_FIRSTHDR(&msg);
		if (!c || c->cmsg_type != SCM_RIGHTS)
			die("no fd");
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
		close(s);
		m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			die("mmap");
		close(fd);
		run(m, atof(argv[3]));
		return 0;
	}
	return 2;
}
