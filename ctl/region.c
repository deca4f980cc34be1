// SPDX-License-Identifier: GPL-2.0
/*
 * Region SPEC resolution (see region.h). Symbols are looked up with libelf
 * in the files the target maps, so what is resolved is what is running,
 * not what a path on the host happens to contain now.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

#include "region.h"
#include "util.h"

static int region_err(char *err, size_t errlen, int ret, const char *spec, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errlen, "region '%s': ", spec);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return ret;
}

static int region_add(struct hk_regions *out, uint64_t start, uint64_t len, const char *spec)
{
	struct hk_region *v;

	v = realloc(out->v, (out->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	out->v = v;
	v[out->n].start = start;
	v[out->n].len = len;
	v[out->n].spec = spec;
	out->n++;
	return 0;
}

void hk_regions_free(struct hk_regions *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/* A numeric range must lie in the target's mappings: catch typos early. */
static int region_add_range(const struct hk_maps *maps, uint64_t start, uint64_t len,
			    const char *spec, struct hk_regions *out, char *err, size_t errlen)
{
	if (!len)
		return region_err(err, errlen, -EINVAL, spec, "length is zero");
	if (start + len < start)
		return region_err(err, errlen, -EINVAL, spec, "wraps around the address space");
	if (!hk_maps_covers(maps, start, len))
		return region_err(err, errlen, -ERANGE, spec,
				  "0x%" PRIx64 "-0x%" PRIx64 " is not mapped in pid %d",
				  start, start + len, (int)maps->pid);
	return region_add(out, start, len, spec);
}

/* ADDR+LEN or START-END; 1 if @spec is neither (not an error yet). */
static int region_numeric(const struct hk_maps *maps, const char *spec, struct hk_regions *out,
			  char *err, size_t errlen)
{
	char first[64];
	const char *sep;
	uint64_t a, b;
	size_t n;

	sep = strpbrk(spec, "+-");
	if (!sep)
		return 1;
	n = sep - spec;
	if (n >= sizeof(first))
		return 1;
	memcpy(first, spec, n);
	first[n] = '\0';
	if (hk_parse_u64(first, 0, &a))
		return 1;	/* maybe SYMBOL+LEN */
	if (*sep == '+') {
		if (hk_parse_u64(sep + 1, 1, &b))
			return region_err(err, errlen, -EINVAL, spec,
					  "bad length '%s' (a number, optionally with K, M or G)",
					  sep + 1);
		return region_add_range(maps, a, b, spec, out, err, errlen);
	}
	if (hk_parse_u64(sep + 1, 0, &b))
		return region_err(err, errlen, -EINVAL, spec, "bad end address '%s'", sep + 1);
	if (b <= a)
		return region_err(err, errlen, -EINVAL, spec, "end is not above start");
	return region_add_range(maps, a, b - a, spec, out, err, errlen);
}

/* NAME as in /proc/PID/maps: every writable mapping of it, adjacent ones merged. */
static int region_mapping(const struct hk_maps *maps, const char *spec, struct hk_regions *out,
			  char *err, size_t errlen)
{
	size_t i, found = 0, added = 0;
	uint64_t start = 0, end = 0;
	int ret;

	for (i = 0; i < maps->n; i++) {
		const struct hk_map *m = &maps->v[i];

		if (strcmp(m->path, spec))
			continue;
		found++;
		if (!(m->prot & PROT_WRITE))
			continue;
		if (added && m->start == end) {
			end = m->end;
			continue;
		}
		if (added) {
			ret = region_add(out, start, end - start, spec);
			if (ret)
				return ret;
		}
		start = m->start;
		end = m->end;
		added++;
	}
	if (!found)
		return region_err(err, errlen, -ENOENT, spec, "pid %d has no mapping of that name",
				  (int)maps->pid);
	if (!added)
		return region_err(err, errlen, -ENOENT, spec,
				  "pid %d maps it %zu times, never writable", (int)maps->pid, found);
	return region_add(out, start, end - start, spec);
}

int hk_region_absent(const struct hk_maps *maps, const char *spec)
{
	size_t i;

	if (spec[0] != '/' && spec[0] != '[')
		return 0;
	for (i = 0; i < maps->n; i++)
		if (!strcmp(maps->v[i].path, spec))
			return 0;
	return 1;
}

struct sym_hit {
	uint64_t value;
	uint64_t size;
	int type;
	int abs;
};

/* Find @name in one symbol table section; 1 if found. */
static int sym_in_section(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, const char *name,
			  struct sym_hit *hit)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t i, n;
	GElf_Sym sym;
	const char *s;

	if (!data || !sh->sh_entsize)
		return 0;
	n = sh->sh_size / sh->sh_entsize;
	for (i = 1; i < n; i++) {
		if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF)
			continue;
		s = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!s || strcmp(s, name))
			continue;
		hit->value = sym.st_value;
		hit->size = sym.st_size;
		hit->type = GELF_ST_TYPE(sym.st_info);
		hit->abs = sym.st_shndx == SHN_ABS;
		return 1;
	}
	return 0;
}

