#!/usr/bin/env python3
"""The layering of DESIGN.md section 3, checked on every #include of include/ and src/.

Each module may include only itself and the modules listed for it below; MPI (<mpi.h>) only
in parallel/, HDF5 (<hdf5.h>) and libpng (<png.h>) only in io/, yaml-cpp only in io/ and the
app's deck reader. The CMake targets enforce the third-party rules at compile time (PRIVATE
links); this script also holds the order between eqflow's own modules. Prints one line per
violation and exits 1 if there is any.
usage: check_layers.py REPO_ROOT
"""
import pathlib
import re
import sys

BELOW = {
    "core": set(),
    "nn": {"core"},
    "diffusion": {"core", "nn"},
    "flow": {"core", "nn", "diffusion"},
    "systems": {"core"},
    "dynamics": {"core", "nn", "diffusion", "systems"},
    # io/field_file's parallel writer takes a parallel::Comm (its MPI_Comm for parallel HDF5).
    "io": {"core", "nn", "systems", "parallel"},
    "parallel": {"core"},
    "app": {"core", "nn", "diffusion", "flow", "systems", "dynamics", "io", "parallel"},
}
# Where each module's files live.
SOURCES = {m: [f"include/eqflow/{m}", f"src/{m}"] for m in BELOW}
THIRD_PARTY = {"mpi.h": {"parallel"}, "hdf5.h": {"io"}, "png.h": {"io"}, "yaml-cpp/": {"io", "app"}}
# The generated version header belongs to no module.
FREE = {"version.hpp"}

include = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')


def main(root):
    root = pathlib.Path(root)
    problems = []
    for module, folders in SOURCES.items():
        allowed = BELOW[module] | {module}
        for folder in folders:
            for path in sorted((root / folder).rglob("*")):
                if path.suffix not in (".hpp", ".cpp", ".h"):
                    continue
                for number, line in enumerate(path.read_text().splitlines(), 1):
                    m = include.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    where = f"{path.relative_to(root)}:{number}"
                    if target.startswith("eqflow/"):
                        parts = target.split("/")
                        if len(parts) == 2 and parts[1] in FREE:
                            continue
                        if parts[1] not in allowed:
                            problems.append(f"{where}: {module} includes {target} "
                                            f"({module} may include {sorted(allowed)})")
                    for header, owners in THIRD_PARTY.items():
                        if target.startswith(header) and module not in owners:
                            problems.append(f"{where}: {module} includes <{target}> "
                                            f"(only {sorted(owners)} may)")
    for p in problems:
        print(p)
    print(f"check_layers: {len(problems)} violation(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
