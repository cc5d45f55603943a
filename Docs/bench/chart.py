"""Draws throughput against clients as an SVG line chart.

Usage: python3 Docs/bench/chart.py MATRIX.txt SIDEBYSIDE.txt OUT.svg
MATRIX.txt is the output of Docs/bench/matrix.sh, SIDEBYSIDE.txt that of Docs/bench/sidebyside.py (its etcd
lines give etcd's series). Only the fsync rows are drawn: the comparison with etcd is about durable writes.
"""
import re, sys

matrix, side, out = sys.argv[1:4]
series = {}
for line in open(matrix):
    m = re.match(r"fsync (\S+) batching-(on|off) c=(\d+): .*?(\d+) ops/s", line)
    if m:
        series.setdefault(f"{m[1]}, batching {m[2]}", {})[int(m[3])] = int(m[4])
for line in open(side):
    m = re.match(r"(etcd 3.4|multipaxos stable-leader)\s+c=\s*(\d+):\s+(\d+) puts/s", line)
    if m:
        name = "etcd 3.4 (Python harness)" if m[1].startswith("etcd") else "stable-leader (Python harness)"
        series.setdefault(name, {})[int(m[2])] = int(m[3])

clients = [1, 16, 64, 256]
width, height, left, bottom, top, right = 720, 420, 70, 50, 30, 250
top_value = max(v for s in series.values() for v in s.values()) * 1.1
def x(c): return left + clients.index(c) * (width - left - right) / (len(clients) - 1)
def y(v): return height - bottom - v / top_value * (height - bottom - top)
colors = ["#1f77b4", "#aec7e8", "#2ca02c", "#98df8a", "#d62728", "#9467bd"]
parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{left}" y="18" font-size="14">Durable puts per second against clients (3 nodes on loopback, 2 cores)</text>']
for i in range(6):
    v = top_value * i / 5
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
    parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{int(v):,}</text>')
for c in clients:
    parts.append(f'<text x="{x(c):.1f}" y="{height - bottom + 18}" text-anchor="middle">{c}</text>')
parts.append(f'<text x="{(left + width - right) / 2:.1f}" y="{height - 10}" text-anchor="middle">clients (one request outstanding each)</text>')
for i, (name, points) in enumerate(sorted(series.items())):
    color = colors[i % len(colors)]
    dash = ' stroke-dasharray="6 4"' if "harness" in name else ""
    coords = " ".join(f"{x(c):.1f},{y(points[c]):.1f}" for c in clients if c in points)
    parts.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
    for c in clients:
        if c in points:
            parts.append(f'<circle cx="{x(c):.1f}" cy="{y(points[c]):.1f}" r="3" fill="{color}"><title>{name}, {c} clients: {points[c]:,}/s</title></circle>')
    ly = top + 20 + i * 20
    parts.append(f'<line x1="{width - right + 15}" x2="{width - right + 40}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="2"{dash}/>')
    parts.append(f'<text x="{width - right + 46}" y="{ly + 4}">{name}</text>')
parts.append("</svg>")
open(out, "w").write("\n".join(parts) + "\n")
