#!/usr/bin/env python3
"""GPU benchmarks of u2net_nb on synthetic data (nothing is downloaded): `python tools/gpu_bench.py OUTDIR`.

Sections, in this order, each time-capped; no new work starts after the deadline (--budget seconds, or --deadline):
  inference  320x320, batch 1 and 32, fp32 / bf16 / fp16 autocast, for the eval-mode model (NCHW) and for
             `optimize_for_inference` (BatchNorm folded, channels-last); images/s and max |diff| of the maps vs fp32
  training   u2net_full and u2net_lite, random 288x288 crops (TrainAugment) of 320 px synthetic scenes, batch 16 and 32:
             fp32, AMP bf16, AMP fp16 + GradScaler, channels-last (fp32, bf16, fp16) and channels-last bf16 with
             cudnn.benchmark; images/s of `train_step` (CUDA events, warm-up steps excluded), peak memory
             (torch.cuda.max_memory_allocated) and the deep-supervision loss at initialisation (same weights, same batch)
  metrics    the torch sweep of `sod_scores` on the GPU against the compiled CPU kernel on the same 100 maps 300x400:
             max |diff| per statistic and per dataset metric (`SODMetrics`), maps/s of each
  runs       `u2net_train` with its defaults, and one epoch of the recipe on synthetic scenes (full, 320 -> crop 288,
             --amp), each a subprocess with a timeout: wall time, training images/s, final maxF / MAE (metrics.jsonl)
  compile    torch.compile (channels-last, AMP bf16) of each model, batch 16 then 32, each in a subprocess whose
             compilation is capped at a minute
Writes OUTDIR/gpu_results.json (raw numbers) and OUTDIR/gpu_results.md (tables naming the GPU, and a line per goal)
after every section. Without CUDA it writes results that say "no CUDA" and exits 0.

Options: --cpu-smoke (every section once at tiny sizes on the CPU: checks that the code paths run, in seconds),
--budget S (default 300), --deadline T (Unix time; overrides --budget), --checks FILE (step results of
tools/gpu_check.sh, lines `step<TAB>status<TAB>seconds<TAB>detail`, shown in the report), --render-only (rewrite the
markdown from OUTDIR/gpu_results.json and --checks, without running anything).
"""
import argparse, contextlib, gc, inspect, json, math, os, platform, shutil, signal, subprocess, sys, tempfile, time, warnings
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_TRAIN, GOAL_INFER = 400.0, 1000.0   # images/s: full model AMP training at 288 px; lite bf16 inference, 320, batch 32

GPU_SIZES = dict(scene=320, crop=288, train_batches=(16, 32), pool=32, warmup=3, steps=10, step_cap=4.0,
                 infer=320, infer_batches=(1, 32), infer_warmup=3, infer_iters={1: 40, 32: 10}, infer_cap=3.0,
                 maps=100, map_hw=(300, 400), compile_cap=60.0, compile_batches=(16, 32), run_caps=(150, 180))
SMOKE_SIZES = dict(scene=40, crop=32, train_batches=(2,), pool=2, warmup=1, steps=1, step_cap=30.0,
                   infer=64, infer_batches=(1, 2), infer_warmup=1, infer_iters={1: 1, 2: 1}, infer_cap=30.0,
                   maps=4, map_hw=(30, 40), compile_cap=120.0, compile_batches=(2,), run_caps=(300, 300))
TRAIN_VARIANTS = [  # name, autocast dtype name, GradScaler, channels-last, cudnn.benchmark
    ('fp32', None, False, False, False), ('bf16', 'bf16', False, False, False), ('fp16+scaler', 'fp16', True, False, False),
    ('cl fp32', None, False, True, False), ('cl bf16', 'bf16', False, True, False), ('cl fp16+scaler', 'fp16', True, True, False),
    ('cl bf16 cudnn.benchmark', 'bf16', False, True, True)]
COMPILE_VARIANT = 'compile cl bf16'
MODELS = ('full', 'lite')

def log(*a): print(*a, flush=True)

def first_line(e: BaseException) -> str:
    s = str(e).strip().splitlines()
    return f"{type(e).__name__}: {s[0][:300] if s else ''}"

# ---------------------------------------------------------------- results and report
class Results:
    "The raw numbers (a dict saved as JSON) and their markdown report, rewritten after every section."
    def __init__(self, out: Path | None, checks=None):   # out None: keep the numbers in memory only
        self.out, self.checks = out, checks or []
        p = out/'gpu_results.json' if out else None
        self.d = json.loads(p.read_text()) if p and p.is_file() else {}
    def save(self):
        if self.out is None: return
        self.d['checks'] = self.checks
        self.d['goals'] = goals(self.d)
        for name, text in (('gpu_results.json', json.dumps(self.d, indent=1, default=str)), ('gpu_results.md', render(self.d))):
            tmp = self.out/f'.{name}.tmp'
            tmp.write_text(text); os.replace(tmp, self.out/name)

def read_checks(path):
    "Steps written by gpu_check.sh: [{step, status, seconds, detail}]."
    if not path or not Path(path).is_file(): return []
    rows = []
    for line in Path(path).read_text().splitlines():
        f = line.split('\t')
        if len(f) >= 3: rows.append(dict(step=f[0], status=f[1], seconds=f[2], detail=f[3] if len(f) > 3 else ''))
    return rows

