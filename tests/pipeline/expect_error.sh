# Sourced by the field pipeline tests (turing_run.sh, turing_flows.sh, alife.sh), which define
# $eqflow, $work and fail(). expect NAME PATTERN ARGS...: `eqflow ARGS` fails with one stderr
# line containing PATTERN (grep regex); its output is kept in $work/NAME.{out,err}.
expect() {
  local name=$1 pattern=$2
  shift 2
  if "$eqflow" "$@" > "$work/$name.out" 2> "$work/$name.err"; then
    fail "$name: expected a failure"; return
  fi
  if [ "$(wc -l < "$work/$name.err")" -ne 1 ] || ! grep -q "$pattern" "$work/$name.err"; then
    fail "$name: expected one line with '$pattern', got:"; cat "$work/$name.err"
  fi
}
