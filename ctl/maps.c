// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/PID/maps reading and per-object ELF facts (see maps.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <elfutils/libdwelf.h>
#include <gelf.h>
#include <libelf.h>

#include "maps.h"

static int hk_maps_parse_line(char *line, struct hk_map *m)
{
	char perms[5], *path;
	unsigned long long start, end, offset, inode;
	int n = 0;

	if (sscanf(line, "%llx-%llx %4s %llx %*x:%*x %llu %n", &start, &end, perms, &offset,
		   &inode, &n) < 5 || !n)
		return -EINVAL;
	path = line + n;
	path[strcspn(path, "\n")] = '\0';
	m->start = start;
	m->end = end;
	m->offset = offset;
	m->inode = inode;
	m->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	m->shared = perms[3] == 's';
	m->path = strdup(path);
	return m->path ? 0 : -ENOMEM;
}

int hk_maps_read(pid_t pid, struct hk_maps *maps)
{
	char fname[64], *line = NULL;
	size_t cap = 0, alloc = 0;
	struct hk_map *v;
	FILE *f;
	int ret = 0;

	memset(maps, 0, sizeof(*maps));
	maps->pid = pid;
	snprintf(fname, sizeof(fname), "/proc/%d/maps", (int)pid);
	f = fopen(fname, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &cap, f) > 0) {
		if (maps->n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			v = realloc(maps->v, alloc * sizeof(*v));
			if (!v) {
				ret = -ENOMEM;
				break;
			}
			maps->v = v;
		}
		ret = hk_maps_parse_line(line, &maps->v[maps->n]);
		if (ret)
			break;
		maps->n++;
	}
	free(line);
	fclose(f);
	/* A process that is gone, or a maps file we may not read, reads as empty. */
	if (!ret && !maps->n)
		ret = kill(pid, 0) && errno == ESRCH ? -ESRCH : -EACCES;
	if (ret)
		hk_maps_free(maps);
	return ret;
}

void hk_maps_free(struct hk_maps *maps)
{
	size_t i;

	for (i = 0; i < maps->n; i++)
		free(maps->v[i].path);
	free(maps->v);
	maps->v = NULL;
	maps->n = 0;
}

int hk_maps_covers(const struct hk_maps *maps, uint64_t start, uint64_t len)
{
	uint64_t at = start, end = start + len;
	size_t i;

	if (end < start)
		return 0;
	/* maps is sorted by address: walk forward through adjacent mappings */
	for (i = 0; i < maps->n && at < end; i++)
		if (maps->v[i].start <= at && at < maps->v[i].end)
			at = maps->v[i].end;
	return at >= end;
}

int hk_maps_is_file(const char *path)
{
	return path[0] == '/';
}

int hk_maps_open_file(const struct hk_maps *maps, const char *path)
{
	char buf[4200];
	int fd;

	snprintf(buf, sizeof(buf), "/proc/%d/root%s", (int)maps->pid, path);
	fd = open(buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int hk_maps_elf_bias(const struct hk_maps *maps, const char *path, void *elf_ptr,
		     uint64_t *bias)
{
	uint64_t page = sysconf(_SC_PAGESIZE);
	Elf *elf = elf_ptr;
	GElf_Ehdr ehdr;
	GElf_Phdr ph;
	size_t nph, i, j;

	if (!gelf_getehdr(elf, &ehdr))
		return -ENOEXEC;
	if (ehdr.e_type == ET_EXEC) {
		*bias = 0;
		return 0;
	}
	if (ehdr.e_type != ET_DYN || elf_getphdrnum(elf, &nph))
		return -ENOEXEC;
	/*
	 * The loader maps each PT_LOAD page-aligned: file page p_offset & ~mask
	 * lands at bias + (p_vaddr & ~mask). Any mapped segment gives the bias;
	 * .bss past the file end is anonymous and cannot be used.
	 */
	for (i = 0; i < nph; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		for (j = 0; j < maps->n; j++) {
			const struct hk_map *m = &maps->v[j];

			if (strcmp(m->path, path) || m->offset != (ph.p_offset & ~(page - 1)))
				continue;
			*bias = m->start - (ph.p_vaddr & ~(page - 1));
			return 0;
		}
	}
	return -ENOENT;
}

int hk_maps_elf_build_id(void *elf, uint8_t *buf, size_t size)
{
	const void *id;
	ssize_t len;

	len = dwelf_elf_gnu_build_id(elf, &id);
	if (len <= 0)
		return 0;
	if ((size_t)len > size)
		len = size;
	memcpy(buf, id, len);
	return len;
}
