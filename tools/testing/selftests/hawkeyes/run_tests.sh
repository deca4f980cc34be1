#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run every Hawkeyes selftest binary in this directory (inside the test VM,
# as root, with hawkeyes.ko loaded by the VM's init). Each binary prints its
# own KTAP; this script only adds a header per program. Exit status: 0 when
# every program passed, 1 otherwise.
#
# Usage: run_tests.sh [PROGRAM...]   (default: all)

cd "$(dirname "$0")" || exit 1
rc=0
progs=${*:-$(ls | grep -v -e '\.sh$' -e '^progs$' | sort)}
for t in $progs; do
	echo "# selftest: $t"
	./"$t" || rc=1
done
exit $rc
