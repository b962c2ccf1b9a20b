#!/usr/bin/env bash
# The README is the user's door: every option `run --help` and `replay --help` list is in it,
# and every `--option` the README's option tables name exists in some --help. (Hidden
# bench-only options are in neither.)
source "$(dirname "$0")/lib.sh"

readme=$ROOT/README.md
for cmd in run replay; do
	for opt in $("$OOMCAST" "$cmd" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
		case $opt in --help | --usage) continue ;; esac
		check "$cmd $opt is in the README" grep -q -- "\`$opt" "$readme"
	done
done
help=$({ "$OOMCAST" run --help; "$OOMCAST" replay --help; } 2>&1)
for opt in $(grep -E '^\| `--' "$readme" | grep -oE -- '^\| `--[a-z][a-z0-9-]+' | sed 's/^| `//' | sort -u); do
	check "README's $opt is an option" grep -q -- "$opt" <<<"$help"
done
finish
