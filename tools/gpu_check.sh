#!/usr/bin/env bash
# GPU verification of u2net_nb in one command, from the repository root of a machine with an NVIDIA GPU:
#
#   bash tools/gpu_check.sh OUTDIR [options]
#
# 1. prints nvidia-smi and the python / torch / CUDA versions;
# 2. creates a fresh virtual environment and installs the project the README way (the set-up command between the
#    `<!-- setup-command -->` marker of README.md and its code block, read as .ci/run reads it), keeping the
#    machine's CUDA torch: when `import torch` works with CUDA in the base python, the environment sees the base's
#    packages (--system-site-packages, plus the base's own site-packages when the base python is itself a virtual
#    environment), so the README's torch install is skipped; otherwise torch==2.13.0 is installed first (on Linux
#    x86-64 PyPI's build of it is the CUDA one). With --wheels DIR (a machine with no package registry) the test tools
#    come from the wheels in DIR (see --fetch-wheels) and the project is installed with --no-deps instead;
# 3. nbdev_test --flags cuda --n_workers 1 --do_print --timing: every notebook, the cells flagged cuda included;
# 4. python tools/gpu_bench.py OUTDIR: benchmarks on synthetic data (see that file's docstring).
# Each step runs under `timeout`, all within --budget seconds (default 480). Writes OUTDIR/gpu_results.json (raw
# numbers and the steps' results), OUTDIR/gpu_results.md (tables naming the GPU, a line per goal), gpu_check.log
# (everything printed, benchmarks included), install.log and nbdev_test.log. Exit status: 0 when every step passed
# (or, on a machine without an NVIDIA GPU, was skipped), 1 when a step failed or timed out (what was measured is
# still written), 2 on bad usage.
#
# Options:
#   --no-install        use the current python environment (no virtual environment, nothing installed)
#   --wheels DIR        offline install from the wheels in DIR, the project with --no-deps (no registry needed)
#   --venv DIR          where to create the environment (default: a new temporary folder); removed first
#   --budget S          seconds for the whole script (default 480)
#   --workers N         nbdev_test workers (default 1; N > 1 sets OMP_NUM_THREADS to cores / N unless it is set)
#   --nbs GLOB          only the notebooks matching GLOB (nbdev_test --file_glob), e.g. '0[4-7]*.ipynb'
#   --skip-tests, --skip-bench
#   --cpu-smoke         check this script where there is no GPU: the tests run (pick a few with --nbs) and the
#                       benchmarks run as gpu_bench.py --cpu-smoke (tiny sizes on the CPU)
#   --fetch-wheels DIR  run where pip reaches a registry, in the project's environment: download the wheels of the
#                       test tools that the GPU image lacks, for --python-version (default 3.12), into DIR; exit
# The python used as the base is $GPU_CHECK_PYTHON (default python3).
#
# On this workplace's device machine (no registry; python3 3.12 with a CUDA torch): first, here,
#   bash tools/gpu_check.sh --fetch-wheels build/gpu_wheels
# then run there, carrying build/gpu_wheels:  bash tools/gpu_check.sh "$OUT" --wheels build/gpu_wheels
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd) || exit 2
cd "$root" || exit 2
PY=${GPU_CHECK_PYTHON:-python3}
start=$(date +%s)

die() { echo "gpu_check: error: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

out="" install=1 wheels="" venv="" budget=480 workers=1 nbs="" skip_tests=0 skip_bench=0 smoke=0 fetch="" pyver=3.12
internal=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0 ;;
    --skip-tests) skip_tests=1 ;;
    --skip-bench) skip_bench=1 ;;
    --cpu-smoke) smoke=1 ;;
    --wheels|--venv|--budget|--workers|--nbs|--fetch-wheels|--python-version|--internal-install)
      [ $# -ge 2 ] || die "$1 needs a value"
      case "$1" in
        --wheels) wheels=$2 ;; --venv) venv=$2 ;; --budget) budget=$2 ;; --workers) workers=$2 ;; --nbs) nbs=$2 ;;
        --fetch-wheels) fetch=$2 ;; --python-version) pyver=$2 ;; --internal-install) internal=$2 ;;
      esac
      shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$out" ] || die "one OUTDIR only, got '$out' and '$1'"; out=$1 ;;
  esac
  shift
