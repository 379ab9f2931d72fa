# tests/warehouse/chdb_env.bash: sourced by the ClickHouse warehouse tests (not a test).
# Sets py: a Python with chdb (in-process ClickHouse, PyPI), from the venv
# RR_CHDB_VENV (default ~/.cache/replyrate/chdb-venv), made here the first time (one
# download of the pinned chdb; a lock keeps two tests from making it at once). Without
# network the test is skipped (77), but under CI, where PyPI is reachable, it fails.
# Needs: tmp, fail.
chdb_pin=4.4.0
venv=${RR_CHDB_VENV:-$HOME/.cache/replyrate/chdb-venv}
have_chdb() {
  "$venv/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("chdb") is None)' 2>/dev/null
}
if ! have_chdb; then
  mkdir -p "$(dirname "$venv")"
  (
    flock 9
    have_chdb && exit 0
    { [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"; } &&
      "$venv/bin/pip" install -q --disable-pip-version-check "chdb==$chdb_pin"
  ) 9>"$venv.lock" >"$tmp/venv.log" 2>&1 || {
    [ -n "${CI:-}" ] && fail "could not install chdb into $venv: $(tail -5 "$tmp/venv.log")"
    echo "chdb could not be installed here (no PyPI?): $(tail -2 "$tmp/venv.log"); not checked"
    exit 77
  }
fi
py=$venv/bin/python
