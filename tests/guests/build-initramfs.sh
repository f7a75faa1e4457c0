#!/usr/bin/env bash
# Builds the initramfs of the kvmtune test guest: OUTDIR/initramfs.cpio.gz.
#
# The guest fills its RAM with two kinds of pages, sized from the kernel
# command line (kt.shared_mib=, kt.unique_mib=, kt.seed=):
#   shared - identical in every guest (what identical guest OSes share), every
#            4 KiB page distinct from every other page of the same guest, so
#            KSM merges across guests rather than inside one guest;
#   unique - read from the guest's own /dev/urandom, so it matches nothing in
#            any other guest whatever seeds or sizes the callers pick.
# Both live in a tmpfs (no swap in the guest, so they stay resident), then
# /init prints KVMTUNE-GUEST-READY on the console and idles forever.
#
# The shared pages come from one pattern file generated here from a fixed
# seed, PATTERN_BYTES = 4 MiB + 4 KiB.  Copy k of the 4 MiB window starts at
# byte offset k, so page p of copy k is pattern[k + 4096p, +4096): all these
# offsets differ for k < 4096, which makes every page distinct without any
# per-page work in the guest (one dd per 4 MiB, fast even under TCG).  That
# caps kt.shared_mib at 4096 * 4 MiB = 16 GiB.
#
# Environment: KT_BUSYBOX (default /bin/busybox, must be statically linked).
set -euo pipefail

readonly PATTERN_SEED=20240601
readonly PATTERN_BYTES=$((4 * 1024 * 1024 + 4096))

die() {
	printf 'build-initramfs.sh: %s\n' "$*" >&2
	exit 1
}

[[ $# -eq 1 ]] || die "usage: build-initramfs.sh OUTDIR"
outdir=$1
busybox=${KT_BUSYBOX:-/bin/busybox}

[[ -x $busybox ]] || die "$busybox not found (apt-get install busybox-static)"
# A dynamic busybox would find no libc in the guest and init would die.
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked; install busybox-static"
fi
command -v perl >/dev/null || die "perl not found"
command -v gzip >/dev/null || die "gzip not found"

mkdir -p "$outdir"
staging=$(mktemp -d)
tmp_out=$outdir/.initramfs.cpio.gz.$$
cleanup() {
	rm -rf "$staging"
	rm -f "$tmp_out"
}
trap cleanup EXIT

mkdir -p "$staging"/{bin,dev,proc,sys,kt}
cp "$busybox" "$staging/bin/busybox"
while read -r applet; do
	[[ $applet == busybox ]] || ln -s busybox "$staging/bin/$applet"
done < <("$busybox" --list)

# The kernel opens /dev/console for init before anything is mounted; without
# the node init starts with no stdio (it re-opens the console after mounting
# devtmpfs, so a non-root build still works, only early errors are lost).
if [[ $EUID -eq 0 ]]; then
	mknod -m 600 "$staging/dev/console" c 5 1
fi

# xorshift32 from a fixed seed: deterministic on every host, never a zero
# word, and no state repeats within 2^32-1 words, so no two word-aligned
# windows of the pattern are equal.
perl -e '
	use strict; use warnings;
	my ($x, $bytes) = @ARGV;
	binmode STDOUT;
	my $words = int(($bytes + 3) / 4);
	my $buf = "";
	for (1 .. $words) {
		$x ^= ($x << 13) & 0xffffffff;
		$x ^= $x >> 17;
		$x ^= ($x << 5) & 0xffffffff;
		$buf .= pack("V", $x);
		if (length($buf) >= 65536) { print $buf; $buf = ""; }
	}
	print $buf;
' "$PATTERN_SEED" "$PATTERN_BYTES" >"$staging/kt-pattern.bin"
[[ $(stat -c %s "$staging/kt-pattern.bin") -eq $PATTERN_BYTES ]] ||
	die "pattern generation failed"

cat >"$staging/init" <<'EOF'
#!/bin/sh
# PID 1 of the kvmtune test guest; see build-initramfs.sh for the design.
PATH=/bin
export PATH

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

# Report failure on the console (the host waits for either marker) and stay
# up: exiting would panic PID 1 and hide the message behind a reboot.
fail() {
	echo "KVMTUNE-GUEST-FAILED: $*"
	while :; do sleep 3600; done
}

is_uint() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	return 0
}

shared_mib=0
unique_mib=0
seed=0
read -r cmdline </proc/cmdline
# Splitting the command line into words is the point; set -f keeps any glob
# characters in it literal.
set -f
# shellcheck disable=SC2086
for arg in $cmdline; do
	case $arg in
	kt.shared_mib=*) shared_mib=${arg#*=} ;;
	kt.unique_mib=*) unique_mib=${arg#*=} ;;
	kt.seed=*) seed=${arg#*=} ;;
	esac
done
set +f
is_uint "$shared_mib" || fail "bad kt.shared_mib=$shared_mib"
is_uint "$unique_mib" || fail "bad kt.unique_mib=$unique_mib"
# 4096 one-byte shifts of the 4 MiB window: more would repeat pages.
[ "$shared_mib" -le 16384 ] || fail "kt.shared_mib=$shared_mib exceeds 16384"

hostname "kt-guest-$seed"
mkdir -p /kt
# tmpfs defaults to half of RAM, too small for large fills.
mount -t tmpfs -o "size=$((shared_mib + unique_mib + 1))m,mode=0700" kt /kt ||
	fail "cannot mount tmpfs"

mib=1048576
k=0
left=$shared_mib
while [ "$left" -gt 0 ]; do
	n=4
	[ "$left" -lt 4 ] && n=$left
	dd if=/kt-pattern.bin of=/kt/shared bs=$mib iflag=skip_bytes skip=$k \
		count="$n" seek=$((k * 4)) conv=notrunc 2>/dev/null ||
		fail "writing shared pages (copy $k)"
	k=$((k + 1))
	left=$((left - n))
done

if [ "$unique_mib" -gt 0 ]; then
	dd if=/dev/urandom of=/kt/unique bs=$mib count="$unique_mib" \
		iflag=fullblock 2>/dev/null || fail "writing unique pages"
fi

have=0
[ -f /kt/shared ] && have=$(stat -c %s /kt/shared)
[ "$have" -eq $((shared_mib * mib)) ] || fail "shared is $have bytes"
have=0
[ -f /kt/unique ] && have=$(stat -c %s /kt/unique)
[ "$have" -eq $((unique_mib * mib)) ] || fail "unique is $have bytes"

echo "kvmtune guest seed=$seed shared_mib=$shared_mib unique_mib=$unique_mib"
echo "KVMTUNE-GUEST-READY"
while :; do sleep 3600; done
EOF
chmod 755 "$staging/init"

# Fixed owners and timestamps keep the archive byte-identical across builds.
find "$staging" -exec touch -h -d @0 {} +
(
	cd "$staging"
	find . -mindepth 1 | LC_ALL=C sort |
		"$busybox" cpio -o -H newc -R 0:0 --renumber-inodes
) | gzip -n -6 >"$tmp_out"
chmod 644 "$tmp_out"
mv -f "$tmp_out" "$outdir/initramfs.cpio.gz"
printf '%s\n' "$outdir/initramfs.cpio.gz"
