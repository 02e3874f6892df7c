#!/usr/bin/env bash
# Create .venv with torch 2.14.1, mmcv 2.1.0 (built from source, wheel cached
# outside the repo), mmengine 0.10.7, mmdet 3.3.0 and cxr_mmdet (editable).
# Idempotent: with everything in place it only checks a stamp and exits.
# Every pip call takes requirements/constraints.txt (-c), so a pin such as
# setuptools<82 holds through the torch install and the mmcv build.
#
#   bash tools/bootstrap.sh                  build or check $VENV
#   bash tools/bootstrap.sh --check-sdist    the no-cache path up to mmcv's
#       sdist metadata step (venv, build requirements, torch, then mmcv's
#       `setup.py egg_info`), without the compile; used by the test suite
set -euo pipefail
MODE="${1:-build}"
case "$MODE" in
    build|--check-sdist) ;;
    *) echo "bootstrap: error: unknown option '$MODE' (use --check-sdist or nothing)" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
VENV="${VENV:-$ROOT/.venv}"
CACHE="${CXR_MMDET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cxr_mmdet}"
MIN_FREE_GB="${MIN_FREE_GB:-12}"
TORCH_SPEC="torch==2.14.1 torchvision==0.29.1"
MMCV_VERSION=2.1.0

die() { echo "bootstrap: error: $*" >&2; exit 1; }
log() { echo "bootstrap: $*"; }
CONSTRAINTS="$ROOT/requirements/constraints.txt"
[[ -f "$CONSTRAINTS" ]] || die "missing $CONSTRAINTS (the pins every pip call must keep)"

