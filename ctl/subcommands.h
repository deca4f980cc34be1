/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hkctl subcommands: one file each (cmd_<name>.c), dispatched by hkctl.c.
 *
 * Contract of every *_main(argc, argv): argv[0] is the subcommand name;
 * return the process exit status: 0 success (no findings), 1 findings
 * reported, 2 error (a one-line message has already been printed to stderr).
 */
#ifndef _HK_SUBCOMMANDS_H
#define _HK_SUBCOMMANDS_H

#define HK_EXIT_OK		0
#define HK_EXIT_FINDINGS	1
#define HK_EXIT_ERROR		2

extern const char *hk_prog;

int status_main(int argc, char *argv[]);
int analyze_main(int argc, char *argv[]);
int report_main(int argc, char *argv[]);
int dump_main(int argc, char *argv[]);
int attach_main(int argc, char *argv[]);
int run_main(int argc, char *argv[]);
int detach_main(int argc, char *argv[]);
int watch_main(int argc, char *argv[]);
int shm_main(int argc, char *argv[]);

#endif /* _HK_SUBCOMMANDS_H */
