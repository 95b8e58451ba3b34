"""Agreement with reference values: Bland-Altman plots (embedded PNG) and a table, as an HTML section."""

from __future__ import annotations

import base64
import io
import math

import numpy as np

from antseg.biometry.ranges import label


def bland_altman_png(pairs: list[tuple[float, float]], title: str) -> bytes:
    """A Bland-Altman plot (difference against mean, bias and 95 % limits) as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = np.array([(a, b) for a, b in pairs if math.isfinite(a) and math.isfinite(b)], float)
    fig, ax = plt.subplots(figsize=(4.2, 3.0))
    if len(p):
        mean, diff = p.mean(axis=1), p[:, 0] - p[:, 1]
        ax.scatter(mean, diff, s=14, color="#0969da")
        bias, sd = diff.mean(), diff.std(ddof=1) if len(diff) > 1 else 0.0
        for y, style in ((bias, "-"), (bias - 1.96 * sd, "--"), (bias + 1.96 * sd, "--")):
            ax.axhline(y, color="#57606a", ls=style, lw=1)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("mean of antseg and reference", fontsize=8)
    ax.set_ylabel("antseg - reference", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def agreement_section(rows: list[dict]) -> str:
    """HTML: a table of agreement statistics and one Bland-Altman plot per measure with at least 2 pairs."""
    rows = [r for r in rows if r.get("n")]
    if not rows:
        return ""
    head = (
        '<h2>Agreement with reference values</h2><table class="agreement"><thead><tr><th>measure</th><th>n</th>'
        "<th>mean error</th><th>mean abs error</th><th>ICC(2,1)</th><th>Bland-Altman limits</th></tr></thead>"
        "<tbody>"
    )
    body = "".join(
        f'<tr><td>{label(r["measure"])}</td><td class="num">{r["n"]}</td><td class="num">{r["mean_error"]:+.4f}'
        f'</td><td class="num">{r["mean_abs_error"]:.4f}</td><td class="num">{r["icc"]:.3f}</td>'
        f"<td>{r['loa_low']:+.4f} to {r['loa_high']:+.4f}</td></tr>"
        for r in rows
    )
    plots = "".join(
        '<img class="bland-altman" alt="Bland-Altman {m}" src="data:image/png;base64,{d}">'.format(
            m=r["measure"], d=base64.b64encode(bland_altman_png(r["pairs"], label(r["measure"]))).decode("ascii")
        )
        for r in rows
        if r["n"] >= 2
    )
    return head + body + "</tbody></table>" + plots
