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
  frontend_generate
  local stamp=ichlabel/static/build/.built
  if [ ! -f "$stamp" ] || [ -n "$(find frontend/src frontend/package.json frontend/vite.config.ts frontend/tsconfig.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
    echo "== frontend build (vite)"
    (cd frontend && npm run --silent compile)
    touch "$stamp"
  fi
}

# The frontend's generated modules (frontend/src/generated/, not in git): the vocabulary from
# annotations/vocabulary.py, the API's types from the OpenAPI schema (drf-spectacular, the same
# document as /api/schema/) through openapi-typescript. The schema is made on every call (a few
# seconds, no database); a file is rewritten only when its content changed, so the build stamp
# above sees a change of the Python API and nothing else. `tsc --noEmit` in the build then fails
# when the frontend no longer fits the API.
frontend_generate() {
  local out=frontend/src/generated tmp
  echo "== frontend generated types (vocabulary, OpenAPI schema)"
  python3 scripts/frontend_types.py || return 1
  tmp="$(mktemp -d)"
  if ! uv run python manage.py spectacular --skip-checks --format openapi-json --file "$tmp/schema.json"; then
    rm -rf "$tmp"
    echo "the OpenAPI schema could not be generated (manage.py spectacular)" >&2
    return 1
  fi
  if ! cmp -s "$tmp/schema.json" "$out/schema.json" || [ ! -f "$out/api.ts" ] || [ scripts/lib.sh -nt "$out/schema.json" ]; then
    if ! (cd frontend && npx --no-install openapi-typescript "$tmp/schema.json" --output "$tmp/api.ts" \
        --default-non-nullable false --silent); then
      rm -rf "$tmp"
      return 1
    fi
    cmp -s "$tmp/api.ts" "$out/api.ts" || mv "$tmp/api.ts" "$out/api.ts"
    mv "$tmp/schema.json" "$out/schema.json"
  fi
  rm -rf "$tmp"
}