def best(rows, **want):
    ok = [r for r in rows if all(r.get(k) in (v if isinstance(v, tuple) else (v,)) for k, v in want.items()) and r.get('images_per_s')]
    return max(ok, key=lambda r: r['images_per_s'], default=None)

def goals(d) -> list:
    "One entry per goal of the GPU work: the best measured figure and whether it meets the goal."
    if not d.get('env', {}).get('cuda'): return []
    tr = best(d.get('training', []) + d.get('compile', []), model='full', dtype=('bf16', 'fp16'))
    inf = best(d.get('inference', []), model='lite', batch=32, dtype='bf16')
    out = []
    for name, goal, r in ((f'full model AMP training, 288 px: >= {GOAL_TRAIN:.0f} images/s', GOAL_TRAIN, tr),
                          (f'lite inference, 320 px, batch 32, bf16: >= {GOAL_INFER:.0f} images/s', GOAL_INFER, inf)):
        if r is None: out.append(dict(goal=name, measured=None, met=None, config='not measured')); continue
        cfg = f"{r['variant']}, batch {r['batch']}"
        out.append(dict(goal=name, measured=round(r['images_per_s'], 1), met=r['images_per_s'] >= goal, config=cfg))
    return out

def _f(v, fmt=None):
    "A number for the report: '-' when missing; by default no decimals from 100 on, one below."
    return '-' if v is None else (fmt or ('{:.0f}' if abs(v) >= 100 else '{:.1f}')).format(v)

def _gib(b): return None if b is None else b / 2**30

