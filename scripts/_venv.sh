# Shared by scripts/serve, scripts/test and scripts/contract-test: make sure .venv exists and
# holds this project with the extras a script needs.
# Usage: source scripts/_venv.sh; ensure_venv [EXTRA[,EXTRA...]]
#
# A stamp in the venv records the hash of pyproject.toml and every extra installed, with the
# extras they include (`test` includes `server`). The install is redone only when
# pyproject.toml changed or an extra asked for is missing, and then installs what is asked for
# together with what was there: alternating serve, test and contract-test never reinstalls.

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

# The extras named (comma or space separated) and those they include in turn, per
# pyproject.toml (an extra listing "batch-compute[server]" includes server), sorted, one line.
expand_extras() {
    "$VENV/bin/python" - "$ROOT/pyproject.toml" "$1" <<'PY'
import re
import sys
import tomllib

with open(sys.argv[1], "rb") as file:
    project = tomllib.load(file)["project"]
name = re.escape(project["name"])
extras = project.get("optional-dependencies", {})
todo = [extra for extra in re.split(r"[,\s]+", sys.argv[2]) if extra]
seen = set()
while todo:
    extra = todo.pop()
    if extra in seen:
        continue
    seen.add(extra)
    for requirement in extras.get(extra, []):
        match = re.match(rf"\s*{name}\s*\[([^\]]*)\]", requirement, re.IGNORECASE)
        if match:
            todo.extend(item.strip() for item in match.group(1).split(","))
print(" ".join(sorted(seen)))
PY
}

ensure_venv() {
    local stamp="$VENV/.batch-compute-installed"
    local project_hash
    project_hash="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ ! -x "$VENV/bin/python" ]; then
        local python
        python="$(find_python)" || return 1
        echo "Creating $VENV ..." >&2
        "$python" -m venv "$VENV"
    fi
    local wanted installed="" missing=""
    wanted="$(expand_extras "${1:-}")" || return 1
    if [ -f "$stamp" ] && [ "$(sed -n 1p "$stamp")" = "$project_hash" ]; then
        installed="$(sed -n 2p "$stamp")"
        local extra
        for extra in $wanted; do
            case " $installed " in
                *" $extra "*) ;;
                *) missing="$missing $extra" ;;
            esac
        done
        [ -z "$missing" ] && return 0
    fi
    local extras
    # shellcheck disable=SC2086  # word splitting of the extra lists is meant
    extras="$(echo $installed ${1//,/ } | tr ' ' '\n' | sort -u | paste -sd, -)"
    local spec="$ROOT"
    [ -n "$extras" ] && spec="$ROOT[$extras]"
    echo "Installing batch-compute${extras:+ [$extras]} into $VENV ..." >&2
    local log="$VENV/pip-install.log"
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -e "$spec" >"$log" 2>&1
    then
        cat "$log" >&2
        echo "error: installing batch-compute into $VENV failed (log above)" >&2
        return 1
    fi
    printf '%s\n%s\n' "$project_hash" "$(expand_extras "$extras")" >"$stamp"
}
