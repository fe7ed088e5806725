# Shared set-up steps of scripts/run and scripts/test. Each step is quick when nothing changed.

ensure_uv() {
  if ! command -v uv >/dev/null 2>&1; then
    echo "== installing uv (Python package manager) from PyPI"
    python3 -m pip install --quiet --user uv
    export PATH="$HOME/.local/bin:$PATH"
  fi
}

python_env() {
  ensure_uv
  echo "== Python environment (uv sync --frozen)"
  uv sync --frozen --quiet
}

frontend_build() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is needed to build the frontend: install Node.js 20 or newer" >&2
    exit 1
  fi
  if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
    echo "== frontend dependencies (npm ci)"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
  fi
  local stamp=ichlabel/static/build/.built
  if [ ! -f "$stamp" ] || [ -n "$(find frontend/src frontend/package.json frontend/vite.config.ts frontend/tsconfig.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
    echo "== frontend build (vite)"
    (cd frontend && npm run --silent build)
    touch "$stamp"
  fi
}
