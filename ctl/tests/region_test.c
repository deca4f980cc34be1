// SPDX-License-Identifier: GPL-2.0
/*
 * Region SPEC resolution against real processes: the target prints where
 * its objects are (it knows the truth through & and dlsym), the test
 * resolves SPECs from outside through /proc and libelf and compares.
 * Every test runs against the PIE and the non-PIE build of the target.
 */
#include <inttypes.h>
#include <stdint.h>

#include "kselftest_harness.h"
#include "hk_test.h"
#include "maps.h"
#include "region.h"

struct truth {
	uint64_t addr;
	uint64_t size;
};

FIXTURE(target) {
	struct hk_child child;
	struct hk_maps maps;
	struct hk_regions regions;
	char file[64];
	char shm_path[96];
	struct truth var, array, local, func, heap, shm, file_rw, file_ro, libc;
	char err[512];
};

FIXTURE_VARIANT(target) {
	const char *prog;
};

FIXTURE_VARIANT_ADD(target, pie) {
	.prog = "region_target-pie",
};

FIXTURE_VARIANT_ADD(target, nopie) {
	.prog = "region_target-nopie",
};

static void read_truth(struct __test_metadata *_metadata, FIXTURE_DATA(target) *self)
{
	char line[256], name[32], extra[96];
	unsigned long long addr, size;
	struct {
		const char *name;
		struct truth *t;
	} keys[] = {
		{ "var", &self->var }, { "array", &self->array }, { "local", &self->local },
		{ "func", &self->func }, { "heap", &self->heap }, { "shm", &self->shm },
		{ "file_rw", &self->file_rw }, { "file_ro", &self->file_ro },
		{ "libc", &self->libc },
	};
	size_t i;
	int n;

	while (fgets(line, sizeof(line), self->child.out)) {
		if (!strcmp(line, "ready\n"))
			return;
		extra[0] = '\0';
		n = sscanf(line, "%31s %llx %llu %95s", name, &addr, &size, extra);
		ASSERT_GE(n, 3);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (strcmp(name, keys[i].name))
				continue;
			keys[i].t->addr = addr;
			keys[i].t->size = size;
		}
		if (!strcmp(name, "shm"))
			strcpy(self->shm_path, extra);
	}
	ASSERT_TRUE(0) TH_LOG("target did not get ready");
}

FIXTURE_SETUP(target)
{
	char prog[512];
	char *argv[3];
	int fd;

	snprintf(prog, sizeof(prog), "%s/%s", hk_test_env("PROGS", "tests/bin/progs"),
		 variant->prog);
	strcpy(self->file, "/tmp/hk-region-file-XXXXXX");
	fd = mkstemp(self->file);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(fd, 4096));
	close(fd);
	argv[0] = prog;
	argv[1] = self->file;
	argv[2] = NULL;
	ASSERT_EQ(0, hk_child_start(&self->child, argv));
	read_truth(_metadata, self);
	ASSERT_EQ(0, hk_maps_read(self->child.pid, &self->maps));
}

FIXTURE_TEARDOWN(target)
{
	hk_regions_free(&self->regions);
	hk_maps_free(&self->maps);
	EXPECT_EQ(0, hk_child_stop(&self->child));
	unlink(self->file);
}

static int resolve(FIXTURE_DATA(target) *self, const char *spec)
{
	hk_regions_free(&self->regions);
	self->err[0] = '\0';
	return hk_region_resolve(&self->maps, spec, &self->regions, self->err, sizeof(self->err));
}

#define ASSERT_ONE_REGION(_addr, _len) do {				\
	ASSERT_EQ(1, self->regions.n);					\
	EXPECT_EQ((uint64_t)(_addr), self->regions.v[0].start);	\
	EXPECT_EQ((uint64_t)(_len), self->regions.v[0].len);		\
} while (0)

TEST_F(target, symbol_data)
{
	ASSERT_EQ(0, resolve(self, "hk_test_var")) TH_LOG("%s", self->err);
	ASSERT_ONE_REGION(self->var.addr, self->var.size);
}

TEST_F(target, symbol_bss)
{
	ASSERT_EQ(0, resolve(self, "hk_test_array")) TH_LOG("%s", self->err);
	ASSERT_ONE_REGION(self->array.addr, 4096);
}

TEST_F(target, symbol_static_from_symtab)
{
	ASSERT_EQ(0, resolve(self, "hk_test_local")) TH_LOG("%s", self->err);
	ASSERT_ONE_REGION(self->local.addr, self->local.size);
}

TEST_F(target, symbol_with_len)
{
	ASSERT_EQ(0, resolve(self, "hk_test_array+64")) TH_LOG("%s", self->err);
	ASSERT_ONE_REGION(self->array.addr, 64);
}

