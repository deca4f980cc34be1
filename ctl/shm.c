// SPDX-License-Identifier: GPL-2.0
/*
 * Shared memory segments: resolve a SPEC to the (device, inode) of its
 * file, list them all, find who maps them (see shm.h).
 *
 * Facts this relies on (Linux 6.1 and 6.12):
 * - POSIX shm objects are files of the tmpfs on /dev/shm.
 * - A SysV segment is a file of the kernel's internal shm mount whose
 *   inode number is the shmid (ipc/shm.c newseg()); memfds live on the
 *   same mount, so a memfd's fstat() gives its device. /proc/sysvipc/shm
 *   lists the segments (key, shmid, size).
 * - /proc/PID/maps shows every mapping's device (hex major:minor) and inode;
 *   's' in the permissions marks a shared mapping.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "shm.h"

/* Device of the kernel's internal shm mount (SysV and memfd). */
static int shm_internal_dev(uint32_t *major_, uint32_t *minor_)
{
	struct stat st;
	int fd = memfd_create("hkctl-dev", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	close(fd);
	*major_ = major(st.st_dev);
	*minor_ = minor(st.st_dev);
	return 0;
}

/* The /proc/sysvipc/shm line of key @key (by_id: shmid @key). */
static int shm_sysv_find(long long key, int by_id, long long *id, uint64_t *size)
{
	char line[512];
	FILE *f = fopen("/proc/sysvipc/shm", "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {	/* header */
		fclose(f);
		return -ENOENT;
	}
	while (fgets(line, sizeof(line), f)) {
		long long k, i;
		unsigned long long sz;
		unsigned int perms;

		if (sscanf(line, "%lld %lld %o %llu", &k, &i, &perms, &sz) != 4)
			continue;
		if (by_id ? i == key : k == key) {
			*id = i;
			*size = sz;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

static int shm_from_stat(const char *path, struct hk_shm *s)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	s->major = major(st.st_dev);
	s->minor = minor(st.st_dev);
	s->ino = st.st_ino;
	s->size = st.st_size;
	return 0;
}

int hk_shm_resolve(const char *spec, struct hk_shm *s, char *err, size_t errlen)
{
	char path[300];
	const char *name;
	long long v, id = 0;
	int ret, pid, fd;
	char *end;

	memset(s, 0, sizeof(*s));
	if (!strncmp(spec, "posix:", 6) || !strncmp(spec, "/dev/shm/", 9)) {
		name = spec[0] == '/' ? spec + 9 : spec + 6;
		while (*name == '/')
			name++;
		if (!*name || strchr(name, '/') || strlen(name) > 240) {
			snprintf(err, errlen, "'%s': not a POSIX shm name", spec);
			return -EINVAL;
		}
		snprintf(path, sizeof(path), "/dev/shm/%.240s", name);
		ret = shm_from_stat(path, s);
		if (ret) {
			snprintf(err, errlen, "'%s': %s: %s", spec, path, strerror(-ret));
			return ret;
		}
		s->kind = HK_SHM_POSIX;
		snprintf(s->name, sizeof(s->name), "posix:%.240s", name);
		snprintf(s->label, sizeof(s->label), "%.250s", path);
		return 0;
	}
	if (!strncmp(spec, "sysv:", 5) || !strncmp(spec, "sysv-id:", 8)) {
		int by_id = spec[4] == '-';
		const char *num = spec + (by_id ? 8 : 5);

		errno = 0;
		v = strtoll(num, &end, 0);
		if (errno || end == num || *end) {
			snprintf(err, errlen, "'%s': expected a number after %s", spec,
				 by_id ? "sysv-id:" : "sysv:");
			return -EINVAL;
		}
		ret = shm_sysv_find(v, by_id, &id, &s->size);
		if (ret) {
			snprintf(err, errlen, "'%s': no System V segment with %s %lld%s", spec,
				 by_id ? "id" : "key", v,
				 ret == -ENOENT ? "" : " (cannot read /proc/sysvipc/shm)");
			return ret;
		}
		ret = shm_internal_dev(&s->major, &s->minor);
		if (ret) {
			snprintf(err, errlen, "'%s': memfd_create: %s", spec, strerror(-ret));
			return ret;
		}
		s->ino = id;
		s->kind = HK_SHM_SYSV;
		snprintf(s->name, sizeof(s->name), "sysv-id:%lld", id);
		snprintf(s->label, sizeof(s->label), "SysV id %lld", id);
		/* a SHM_HUGETLB segment lives on hugetlbfs: take a mapper's device */
		hk_shm_mappers(s);
		return 0;
	}
	if (!strncmp(spec, "memfd:", 6)) {
		if (sscanf(spec + 6, "%d:%d", &pid, &fd) != 2 || pid <= 0 || fd < 0) {
			snprintf(err, errlen, "'%s': expected memfd:PID:FD", spec);
			return -EINVAL;
		}
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		ret = shm_from_stat(path, s);
		if (ret) {
			snprintf(err, errlen, "'%s': %s: %s", spec, path, strerror(-ret));
			return ret;
		}
		s->kind = HK_SHM_MEMFD;
		snprintf(s->name, sizeof(s->name), "memfd:%d:%d", pid, fd);
		ret = readlink(path, s->label, sizeof(s->label) - 1);
		if (ret < 0 || strncmp(s->label, "/memfd:", 7)) {
			snprintf(err, errlen, "'%s': fd %d of %d is not a memfd", spec, fd, pid);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, errlen, "'%s': expected sysv:KEY, sysv-id:ID, posix:NAME, /dev/shm/NAME or "
		 "memfd:PID:FD", spec);
	return -EINVAL;
}

static int shm_add_pid(struct hk_shm *s, pid_t pid)
{
	pid_t *v;
	size_t i;

	for (i = 0; i < s->npids; i++)
		if (s->pids[i] == pid)
			return 0;
	v = realloc(s->pids, (s->npids + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->pids = v;
	s->pids[s->npids++] = pid;
	return 0;
}

/* One line of /proc/PID/maps: shared? device, inode, path. */
static int shm_parse_maps_line(const char *line, unsigned int *maj, unsigned int *min,
			       unsigned long long *ino, const char **path)
{
	char perms[8];
	int n = 0;

	if (sscanf(line, "%*x-%*x %7s %*x %x:%x %llu %n", perms, maj, min, ino, &n) < 4)
		return 0;
	*path = line + n;
	return perms[3] == 's';
}

static int shm_cmp_pid(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

/* Call @fn for every shared mapping of every process. */
static void shm_each_mapping(void (*fn)(void *arg, pid_t pid, unsigned int maj, unsigned int min,
					unsigned long long ino, const char *path), void *arg)
{
	struct dirent *de;
	char path[64], line[4608];
	DIR *d = opendir("/proc");

	if (!d)
		return;
	while ((de = readdir(d))) {
		pid_t pid = atoi(de->d_name);
		FILE *f;

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned int maj, min;
			unsigned long long ino;
			const char *p;

			line[strcspn(line, "\n")] = '\0';
			if (shm_parse_maps_line(line, &maj, &min, &ino, &p))
				fn(arg, pid, maj, min, ino, p);
		}
		fclose(f);
	}
	closedir(d);
}

static void shm_mapper_cb(void *arg, pid_t pid, unsigned int maj, unsigned int min,
			  unsigned long long ino, const char *path)
{
	struct hk_shm *s = arg;

	if (ino != s->ino)
		return;
	if (s->kind == HK_SHM_SYSV && strncmp(path, "/SYSV", 5))
		return;
	if (s->kind != HK_SHM_SYSV && (maj != s->major || min != s->minor))
		return;
	/* SysV: the mapping's device is the truth (hugetlbfs segments) */
	s->major = maj;
	s->minor = min;
	shm_add_pid(s, pid);
}

int hk_shm_mappers(struct hk_shm *s)
{
	free(s->pids);
	s->pids = NULL;
	s->npids = 0;
	shm_each_mapping(shm_mapper_cb, s);
	if (s->npids)
		qsort(s->pids, s->npids, sizeof(*s->pids), shm_cmp_pid);
	return 0;
}

void hk_shm_free(struct hk_shm *s)
{
	free(s->pids);
	s->pids = NULL;
	s->npids = 0;
}

void hk_shm_list_free(struct hk_shm *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		hk_shm_free(&v[i]);
	free(v);
}

struct shm_list {
	struct hk_shm *v;
	size_t n;
	uint32_t imaj, imin;	/* internal shm mount */
};

static struct hk_shm *shm_list_add(struct shm_list *l)
{
	struct hk_shm *v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return NULL;
	l->v = v;
	memset(&v[l->n], 0, sizeof(v[l->n]));
	return &v[l->n++];
}

/* Mapped memfds: found in the maps, named by a mapper's fd when it has one. */
static void shm_memfd_cb(void *arg, pid_t pid, unsigned int maj, unsigned int min,
			 unsigned long long ino, const char *path)
{
	struct shm_list *l = arg;
	struct hk_shm *s;
	struct dirent *de;
	char dir[64], fdpath[400];
	struct stat st;
	size_t i;
	DIR *d;

	if (strncmp(path, "/memfd:", 7))
		return;
	for (i = 0; i < l->n; i++)
		if (l->v[i].ino == ino && l->v[i].major == maj && l->v[i].minor == min)
			return;
	s = shm_list_add(l);
	if (!s)
		return;
	s->kind = HK_SHM_MEMFD;
	s->major = maj;
	s->minor = min;
	s->ino = ino;
	snprintf(s->label, sizeof(s->label), "%.250s", path);
	snprintf(s->name, sizeof(s->name), "-");
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		snprintf(fdpath, sizeof(fdpath), "%s/%.255s", dir, de->d_name);
		if (de->d_name[0] != '.' && !stat(fdpath, &st) && st.st_ino == ino &&
		    major(st.st_dev) == maj && minor(st.st_dev) == min) {
			snprintf(s->name, sizeof(s->name), "memfd:%d:%.32s", (int)pid, de->d_name);
			s->size = st.st_size;
			break;
		}
	}
	if (d)
		closedir(d);
}

int hk_shm_list(struct hk_shm **out, size_t *n)
{
	struct shm_list l = { 0 };
	struct dirent *de;
	char line[512], err[512];
	struct hk_shm *s;
	FILE *f;
	DIR *d;
	size_t i;

	d = opendir("/dev/shm");
	while (d && (de = readdir(d))) {
		char spec[300];

		if (de->d_name[0] == '.' || strlen(de->d_name) > 240)
			continue;
		snprintf(spec, sizeof(spec), "posix:%.240s", de->d_name);
		s = shm_list_add(&l);
		if (!s)
			break;
		if (hk_shm_resolve(spec, s, err, sizeof(err)) || !s->kind)
			l.n--;
	}
	if (d)
		closedir(d);
	f = fopen("/proc/sysvipc/shm", "re");
	if (f && fgets(line, sizeof(line), f)) {
		while (fgets(line, sizeof(line), f)) {
			long long k, id;
			char spec[64];

			if (sscanf(line, "%lld %lld", &k, &id) != 2)
				continue;
			snprintf(spec, sizeof(spec), "sysv-id:%lld", id);
			s = shm_list_add(&l);
			if (!s)
				break;
			if (hk_shm_resolve(spec, s, err, sizeof(err)))
				l.n--;
			else
				snprintf(s->label, sizeof(s->label), "key 0x%08llx", k & 0xffffffffull);
		}
	}
	if (f)
		fclose(f);
	shm_each_mapping(shm_memfd_cb, &l);
	for (i = 0; i < l.n; i++)
		if (l.v[i].kind != HK_SHM_SYSV || !l.v[i].npids)
			hk_shm_mappers(&l.v[i]);
	*out = l.v;
	*n = l.n;
	return 0;
}