def render(d) -> str:
    "The markdown report of the results dict `d`."
    env, L = d.get('env', {}), []
    gpu = env.get('gpu') or ('no CUDA device' if env else 'benchmarks not run')
    L += [f"# u2net_nb GPU check: {gpu}", '']
    if env.get('cuda') or env.get('smoke'): L += [f"measured {env.get('date', '?')}: {gpu}" + (f" ({env['gpu_memory_gib']:.0f} GiB, capability {env.get('capability')})" if env.get('gpu_memory_gib') else '')
                  + f"; torch {env.get('torch')}, CUDA {env.get('cuda_version')}, cuDNN {env.get('cudnn')}, driver {env.get('driver', '?')}; "
                  f"python {env.get('python')}; {env.get('cpu_count')} CPU cores; cudnn.allow_tf32={env.get('cudnn_allow_tf32')}, "
                  f"matmul.allow_tf32={env.get('matmul_allow_tf32')}, cudnn.benchmark={env.get('cudnn_benchmark')} (defaults unless a row says otherwise)"
                  + (' -- CPU SMOKE RUN: tiny sizes on the CPU, the figures mean nothing' if env.get('smoke') else ''), '']
    if env and not env.get('cuda') and not env.get('smoke'):
        L += [f"**no CUDA**: {env.get('reason', 'torch.cuda.is_available() is False')}; the GPU benchmarks were skipped.", '']
    if d.get('checks'):
        L += ['## Checks', '', '| step | status | seconds | detail |', '|---|---|---|---|']
        L += [f"| {c['step']} | {c['status']} | {c['seconds']} | {c['detail']} |" for c in d['checks']] + ['']
    if d.get('goals'):
        L += ['## Goals', '']
        for g in d['goals']:
            verdict = 'not measured' if g['met'] is None else ('MET' if g['met'] else 'NOT MET')
            L.append(f"- {g['goal']}: {verdict}" + (f", {g['measured']:.0f} images/s ({g['config']})" if g['measured'] is not None else ''))
        L.append('')
    tr = d.get('training', []) + d.get('compile', [])
    if tr:
        sz = d.get('sizes', {})
        cols = [v[0] for v in TRAIN_VARIANTS] + [COMPILE_VARIANT]
        cols = [c for c in cols if any(r['variant'] == c for r in tr)]
        keys = sorted({(r['model'], r['batch']) for r in tr}, key=lambda k: (MODELS.index(k[0]) if k[0] in MODELS else 9, k[1]))
        cell = lambda m, b, c, f: next((f(r) for r in tr if (r['model'], r['batch'], r['variant']) == (m, b, c)),'-')
        L += [f"## Training throughput, {sz.get('crop', '?')}x{sz.get('crop', '?')} crops (images/s; `train_step` incl. augmentation, warm-up excluded)", '',
              '| model | batch | ' + ' | '.join(cols) + ' |', '|---|---|' + '---|' * len(cols)]
        L += [f"| {m} | {b} | " + ' | '.join(cell(m, b, c, lambda r: _f(r.get('images_per_s')) if r.get('images_per_s') else 'error' if r.get('error') else '-') for c in cols) + ' |' for m, b in keys]
        L += ['', 'Peak memory (GiB, torch.cuda.max_memory_allocated: weights, gradients, AdamW state, activations):', '',
              '| model | batch | ' + ' | '.join(cols) + ' |', '|---|---|' + '---|' * len(cols)]
        L += [f"| {m} | {b} | " + ' | '.join(cell(m, b, c, lambda r: _f(_gib(r.get('peak_mem_bytes')), '{:.2f}')) for c in cols) + ' |' for m, b in keys]
        par = {}
        for r in d.get('training', []):
            ref = next((q for q in d['training'] if (q['model'], q['batch'], q['variant']) == (r['model'], r['batch'], 'fp32')), None)
            if ref and r.get('loss_init') is not None and ref.get('loss_init') is not None:
                par[r['variant']] = max(par.get(r['variant'], 0.0), abs(r['loss_init'] - ref['loss_init']))
        if par: L += ['', 'Loss at initialisation, max |variant - fp32| over models and batches (same weights, same batch): '
                      + ', '.join(f"{k} {v:.1e}" for k, v in par.items() if k != 'fp32')]
        comp = d.get('compile', [])
        if comp: L += ['', 'torch.compile (first step, i.e. compilation; the inductor cache may be warm from the notebook run): '
                       + '; '.join(f"{r['model']} batch {r['batch']}: " + (f"{r['compile_s']:.0f} s" if r.get('compile_s') is not None else r.get('error', '?'))
                                   for r in comp)]
        errs = [r for r in tr if r.get('error')]
        if errs: L += ['', 'Errors: ' + '; '.join(f"{r['model']} b{r['batch']} {r['variant']}: {r['error']}" for r in errs)]
        L.append('')
    inf = d.get('inference', [])
    if inf:
        sz = d.get('sizes', {}).get('infer', '?')
        L += [f"## Inference, {sz}x{sz} (images/s; max (mean) |diff| of the maps vs fp32 of the same model and layout; weights: random, BatchNorm statistics from synthetic scenes)", '',
              '| model | layout | batch | fp32 | bf16 | fp16 | max diff bf16 | max diff fp16 | peak GiB |', '|---|---|---|---|---|---|---|---|---|']
        keys = []
        for r in inf:
            if (r['model'], r['layout'], r['batch']) not in keys: keys.append((r['model'], r['layout'], r['batch']))
        for m, lay, b in keys:
            rs = {r['dtype']: r for r in inf if (r['model'], r['layout'], r['batch']) == (m, lay, b)}
            g = lambda k, f: f(rs[k]) if k in rs else '-'
            L.append(f"| {m} | {lay} | {b} | " + ' | '.join(g(k, lambda r: _f(r.get('images_per_s')) if r.get('images_per_s') else 'error') for k in ('fp32', 'bf16', 'fp16'))
                     + ' | ' + ' | '.join(g(k, lambda r: f"{_f(r.get('max_abs_diff'), '{:.1e}')} ({_f(r.get('mean_abs_diff'), '{:.0e}')})") for k in ('bf16', 'fp16'))
                     + ' | ' + _f(_gib(max((r.get('peak_mem_bytes') or 0) for r in rs.values()) or None), '{:.2f}') + ' |')
        fold = [r for r in inf if r.get('fold_diff') is not None]
        if fold: L += ['', 'BN-folded channels-last vs eval-mode model, fp32 maps: max |diff| ' + ', '.join(f"{r['model']} b{r['batch']} {r['fold_diff']:.1e}" for r in fold)]
        errs = [r for r in inf if r.get('error')]
        if errs: L += ['', 'Errors: ' + '; '.join(f"{r['model']} {r['layout']} b{r['batch']} {r['dtype']}: {r['error']}" for r in errs)]
        L.append('')
    m = d.get('metrics')
    if m:
        L += [f"## Metrics: torch sweep on {m.get('gpu_device', '?')} vs the CPU kernel ({m.get('cpu_backend')}), {m.get('n')} maps {m.get('hw')}", '']
        if m.get('error'): L += [f"error: {m['error']}", '']
        else:
            L += ['| path | maps/s |', '|---|---|'] + [f"| {k} | {v:.0f} |" for k, v in m.get('maps_per_s', {}).items()]
            L += ['', 'max |GPU - CPU| per-image statistics: ' + ', '.join(f"{k} {v:.1e}" for k, v in m.get('per_image_max_abs_diff', {}).items()),
                  '', 'max |GPU - CPU| dataset metrics (SODMetrics.compute): ' + ', '.join(f"{k} {v:.1e}" for k, v in m.get('dataset_max_abs_diff', {}).items()), '']
    runs = d.get('runs', {})
    if runs:
        L += ['## u2net_train runs', '', '| run | command | status | wall s | training s | training images/s | maxF | MAE |', '|---|---|---|---|---|---|---|---|']
        for k, r in runs.items():
            L.append(f"| {r.get('label', k)} | `{r.get('command', '')}` | {r.get('status')} | {_f(r.get('wall_s'))} | {_f(r.get('train_s'), '{:.1f}')} | "
                     f"{_f(r.get('train_images_per_s'))} | {_f(r.get('maxF'), '{:.4f}')} | {_f(r.get('MAE'), '{:.4f}')} |")
        L.append('')
    if d.get('skipped'): L += ['## Not run', ''] + [f"- {s}" for s in d['skipped']] + ['']
    return '\n'.join(L) + '\n'

