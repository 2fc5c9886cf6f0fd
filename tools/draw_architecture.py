"""Draw the U^2-Net architecture figure used on the front page: `python tools/draw_architecture.py`.

Writes nbs/images/u2net_architecture.png and its packaged copy u2net_nb/assets/figures/u2net_architecture.png (stage boxes at their relative resolution, skip connections,
side outputs and the fusion), from the stage table of `u2net_nb.model.u2net_full_cfg`.
"""
from pathlib import Path
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch
from u2net_nb.model import u2net_full_cfg

def draw(dest):
    cfg = u2net_full_cfg()
    fig, ax = plt.subplots(figsize=(10, 4.6), dpi=100)
    ax.set_xlim(0, 13.2); ax.set_ylim(-0.6, 6.6); ax.axis('off')
    def box(x, y, w, label, sub, color):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - 0.32), w, 0.64, boxstyle='round,pad=0.02', fc=color, ec='k', lw=0.8))
        ax.text(x, y + 0.07, label, ha='center', va='center', fontsize=9, weight='bold')
        ax.text(x, y - 0.17, sub, ha='center', va='center', fontsize=6.5)
    enc_xy, dec_xy = [], []
    for i, c in enumerate(cfg['encode']):
        x, y = 1.2 + i * 1.0, 5.8 - i * 1.0
        name = f"RSU4F" if c[4] else f"RSU-{c[0]}"
        box(x, y, 1.25, f"En{i+1}", f"{name} {c[1]}>{c[3]}", '#cfe2f3'); enc_xy.append((x, y))
        if i: ax.annotate('', xy=(x - 0.35, y + 0.32), xytext=(enc_xy[i-1][0] - 0.1, enc_xy[i-1][1] - 0.32),
                          arrowprops=dict(arrowstyle='->', lw=0.8, color='#3d6fb6'))
    for j, c in enumerate(cfg['decode']):
        i = 4 - j                                  # De5 pairs with En5 ...
        x, y = 11.2 - i * 1.0, 5.8 - i * 1.0
        name = f"RSU4F" if c[4] else f"RSU-{c[0]}"
        box(x, y, 1.25, f"De{i+1}", f"{name} {c[1]}>{c[3]}", '#d9ead3'); dec_xy.append((x, y))
        ax.annotate('', xy=(x - 0.63, y), xytext=(enc_xy[i][0] + 0.63, enc_xy[i][1]),
                    arrowprops=dict(arrowstyle='->', lw=0.7, color='gray', ls='--'))
        below = (enc_xy[5] if j == 0 else dec_xy[j-1])
        ax.annotate('', xy=(x + 0.1, y - 0.32), xytext=(below[0] + 0.35, below[1] + 0.32),
                    arrowprops=dict(arrowstyle='->', lw=0.8, color='#38761d'))
    sides = [dec_xy[4 - k] for k in range(5)] + [enc_xy[5]]   # De1..De5, En6
    for k, (x, y) in enumerate(sides):
        sx = 12.7
        ax.annotate('', xy=(sx - 0.25, 5.8 - k * 0.9), xytext=(x + 0.63, y),
                    arrowprops=dict(arrowstyle='->', lw=0.6, color='#b45f06'))
        ax.text(sx, 5.8 - k * 0.9, f"d{k+1}", ha='center', va='center', fontsize=9, color='#b45f06',
                bbox=dict(boxstyle='round', fc='#fce5cd', ec='#b45f06', lw=0.6))
    ax.text(12.7, 0.1, "cat(d1..d6)\n1x1 conv\n> d0", ha='center', va='center', fontsize=8.5,
            bbox=dict(boxstyle='round', fc='#f4cccc', ec='#990000', lw=0.8))
    ax.text(0.1, 0.1, "pool 2x (ceil) between encoder stages; decoder upsamples to the skip's size;\n"
                      "side outputs: 3x3 conv to 1 channel, upsampled to the input size (deep supervision on d0..d6)",
            fontsize=7.5, va='center')
    ax.set_title("U$^2$-Net (full): six RSU encoder stages, five decoder stages, six side outputs, fusion", fontsize=10)
    fig.tight_layout(); fig.savefig(dest, dpi=100); plt.close(fig)

if __name__ == '__main__':
    root = Path(__file__).resolve().parent.parent
    for out in (root/'nbs'/'images'/'u2net_architecture.png', root/'u2net_nb'/'assets'/'figures'/'u2net_architecture.png'):
        draw(out); print('wrote', out)          # the site's copy and the one shipped with the package
