#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copies the source tree as it is (tracked and untracked files, uncommitted changes
# included, minus what .gitignore excludes: no build/) to DEST, for the package builds.
# Outside a git checkout, everything except the usual junk.
#
# Usage: packaging/copy-tree.sh SRC DEST
set -euo pipefail

src=$1
dest=$2
mkdir -p "$dest"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			# Files deleted in the working tree are still listed as cached.
			if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
		done | tar --null -T - -cf -) | tar -C "$dest" -xf -
else
	tar -C "$src" --exclude=./.git --exclude=./build --exclude=./debian \
		--exclude=__pycache__ --exclude='*.pyc' -cf - . | tar -C "$dest" -xf -
fi