done
case "$budget" in ''|*[!0-9]*) die "--budget must be a whole number of seconds, got '$budget'" ;; esac
case "$workers" in ''|*[!0-9]*|0) die "--workers must be a positive whole number, got '$workers'" ;; esac
[ -z "$wheels" ] || [ -d "$wheels" ] || die "--wheels $wheels: folder not found"
[ -z "$wheels" ] || wheels=$(cd "$wheels" && pwd)

# ------------------------------------------------------------------ --fetch-wheels DIR
# Packages in the device image ('cuda', as KINDS.md of the device tool lists it on 2026-11-17) are not fetched.
device_has="absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build
certifi charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core
cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock flatbuffers
flax fonttools formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize
hypothesis idna imageio iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib
kiwisolver lazy-loader lightning lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py
markupsafe matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch mypy-extensions nanobind
narwhals networkx ninja numba numba-cuda numpy numpyro nvidia-ml-py onnx onnx-ir onnxruntime onnxscript
opencv-python-headless optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec patsy peft
pillow pip pluggy portalocker prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments
pyparsing pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist
python-dateutil pytorch-lightning pyyaml regex requests rich sacrebleu safetensors scikit-build-core scikit-image
scikit-learn scipy seaborn sentencepiece sentence-transformers setuptools shellingham simplejson six sortedcontainers
statsmodels sympy tabulate tensorboard tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm
tokenizers toolz torch torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope
triton typer typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp"

fetch_wheels() {
  local dir=$1 specs
  mkdir -p "$dir" || die "cannot create $dir"
  # the runtime requirements of settings.ini and what nbdev_test needs, with everything they pull in, at the versions
  # installed here (known to pass the tests), minus what the image has; nvidia-*, torch and friends never travel
  specs=$(DEVICE_HAS="$device_has" PYVER="$pyver" "$PY" - <<'EOF'
import configparser, os, re, sys
from importlib.metadata import distribution, PackageNotFoundError
from pip._vendor.packaging.requirements import Requirement
norm = lambda n: re.sub(r'[-_.]+', '-', n).lower()
have = {norm(n) for n in os.environ['DEVICE_HAS'].split()}
cfg = configparser.ConfigParser(delimiters=['=']); cfg.read('settings.ini')
tops = cfg['DEFAULT']['requirements'].split() + ['nbdev', 'execnb', 'fastcore', 'ipython', 'pysodmetrics']
env = dict(python_version=os.environ['PYVER'], python_full_version=os.environ['PYVER'] + '.0', sys_platform='linux',
           platform_system='Linux', platform_machine='x86_64', os_name='posix', implementation_name='cpython',
           platform_python_implementation='CPython', extra='')
found, todo = {}, [Requirement(t) for t in tops]
while todo:
    r = todo.pop(); n = norm(r.name)
    if n in found or n in have or n.startswith('nvidia-') or r.marker is not None and not r.marker.evaluate(env): continue
    try: d = distribution(r.name)
    except PackageNotFoundError: found[n] = r.name; print(f'warning: {r.name} is not installed here: fetching its newest release', file=sys.stderr); continue
    found[n] = f'{r.name}=={d.version}'
    todo += [Requirement(q) for q in d.requires or [] if 'extra ==' not in q]
print(' '.join(sorted(found.values())))
EOF
) || die "could not list the packages (run this in the project's environment: . .venv/bin/activate)"
  echo "fetching for python $pyver: $specs"
  # shellcheck disable=SC2086
  "$PY" -m pip download --no-deps --only-binary=:all: --python-version "$pyver" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 -d "$dir" $specs || die "pip download failed"
  echo "$(find "$dir" -name '*.whl' | wc -l) wheels, $(du -sh "$dir" | cut -f1) in $dir"
}

# ------------------------------------------------------------------ the install, run as its own process under timeout
readme_cmd() { awk -v m="<!-- $1 -->" 'f==1 && /^```/ {f=2; next} f==2 && /^```/ {exit} f==2 {print} $0==m {f=1}' README.md; }

