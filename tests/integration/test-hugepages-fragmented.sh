#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hugepages on fragmented memory, on this host's real pools: a process holds one 4K page in
# every 16 of most free memory (bench/hugepages' fragmenter) beside a page cache of clean
# file data. A plain write (reclaim=none) that falls short must say so with its numbers and
# exit 1; compaction and dropping clean caches (reclaim=drop-caches) must then obtain every
# page. Pools, the cache file and the fragmenting process are put back, whatever fails.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

PAGES=${KT_FRAG_PAGES:-2048}
CACHE=/var/tmp/kvmtune-test-fragmented.cache
CACHE_GIB=${KT_FRAG_CACHE_GIB:-6}
FRAG_PID=

cleanup() {
	[ -n "$FRAG_PID" ] && kill "$FRAG_PID" 2>/dev/null && wait "$FRAG_PID" 2>/dev/null
	hp_put_back
	hugetlbfs_put_back
	rm -f "$CACHE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

hugetlbfs_save
hp_save
echo 0 >$HP_NODES/node0/hugepages/hugepages-2048kB/nr_hugepages

# Clean page cache, then most of the memory still free punched full of holes.
dd if=/dev/zero of=$CACHE bs=8M count=$((CACHE_GIB * 128)) status=none && sync
cat $CACHE >/dev/null
free_kb=$(sed -n 's/^MemFree: *\([0-9]*\) kB/\1/p' /proc/meminfo)
size=$(((free_kb - 1048576) / 2048 * 2048 * 1024))
coproc FRAG { exec /usr/bin/python3 bench/hugepages --fragmenter "$size" 16; }
FRAG_PID=$FRAG_PID
read -r -t 120 ready <&"${FRAG[0]}"
expect_eq "the fragmenting process holds its pages" "${ready:-}" ready

out=$(build/kvmtune hugepages reserve --pages=$PAGES --reclaim=none --libvirt-uri=none \
	--min-available=512M 2>&1)
rc=$?
got=$(hp_get 0 2048)
echo "# reclaim=none: $got of $PAGES pages"
if [ "$got" -lt "$PAGES" ]; then
	expect_eq "plain write short: exit 1" "$rc" 1
	expect "plain write short: node, size, asked, got, why" grep -qE \
		"node0.2M 2048kB: asked $PAGES, got $got after a plain write; [0-9.]+ [GM]iB short; memory is fragmented or in use, try reclaim=drop-caches" <<<"$out"
	expect "plain write short: what happens to the pages obtained" grep -q "pages obtained are kept (shortfall=keep)" <<<"$out"
else
	pass "reclaim=none: this host gave every page to a plain write (nothing to report)"
fi
expect "release" build/kvmtune hugepages release

out=$(build/kvmtune hugepages reserve --pages=$PAGES --reclaim=drop-caches --libvirt-uri=none \
	--min-available=512M --timeout=120 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "compaction and dropped caches: every page" "$(hp_get 0 2048)" "$PAGES"
expect_eq "compaction and dropped caches: exit 0" "$rc" 0
expect "release again" build/kvmtune hugepages release
kill "$FRAG_PID" 2>/dev/null
wait "$FRAG_PID" 2>/dev/null
FRAG_PID=
hp_put_back
expect_eq "every pool back" "$(hp_snapshot)" "$(for p in $(hp_pools); do printf '%s=%s ' "$(hp_key "$p")" "${SAVED_HP[$p]}"; done | sed 's/ $//')"
summary
