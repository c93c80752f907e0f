#!/usr/bin/python3
"""Compares a run's numbers with stored gold values.

usage: check_gold.py RUN_DIR GOLD_JSON [--regenerate]

Each gold entry names a dataset of run.h5 (or of "file", a path relative to RUN_DIR), its
expected values and the tolerances |got - gold| <= atol + rtol |gold| (stated per entry in the
JSON, with the reason); NaN matches NaN (an exponent with no stable trajectory). A threshold
entry has "at_least" and/or "at_most" instead of values (optionally for the element "index"
only): a property the run must have, not a number it must reproduce. With --regenerate the
gold values (not the tolerances or thresholds) are rewritten from RUN_DIR, except those of
entries marked "reference": numbers computed without eqflow (the "reference" text names the
script that makes them), which a run must match, never redefine.
"""
import json
import sys

import h5py
import numpy as np


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    run_dir, gold_path = argv[1], argv[2]
    regenerate = "--regenerate" in argv[3:]
    with open(gold_path) as f:
        gold = json.load(f)
    failures = 0
    for entry in gold["entries"]:
        with h5py.File(f"{run_dir}/{entry.get('file', 'run.h5')}", "r") as run:
            got = np.atleast_1d(np.asarray(run[entry["dataset"]][()], dtype=float)).ravel()
            if "index" in entry:
                got = got[[entry["index"]]]
            if "at_least" in entry or "at_most" in entry:
                low, high = entry.get("at_least", -np.inf), entry.get("at_most", np.inf)
                ok = bool(np.all((got >= low) & (got <= high)))
                print(f"{'ok  ' if ok else 'FAIL'} {entry['dataset']}: got "
                      f"{np.array2string(got, precision=6)}, required in [{low}, {high}]")
                failures += not ok
                continue
            if regenerate and "reference" not in entry:
                entry["values"] = [float(v) for v in got]
                continue
            want = np.asarray(entry["values"], dtype=float)
            tol = entry["atol"] + entry["rtol"] * np.abs(want)
            both_nan = np.isnan(got) & np.isnan(want) if got.shape == want.shape else False
            ok = got.shape == want.shape and bool(
                np.all(both_nan | (np.abs(got - want) <= tol)))
            status = "ok  " if ok else "FAIL"
            print(f"{status} {entry['dataset']}: got {np.array2string(got, precision=6)}, "
                  f"gold {np.array2string(want, precision=6)} (atol {entry['atol']}, "
                  f"rtol {entry['rtol']})")
            failures += not ok
    if regenerate:
        with open(gold_path, "w") as f:
            json.dump(gold, f, indent=2)
            f.write("\n")
        print(f"regenerated {gold_path}")
        return 0
    print("regression: all numbers within tolerance" if failures == 0
          else f"regression: {failures} dataset(s) out of tolerance")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