# ---------------------------------------------------------------- measurement helpers
class Bench:
    "Device, sizes, deadline and the library pieces for one benchmark run."
    def __init__(self, res: Results, smoke: bool, deadline: float):
        import torch
        self.torch, self.res, self.smoke, self.deadline = torch, res, smoke, deadline
        self.cuda = torch.cuda.is_available() and not smoke
        self.dev = torch.device('cuda' if self.cuda else 'cpu')
        self.P = SMOKE_SIZES if smoke else GPU_SIZES
        self.dtypes = {None: None, 'bf16': torch.bfloat16, 'fp16': torch.float16}
    def left(self): return self.deadline - time.time()
    def skip(self, what):
        log(f"-- skipped (time budget): {what}")
        self.res.d.setdefault('skipped', []).append(f"{what}: the time budget ran out")
    def sync(self):
        if self.cuda: self.torch.cuda.synchronize()
    def clean(self):
        gc.collect()
        if self.cuda: self.torch.cuda.empty_cache(); self.torch.cuda.reset_peak_memory_stats()
    def peak(self): return self.torch.cuda.max_memory_allocated() if self.cuda else None
    def timed(self, fn, n, cap):
        "(calls, seconds) of up to `n` calls of `fn`, stopping early once `cap` seconds have passed; CUDA events on the GPU."
        torch = self.torch
        self.sync()
        if self.cuda: start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True); start.record()
        t0, k = time.perf_counter(), 0
        while k < n:
            fn(); k += 1
            if time.perf_counter() - t0 > cap: break
        if self.cuda: end.record(); end.synchronize(); return k, start.elapsed_time(end) / 1000
        return k, time.perf_counter() - t0

def check_api():
    "Fail early, naming the function, if the library pieces this script calls changed their parameters."
    from u2net_nb.train import train_step, make_optimizer, make_scheduler
    need = {train_step: ('model', 'x', 'y', 'optimizer', 'scheduler', 'scaler', 'amp_dtype'),
            make_optimizer: ('model', 'lr'), make_scheduler: ('optimizer', 'total_steps', 'warmup_steps')}
    for f, names in need.items():
        have = list(inspect.signature(f).parameters)
        if [n for n in names if n not in have]: raise SystemExit(f"gpu_bench: u2net_nb.train.{f.__name__}{inspect.signature(f)} lacks {names}: update tools/gpu_bench.py")

def scenes(n, size, seed):
    "n synthetic scenes: uint8 images [n,3,S,S] and float masks [n,1,S,S] (CPU)."
    import torch
    from u2net_nb.synthetic import SyntheticSOD
    ds = SyntheticSOD(n, size, seed=seed)
    imgs, masks = zip(*(ds[i] for i in range(n)))
    return torch.stack(imgs), torch.stack(masks)

def environment(b: Bench) -> dict:
    torch = b.torch
    import u2net_nb
    e = dict(date=datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'), smoke=b.smoke, cuda=b.cuda, torch=torch.__version__,
             cuda_version=torch.version.cuda, cudnn=torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
             python=platform.python_version(), u2net_nb=u2net_nb.__version__, cpu_count=os.cpu_count(),
             cudnn_allow_tf32=torch.backends.cudnn.allow_tf32, matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32,
             cudnn_benchmark=torch.backends.cudnn.benchmark, cpu=next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor()) if Path('/proc/cpuinfo').exists() else platform.processor())
    if b.cuda:
        p = torch.cuda.get_device_properties(0)
        e.update(gpu=torch.cuda.get_device_name(0), capability=f"{p.major}.{p.minor}", gpu_memory_gib=p.total_memory / 2**30,
                 multiprocessors=p.multi_processor_count, bf16_supported=torch.cuda.is_bf16_supported())
        with contextlib.suppress(Exception):
            e['driver'] = subprocess.run(['nvidia-smi', '--query-gpu=driver_version', '--format=csv,noheader'], capture_output=True, text=True, timeout=20).stdout.strip()
    else: e['gpu'] = 'CPU (smoke run)'
    with contextlib.suppress(Exception):
        e['git'] = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip() or None
    return e

# ---------------------------------------------------------------- inference
def calibrated(b: Bench, make, x):
    "A model whose BatchNorm statistics come from `x` (so eval-mode maps are not saturated), in eval mode."
    torch = b.torch
    torch.manual_seed(0)
    net = make().to(b.dev)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d): m.reset_running_stats(); m.momentum = None
    net.train()
    with torch.no_grad():
        for i in range(0, len(x), 8): net(x[i:i + 8])
    return net.eval()

