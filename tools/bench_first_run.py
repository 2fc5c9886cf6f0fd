"""First and later runs of `u2net_predict` against rembg, as whole processes: `python tools/bench_first_run.py`.

The full model with random weights (speed does not depend on their values) is saved as a `.pth`, and its ONNX export
is what rembg's `u2net_custom` runs, so both tools run the same network. For 1, 3 and 18 of the official sample
photos (the shared data folder, or `--photos DIR`), each round runs, in turn:

- `u2net_predict WEIGHTS PHOTOS --mode cutout` with an empty engine cache: the first run with these weights (cold);
- the same command again with the cache that a cold run left: a later run (warm);
- rembg's `rembg p` loop (`new_session('u2net_custom')`, then `remove()` on each file's bytes, the PNG written).

Rounds are interleaved (each round runs every tool once), so a disturbance of a shared machine hits all tools alike.
Each process is started from a small launcher that reads its CPU time (user + system) and peak resident memory from
`os.wait4`. The table gives medians of CPU and wall seconds, the largest peak, and rembg's time divided by ours (above
1: we are faster). The caption names the CPU's vector features. Runs in about 5 minutes with 3 rounds on 2 cores.

Options: --rounds 3, --threads 2 (OMP_NUM_THREADS of every process), --counts 1,3,18, --photos DIR, --model full|lite,
--precision fp32|bf16 and --backend auto|onnxruntime|openvino (passed to u2net_predict; rembg always runs float32).
"""
import argparse, json, os, platform, shutil, statistics, subprocess, sys, tempfile
from pathlib import Path

LAUNCH = r"""
import json, os, subprocess, sys, time
t = time.perf_counter(); p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
err = p.stderr.read(); _, status, ru = os.wait4(p.pid, 0)
print(json.dumps(dict(wall=time.perf_counter() - t, cpu=ru.ru_utime + ru.ru_stime, peak=ru.ru_maxrss/1024,
                      rc=os.waitstatus_to_exitcode(status), err=err[-1500:])))
"""
REMBG = r"""
import sys, pathlib
from rembg import new_session, remove
model, src, out = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
session = new_session('u2net_custom', model_path=model)
for f in sorted(src.iterdir()):
    if f.is_file():
        o = (out/f.name).with_suffix('.png'); o.parent.mkdir(parents=True, exist_ok=True)
        o.write_bytes(remove(f.read_bytes(), session=session))
"""

def measure(cmd, env) -> dict:
    "Wall and CPU seconds, peak resident MB and exit code of one process (started by a small launcher)."
    r = subprocess.run([sys.executable, '-c', LAUNCH, *cmd], capture_output=True, text=True, env=env)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    if res['rc'] != 0: raise SystemExit(f"bench_first_run: {' '.join(cmd[:3])}... failed (exit {res['rc']}): {res['err']}")
    return res

