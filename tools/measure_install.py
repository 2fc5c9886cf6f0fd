"""Measure what a fresh `pip install` of the package costs: time and size on disk, per install target.

    python tools/measure_install.py SRC [TARGET ...] [--colab]

SRC is the project folder to install (this checkout, or an older one unpacked with `git archive`); each TARGET is an
extras spec such as `''` (base), `fast`, `all`. For each one: a fresh virtual environment, PyTorch installed first
(`pip install torch==2.13.0`, the CPU build from local disk where one is there; not counted), then
`pip install --no-cache-dir SRC[TARGET]` timed, and `du -sm` of site-packages before and after (so PyTorch and its
own dependencies are not counted). `--colab` first installs what a Colab runtime already has (numpy, scipy,
matplotlib, ipywidgets, pillow, tqdm), so the figure is what the notebooks' install cell adds there.
`--packages` prints the size of each installed distribution of the last target. One line per target.
"""
import argparse, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

COLAB_HAS = ['numpy', 'scipy', 'matplotlib', 'ipywidgets', 'pillow', 'tqdm']

def _mb(path):
    return int(subprocess.run(['du', '-sm', str(path)], capture_output=True, text=True, check=True).stdout.split()[0])

def _site(venv):
    return next((venv/'lib').glob('python*/site-packages'))

def _pip(venv, *args, **kw):
    return subprocess.run([str(venv/'bin'/'python'), '-m', 'pip', *args], check=True, capture_output=True, text=True, **kw)

def _dist_sizes(venv):
    "{distribution: MB on disk} from each distribution's RECORD."
    code = ("import importlib.metadata as m, os, json\nout = {}\n"
            "for d in m.distributions():\n"
            "    n = 0\n"
            "    for f in d.files or []:\n"
            "        p = d.locate_file(f)\n"
            "        if os.path.isfile(p): n += os.path.getsize(p)\n"
            "    out[d.metadata['Name']] = n / 2**20\n"
            "print(json.dumps(out))")
    import json
    return json.loads(subprocess.run([str(venv/'bin'/'python'), '-c', code], capture_output=True, text=True, check=True).stdout)

def measure(src, target, colab=False):
    tmp = Path(tempfile.mkdtemp(prefix='u2net_install_'))
    try:
        venv = tmp/'venv'
        subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True)
        _pip(venv, 'install', '-q', 'torch==2.13.0')
        if colab: _pip(venv, 'install', '-q', *COLAB_HAS)
        before = _dist_sizes(venv); s0 = _mb(_site(venv))
        spec = f"{src}[{target}]" if target else str(src)
        t0 = time.perf_counter(); _pip(venv, 'install', '-q', '--no-cache-dir', spec); secs = time.perf_counter() - t0
        s1 = _mb(_site(venv)); after = _dist_sizes(venv)
        added = {k: v for k, v in after.items() if k not in before}
        return secs, s1 - s0, added
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('src'); ap.add_argument('targets', nargs='*', default=[''])
    ap.add_argument('--colab', action='store_true'); ap.add_argument('--packages', action='store_true')
    a = ap.parse_args()
    src = Path(a.src).resolve()
    for t in a.targets:
        secs, mb, added = measure(src, t, a.colab)
        print(f"{src.name}[{t}]{' (colab)' if a.colab else ''}: {secs:.0f} s, {mb} MB, {len(added)} distributions", flush=True)
        if a.packages:
            for k, v in sorted(added.items(), key=lambda kv: -kv[1]): print(f"    {k:28} {v:7.1f} MB")
