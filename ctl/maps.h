/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The target's address space as /proc/PID/maps shows it, with what offline
 * analysis needs per ELF object: its GNU build-id and load bias (libelf and
 * libdwelf do the ELF reading).
 */
#ifndef _HK_MAPS_H
#define _HK_MAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct hk_map {
	uint64_t start;
	uint64_t end;
	uint64_t offset;
	uint64_t inode;
	uint32_t prot;		/* PROT_READ | PROT_WRITE | PROT_EXEC */
	int shared;		/* 's' in the flags column */
	char *path;		/* "" for anonymous mappings, "[heap]", a file path */
};

struct hk_maps {
	pid_t pid;
	struct hk_map *v;
	size_t n;
};

/* Read /proc/@pid/maps. Returns 0, or -errno (-ESRCH: no such process). */
int hk_maps_read(pid_t pid, struct hk_maps *maps);
void hk_maps_free(struct hk_maps *maps);

/* Is [start, start + len) entirely mapped? */
int hk_maps_covers(const struct hk_maps *maps, uint64_t start, uint64_t len);

/*
 * Open the file of a mapping as the target sees it: through
 * /proc/PID/root first (other mount namespaces, containers), else the path.
 * Returns an fd or -errno.
 */
int hk_maps_open_file(const struct hk_maps *maps, const char *path);

/* Is @path (as in maps) the backing file of a mapping, not a [pseudo] name? */
int hk_maps_is_file(const char *path);

/*
 * Load bias of the ELF object mapped from @path: 0 for ET_EXEC, the
 * difference between where a PT_LOAD segment was mapped and its p_vaddr
 * for ET_DYN (PIE executables, libraries). Returns 0 and sets @bias, or
 * -ENOEXEC (not ELF), -ENOENT (no PT_LOAD of it is mapped), -errno.
 * @elf is an Elf * (void * to keep libelf.h out of this header).
 */
int hk_maps_elf_bias(const struct hk_maps *maps, const char *path, void *elf, uint64_t *bias);

/* GNU build-id of @elf into @buf (up to @size bytes). Returns its length, 0 if none. */
int hk_maps_elf_build_id(void *elf, uint8_t *buf, size_t size);

#endif /* _HK_MAPS_H */
