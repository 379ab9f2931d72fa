# tests/lib/metrics.bash: what the metrics tests share (sourced). port_of LOG:
# the port a run with --metrics-addr HOST:0 said it serves on (waits up to 10 s;
# calls the sourcing test's fail otherwise).
port_of() {
  local p
  for _ in $(seq 1 100); do
    p=$(sed -n 's/.*on port \([0-9][0-9]*\).*/\1/p' "$1" | head -1)
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 0.1
  done
  fail "the run never said where it serves: $(cat "$1")"
}