/* .symtab first (it has static symbols), then .dynsym (stripped objects). */
static int sym_in_elf(Elf *elf, const char *name, struct sym_hit *hit)
{
	static const int order[] = { SHT_SYMTAB, SHT_DYNSYM };
	Elf_Scn *scn;
	GElf_Shdr sh;
	size_t k;

	for (k = 0; k < 2; k++) {
		scn = NULL;
		while ((scn = elf_nextscn(elf, scn))) {
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != (unsigned int)order[k])
				continue;
			if (sym_in_section(elf, scn, &sh, name, hit))
				return 1;
		}
	}
	return 0;
}

int hk_elf_symbol(const struct hk_maps *maps, const char *path, const char *name,
		  uint64_t *addr, uint64_t *size, int *type)
{
	struct sym_hit hit;
	uint64_t bias = 0;
	Elf *elf;
	int fd, ret = 0;

	elf_version(EV_CURRENT);
	fd = hk_maps_open_file(maps, path);
	if (fd < 0)
		return 0;	/* unreadable: not ours to judge; other objects may match */
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !sym_in_elf(elf, name, &hit))
		goto out;
	if (!hit.abs && hk_maps_elf_bias(maps, path, elf, &bias)) {
		ret = -ENOENT;
		goto out;
	}
	*addr = hit.value + bias;
	*size = hit.size;
	*type = hit.type;
	ret = 1;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

/* hk_elf_symbol() for a region: refuse symbols that are not watchable data. */
static int sym_in_object(const struct hk_maps *maps, const char *path, const char *name,
			 const char *spec, uint64_t *addr, uint64_t *size, char *err,
			 size_t errlen)
{
	int ret, type;

	ret = hk_elf_symbol(maps, path, name, addr, size, &type);
	if (ret == -ENOENT)
		return region_err(err, errlen, ret, spec, "cannot find where %s is loaded in pid %d",
				  path, (int)maps->pid);
	if (ret <= 0)
		return ret;
	if (type == STT_FUNC || type == STT_GNU_IFUNC)
		return region_err(err, errlen, -EINVAL, spec, "'%s' is a function in %s, not data",
				  name, path);
	if (type == STT_TLS)
		return region_err(err, errlen, -EINVAL, spec,
				  "'%s' in %s is thread-local: each thread has its own copy; give its address",
				  name, path);
	return 1;
}

char *hk_exe_path(pid_t pid)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/* SYMBOL[+LEN]: the executable first, then each mapped file once, in address order. */
static int region_symbol(const struct hk_maps *maps, const char *spec, struct hk_regions *out,
			 char *err, size_t errlen)
{
	char name[256], *exe, *plus;
	uint64_t addr, size, len = 0;
	size_t i, j, objects = 0;
	int ret = 0;

	if (strlen(spec) >= sizeof(name))
		return region_err(err, errlen, -EINVAL, spec, "name too long");
	strcpy(name, spec);
	plus = strrchr(name, '+');
	if (plus) {
		*plus = '\0';
		if (hk_parse_u64(plus + 1, 1, &len) || !len)
			return region_err(err, errlen, -EINVAL, spec,
					  "bad length '%s' (a number > 0, optionally with K, M or G)",
					  plus + 1);
	}
	if (!name[0])
		return region_err(err, errlen, -EINVAL, spec, "empty symbol name");

	exe = hk_exe_path(maps->pid);
	if (exe) {
		objects++;
		ret = sym_in_object(maps, exe, name, spec, &addr, &size, err, errlen);
	}
	for (i = 0; !ret && i < maps->n; i++) {
		const char *path = maps->v[i].path;

		if (!hk_maps_is_file(path) || (exe && !strcmp(path, exe)))
			continue;
		for (j = 0; j < i; j++)
			if (!strcmp(maps->v[j].path, path))
				break;
		if (j < i)
			continue;	/* already searched */
		objects++;
		ret = sym_in_object(maps, path, name, spec, &addr, &size, err, errlen);
	}
	free(exe);
	if (ret < 0)
		return ret;
	if (!ret)
		return region_err(err, errlen, -ENOENT, spec,
				  "no symbol, mapping or address of that name in pid %d (%zu objects searched)",
				  (int)maps->pid, objects);
	if (len)
		size = len;
	if (!size)
		return region_err(err, errlen, -EINVAL, spec,
				  "symbol '%s' has size 0 in the symbol table; write %s+LEN", name,
				  name);
	return region_add_range(maps, addr, size, spec, out, err, errlen);
}

int hk_region_resolve(const struct hk_maps *maps, const char *spec, struct hk_regions *out,
		      char *err, size_t errlen)
{
	int ret;

	if (!spec[0])
		return region_err(err, errlen, -EINVAL, spec, "empty SPEC");
	if (spec[0] == '/' || spec[0] == '[')
		return region_mapping(maps, spec, out, err, errlen);
	ret = region_numeric(maps, spec, out, err, errlen);
	if (ret <= 0)
		return ret;
	return region_symbol(maps, spec, out, err, errlen);
}