def bench_inference(b: Bench):
    torch, P = b.torch, b.P
    from u2net_nb.model import u2net_full, u2net_lite
    from u2net_nb.data import normalize
    try: from u2net_nb.fast import optimize_for_inference
    except ImportError as e: optimize_for_inference = None; log(f"-- optimize_for_inference not importable ({e}): eval-mode model only")
    imgs, _ = scenes(max(P['infer_batches']), P['infer'], seed=3)
    xs = normalize(imgs).to(b.dev)
    rows = b.res.d.setdefault('inference', [])
    for name, make in (('lite', u2net_lite), ('full', u2net_full)):
        net = calibrated(b, make, xs)
        layouts = {'eval NCHW': net}
        if optimize_for_inference is not None: layouts['BN folded, channels-last'] = optimize_for_inference(net, channels_last=True)
        fp32 = {}
        for lay, model in layouts.items():
            for bs in P['infer_batches']:
                if b.left() < 10: b.skip(f"inference {name} {lay} batch {bs}"); continue
                x, ref = xs[:bs], None
                for dname in (None, 'bf16', 'fp16'):
                    dtype = b.dtypes[dname]
                    r = dict(model=name, layout=lay, batch=bs, dtype=dname or 'fp32', variant=lay)
                    def f():
                        with torch.autocast(b.dev.type, dtype=dtype or torch.float32, enabled=dtype is not None): return model(x)
                    try:
                        b.clean()
                        with torch.inference_mode():
                            out = f().float()
                            for _ in range(P['infer_warmup'] - 1): f()
                            n, sec = b.timed(f, P['infer_iters'][bs], P['infer_cap'])
                        r.update(images_per_s=n * bs / sec, ms_per_batch=1000 * sec / n, calls=n, peak_mem_bytes=b.peak())
                        if ref is None: ref = out; fp32[(lay, bs)] = out
                        else: r.update(max_abs_diff=float((out - ref).abs().max()), mean_abs_diff=float((out - ref).abs().mean()))
                        if dname is None and lay != 'eval NCHW' and ('eval NCHW', bs) in fp32:
                            r['fold_diff'] = float((out - fp32[('eval NCHW', bs)]).abs().max())
                    except Exception as e: r['error'] = first_line(e); b.clean()
                    rows.append(r)
                    log(f"inference {name:4} {lay:26} b{bs:<3} {r['dtype']:5} " + (f"{r['images_per_s']:9.1f} img/s" if 'images_per_s' in r else r.get('error', ''))
                        + (f"  max|diff| {r['max_abs_diff']:.1e}" if 'max_abs_diff' in r else ''))
        del net, layouts, fp32; b.clean()

# ---------------------------------------------------------------- training
def train_config(b: Bench, data, model_name, bs, variant, compile_backend=None) -> dict:
    "Images/s, peak memory and loss at initialisation of `train_step` for one model, batch size and variant."
    torch, P = b.torch, b.P
    from u2net_nb.model import u2net_full, u2net_lite
    from u2net_nb.train import make_optimizer, make_scheduler, train_step
    from u2net_nb.losses import deep_supervision_loss
    from u2net_nb.data import TrainAugment
    vname, dname, use_scaler, cl, cudnn_bench = variant
    dtype = b.dtypes[dname]
    r = dict(model=model_name, batch=bs, variant=vname, dtype=dname or 'fp32', channels_last=cl, scaler=use_scaler, cudnn_benchmark=cudnn_bench)
    imgs, masks = data
    old_bench = torch.backends.cudnn.benchmark
    try:
        b.clean()
        torch.backends.cudnn.benchmark = cudnn_bench
        torch.manual_seed(0)
        net = {'full': u2net_full, 'lite': u2net_lite}[model_name]().to(b.dev).train()
        if cl: net = net.to(memory_format=torch.channels_last)
        opt = make_optimizer(net, lr=1e-3)
        sched = make_scheduler(opt, total_steps=100_000, warmup_steps=0)
        scaler = torch.amp.GradScaler(b.dev.type) if use_scaler else None
        aug, gen, pick = TrainAugment(P['crop']), torch.Generator(b.dev).manual_seed(0), torch.Generator().manual_seed(0)
        def batch():   # a random subset of the scene pool, random crops and flips: what the training loop does per step
            idx = torch.randperm(len(imgs), generator=pick)[:bs].to(imgs.device)
            x, y = aug(imgs[idx], masks[idx], generator=gen)
            return (x.contiguous(memory_format=torch.channels_last) if cl else x), y
        x0, y0 = aug(imgs[:bs], masks[:bs], generator=torch.Generator(b.dev).manual_seed(123))
        if cl: x0 = x0.contiguous(memory_format=torch.channels_last)
        with torch.no_grad(), torch.autocast(b.dev.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            r['loss_init'] = deep_supervision_loss(net(x0), y0).item()   # same weights and batch for every variant
        model = net
        if compile_backend:
            model = torch.compile(net, backend=compile_backend)
            t0 = time.perf_counter(); train_step(model, *batch(), opt, sched, scaler=scaler, amp_dtype=dtype); b.sync()
            r['compile_s'] = time.perf_counter() - t0
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message='.*lr_scheduler.step.*')   # fp16: the scaler skips the first steps
            for _ in range(P['warmup']): train_step(model, *batch(), opt, sched, scaler=scaler, amp_dtype=dtype)
            losses = []
            n, sec = b.timed(lambda: losses.append(train_step(model, *batch(), opt, sched, scaler=scaler, amp_dtype=dtype)[0]), P['steps'], P['step_cap'])
        r.update(images_per_s=n * bs / sec, ms_per_step=1000 * sec / n, steps=n, peak_mem_bytes=b.peak(), loss_last=losses[-1])
    except Exception as e: r['error'] = first_line(e)
    finally:
        torch.backends.cudnn.benchmark = old_bench
        net = model = opt = sched = scaler = None; b.clean()
    return r

