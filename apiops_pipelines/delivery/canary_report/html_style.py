"""The report's stylesheet, inline: the report server serves one file and the page fetches nothing else."""

from __future__ import annotations

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em 2em;color:#222;max-width:1400px}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.6em 0 .4em;border-bottom:1px solid #ddd}
h3{font-size:1em;margin:1em 0 .2em}code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}
.meta{color:#555;margin:.2em 0 1em;line-height:1.5}
.verdict{border:2px solid;border-radius:6px;padding:.6em 1em;margin:1em 0}
.verdict .decision{font-size:1.3em;font-weight:600}.verdict .reason{font-size:1.05em}
.verdict.pass{border-color:#2e7d32;background:#edf7ee}.verdict.fail{border-color:#c62828;background:#fdecea}
.verdict.insufficient{border-color:#b26a00;background:#fff4e5}
.verdict.running,.verdict.initial{border-color:#607d8b;background:#f1f4f6}
table{border-collapse:collapse;font-size:.86em;margin:.4em 0}
th,td{border:1px solid #ddd;padding:3px 7px;vertical-align:top}th{background:#f3f3f3;font-weight:600}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}td.stat{white-space:nowrap}
th.canary{color:#e66100}th.stable{color:#1f5fbf}
table.finding th{text-align:left;background:none;width:9em}table.finding caption{text-align:left;font-weight:600}
tr.row-fail td{background:#fdecea}tr.row-warn td{background:#fff8e1}
td.verdict-fail{color:#c62828;font-weight:600}td.verdict-warn{color:#b26a00;font-weight:600}
tr.reason td{color:#444;font-size:.95em;background:#fcfcfc;border-top:none;padding-left:2em}
td.op{max-width:28em;overflow-wrap:anywhere}
.badge{font-size:.75em;background:#e8eaf6;color:#283593;border-radius:3px;padding:0 4px;margin-left:4px}
.scroll{overflow-x:auto}.chart{margin:.6em 0 1.2em}.chart svg{max-width:100%;height:auto}
.step-fail,.step-insufficient-data{color:#c62828}.step-reason{margin:.2em 0 .4em;color:#444}
.note{color:#666;font-size:.85em}
"""