TEST_F(target, symbol_in_library)
{
	ASSERT_EQ(0, resolve(self, "_IO_2_1_stdout_")) TH_LOG("%s", self->err);
	ASSERT_ONE_REGION(self->libc.addr, self->libc.size);
	EXPECT_GT(self->libc.size, 0);
}

TEST_F(target, symbol_function_refused)
{
	EXPECT_EQ(-EINVAL, resolve(self, "hk_test_func"));
	EXPECT_NE(NULL, strstr(self->err, "'hk_test_func' is a function"));
	EXPECT_EQ(0, self->regions.n);
}

TEST_F(target, symbol_unknown_named)
{
	EXPECT_EQ(-ENOENT, resolve(self, "no_such_symbol_xyz"));
	EXPECT_NE(NULL, strstr(self->err, "region 'no_such_symbol_xyz'")) TH_LOG("%s", self->err);
	EXPECT_NE(NULL, strstr(self->err, "no symbol, mapping or address"));
}

TEST_F(target, addr_plus_len)
{
	char spec[64];

	snprintf(spec, sizeof(spec), "0x%" PRIx64 "+8", self->var.addr);
	ASSERT_EQ(0, resolve(self, spec)) TH_LOG("%s", self->err);
	ASSERT_ONE_REGION(self->var.addr, 8);
	snprintf(spec, sizeof(spec), "0x%" PRIx64 "+4K", self->array.addr);
	ASSERT_EQ(0, resolve(self, spec)) TH_LOG("%s", self->err);
	ASSERT_ONE_REGION(self->array.addr, 4096);
}

TEST_F(target, start_end)
{
	char spec[64];

	snprintf(spec, sizeof(spec), "0x%" PRIx64 "-0x%" PRIx64, self->array.addr,
		 self->array.addr + 100);
	ASSERT_EQ(0, resolve(self, spec)) TH_LOG("%s", self->err);
	ASSERT_ONE_REGION(self->array.addr, 100);
}

TEST_F(target, numeric_errors)
{
	EXPECT_EQ(-EINVAL, resolve(self, "0x1000+0"));
	EXPECT_NE(NULL, strstr(self->err, "length is zero")) TH_LOG("%s", self->err);
	EXPECT_EQ(-EINVAL, resolve(self, "0x2000-0x1000"));
	EXPECT_NE(NULL, strstr(self->err, "end is not above start")) TH_LOG("%s", self->err);
	EXPECT_EQ(-EINVAL, resolve(self, "0x1000+12Q"));
	EXPECT_NE(NULL, strstr(self->err, "bad length '12Q'")) TH_LOG("%s", self->err);
	/* page 0 is never mapped */
	EXPECT_EQ(-ERANGE, resolve(self, "0x10+8"));
	EXPECT_NE(NULL, strstr(self->err, "is not mapped")) TH_LOG("%s", self->err);
	EXPECT_EQ(-EINVAL, resolve(self, ""));
	EXPECT_EQ(0, self->regions.n);
}

TEST_F(target, mapping_heap)
{
	ASSERT_EQ(0, resolve(self, "[heap]")) TH_LOG("%s", self->err);
	ASSERT_EQ(1, self->regions.n);
	EXPECT_LE(self->regions.v[0].start, self->heap.addr);
	EXPECT_GE(self->regions.v[0].start + self->regions.v[0].len,
		  self->heap.addr + self->heap.size);
}

TEST_F(target, mapping_shm)
{
	ASSERT_EQ(0, resolve(self, self->shm_path)) TH_LOG("%s", self->err);
	ASSERT_ONE_REGION(self->shm.addr, 8192);
}

TEST_F(target, mapping_file_writable_only)
{
	/* mapped twice, read-only and writable: only the writable one counts */
	ASSERT_EQ(0, resolve(self, self->file)) TH_LOG("%s", self->err);
	ASSERT_ONE_REGION(self->file_rw.addr, 4096);
	EXPECT_NE(self->file_ro.addr, self->regions.v[0].start);
}

TEST_F(target, mapping_never_writable)
{
	/* [vdso] is mapped, but only read-only and executable */
	EXPECT_EQ(-ENOENT, resolve(self, "[vdso]"));
	EXPECT_NE(NULL, strstr(self->err, "never writable")) TH_LOG("%s", self->err);
	EXPECT_EQ(-ENOENT, resolve(self, "/no/such/file"));
	EXPECT_NE(NULL, strstr(self->err, "region '/no/such/file': pid")) TH_LOG("%s", self->err);
}

TEST(maps_of_missing_process)
{
	struct hk_maps maps;
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(0);
	waitpid(pid, NULL, 0);
	EXPECT_EQ(-ESRCH, hk_maps_read(pid, &maps));
}

TEST_HARNESS_MAIN