def bench_training(b: Bench):
    P, rows = b.P, b.res.d.setdefault('training', [])
    imgs, masks = scenes(P['pool'], P['scene'], seed=0)      # pool >= the largest batch
    data = (imgs.to(b.dev), masks.to(b.dev))
    for model_name in MODELS:
        for bs in P['train_batches']:
            for v in TRAIN_VARIANTS:
                if b.left() < 8: b.skip(f"training {model_name} batch {bs} {v[0]}"); continue
                r = train_config(b, data, model_name, bs, v)
                rows.append(r)
                log(f"training {model_name:4} b{bs:<3} {v[0]:24} " + (f"{r['images_per_s']:8.1f} img/s  {_f(_gib(r['peak_mem_bytes']), '{:.2f}')} GiB  loss0 {r['loss_init']:.5f}"
                                                                    if 'images_per_s' in r else r.get('error', '')))
            b.res.save()

# ---------------------------------------------------------------- torch.compile, one configuration per subprocess
def compile_child(model_name, bs, smoke):
    "Run in a subprocess: print one line `RESULT {json}` for a compiled training configuration."
    b = Bench(Results(None), smoke, time.time() + 3600)
    imgs, masks = scenes(b.P['pool'], b.P['scene'], seed=0)
    r = train_config(b, (imgs.to(b.dev), masks.to(b.dev)), model_name, bs, (COMPILE_VARIANT, 'bf16', False, True, False),
                     compile_backend='eager' if smoke else 'inductor')
    print('RESULT ' + json.dumps(r), flush=True)

def run_group(cmd, timeout, logfile, cwd=ROOT):
    "Run `cmd` in its own process group with output to `logfile`; kill the group after `timeout` s. (rc or None, seconds)."
    t0 = time.time()
    with open(logfile, 'w') as fh:
        p = subprocess.Popen(cmd, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        try: rc = p.wait(timeout=max(1, timeout))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError): os.killpg(p.pid, signal.SIGTERM)
            try: p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError): os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            rc = None
    return rc, time.time() - t0

def tail(path, n=25):
    lines = Path(path).read_text(errors='replace').splitlines()
    return '\n'.join(lines[-n:])

def bench_compile(b: Bench, batches):
    rows, cap = b.res.d.setdefault('compile', []), b.P['compile_cap']
    for bs in batches:
        for model_name in MODELS:
            if b.left() < 30: b.skip(f"torch.compile {model_name} batch {bs}"); continue
            timeout = min(cap + 45, b.left() - 3)
            logf = Path(tempfile.mkdtemp())/'compile.log'
            cmd = [sys.executable, str(Path(__file__).resolve()), '--compile-one', f'{model_name}:{bs}'] + (['--cpu-smoke'] if b.smoke else [])
            b.clean()
            rc, wall = run_group(cmd, timeout, logf)
            out = Path(logf).read_text(errors='replace')
            res = next((json.loads(l[7:]) for l in out.splitlines() if l.startswith('RESULT ')), None)
            if res is None:
                res = dict(model=model_name, batch=bs, variant=COMPILE_VARIANT, dtype='bf16',
                           error=f"did not finish within {timeout:.0f} s (compilation capped at {cap:.0f} s)" if rc is None else f"exit {rc}: {tail(logf, 3)[-300:]}")
                log(tail(logf))
            elif res.get('compile_s') is not None and res['compile_s'] > cap:
                res['note'] = f"compiled in {res['compile_s']:.0f} s, over the {cap:.0f} s cap"
            res['wall_s'] = round(wall, 1)
            shutil.rmtree(logf.parent, ignore_errors=True)
            rows.append(res)
            log(f"compile  {model_name:4} b{bs:<3} " + (f"compile {res['compile_s']:.1f} s, {res['images_per_s']:8.1f} img/s, {_f(_gib(res.get('peak_mem_bytes')), '{:.2f}')} GiB"
                                                         if 'images_per_s' in res else res.get('error', '')))
            b.res.save()

# ---------------------------------------------------------------- metrics: GPU torch sweep vs CPU kernel
def make_maps(n, H, W, seed=0):
    "n ground-truth masks (ellipses; one empty, one full) and smooth imperfect predictions in [0, 1], float32 [n,H,W] (CPU)."
    import torch, torch.nn.functional as F
    g = torch.Generator().manual_seed(seed)
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(n, 1, 1, generator=g)
    yy, xx = torch.arange(H).view(1, H, 1).float(), torch.arange(W).view(1, 1, W).float()
    cy, cx, ry, rx = u(.2 * H, .8 * H), u(.2 * W, .8 * W), u(.08 * H, .35 * H), u(.08 * W, .35 * W)
    gt = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
    if n >= 4: gt[0] = False; gt[1] = True
    noise = F.avg_pool2d(torch.rand(n, 1, H, W, generator=g), 9, 1, 4, count_include_pad=False)[:, 0]
    soft = F.avg_pool2d(gt.float()[:, None], 7, 1, 3, count_include_pad=False)[:, 0]
    pred = (soft * .7 + (noise - noise.mean()) * 6 + .1).clamp(0, 1)
    return pred.contiguous(), gt

