/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared memory segments as hkctl names them: System V (sysv:KEY,
 * sysv-id:ID), POSIX (/dev/shm/NAME, posix:NAME) and memfds (memfd:PID:FD).
 * Each is a file; the module knows it by the device and inode number of
 * that file, which is what hk_shm_resolve() finds. hk_shm_list() lists
 * every segment of the system with the processes that map it.
 */
#ifndef _HK_SHM_H
#define _HK_SHM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum hk_shm_kind {
	HK_SHM_POSIX = 1,
	HK_SHM_SYSV,
	HK_SHM_MEMFD,
};

struct hk_shm {
	enum hk_shm_kind kind;
	char name[256];			/* canonical SPEC: posix:NAME, sysv-id:ID, memfd:PID:FD */
	char label[256];		/* what the system calls it: /dev/shm/NAME, key, memfd name */
	uint32_t major, minor;		/* device of the segment's file */
	uint64_t ino;			/* inode number (SysV: the shmid) */
	uint64_t size;			/* bytes */
	pid_t *pids;			/* processes that map it now (shared) */
	size_t npids;
};

/* Resolve SPEC; on error a sentence naming it is in @err. 0 or -errno. */
int hk_shm_resolve(const char *spec, struct hk_shm *out, char *err, size_t errlen);

/* Fill @s->pids from /proc/[pid]/maps: who maps the file shared now. */
int hk_shm_mappers(struct hk_shm *s);

/* Every segment: POSIX files, SysV segments, mapped memfds; with mappers. */
int hk_shm_list(struct hk_shm **out, size_t *n);

void hk_shm_free(struct hk_shm *s);
void hk_shm_list_free(struct hk_shm *v, size_t n);

#endif /* _HK_SHM_H */
