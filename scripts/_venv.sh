# Shared by scripts/serve and scripts/test: make sure .venv exists and holds this project.
# Usage: source scripts/_venv.sh; ensure_venv [EXTRAS]
# The install is redone whenever pyproject.toml changes (a stamp holds its hash).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BATCH_COMPUTE_VENV:-$ROOT/.venv}"

find_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "error: Python 3.11 or newer is required" >&2
    return 1
}

ensure_venv() {
    local extras="${1:-}"
    local spec="$ROOT"
    [ -n "$extras" ] && spec="$ROOT[$extras]"
    local stamp="$VENV/.batch-compute-installed"
    local want
    want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1) $extras"
    if [ ! -x "$VENV/bin/python" ]; then
        local python
        python="$(find_python)" || return 1
        echo "Creating $VENV ..." >&2
        "$python" -m venv "$VENV"
    fi
    if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp" 2>/dev/null; then
        echo "Installing batch-compute${extras:+ [$extras]} into $VENV ..." >&2
        local log="$VENV/pip-install.log"
        if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -e "$spec" >"$log" 2>&1
        then
            cat "$log" >&2
            echo "error: installing batch-compute into $VENV failed (log above)" >&2
            return 1
        fi
        echo "$want" >"$stamp"
    fi
}
