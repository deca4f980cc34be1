// SPDX-License-Identifier: GPL-2.0
#include "litmus.h"
#include "mf_shared.h"

int mf_data, mf_flag, mf_seen;

LITMUS_MAIN(mf_writer, mf_reader)