install_env() {   # $1 = 1: keep the base python's torch (the environment sees the base's packages)
  local keep=$1 sp setup flags=() nopip=0
  rm -rf "$venv"
  [ "$keep" = 1 ] && flags=(--system-site-packages)
  # GPU_CHECK_NO_ENSUREPIP=1 takes the path of a python without ensurepip (Debian/Ubuntu without python3-venv)
  if [ "${GPU_CHECK_NO_ENSUREPIP:-0}" = 1 ] || ! "$PY" -m venv "${flags[@]}" "$venv"; then
    echo "python -m venv with pip failed or was not asked for: an environment without pip"
    rm -rf "$venv"; "$PY" -m venv "${flags[@]}" --without-pip "$venv" || return 1
    nopip=1
  fi
  if [ "$keep" = 1 ]; then
    # a base python that is itself a virtual environment: --system-site-packages reaches its parent's packages,
    # not its own (where torch is); a .pth file adds them, after the new environment's own
    sp=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') || return 1
    "$PY" -c 'import site; print("\n".join(f"import site; site.addsitedir({p!r})" for p in site.getsitepackages()))' \
      > "$sp/_gpu_check_base_site.pth" || return 1
  fi
  if [ $nopip -eq 1 ]; then
    # pip for this environment: the base's pip (importable through the .pth) installing here, else one bootstrapped
    "$venv/bin/python" -m pip --version >/dev/null 2>&1 || "$PY" -m pip --python "$venv/bin/python" install pip || return 1
    printf '#!/bin/sh\nexec "%s" -m pip "$@"\n' "$venv/bin/python" > "$venv/bin/pip" && chmod +x "$venv/bin/pip"
  fi
  # shellcheck disable=SC1091
  . "$venv/bin/activate" || return 1
  echo "pip: $(command -v pip): $(python -m pip --version)"
  if [ -n "$wheels" ]; then
    echo "== offline: the wheels in $wheels (--no-deps), then the project (--no-deps)"
    compgen -G "$wheels/*.whl" >/dev/null || { echo "no .whl files in $wheels"; return 1; }
    python -m pip install --no-index --no-deps --no-cache-dir "$wheels"/*.whl || return 1
    python -m pip install --no-index --no-deps --no-build-isolation --no-cache-dir -e . || return 1
  else
    setup=$(readme_cmd setup-command)
    [ -n "$setup" ] || { echo "README.md lacks the set-up command block"; return 1; }
    python -m pip install -q --upgrade pip || true
    if [ "$keep" != 1 ]; then
      echo "== torch==2.13.0 (the base python has no CUDA torch)"
      python -m pip install torch==2.13.0 || return 1
    fi
    echo "== set-up: $setup"
    bash -c "$setup" || return 1
  fi
}

if [ -n "$internal" ]; then
  [ -n "$venv" ] || die "--internal-install needs --venv"
  install_env "$internal"; exit $?
fi
if [ -n "$fetch" ]; then fetch_wheels "$fetch"; exit 0; fi

# ------------------------------------------------------------------ the check
[ -n "$out" ] || die "OUTDIR is required: bash tools/gpu_check.sh OUTDIR [options] (see --help)"
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
rm -f "$out/gpu_results.json" "$out/gpu_results.md" "$out/gpu_check.log" "$out/install.log" "$out/nbdev_test.log"
exec > >(tee "$out/gpu_check.log") 2>&1
deadline=$((start + budget))
left() { echo $((deadline - $(date +%s))); }
steps=$(mktemp)
runpy=$PY   # the python that runs the benchmarks: the base one, or the new environment's
trap 'rm -f "$steps"' EXIT
status=0
step() {   # name status seconds detail: one line of the report, and printed
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$steps"
  echo "-- $1: $2 (${3} s)${4:+: $4}"
  case "$2" in ok|skipped) ;; *) status=1 ;; esac
}

echo "== GPU and versions ($(date -u '+%Y-%m-%d %H:%M UTC'); budget ${budget} s; $(getconf _NPROCESSORS_ONLN) CPU cores)"
gpu=0
if command -v nvidia-smi >/dev/null 2>&1; then
  if timeout 30 nvidia-smi; then gpu=1; else echo "nvidia-smi failed"; fi
else echo "nvidia-smi: not found"; fi
versions='import platform, sys
print("python", platform.python_version(), sys.executable)
try:
    import torch
except Exception as e:
    print("torch: not importable:", e); print("TORCH none"); sys.exit()
cuda = torch.cuda.is_available()
print("torch", torch.__version__, "| CUDA", torch.version.cuda, "| cuDNN", torch.backends.cudnn.version(), "| cuda available:", cuda,
      *(["|", torch.cuda.get_device_name(0), "| capability", torch.cuda.get_device_capability(0)] if cuda else []))
print("TORCH", "cuda" if cuda else "cpu")'
info=$(timeout 120 "$PY" -c "$versions" 2>&1); echo "$info" | grep -v '^TORCH '
base_torch=$(echo "$info" | sed -n 's/^TORCH //p'); base_torch=${base_torch:-none}
echo "base python: $PY (torch: $base_torch)"

bench() {   # run the benchmarks with the python on PATH, inside what is left of the budget
  local cap t0 rc smokeflag=()
  [ $smoke -eq 1 ] && smokeflag=(--cpu-smoke)
  cap=$(( $(left) - 15 ))
  if [ $skip_bench -eq 1 ]; then step benchmarks skipped 0 "--skip-bench"; return; fi
  if [ $cap -lt 30 ]; then step benchmarks skipped 0 "the time budget ran out"; status=1; return; fi
  echo "== benchmarks: python tools/gpu_bench.py $out (timeout ${cap} s)"
  t0=$(date +%s)
  PYTHONUNBUFFERED=1 timeout -k 10 "$cap" "$runpy" tools/gpu_bench.py "$out" --deadline $(( $(date +%s) + cap - 10 )) \
    --checks "$steps" "${smokeflag[@]}"
  rc=$?
  case $rc in
    0) step benchmarks ok $(( $(date +%s) - t0 )) "gpu_results.json, gpu_results.md" ;;
    124|137) step benchmarks "timed out" $(( $(date +%s) - t0 )) "after ${cap} s; the sections finished before are in the results" ;;
    *) step benchmarks failed $(( $(date +%s) - t0 )) "exit $rc (see the errors in the report and gpu_check.log)" ;;
  esac
}
finish() {
  "$runpy" tools/gpu_bench.py "$out" --render-only --checks "$steps" || echo "gpu_check: could not write the report"
  echo "== done in $(( $(date +%s) - start )) s; exit $status; files in $out: $(cd "$out" && echo *)"
  echo
  cat "$out/gpu_results.md" 2>/dev/null
  exit $status
}

if [ $gpu -eq 0 ] && [ "$base_torch" != cuda ] && [ $smoke -eq 0 ]; then
  echo "no NVIDIA GPU here: the cuda cells and the GPU benchmarks cannot run (CI runs the CPU suite); skipped"
  step install skipped 0 "no GPU"; step tests skipped 0 "no GPU"
  "$runpy" tools/gpu_bench.py "$out" --checks "$steps"     # writes results that say "no CUDA"
  step benchmarks skipped 0 "no CUDA"
  finish
fi

# ------------------------------------------------------------------ 2. environment
if [ $install -eq 1 ]; then
  [ -n "$venv" ] || venv="$(mktemp -d)/venv"
  keep=0
  if [ "$base_torch" = cuda ] || { [ $smoke -eq 1 ] && [ "$base_torch" = cpu ]; }; then keep=1; fi
  if [ $keep -eq 0 ] && [ -n "$wheels" ]; then
    step install failed 0 "no CUDA torch in $PY and no registry (--wheels): set GPU_CHECK_PYTHON to a python with a CUDA torch"
    finish
  fi
  cap=$(( $(left) - 150 )); [ $cap -gt 900 ] && cap=900
  echo "== environment $venv ($([ $keep -eq 1 ] && echo "keeps the base python's torch" || echo "torch==2.13.0 from the registry");" \
       "$([ -n "$wheels" ] && echo "offline, wheels from $wheels" || echo "README set-up command"); timeout ${cap} s)"
  t0=$(date +%s)
  GPU_CHECK_PYTHON="$PY" timeout -k 10 "$cap" bash "$0" --internal-install "$keep" --venv "$venv" ${wheels:+--wheels "$wheels"} \
    > "$out/install.log" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then
    tail -30 "$out/install.log"
    step install "$([ $rc -eq 124 ] && echo 'timed out' || echo failed)" $(( $(date +%s) - t0 )) "exit $rc, see install.log"
    finish
  fi
  # shellcheck disable=SC1091
  . "$venv/bin/activate"
  runpy=python
  step install ok $(( $(date +%s) - t0 )) "$([ -n "$wheels" ] && echo "offline wheels ($(find "$wheels" -name '*.whl' | wc -l)) + project --no-deps" || echo "README set-up command"); venv $venv; base torch $([ $keep -eq 1 ] && echo kept || echo 'not used')"
else
  PATH="$("$PY" -c 'import os, sys; print(os.path.dirname(sys.executable))'):$PATH"   # its nbdev_test, u2net_train
  step install skipped 0 "--no-install: $PY"
fi
check='import importlib.util, torch
mods = ("u2net_nb fastcore nbdev execnb IPython ipywidgets torchinfo py_sod_metrics numba scipy matplotlib onnx onnxruntime PIL tqdm").split()
missing = [m for m in mods if importlib.util.find_spec(m) is None]
print("environment:", torch.__version__, "CUDA", torch.version.cuda, "available", torch.cuda.is_available(), "| missing modules:", " ".join(missing) or "none")
print("CUDA", int(torch.cuda.is_available()))'
einfo=$("$runpy" -c "$check" 2>&1); echo "$einfo" | grep -v '^CUDA [01]$'
if ! echo "$einfo" | grep -q '^CUDA 1$' && [ $smoke -eq 0 ]; then
  step environment failed 0 "the environment's torch does not see the GPU (torch.cuda.is_available() is False)"
  finish
fi

# ------------------------------------------------------------------ 3. the notebooks, cuda cells included
if [ $skip_tests -eq 1 ]; then step tests skipped 0 "--skip-tests"
else
  cap=$(( $(left) - 180 )); [ $cap -gt 330 ] && cap=330
  [ $smoke -eq 1 ] && cap=$(( $(left) - 30 ))
  args=(--flags cuda --n_workers "$workers" --do_print --timing)
  [ -n "$nbs" ] && args+=(--file_glob "$nbs")
  if [ "$workers" -gt 1 ] && [ -z "${OMP_NUM_THREADS:-}" ]; then
    OMP_NUM_THREADS=$(( $(nproc) / workers )); [ "$OMP_NUM_THREADS" -ge 1 ] || OMP_NUM_THREADS=1; export OMP_NUM_THREADS
  fi
  if [ $cap -lt 60 ]; then step tests skipped 0 "the time budget ran out"; status=1
  else
    echo "== tests: nbdev_test ${args[*]} (OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}; timeout ${cap} s; log nbdev_test.log)"
    t0=$(date +%s)
    timeout -k 10 "$cap" nbdev_test "${args[@]}" > "$out/nbdev_test.log" 2>&1
    rc=$?
    took=$(( $(date +%s) - t0 ))
    grep -E ': [0-9]+ secs$' "$out/nbdev_test.log"
    started=$(grep -c '^Starting ' "$out/nbdev_test.log")
    failed_nbs=$(awk '/Tests Failed On The Following Notebooks/ {f=1; next} f && /^\t/ {sub(/^\t/, ""); printf "%s ", $0}' "$out/nbdev_test.log")
    nfail=$(echo "$failed_nbs" | wc -w)
    if [ $rc -ne 0 ] && [ "$nfail" -eq 0 ]; then nfail=1; fi
    if [ $rc -eq 0 ] && [ "$started" -gt 0 ]; then step tests ok $took "$started notebooks passed, cuda cells included"
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then tail -20 "$out/nbdev_test.log"; step tests "timed out" $took "after ${cap} s; $started notebooks started"
    elif [ "$started" -eq 0 ] && [ $rc -eq 0 ]; then step tests failed $took "no notebook was tested (check --nbs)"
    else
      tail -60 "$out/nbdev_test.log"
      step tests failed $took "$((started - nfail)) passed, $nfail failed: ${failed_nbs:-see nbdev_test.log}"
    fi
  fi
fi

# ------------------------------------------------------------------ 4. benchmarks
bench
finish
