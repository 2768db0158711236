"""Server-side SVG bar charts for the reports: nothing to vendor, prints and saves as is."""

from xml.sax.saxutils import escape

COLORS = ["#0b4f9c", "#1b6e3a", "#b3261e", "#8a5a00", "#6a1b9a"]


def bars(title, labels, series, unit=""):
    """Grouped vertical bars: labels along x, series = [(name, [values])]. Returns SVG text."""
    n = max(1, len(labels))
    groups = max(1, len(series))
    width = max(640, 60 + n * max(24, 14 * groups + 10))
    height, top, bottom, left = 340, 40, 90, 56
    plot_h = height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    peak = max(values) if values else 0
    step = _nice_step(peak)
    ymax = step * max(1, -(-peak // step)) if peak else 1
    slot = (width - left - 20) / n
    bar_w = min(48, max(3, (slot - 8) / groups))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height}" '
           f'width="{width:.0f}" height="{height}" role="img" aria-label="{escape(title)}" '
           'font-family="DejaVu Sans, sans-serif" font-size="12">',
           f'<text x="{left}" y="22" font-size="15" font-weight="bold">{escape(title)}</text>']
    ticks = max(1, round(ymax / step))
    for i in range(0, ticks + 1):
        y_val = ymax * i / ticks
        y = top + plot_h - plot_h * i / ticks
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d5dbe3"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(y_val)}{unit}</text>')
    for i, label in enumerate(labels):
        x0 = left + slot * i + max(4, (slot - bar_w * groups) / 2)
        for g, (_, vs) in enumerate(series):
            v = vs[i] if i < len(vs) else None
            if not v:
                continue
            h = plot_h * v / ymax
            out.append(f'<rect x="{x0 + g * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                       f'height="{h:.1f}" fill="{COLORS[g % len(COLORS)]}"><title>{escape(str(label))}: '
                       f'{_fmt(v)}{unit}</title></rect>')
        short = str(label) if len(str(label)) <= 14 else str(label)[:13] + "…"
        cx = left + slot * i + slot / 2
        out.append(f'<text x="{cx:.1f}" y="{top + plot_h + 14}" text-anchor="end" '
                   f'transform="rotate(-35 {cx:.1f} {top + plot_h + 14})">{escape(short)}</text>')
    lx = left
    for g, (name, _) in enumerate(series):
        out.append(f'<rect x="{lx}" y="{height - 16}" width="12" height="12" fill="{COLORS[g % len(COLORS)]}"/>')
        out.append(f'<text x="{lx + 16}" y="{height - 6}">{escape(name)}</text>')
        lx += 24 + 8 * len(name)
    out.append("</svg>")
    return "\n".join(out)


def _nice_step(peak):
    if peak <= 4:
        return 1
    raw = peak / 4
    magnitude = 10 ** (len(str(int(raw))) - 1)
    for m in (1, 2, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude


def _fmt(v):
    return f"{v:.0f}" if float(v).is_integer() or v >= 10 else f"{v:.1f}"
