#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build every litmus program with -fsanitize=thread -O1 -g, run it, analyze
# its TSan log with hkctl analyze and compare the findings with <prog>.expect
# exactly (check-findings.py). Also builds each program for arm64 (for
# analyzer/tests/test_code) and checks the command's behaviour around the
# corpus: --jobs determinism, fault injection, bad input, window, formats.
# Output: TAP on stdout. Exit status: 0 all passed, 1 otherwise.
set -u

dir=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$dir/../../.." && pwd)
hkctl=${HKCTL:-$top/ctl/hkctl}
out=${HK_CORPUS_OUT:-$top/.build/hawkeyes-corpus}
export TSAN_OPTIONS="suppress_equal_addresses=0 history_size=7"
CFLAGS_TSAN="-fsanitize=thread -O1 -g -Wno-tsan -pthread"
CROSS=${CROSS:-aarch64-linux-gnu-gcc}

mkdir -p "$out"
progs=()
for f in "$dir"/*.c; do
	b=$(basename "$f" .c)
	case $b in mf_* | xf_*) continue ;; esac
	progs+=("$b")
done
progs+=(mf xf)

sources() {
	if [ "$1" = mf ] || [ "$1" = xf ]; then
		ls "$dir"/"$1"_*.c
	else
		echo "$dir/$1.c"
	fi
}

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
notok() { n=$((n + 1)); failed=1; echo "not ok $n $1"; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }

extra_tests=19
echo "TAP version 13"
echo "1..$(( ${#progs[@]} * 2 + extra_tests ))"

for p in "${progs[@]}"; do
	srcs=$(sources "$p")
	# shellcheck disable=SC2086
	if ! gcc $CFLAGS_TSAN -I"$dir" -o "$out/$p" $srcs 2> "$out/$p.cc.log"; then
		sed 's/^/# /' "$out/$p.cc.log"
		notok "corpus $p: build"
		notok "corpus $p: arm64 build"
		continue
	fi
	# the program's own exit status is TSan's (66 on reports): not ours
	timeout 60 "$out/$p" > "$out/$p.out" 2> "$out/$p.log"
	"$hkctl" analyze --tsan "$out/$p.log" --binary "$out/$p" --jobs 2 \
		--format json -o "$out/$p.json" 2> "$out/$p.err"
	rc=$?
	want_rc=0
	grep -q ' porting ' "$dir/$p.expect" && want_rc=1
	# shellcheck disable=SC2086
	if [ $rc -ne $want_rc ]; then
		sed 's/^/# /' "$out/$p.err"
		echo "# exit status $rc, expected $want_rc"
		notok "corpus $p: findings"
	elif python3 "$dir/check-findings.py" "$out/$p.json" "$dir/$p.expect" $srcs; then
		ok "corpus $p: findings"
	else
		notok "corpus $p: findings"
	fi
	if ! command -v "$CROSS" > /dev/null; then
		skip "corpus $p: arm64 build" "$CROSS not installed"
	# shellcheck disable=SC2086
	elif $CROSS -O1 -g -pthread -I"$dir" -o "$out/$p.arm64" $srcs 2> "$out/$p.a64.log" &&
	     $CROSS -O1 -g -pthread -march=armv8.3-a -I"$dir" -o "$out/$p.arm64-lse" $srcs \
		2>> "$out/$p.a64.log"; then
		ok "corpus $p: arm64 build"
	else
		sed 's/^/# /' "$out/$p.a64.log"
		notok "corpus $p: arm64 build"
	fi
done

# clang's TSan runtime (LLVM 14) prints fewer of the races, in its own
# format (columns, BuildId, statically linked runtime): what it shows must
# give the same findings as the GCC build, nothing else
if command -v clang > /dev/null && clang -fsanitize=thread -O1 -g -I"$dir" -o "$out/ring.clang" \
	"$dir/ring.c" 2> "$out/ring.clang.cc.log"; then
	timeout 60 "$out/ring.clang" > /dev/null 2> "$out/ring.clang.log"
	"$hkctl" analyze --tsan "$out/ring.clang.log" --binary "$out/ring.clang" --format json \
		-o "$out/ring.clang.json" 2> "$out/ring.clang.err"
	if python3 "$dir/check-findings.py" --allow-missing "$out/ring.clang.json" \
		"$dir/ring.expect" "$dir/ring.c"; then
		ok "corpus ring (clang TSan): findings are the GCC build's"
	else
		sed 's/^/# /' "$out/ring.clang.err"
		notok "corpus ring (clang TSan): findings are the GCC build's"
	fi
else
	skip "corpus ring (clang TSan): findings are the GCC build's" "clang TSan unavailable"
fi

# --- the command around the corpus ---
r=ring
an() { "$hkctl" analyze --tsan "$out/$r.log" --binary "$out/$r" "$@"; }

same=1
for fmt in text json sarif; do
	an --jobs 1 --format "$fmt" > "$out/$r.j1.$fmt" 2>&1
	for j in 2 3 12 64; do
		an --jobs $j --format "$fmt" > "$out/$r.j$j.$fmt" 2>&1
		cmp -s "$out/$r.j1.$fmt" "$out/$r.j$j.$fmt" || { same=0; echo "# $fmt differs at --jobs $j"; }
	done
done
[ $same = 1 ] && ok "analyze: byte-identical text/json/sarif for --jobs 1,2,3,12,64" ||
	notok "analyze: byte-identical text/json/sarif for --jobs 1,2,3,12,64"

# every worker count, two logs of two binaries in one run
multi() {
	"$hkctl" analyze --tsan "$out/ring.log" --tsan "$out/xf.log" --binary "$out/ring" \
		--binary "$out/xf" --format json "$@"
}
multi --jobs 1 > "$out/multi.1.json" 2>&1
same=1
for j in $(seq 2 64); do
	multi --jobs "$j" > "$out/multi.json" 2>&1
	cmp -s "$out/multi.1.json" "$out/multi.json" || { same=0; echo "# differs at --jobs $j"; }
done
if [ $same = 1 ] && python3 -c 'import json,sys; sys.exit(len(json.load(open(sys.argv[1]))["findings"]) != 7)' "$out/multi.1.json"; then
	ok "analyze: two logs, byte-identical JSON for every --jobs 1..64"
else
	notok "analyze: two logs, byte-identical JSON for every --jobs 1..64"
fi

for j in 1 2 12 64; do
	start=$(date +%s%N)
	HAWKEYES_TEST_FAIL_AFTER=0 timeout 20 "$hkctl" analyze --tsan "$out/$r.log" \
		--binary "$out/$r" --jobs $j > /dev/null 2> "$out/fault.err"
	rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if [ $rc -eq 2 ] && grep -q "injected fault" "$out/fault.err" && [ $ms -lt 5000 ]; then
		ok "analyze: worker fault at --jobs $j ends the run with exit 2 (${ms} ms)"
	else
		echo "# rc=$rc after ${ms} ms: $(cat "$out/fault.err")"
		notok "analyze: worker fault at --jobs $j ends the run with exit 2"
	fi
done

# scale: 5000 instances of the ring in one log (every location shifted per
# instance): one instruction over 5000 addresses must not cost 5000^2
python3 - "$out/ring.log" "$out/wide.log" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
reps = [r for r in text.split('==================\n') if 'data race' in r]
with open(sys.argv[2], 'w') as f:
    for i in range(5000 * len(reps)):
        r = re.sub(r' at 0x([0-9a-f]+) by',
                   lambda m: ' at 0x%x by' % (int(m.group(1), 16) + 0x400 * (i // len(reps))),
                   reps[i % len(reps)])
        f.write('==================\n' + r + '==================\n')
PY
start=$(date +%s%N)
(ulimit -v 1000000; timeout 60 "$hkctl" analyze --tsan "$out/wide.log" --binary "$out/ring" \
	--format json -o "$out/wide.json" 2> "$out/wide.err")
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $rc -eq 1 ] && python3 "$dir/check-findings.py" "$out/wide.json" "$dir/ring.expect" "$dir/ring.c"; then
	ok "analyze: 5000 ring instances in 1 GB and ${ms} ms, the ring's findings"
else
	echo "# rc=$rc after ${ms} ms: $(cat "$out/wide.err")"
	notok "analyze: 5000 ring instances in 1 GB, the ring's findings"
fi

# the pool and libdw under helgrind: no data race between workers
if command -v valgrind > /dev/null; then
	timeout 600 valgrind --tool=helgrind -q --error-exitcode=9 "$hkctl" analyze \
		--tsan "$out/xf.log" --tsan "$out/ring.log" --binary "$out/xf" --binary "$out/ring" \
		--jobs 4 -o /dev/null 2> "$out/helgrind.err"
	rc=$?
	if [ $rc -eq 1 ]; then
		ok "analyze: helgrind finds no data race at --jobs 4"
	else
		grep -E "Possible data race|   at |by 0x" "$out/helgrind.err" | head -n 20 | sed 's/^/# /'
		notok "analyze: helgrind finds no data race at --jobs 4 (exit $rc)"
	fi
else
	skip "analyze: helgrind finds no data race at --jobs 4" "valgrind not installed"
fi

# a truncated log: the report at its end has no previous access
head -n 5 "$out/mp.log" > "$out/trunc.log"
"$hkctl" analyze --tsan "$out/trunc.log" --binary "$out/mp" > /dev/null 2> "$out/trunc.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "trunc.log:5: log ends inside the data race report at line 2" "$out/trunc.err"; then
	ok "analyze: truncated log names its line"
else
	echo "# rc=$rc: $(cat "$out/trunc.err")"
	notok "analyze: truncated log names its line"
fi

# the wrong file: a binary instead of its log
"$hkctl" analyze --tsan "$out/mp" > /dev/null 2> "$out/binlog.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "mp:1: binary data" "$out/binlog.err"; then
	ok "analyze: a binary given as the log is refused"
else
	echo "# rc=$rc: $(cat "$out/binlog.err")"
	notok "analyze: a binary given as the log is refused"
fi

# a frame without (module+0xoffset)
sed '0,/#0 writer/s/(mp+0x[0-9a-f]*)/(mp+0xZZ)/;0,/#0 reader/s/(mp+0x[0-9a-f]*)/(mp+0xZZ)/' "$out/mp.log" > "$out/badframe.log"
line=$(grep -n "mp+0xZZ" "$out/badframe.log" | head -n 1 | cut -d: -f1)
"$hkctl" analyze --tsan "$out/badframe.log" --binary "$out/mp" > /dev/null 2> "$out/badframe.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "badframe.log:$line: malformed stack frame" "$out/badframe.err"; then
	ok "analyze: malformed frame names its line"
else
	echo "# rc=$rc line=$line: $(cat "$out/badframe.err")"
	notok "analyze: malformed frame names its line"
fi

# the binary cannot be found
cp "$out/mp.log" "$out/nobin/mp.log" 2> /dev/null || { mkdir -p "$out/nobin"; cp "$out/mp.log" "$out/nobin/mp.log"; }
(cd "$out/nobin" && "$hkctl" analyze --tsan mp.log > /dev/null 2> err)
rc=$?
if [ $rc -eq 2 ] && grep -q "cannot find the binary 'mp'" "$out/nobin/err"; then
	ok "analyze: missing binary is an error that says --binary"
else
	echo "# rc=$rc: $(cat "$out/nobin/err")"
	notok "analyze: missing binary is an error that says --binary"
fi

# without --binary, the binary beside the log is used
(cd "$out/nobin" && "$hkctl" analyze --tsan ../mp.log --format json -o beside.json 2> err)
rc=$?
if [ $rc -eq 1 ] && python3 "$dir/check-findings.py" "$out/nobin/beside.json" "$dir/mp.expect" "$dir/mp.c"; then
	ok "analyze: the binary beside the log is found without --binary"
else
	echo "# rc=$rc: $(cat "$out/nobin/err")"
	notok "analyze: the binary beside the log is found without --binary"
fi

# a log on standard input, as in: ./prog 2>&1 | hkctl analyze --tsan -
"$hkctl" analyze --tsan - --binary "$out/mp" --format json -o "$out/stdin.json" < "$out/mp.log" 2> "$out/stdin.err"
rc=$?
if [ $rc -eq 1 ] && python3 "$dir/check-findings.py" "$out/stdin.json" "$dir/mp.expect" "$dir/mp.c"; then
	ok "analyze: a log on standard input (--tsan -)"
else
	echo "# rc=$rc: $(cat "$out/stdin.err")"
	notok "analyze: a log on standard input (--tsan -)"
fi

# interleaved program output and other report kinds are tolerated
awk '/Previous write/ { print "program output in the middle"; print "" } { print } /SUMMARY/ { print "WARNING: ThreadSanitizer: thread leak (pid=1)"; print "  Thread T9 (tid=9, finished) created by main thread at:"; print "    #0 pthread_create x.c:1 (libtsan.so.2+0x1)"; print "==================" }' \
	"$out/mp.log" > "$out/noisy.log"
an_mp() { "$hkctl" analyze --binary "$out/mp" --format json "$@"; }
an_mp --tsan "$out/noisy.log" -o "$out/noisy.json" 2> "$out/noisy.err"
rc=$?
if [ $rc -eq 1 ] && python3 "$dir/check-findings.py" "$out/noisy.json" "$dir/mp.expect" "$dir/mp.c"; then
	ok "analyze: interleaved output and other report kinds are skipped"
else
	echo "# rc=$rc: $(cat "$out/noisy.err")"
	notok "analyze: interleaved output and other report kinds are skipped"
fi

# a window smaller than the pair drops it and counts it
an_mp --tsan "$out/mp.log" --window 1 -o "$out/w1.json" 2> /dev/null
rc=$?
if [ $rc -eq 0 ] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(not (r["findings"] == [] and r["stats"]["dropped_by_window"] >= 2 and r["window"]["uops"] == 1))' "$out/w1.json"; then
	ok "analyze: --window 1 drops the MP pairs and counts them"
else
	notok "analyze: --window 1 drops the MP pairs and counts them"
fi

"$hkctl" analyze --tsan "$out/mp.log" --window huge > /dev/null 2> "$out/wbad.err"
rc=$?
[ $rc -eq 2 ] && grep -q "window 'huge'" "$out/wbad.err" && ok "analyze: bad --window is refused" ||
	notok "analyze: bad --window is refused"

# SARIF: the shape GitHub code scanning reads
an_mp --tsan "$out/mp.log" --format sarif -o "$out/mp.sarif" 2> /dev/null
if python3 - "$out/mp.sarif" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["version"] == "2.1.0"
run = r["runs"][0]
assert run["tool"]["driver"]["name"] == "hawkeyes"
rules = {x["id"] for x in run["tool"]["driver"]["rules"]}
res = run["results"]
assert len(res) == 1 and res[0]["ruleId"] == "MP" and res[0]["ruleId"] in rules
loc = res[0]["locations"][0]["physicalLocation"]
assert loc["artifactLocation"]["uri"].endswith("mp.c") and loc["region"]["startLine"] > 0
assert len(res[0]["relatedLocations"]) == 4
PY
then ok "analyze: SARIF 2.1.0 report of mp"; else notok "analyze: SARIF 2.1.0 report of mp"; fi

exit $failed
