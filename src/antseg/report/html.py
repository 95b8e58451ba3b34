"""The report as one self-contained HTML page (inline CSS, images embedded as data URIs, no scripts)."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import math

from antseg.anatomy import MEASURES, SIDES
from antseg.biometry.ranges import label, typical_text
from antseg.report.eyes import EyeSummary
from antseg.scan.result import CHECK

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1b1f24;max-width:1200px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #d0d7de}
h3{font-size:15px;margin:18px 0 6px} .muted{color:#57606a;font-size:13px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px} th,td{border:1px solid #d0d7de;padding:3px 8px}
th{background:#f6f8fa;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
.flag-low,.flag-high,.narrow{background:#fff1e5;color:#953800;font-weight:600}
.synthetic{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;margin:10px 0}
.warn{color:#953800} .scan{border:1px solid #d0d7de;padding:10px;margin:10px 0} img{max-width:100%;height:auto}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _num(v: float, digits: int = 3) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _img(jpeg: bytes, alt: str, mime: str = "image/jpeg") -> str:
    data = base64.b64encode(jpeg).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:{mime};base64,{data}">'


def _picture(previews, name: str) -> str:
    """The scan's preview embedded, or (an archive's report: :mod:`antseg.report.previews`) linked."""
    data = previews[name]
    if data is None:
        return f'<img alt="{_e(name)}" src="{_e(previews.link(name))}" loading="lazy">'
    return _img(data, name)


def eye_section(eye: EyeSummary, previews: dict[str, bytes]) -> str:
    """One eye: narrow-angle flags, the table of measures, warnings, then each scan's overlay."""
    parts = [
        f'<section class="eye" id="eye-{_e(eye.key)}"><h2>Eye {_e(eye.key or "(unnamed)")}'
        f' <span class="muted">({len(eye.scans)} scan{"s" * (len(eye.scans) != 1)}, {len(eye.used)} used in the '
        "summary)</span></h2>"
    ]
    flags = []
    for side in SIDES:
        k, n = eye.narrow.get(side, (0, 0))
        text = f"{side} angle: narrow in {k} of {n} scans" if n else f"{side} angle: not measured"
        if n and eye.narrow_status.get(side) == CHECK:
            text += " (from doubted values only: check this angle on the images)"
        flags.append(f'<li class="{"narrow" if k else ""}">{_e(text)}</li>')
    parts.append("<ul>" + "".join(flags) + "</ul>")
    rows = []
    for m in MEASURES:
        st = eye.stats[m]
        cls = f' class="num flag-{st["flag"]}"' if st["flag"] else ' class="num"'
        sd = f" ± {_num(st['sd'])}" if not math.isnan(st["sd"]) else ""
        mean = f"{_num(st['mean'])}{sd}" if st["n"] else "not measured"
        status = "" if st["status"] == "ok" else st["status"]
        rows.append(
            f"<tr><td>{_e(label(m))}</td><td{cls}>{_num(st['median']) if st['n'] else ''}</td><td{cls}>{mean}</td>"
            f'<td class="num">{st["n"]}</td><td class="{"warn" if status == "check" else ""}">{_e(status)}</td>'
            f"<td>{_e(typical_text(m))}</td><td>{_e(st['flag'])}</td></tr>"
        )
    parts.append(
        '<table class="measures"><thead><tr><th>measure</th><th>median</th><th>mean ± sd</th><th>n</th>'
        "<th>status</th><th>typical adult range</th><th>flag</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        '<p class="muted">Summaries use the scans whose value passed every check; "check": no scan measured it '
        "without doubt, so the doubted values are summarised: look at the scans first.</p>"
    )
    for s in eye.scans:
        warn = "".join(f'<li class="warn">{_e(w)}</li>' for w in s.warnings) or "<li>no quality warning</li>"
        key = ", ".join(
            f"{k} {_num(s.values.get(k, math.nan))}"
            + ("" if s.result.measures[k].status == "ok" else f" ({s.result.measures[k].status})")
            for k in ("acd_mm", "aod500_mm_left", "aod500_mm_right")
            if k in s.result.measures and not math.isnan(s.values.get(k, math.nan))
        )
        name = s.path.name
        parts.append(
            f'<div class="scan"><h3>{_e(name)}</h3><p class="muted">{_e(key)}</p>'
            f"<ul>{warn}</ul>{_picture(previews, name)}</div>"
        )
    parts.append("</section>")
    return "".join(parts)


