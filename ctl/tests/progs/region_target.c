// SPDX-License-Identifier: GPL-2.0
/*
 * Target for the region tests: creates one of each kind of region a SPEC
 * can name, prints where each one is (as "name address size" lines, the
 * truth the tests compare against), then waits until stdin closes.
 *
 * Built PIE and non-PIE so that load-bias handling is tested both ways.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

long hk_test_var = 1;			/* .data */
char hk_test_array[4096];		/* .bss: past the file end, anonymous */
static int hk_test_local = 2;		/* only in .symtab */

int hk_test_func(void)
{
	return hk_test_local;
}

int main(int argc, char *argv[])
{
	const ElfW(Sym) *sym = NULL;
	char shm_name[64], *heap;
	Dl_info info;
	void *p, *shm, *file_rw, *file_ro;
	int fd;

	if (argc < 2)
		return 2;
	/* below the mmap threshold: comes from brk, i.e. [heap] */
	heap = malloc(1024);
	heap[0] = 1;
	snprintf(shm_name, sizeof(shm_name), "/hk-region-test-%d", (int)getpid());
	fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, 8192))
		return 2;
	shm = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	/* the same file mapped read-only and, elsewhere, writable */
	fd = open(argv[1], O_RDWR);
	if (fd < 0)
		return 2;
	file_ro = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	file_rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (shm == MAP_FAILED || file_ro == MAP_FAILED || file_rw == MAP_FAILED)
		return 2;
	/* a libc object the executable does not reference (no copy relocation) */
	p = dlsym(RTLD_DEFAULT, "_IO_2_1_stdout_");
	if (!p || !dladdr1(p, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
		return 2;

	printf("var %p %zu\n", (void *)&hk_test_var, sizeof(hk_test_var));
	printf("array %p %zu\n", (void *)hk_test_array, sizeof(hk_test_array));
	printf("local %p %zu\n", (void *)&hk_test_local, sizeof(hk_test_local));
	printf("func %p 0\n", (void *)hk_test_func);
	printf("heap %p 1024\n", (void *)heap);
	printf("shm %p 8192 /dev/shm%s\n", shm, shm_name);
	printf("file_rw %p 4096\n", file_rw);
	printf("file_ro %p 4096\n", file_ro);
	printf("libc %p %zu\n", p, (size_t)sym->st_size);
	printf("ready\n");
	fflush(stdout);
	while (read(0, shm_name, sizeof(shm_name)) > 0)
		;
	snprintf(shm_name, sizeof(shm_name), "/hk-region-test-%d", (int)getpid());
	shm_unlink(shm_name);
	return 0;
}
