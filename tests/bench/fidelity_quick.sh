#!/usr/bin/env bash
# bench/fidelity.py report --quick: every table of bench/FIDELITY.md regenerated with tiny
# settings (one seed, 16 epochs) into a scratch file, so the command that regenerates
# FIDELITY.md keeps working. Checks the stamp, every table's rows and that the runs chose their
# settings from a validation split where they should.
# usage: fidelity_quick.sh EQFLOW WORKDIR
set -euo pipefail
eqflow=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
/usr/bin/python3 "$root/bench/fidelity.py" report --quick --jobs 2 --out "$work/runs" \
  --eqflow "$eqflow" --write "$work/FIDELITY.md" > "$work/report.log" 2>&1 ||
  { cat "$work/report.log"; exit 1; }
/usr/bin/python3 - "$work/FIDELITY.md" << 'PY'
import re, sys
text = open(sys.argv[1]).read()
assert "{{" not in text, "template placeholders left"
assert re.search(r"bench/fidelity.py report --quick` on \d{4}-\d\d-\d\d from runs of eqflow git [0-9a-f]+( \([^)]*\))? on ", text), "stamp"
generated = text.split("\n## History")[0]  # the hand-kept issue-5 record follows
rows = [l for l in generated.splitlines() if l.startswith("| ")]
def count(prefix):
    return sum(1 for l in rows if l.startswith(prefix))
# shares (1) + levers (with the baseline on all and on the levers' seeds) + from p_t (1) start with the system or configuration.
assert count("| ring |") == 1 + 6 + 1, count("| ring |")
assert count("| two_peaks |") == 1 + 5 + 1 and count("| two_moons |") == 1 + 4
assert count("| lorenz |") == 1
for name in ("blobs_2d", "shell_3d", "mixture_6d"):
    lines = [l for l in rows if l.startswith(f"| {name} |")]
    assert len(lines) == 3, (name, lines)
    chosen = [l for l in lines if "validation split" in l][0]
    assert re.search(r"\| \d+, [0-9.]+, [0-9.]+ \(of 12\) \|", chosen), chosen
print(f"fidelity quick report: {len(rows)} table rows")
PY
