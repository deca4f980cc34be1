#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the hkctl host test programs given as arguments. Each prints its own
# KTAP; this adds a "# selftest:" line per program and a summary, and exits
# non-zero when any program failed.
rc=0
failed=
for t in "$@"; do
	echo "# selftest: ${t##*/}"
	if ! "$t"; then
		rc=1
		failed="$failed ${t##*/}"
	fi
done
if [ $rc -eq 0 ]; then
	echo "# hkctl host tests: all $# programs passed"
else
	echo "# hkctl host tests: FAILED:$failed"
fi
exit $rc
