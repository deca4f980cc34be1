/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Region SPECs: what the user writes after --region, turned into address
 * ranges of one target process.
 *
 *   ADDR+LEN      0x7f0000001000+64, LEN may end in K, M or G
 *   START-END     0x404000-0x404100 (END exclusive)
 *   SYMBOL[+LEN]  an ELF symbol of the executable or of a library the
 *                 target maps (executable first, then libraries in address
 *                 order); its size comes from the symbol table unless
 *                 +LEN is given. PIE and libraries get their load bias.
 *   NAME          a mapping name as /proc/PID/maps prints it, starting
 *                 with '/' or '[': [heap], /dev/shm/NAME, a file path.
 *                 Every writable mapping of that name; adjacent ones merge.
 *
 * A SPEC that resolves to nothing is an error whose message names it.
 */
#ifndef _HK_REGION_H
#define _HK_REGION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "maps.h"

struct hk_region {
	uint64_t start;
	uint64_t len;
	const char *spec;	/* the user's SPEC, not owned */
};

struct hk_regions {
	struct hk_region *v;
	size_t n;
};

/*
 * Resolve @spec against @maps and append the ranges to @out. Returns 0,
 * or -errno with a sentence in @err (which names @spec): -EINVAL bad
 * syntax, -ENOENT nothing of that name, -ERANGE not mapped, -ENOMEM.
 */
int hk_region_resolve(const struct hk_maps *maps, const char *spec, struct hk_regions *out,
		      char *err, size_t errlen);

void hk_regions_free(struct hk_regions *r);

/*
 * Is @spec a mapping NAME that @maps has no mapping of at all? ('hkctl
 * run' then waits for it to appear instead of failing.)
 */
int hk_region_absent(const struct hk_maps *maps, const char *spec);

/*
 * Look @name up in the ELF object mapped from @path (.symtab, then
 * .dynsym; defined symbols only) and return its run-time address in the
 * target (load bias added), size and STT_* type. Returns 1 found, 0 not
 * found or not ELF, -ENOENT when the object is not loaded where its
 * segments say.
 */
int hk_elf_symbol(const struct hk_maps *maps, const char *path, const char *name,
		  uint64_t *addr, uint64_t *size, int *type);

/* Path of the target's executable (/proc/PID/exe), malloc'ed, or NULL. */
char *hk_exe_path(pid_t pid);

#endif /* _HK_REGION_H */
