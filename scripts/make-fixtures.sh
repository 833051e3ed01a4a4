#!/usr/bin/env bash
# Builds the import fixtures saved by real software (LibreOffice), committed
# under adapters/spreadsheet/testdata/corpus and read by the tests (which
# never run LibreOffice themselves):
#
#   - every CSV in corpus/src converted to .xlsx, .xls and .ods by
#     LibreOffice's own CSV import (numbers detected as a user's LibreOffice
#     detects them: postal codes and phones become numbers);
#   - the import template of each language, written by the product, opened
#     in LibreOffice, filled in by typing into its cells, and saved as .xlsx,
#     .xls and .ods (template-<lang>.<ext>).
#
# Needs: libreoffice-calc-nogui and python3-uno (apt-get install -y
# libreoffice-calc-nogui), and Go. Run from anywhere: scripts/make-fixtures.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
corpus=$root/adapters/spreadsheet/testdata/corpus
work=$(mktemp -d)
trap 'kill "${office:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
profile="file://$work/profile" # a profile of our own: no user settings leak in

# 1. The CSVs: UTF-8, ";" or "," (detected per file by its header line), quotes ",
#    first line 1, English (US) locale, special numbers (dates) detected.
for src in "$corpus"/src/*.csv; do
	sep=59
	head -n1 "$src" | grep -q ';' || sep=44
	for ext in xlsx xls ods; do
		soffice -env:UserInstallation="$profile" --headless --norestore \
			--infilter="CSV:$sep,34,76,1,,1033,false,true" --convert-to "$ext" --outdir "$corpus" "$src" >/dev/null
	done
done

# 2. The templates, written by the product with the values to type beside them.
CLIENTREG_TEMPLATE_FIXTURES="$work/templates" go test -C "$root" -count=1 -run '^TestWriteTemplateFixtures$' ./adapters/spreadsheet >/dev/null
soffice -env:UserInstallation="$profile" --headless --norestore --invisible \
	--accept="pipe,name=clientreg-fixtures-$$;urp;" &
office=$!
/usr/bin/python3 "$root/scripts/fill-templates.py" "clientreg-fixtures-$$" "$work/templates" "$corpus"
kill "$office" 2>/dev/null || true
wait "$office" 2>/dev/null || true

ls -l "$corpus"
