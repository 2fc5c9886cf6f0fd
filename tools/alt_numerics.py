"""Settings that put the math libraries on other code paths, so the test suite can run a second time under them.

Floating-point results that come from two code paths (two libraries, vectorised vs scalar loops, one CPU's fast
kernels vs another's) may differ in the last bits. A test that compares such results exactly passes on the machine it
was written on and fails on the next one. Running the suite again with these settings makes that visible anywhere:

    python tools/alt_numerics.py env      # the settings for this machine, one KEY=VALUE per line
    python tools/alt_numerics.py probe    # which results change under them (each probe in a fresh process)

- ATEN_CPU_CAPABILITY=default: PyTorch's own CPU kernels without SIMD (sums, sigmoid, resizing, ...)
- ONEDNN_MAX_CPU_ISA=AVX2 (x86 only): oneDNN convolutions with AVX2 instead of AVX-512 blocking
- MKL_CBWR=COMPATIBLE: MKL without its processor-specific fast paths (the vectorised math that is not correctly
  rounded on Intel CPUs)
- NUMBA_CPU_NAME=generic: compiled kernels for a generic CPU (no fused multiply-add, no AVX)
- NPY_DISABLE_CPU_FEATURES: NumPy's AVX-512 dispatch targets that this machine would use
"""
import json, os, platform, subprocess, sys

def alt_env() -> dict:
    "Environment variables that move torch, oneDNN, MKL, numba and NumPy onto other code paths on this machine."
    env = {'ATEN_CPU_CAPABILITY': 'default', 'MKL_CBWR': 'COMPATIBLE', 'NUMBA_CPU_NAME': 'generic'}
    if platform.machine().lower() in ('x86_64', 'amd64'):
        env['ONEDNN_MAX_CPU_ISA'] = 'AVX2'
        try:
            from numpy._core import _multiarray_umath as mu
            feats = [f for f in getattr(mu, '__cpu_dispatch__', []) if f.startswith('AVX512') and mu.__cpu_features__.get(f)]
            if feats: env['NPY_DISABLE_CPU_FEATURES'] = ','.join(feats)
        except ImportError: pass
    return env

_PROBE = r'''
import hashlib, json, numpy as np, torch
torch.manual_seed(0); torch.set_num_threads(1)
h = lambda a: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:12]
x = torch.randn(1, 16, 64, 64); conv = torch.nn.Conv2d(16, 16, 3, padding=1)
r = torch.randn(100_000); v = np.linspace(0.01, 30, 100_000)
with torch.no_grad(): out = {
    'torch conv2d (oneDNN)': h(conv(x).numpy()),
    'torch sum (float32)': h(r.sum().numpy()),
    'torch sigmoid': h(torch.sigmoid(r).numpy()),
    'torch bilinear resize': h(torch.nn.functional.interpolate(x, size=(97, 75), mode='bilinear').numpy()),
    'torch float64 sqrt': h(torch.from_numpy(v).sqrt().numpy()),
    'numpy exp (float64)': h(np.exp(v)),
}
try:
    import numba
    @numba.njit(fastmath={'contract'})
    def residual(a, p, o):                           # a*a - p: exactly the rounding error of p where a*a - p is fused
        for i in range(a.size): o[i] = a[i] * a[i] - p[i]
    o = np.empty_like(v); residual(v, v * v, o)
    out['numba multiply-add loop'] = h(o)
except ImportError: pass
print(json.dumps(out))
'''

def probe() -> int:
    "Run the same computations with and without the settings; print which results differ."
    def run(extra):
        env = {**os.environ, **extra}
        return json.loads(subprocess.run([sys.executable, '-c', _PROBE], env=env, capture_output=True, text=True, check=True).stdout)
    alt = alt_env(); a, b = run({}), run(alt)
    print('alternate settings: ' + ' '.join(f'{k}={v}' for k, v in alt.items()))
    for k in a: print(f"  {k:26} {'changes' if a[k] != b[k] else 'same'}")
    n = sum(a[k] != b[k] for k in a)
    print(f'  {n} of {len(a)} probes change under the alternate settings')
    return 0 if n else 1

if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else 'env'
    if cmd == 'env': print('\n'.join(f'{k}={v}' for k, v in alt_env().items()))
    elif cmd == 'probe': sys.exit(probe())
    else: sys.exit(f'usage: {sys.argv[0]} env|probe')