# ---- fast path: stamp of every input that decides the venv's content ----
stamp_inputs() {
    cat requirements/*.txt setup.py tools/bootstrap.sh 2>/dev/null
    echo "$PYTHON"
}
STAMP_HASH="$(stamp_inputs | sha256sum | cut -d' ' -f1)"
STAMP="$VENV/.cxr_mmdet_stamp"
if [[ "$MODE" == build && -f "$STAMP" && "$(cat "$STAMP")" == "$STAMP_HASH" ]] \
    && "$VENV/bin/python" -c 'import mmcv.ops, mmdet, pkg_resources, importlib.util as u; assert u.find_spec("cxr_mmdet")' 2>/dev/null; then
    log "environment up to date ($VENV)"
    exit 0
fi

# ---- preflight: python, compiler, disk ----
command -v "$PYTHON" >/dev/null 2>&1 \
    || die "'$PYTHON' not found; install Python 3.11 or set PYTHON=/path/to/python3.11"
PYVER="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[[ "$PYVER" == "3.11" ]] || die "Python 3.11 is required, '$PYTHON' is $PYVER"
CXX_BIN="${CXX:-g++}"
command -v "$CXX_BIN" >/dev/null 2>&1 \
    || die "no C++ compiler ('$CXX_BIN') found; mmcv $MMCV_VERSION must be compiled (apt-get install g++)"
mkdir -p "$CACHE"
FREE_GB=$(df -Pk "$ROOT" | awk 'NR==2 {print int($4/1048576)}')
if [[ ! -x "$VENV/bin/python" && "$FREE_GB" -lt "$MIN_FREE_GB" ]]; then
    die "only ${FREE_GB} GiB free on $(df -P "$ROOT" | awk 'NR==2{print $6}'); the venv needs about ${MIN_FREE_GB} GiB (torch is a CUDA build)"
fi

# ---- venv and torch ----
if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check -q)
PIPC=("${PIP[@]}" install -c "$CONSTRAINTS")
check_setuptools() {
    "$PY" -c 'import pkg_resources' 2>/dev/null \
        || die "setuptools $("$PY" -c 'import setuptools; print(setuptools.__version__)' 2>/dev/null) in $VENV has no pkg_resources after $1; requirements/constraints.txt must hold setuptools<82"
}
"${PIPC[@]}" -r requirements/build.txt
if ! "$PY" -c 'import torch, torchvision; assert torch.__version__.startswith("2.14.1")' 2>/dev/null; then
    log "installing $TORCH_SPEC"
    "${PIPC[@]}" $TORCH_SPEC
fi
check_setuptools "installing torch"

if [[ "$MODE" == --check-sdist ]]; then
    # mmcv's sdist metadata step (`setup.py egg_info`, which imports
    # pkg_resources and torch) in this venv, as the build below runs it
    DL="$(mktemp -d "${TMPDIR:-/tmp}/mmcv-sdist.XXXXXX")"
    trap 'rm -rf "$DL"' EXIT
    "${PIP[@]}" download -c "$CONSTRAINTS" --no-deps --no-binary :all: \
        --no-build-isolation "mmcv==$MMCV_VERSION" -d "$DL" \
        || die "mmcv $MMCV_VERSION sdist metadata step failed in $VENV"
    log "mmcv $MMCV_VERSION sdist metadata step passed ($("$PY" -c 'import setuptools; print("setuptools", setuptools.__version__)'))"
    exit 0
fi

# ---- mmcv: build once per machine, cache the wheel ----
TORCH_TAG="$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')"
if command -v nvcc >/dev/null 2>&1 && command -v nvidia-smi >/dev/null 2>&1 \
    && nvidia-smi -L >/dev/null 2>&1; then
    MMCV_FLAVOUR=cuda; export FORCE_CUDA=1
else
    MMCV_FLAVOUR=cpu; export FORCE_CUDA=0
fi
WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-torch$TORCH_TAG-$MMCV_FLAVOUR"
if ! "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
    if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
        log "building mmcv $MMCV_VERSION ($MMCV_FLAVOUR ops) from source; first time only, ~10 min on 2 cores"
        BUILD="$(mktemp -d "$CACHE/mmcv-build.XXXXXX")"
        trap 'rm -rf "$BUILD"' EXIT
        "${PIP[@]}" download -c "$CONSTRAINTS" --no-deps --no-binary :all: \
            --no-build-isolation "mmcv==$MMCV_VERSION" -d "$BUILD"
        tar -xzf "$BUILD"/mmcv-$MMCV_VERSION.tar.gz -C "$BUILD"
        SRC="$BUILD/mmcv-$MMCV_VERSION"
        # torch 2.14's headers need C++20; mmcv hard-codes c++14/c++17
        sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
        grep -q 'std=c++20' "$SRC/setup.py" || die "could not patch -std in mmcv setup.py"
        mkdir -p "$WHEEL_DIR.tmp"
        (cd "$SRC" && MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
            "$PY" -m pip --disable-pip-version-check wheel --no-build-isolation \
            -c "$CONSTRAINTS" --no-deps -w "$WHEEL_DIR.tmp" .) \
            || die "mmcv build failed (see the compiler output above)"
        rm -rf "$WHEEL_DIR" && mv "$WHEEL_DIR.tmp" "$WHEEL_DIR"
        rm -rf "$BUILD"; trap - EXIT
    else
        log "using cached mmcv wheel from $WHEEL_DIR"
    fi
    "${PIPC[@]}" --no-deps "$WHEEL_DIR"/mmcv-*.whl
fi

# ---- the rest, then the package ----
log "installing requirements and cxr_mmdet"
# deploy.txt: the [deploy] extra (onnx, onnxruntime, openvino)
"${PIPC[@]}" -r requirements/runtime.txt -r requirements/tests.txt \
    -r requirements/deploy.txt "mmcv==$MMCV_VERSION" $TORCH_SPEC
# mmcv's own runtime deps (installed --no-deps above)
"${PIPC[@]}" addict packaging pyyaml yapf
# data tables of NIH/VinBig ship in torchxrayvision; we read its files only
"${PIPC[@]}" --no-deps torchxrayvision==1.5.7
"${PIPC[@]}" --no-deps -e .
check_setuptools "installing the requirements"
"$PY" -c 'import mmcv.ops, mmdet, pkg_resources, cxr_mmdet' \
    || die "installed, but 'import mmcv.ops, mmdet, pkg_resources, cxr_mmdet' fails"
echo "$STAMP_HASH" > "$STAMP"
log "done: $("$PY" -c 'import torch, mmcv, mmdet, mmengine; print("torch", torch.__version__, "mmcv", mmcv.__version__, "mmdet", mmdet.__version__, "mmengine", mmengine.__version__)')"