def cpu_caption() -> str:
    "The CPU's model name, cores and vector features that matter here."
    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'): name = line.split(':', 1)[1].strip()
            if line.startswith('flags'): flags = set(line.split(':', 1)[1].split())
    except OSError: pass
    feats = [f for f in ('avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_bf16') if f in flags]
    return f"{name}, {len(os.sched_getaffinity(0))} cores, {' '.join(feats) or 'no AVX2'}"

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--rounds', type=int, default=3); ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--counts', default='1,3,18'); ap.add_argument('--photos', default=None)
    ap.add_argument('--model', default='full', choices=['full', 'lite'])
    ap.add_argument('--precision', default='fp32', choices=['fp32', 'bf16']); ap.add_argument('--backend', default='auto')
    args = ap.parse_args()
    import torch
    from u2net_nb.model import u2net_full, u2net_lite
    from u2net_nb.export import export_onnx
    from u2net_nb.samples import official_samples_dir
    photos = sorted(p for p in (Path(args.photos) if args.photos else official_samples_dir()/'images').iterdir() if p.is_file())
    counts = [int(c) for c in args.counts.split(',')]
    if max(counts) > len(photos): raise SystemExit(f"bench_first_run: {len(photos)} photos, asked for {max(counts)}")
    work = Path(tempfile.mkdtemp(prefix='u2net_first_run_'))
    try:
        torch.manual_seed(0); net = (u2net_full if args.model == 'full' else u2net_lite)().eval()
        pth, onnx = work/'weights.pth', work/'weights.onnx'
        torch.save(net.state_dict(), pth); export_onnx(net, onnx, atol=1e-3); del net
        sets = {}
        for n in counts:                                 # the n photos spread over the sizes (every k-th)
            d = work/f'photos{n}'; d.mkdir()
            for p in photos[::max(1, len(photos)//n)][:n]: os.link(p, d/p.name)
            sets[n] = d
        env = {**os.environ, 'OMP_NUM_THREADS': str(args.threads), 'U2NET_HOME': str(work/'rembg_home')}
        exe = shutil.which('u2net_predict') or str(Path(sys.executable).parent/'u2net_predict')
        opts = ['--precision', args.precision, '--backend', args.backend]
        def ours(n, cache, out): return [exe, str(pth), str(sets[n]), '--mode', 'cutout', *opts, '--quiet', '--out', str(out)], {**env, 'U2NET_ONNX_CACHE': str(cache)}
        runs = {}
        for r in range(args.rounds):
            for n in counts:
                cold_cache, out = work/f'cold{n}_{r}', work/'out'
                for tool in ('cold', 'warm', 'rembg'):
                    shutil.rmtree(out, ignore_errors=True)
                    if tool == 'rembg': cmd, e = [sys.executable, '-c', REMBG, str(onnx), str(sets[n]), str(out)], env
                    else: cmd, e = ours(n, cold_cache if tool == 'cold' else work/f'warm{n}', out)
                    if tool == 'warm' and r == 0: measure(cmd, e)                  # untimed: the warm cache is made once
                    runs.setdefault((n, tool), []).append(measure(cmd, e))
                shutil.rmtree(cold_cache, ignore_errors=True)
                print(f"round {r + 1}/{args.rounds}, {n} photos: " + ', '.join(f"{t} {runs[(n, t)][-1]['cpu']:.1f} s CPU"
                      for t in ('cold', 'warm', 'rembg')), file=sys.stderr, flush=True)
        med = lambda n, t, k: statistics.median(x[k] for x in runs[(n, t)])
        peak = lambda n, t: max(x['peak'] for x in runs[(n, t)])
        print(f"\nu2net_{args.model}, cut-outs, u2net_predict {' '.join(opts)}, {args.threads} threads, median of {args.rounds} interleaved rounds; {cpu_caption()}")
        print(f"{'photos':>6} | {'first run (cold)':>28} | {'later runs (warm)':>28} | {'rembg':>19}")
        print(f"{'':>6} | {'CPU s':>6} {'wall s':>6} {'peak MB':>7} {'x rembg':>7} | {'CPU s':>6} {'wall s':>6} {'peak MB':>7} {'x rembg':>7} | {'CPU s':>6} {'wall s':>6} {'peak MB':>5}")
        for n in counts:
            rb = med(n, 'rembg', 'cpu')
            row = [f"{n:>6}"]
            for t in ('cold', 'warm'):
                row.append(f"{med(n, t, 'cpu'):6.1f} {med(n, t, 'wall'):6.1f} {peak(n, t):7.0f} {rb/med(n, t, 'cpu'):6.2f}x")
            row.append(f"{rb:6.1f} {med(n, 'rembg', 'wall'):6.1f} {peak(n, 'rembg'):5.0f}")
            print(' | '.join(row))
        print("x rembg: rembg's CPU seconds divided by ours (above 1: faster than rembg)")
    finally: shutil.rmtree(work, ignore_errors=True)

if __name__ == '__main__': main()