def bench_metrics(b: Bench):
    torch, P = b.torch, b.P
    from u2net_nb.metrics_fast import sod_scores, numba, SODMetrics
    n, (H, W) = P['maps'], P['map_hw']
    pc, gc_ = make_maps(n, H, W)
    cpu_backend = 'numba' if numba is not None else 'torch'
    m = dict(n=n, hw=f"{H}x{W}", cpu_backend=cpu_backend, gpu_device=str(b.dev) if b.cuda else 'CPU (smoke: torch backend)')
    try:
        pg, gg = pc.to(b.dev), gc_.to(b.dev)
        sod_scores(pc[:2], gc_[:2], backend=cpu_backend)                    # compile / load the kernel
        sod_scores(pg, gg, backend='torch'); b.sync()                        # warm-up
        speed = {}
        t = min(_wall(lambda: sod_scores(pc, gc_, backend=cpu_backend, cpu_threads=1)) for _ in range(2))
        speed[f'CPU {cpu_backend}, 1 thread'] = n / t
        th = os.cpu_count() or 1
        if cpu_backend == 'numba' and th > 1:
            t = min(_wall(lambda: sod_scores(pc, gc_, backend='numba', cpu_threads=th)) for _ in range(2))
            speed[f'CPU numba, {th} threads'] = n / t
        k, sec = b.timed(lambda: sod_scores(pg, gg, backend='torch'), 3, 10.0)
        speed[f"{'GPU' if b.cuda else 'CPU'} torch sweep"] = k * n / sec
        s_cpu, s_gpu = sod_scores(pc, gc_, backend=cpu_backend), sod_scores(pg, gg, backend='torch')
        m['per_image_max_abs_diff'] = {k: float((s_gpu[k].double().cpu() - s_cpu[k].double()).abs().max()) for k in s_cpu}
        d_cpu = SODMetrics(backend=cpu_backend).update(pc, gc_).compute()
        d_gpu = SODMetrics(backend='torch').update(pg, gg).compute()
        m['dataset_max_abs_diff'] = {k: abs(float(d_gpu[k]) - float(v)) for k, v in d_cpu.items() if k != 'n'}
        m['dataset_cpu'] = {k: float(v) for k, v in d_cpu.items()}
        m['maps_per_s'] = speed
        log(f"metrics  {n} maps {H}x{W}: " + ', '.join(f"{k} {v:.0f} maps/s" for k, v in speed.items())
            + f"; max |GPU - CPU| per image {max(m['per_image_max_abs_diff'].values()):.1e}, dataset {max(m['dataset_max_abs_diff'].values()):.1e}")
    except Exception as e: m['error'] = first_line(e); log(f"metrics  error: {m['error']}")
    b.res.d['metrics'] = m

def _wall(fn):
    t = time.perf_counter(); fn(); return time.perf_counter() - t

# ---------------------------------------------------------------- u2net_train runs
def u2net_train_cmd():
    exe = Path(sys.executable).parent/'u2net_train'
    if exe.is_file(): return [str(exe)]
    if w := shutil.which('u2net_train'): return [w]
    return [sys.executable, '-c', 'import sys; from u2net_nb.train import u2net_train; sys.argv[0] = "u2net_train"; u2net_train()']

def bench_run(b: Bench, key, label, args, cap, batch):
    "Run `u2net_train args --out DIR` with a timeout; record wall time, training time and the last evaluation."
    if b.left() < 40: b.skip(f"u2net_train run: {label}"); return
    out = Path(tempfile.mkdtemp(prefix=f'u2net_gpu_{key}_'))/'run'
    timeout = min(cap, b.left() - 3)
    shown = 'u2net_train ' + ' '.join(args)
    r = dict(label=label, command=shown, timeout_s=round(timeout))
    log(f"run      {label}: {shown} (timeout {timeout:.0f} s)")
    logf = out.parent/'train.log'
    rc, wall = run_group(u2net_train_cmd() + args + ['--out', str(out)], timeout, logf)
    r.update(rc=rc, wall_s=round(wall, 1), status='timed out' if rc is None else ('ok' if rc == 0 else f'exit {rc}'))
    recs = []
    if (out/'metrics.jsonl').is_file():
        recs = [json.loads(l) for l in (out/'metrics.jsonl').read_text().splitlines() if l.strip()]
    ev = [x for x in recs if 'maxF' in x]
    if recs: r.update(epochs=recs[-1].get('epoch'), steps=recs[-1].get('step'), train_s=recs[-1].get('seconds'), final_loss=recs[-1].get('loss'))
    if ev: r.update(maxF=ev[-1]['maxF'], MAE=ev[-1].get('MAE'))
    if len(recs) == 1 and recs[0].get('seconds'): r['train_images_per_s'] = recs[0]['step'] * batch / recs[0]['seconds']   # one epoch: no evaluation inside
    log(tail(logf, 12))
    log(f"run      {label}: {r['status']} in {wall:.0f} s" + (f", maxF {r['maxF']:.4f}, MAE {r['MAE']:.4f}" if 'maxF' in r else ''))
    shutil.rmtree(out.parent, ignore_errors=True)          # checkpoints of the full model: hundreds of MB
    b.res.d.setdefault('runs', {})[key] = r
    b.res.save()

