/* SPDX-License-Identifier: GPL-2.0 */
/* Multi-file case: the shared variables and the two sides live in different files. */
#ifndef _MF_SHARED_H
#define _MF_SHARED_H

extern int mf_data, mf_flag, mf_seen;
void *mf_writer(void *arg);
void *mf_reader(void *arg);

#endif