def render(
    eyes: list[EyeSummary], previews: dict[str, bytes], model: dict, spacing, timing: dict, agreement_html: str = "",
    spacing_note: str = "",
) -> str:  # fmt: skip
    """The whole page. ``model`` describes the models (paths, architecture, training data, ``synthetic``);
    ``spacing`` is the scans' common (x, y) mm per pixel, None when they differ (each is in ``scans.csv``);
    ``spacing_note``: shown at the top when the spacing is the model's, not the scans' (empty: none)."""
    n = sum(len(e.scans) for e in eyes)
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    synthetic = (
        f'<p class="synthetic"><b>{_e(model.get("synthetic_headline", ""))}</b> '
        f"{_e(model.get('synthetic_note', ''))}</p>"
        if model.get("synthetic")
        else ""
    )
    summary_rows = "".join(
        f'<tr><td><a href="#eye-{_e(e.key)}">{_e(e.key or "(unnamed)")}</a></td>'
        f'<td class="num">{len(e.used)} of {len(e.scans)}</td>'
        + "".join(
            f'<td class="{"narrow" if e.narrow[s][0] else ""}">{e.narrow[s][0]} / {e.narrow[s][1]}'
            f"{' (check)' if e.narrow_status.get(s) == CHECK else ''}</td>"
            for s in SIDES
        )
        + f'<td class="num">{_num(e.stats["acd_mm"]["median"])}</td><td class="num">{e.n_warnings}</td></tr>'
        for e in eyes
    )
    spacing_text = f"Pixel spacing {spacing[0]:g} x {spacing[1]:g} mm/px." if spacing else "Pixel spacing: per scan."
    body = [
        f'<h1>AS-OCT angle report</h1><p class="muted">{n} scan{"s" * (n != 1)}, {len(eyes)} '
        f"eye{'s' * (len(eyes) != 1)}, made {when} by antseg. "
        f"{spacing_text} Segmentation model: {_e(model.get('segmentation'))}; "
        f"spur model: {_e(model.get('spurs'))}. {_e(model.get('training', ''))}</p>",
        synthetic,
        f'<p class="synthetic"><b>Pixel spacing assumed.</b> {_e(spacing_note[0].upper() + spacing_note[1:])}.</p>'
        if spacing_note
        else "",
        '<h2>Eyes</h2><table class="eyes"><thead><tr><th>eye</th><th>scans</th><th>narrow left</th>'
        "<th>narrow right</th><th>ACD median (mm)</th><th>warnings</th></tr></thead><tbody>"
        + summary_rows
        + "</tbody></table>",
        f'<p class="muted">Narrow angle: AOD500 below {model.get("aod500", 0.15):g} mm or TISA500 below '
        f"{model.get('tisa500', 0.05):g} mm2. Typical ranges are approximate adult values from published AS-OCT "
        "studies, for attention only, not diagnostic thresholds. Time per scan (segment + spurs + measures + "
        f"overlay): {timing.get('per_scan_s', math.nan):.2f} s.</p>",
        agreement_html,
        ""
        if getattr(previews, "embed", True)
        else f'<p class="muted">{n} scans: the overlays are linked from the overlays/ folder beside this page, not '
        "embedded; keep the folder together.</p>",
        *[eye_section(e, previews) for e in eyes],
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>antseg AS-OCT report</title>'
        f"<style>{CSS}</style></head><body>" + "".join(body) + "</body></html>\n"
    )