def bench_runs(b: Bench):
    cap_default, cap_recipe = b.P['run_caps']
    # the recipe: full model, resize 320, random crop 288, batch 16, lr 1e-3, AMP (synthetic data would default to batch 8, lr 3e-3)
    if b.smoke:
        recipe = ['--model', 'full', '--size', '40', '--crop', '32', '--n_train', '16', '--n_val', '4', '--epochs', '1',
                  '--batch_size', '8', '--lr', '1e-3', '--amp', '--device', 'cpu']
        default = ['--n_train', '16', '--n_val', '4', '--epochs', '1', '--device', 'cpu']
    else:
        recipe = ['--model', 'full', '--size', '320', '--crop', '288', '--n_train', '1000', '--n_val', '100', '--epochs', '1',
                  '--batch_size', '16', '--lr', '1e-3', '--amp']
        default = []
    bench_run(b, 'recipe', 'one epoch of the recipe (full, 288 px crops, AMP)', recipe, cap_recipe, batch=8 if b.smoke else 16)
    bench_run(b, 'default', 'defaults (lite, synthetic 64 px, 12 epochs)' if not b.smoke else 'defaults, shortened (smoke)', default, cap_default, batch=8)

# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('outdir', nargs='?')
    ap.add_argument('--cpu-smoke', action='store_true', help='every section once at tiny sizes on the CPU')
    ap.add_argument('--budget', type=float, default=300, help='seconds for the whole run (default 300)')
    ap.add_argument('--deadline', type=float, help='Unix time after which no new work starts (overrides --budget)')
    ap.add_argument('--checks', help='step results of gpu_check.sh to show in the report')
    ap.add_argument('--render-only', action='store_true', help='only rewrite the markdown report')
    ap.add_argument('--compile-one', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.compile_one:
        m, bs = a.compile_one.split(':'); compile_child(m, int(bs), a.cpu_smoke); return 0
    if not a.outdir: ap.error('OUTDIR is required')
    out = Path(a.outdir); out.mkdir(parents=True, exist_ok=True)
    res = Results(out, read_checks(a.checks))
    if a.render_only: res.save(); return 0
    t_start = time.time()
    deadline = a.deadline or t_start + a.budget
    res.d = {}
    try: import torch
    except ImportError as e:
        res.d['env'] = dict(cuda=False, reason=f'torch is not importable ({e})'); res.save()
        log(f"gpu_bench: no CUDA (torch is not importable): GPU benchmarks skipped; wrote {out}/gpu_results.md"); return 0
    if not torch.cuda.is_available() and not a.cpu_smoke:
        res.d['env'] = dict(cuda=False, torch=torch.__version__, cuda_version=torch.version.cuda, python=platform.python_version(),
                            date=datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'), reason='torch.cuda.is_available() is False')
        res.save()
        log(f"gpu_bench: no CUDA (torch {torch.__version__}, torch.cuda.is_available() is False): GPU benchmarks skipped; wrote {out}/gpu_results.md")
        return 0
    check_api()
    b = Bench(res, a.cpu_smoke, deadline)
    res.d.update(env=environment(b), sizes={k: v for k, v in b.P.items() if not isinstance(v, dict)})
    res.save()
    log(f"gpu_bench on {res.d['env']['gpu']}: torch {torch.__version__}, CUDA {torch.version.cuda}; {b.left():.0f} s of budget")
    sections = [('inference', bench_inference), ('training', bench_training), ('metrics', bench_metrics), ('runs', bench_runs),
                ('torch.compile', lambda b: bench_compile(b, b.P['compile_batches'][:1])),
                ('torch.compile (larger batch)', lambda b: bench_compile(b, b.P['compile_batches'][1:]))]
    timing = res.d.setdefault('section_seconds', {})
    for name, fn in sections:
        if b.left() < 10: b.skip(name); continue
        t = time.time()
        log(f"== {name} ({b.left():.0f} s left)")
        try: fn(b)
        except Exception as e:
            res.d.setdefault('errors', []).append(f"{name}: {first_line(e)}"); log(f"-- {name} failed: {first_line(e)}")
        timing[name] = round(time.time() - t, 1)
        res.save()
    res.d['total_seconds'] = round(time.time() - t_start, 1)
    check_api()   # the training notebook may have changed under this run: the same check again, at the end
    res.save()
    log(f"gpu_bench: done in {res.d['total_seconds']:.0f} s; wrote {out}/gpu_results.json and {out}/gpu_results.md")
    for g in res.d.get('goals', []):
        log(f"goal: {g['goal']}: " + ('not measured' if g['met'] is None else f"{'MET' if g['met'] else 'NOT MET'}, {g['measured']:.0f} images/s ({g['config']})"))
    return 1 if res.d.get('errors') else 0

if __name__ == '__main__':
    sys.exit(main())
