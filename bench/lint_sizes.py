"""`apiops lint` on generated specs of growing size: does its cost follow size plus findings, not their square?

    .venv/bin/python bench/lint_sizes.py [--sizes 1000,10000,100000] [--formats yaml,json] [--runs 1]
                                         [--per-file 10000] [--timeout 900] [--spectral-timeout 900]
                                         [--skip-spectral]

The specs come from `apiops_pipelines.synthetic.specs` (deterministic; about 3 findings an operation:
missing descriptions, undeclared tags, operationIds unfit for a URL, undocumented 401/403/429, examples that
break their schema), split into part files of 10,000 operations (the loader refuses files over 25 MB;
`--per-file 500` splits every size alike, so the ratios compare one layout). Each
size runs the real CLI, `apiops lint SPEC --format json -o FILE`, as a subprocess; wall time, CPU time and
peak RSS come from `os.wait4` (bench/measure.py). The ratios 10k/1k and 100k/10k are the point: 10x the
operations should cost about 10x, not 100x.

Spectral (`extends: ["spectral:oas"]`, installed by bench/peers.py) runs on the two smaller YAML sizes when
it is already under bench/.peers, with its own time limit; the benchmark never installs it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from measure import Measured, measure_round  # noqa: E402
from peers import GATES  # noqa: E402

from apiops_pipelines.synthetic.specs import write_spec  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SPECTRAL = GATES / "node_modules" / ".bin" / "spectral"
SPECTRAL_SIZES = (1_000, 10_000)


def generate(folder: Path, operations: int, fmt: str, per_file: int) -> list[Path]:
    """The spec's files, written by a child process: a child's peak RSS counts its parent's at fork time, so
    this process stays small while it starts the measured runs."""
    written = subprocess.run([sys.executable, __file__, "--generate", str(folder), str(operations), fmt,
                              str(per_file)], check=True, capture_output=True, text=True).stdout  # fmt: skip
    return [Path(line) for line in written.splitlines()]


def findings_in(report: Path, spectral: bool = False) -> int | None:
    """How many findings a report holds, read in small pieces (see `generate`): ours ends with a summary,
    Spectral's JSON has one "code" per finding."""
    try:
        with open(report, "rb") as handle:
            if not spectral:
                handle.seek(max(0, report.stat().st_size - 400))
                total = re.search(rb'"total": (\d+)', handle.read())
                return int(total.group(1)) if total else None
            count, tail = 0, b""
            while chunk := handle.read(1 << 20):
                text = tail + chunk
                count += text.count(b'"code":')
                tail = text[-6:]  # a key cut in two by the chunk boundary is counted in the next piece
            return count
    except OSError:
        return None


def _size(count: int) -> str:
    return f"{count // 1000}k" if count % 1000 == 0 else str(count)


def _ratio(later: Measured | None, earlier: Measured | None, attribute: str) -> str:
    if not (later and earlier and later.ok and earlier.ok):
        return "n/a"
    return f"{getattr(later, attribute) / getattr(earlier, attribute):.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="operations per spec, comma-separated")
    parser.add_argument("--formats", default="yaml,json", help="yaml, json or both")
    parser.add_argument("--runs", type=int, default=1, help="runs per spec (the best is reported)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds before an apiops run is killed")
    parser.add_argument("--spectral-timeout", type=float, default=900, help="seconds before Spectral is killed")
    parser.add_argument("--per-file", type=int, default=10_000, help="operations per part file, for sizes above it")
    parser.add_argument("--skip-spectral", action="store_true")
    parser.add_argument("--generate", nargs=4, help=argparse.SUPPRESS)  # FOLDER OPERATIONS FORMAT PER_FILE
    args = parser.parse_args()
    if args.generate:
        folder, operations, fmt, per_file = args.generate
        print("\n".join(str(path) for path in write_spec(Path(folder), int(operations), fmt, int(per_file))))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    formats = [f.strip() for f in args.formats.split(",")]
    spectral = SPECTRAL if SPECTRAL.exists() and not args.skip_spectral else None
    rows: list[tuple[str, int, int, int, Measured]] = []  # (format, operations, files, bytes, measured)
    peers: dict[int, Measured] = {}
    with tempfile.TemporaryDirectory(prefix="apiops-bench-sizes-") as tmp:
        work = Path(tmp)
        (work / "spectral-oas.yaml").write_text('extends: ["spectral:oas"]\n')
        for fmt in formats:
            for operations in sizes:
                folder = work / f"{fmt}-{operations}"
                files = generate(folder, operations, fmt, args.per_file)
                size = sum(f.stat().st_size for f in files)
                print(f"{fmt}, {operations:,} operations: {len(files)} file(s), {size / 1e6:.1f} MB", flush=True)
                report = work / f"ours-{fmt}-{operations}.json"
                ours = Measured(f"apiops lint ({fmt}, {_size(operations)})", [
                    str(VENV_BIN / "apiops"), "lint", str(files[0]), "--root", str(folder), "--format", "json",
                    "--output", str(report)])  # fmt: skip
                for _ in range(args.runs):
                    measure_round(ours, cwd=work, stdout=work / "ours.out", timeout_s=args.timeout)
                ours.count = findings_in(report)
                rows.append((fmt, operations, len(files), size, ours))
                if spectral is not None and fmt == "yaml" and operations in SPECTRAL_SIZES:
                    out = work / f"spectral-{operations}.json"
                    peer = Measured(f"Spectral ({_size(operations)})", [
                        str(spectral), "lint", "--ruleset", str(work / "spectral-oas.yaml"), "-f", "json", "-o",
                        str(out), str(files[0])])  # fmt: skip
                    measure_round(peer, cwd=work, stdout=work / "spectral.out", timeout_s=args.spectral_timeout)
                    peer.count = findings_in(out, spectral=True)
                    peers[operations] = peer

    print("\n| format | operations | files | size | findings | wall | CPU | peak RSS | wall vs previous size "
          "| CPU vs previous size |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")  # fmt: skip
    for index, (fmt, operations, files, size, ours) in enumerate(rows):
        before = rows[index - 1][4] if index and rows[index - 1][0] == fmt else None
        state = "" if ours.ok else f" (did not finish: {ours.note})"
        print(f"| {fmt} | {operations:,} | {files} | {size / 1e6:.1f} MB | {ours.count if ours.ok else '-'} | "
              f"{ours.best_s:.2f} s{state} | {ours.best_cpu_s:.2f} s | {ours.peak_mb:.0f} MB | "
              f"{_ratio(ours, before, 'best_s')} | {_ratio(ours, before, 'best_cpu_s')} |")  # fmt: skip
    if spectral is None:
        why = "--skip-spectral" if args.skip_spectral else \
            f"not installed at {SPECTRAL.relative_to(ROOT)}; `.venv/bin/python bench/peers.py` installs it"  # fmt: skip
        print(f"\nSpectral: not run ({why})")
        return
    ours_yaml = {operations: m for fmt, operations, _, _, m in rows if fmt == "yaml"}
    print("\n| Spectral `spectral:oas`, YAML | wall | CPU | peak RSS | findings | wall vs apiops | "
          "CPU vs apiops |\n|---|---:|---:|---:|---:|---:|---:|")  # fmt: skip
    for operations, peer in peers.items():
        state = "" if peer.ok else f" (did not finish: {peer.note})"
        print(f"| {operations:,} operations | {peer.best_s:.2f} s{state} | {peer.best_cpu_s:.2f} s | "
              f"{peer.peak_mb:.0f} MB | {peer.count if peer.ok else '-'} | "
              f"{_ratio(peer, ours_yaml.get(operations), 'best_s')} | "
              f"{_ratio(peer, ours_yaml.get(operations), 'best_cpu_s')} |")  # fmt: skip
    if len(peers) == 2:
        small, large = (peers[s] for s in SPECTRAL_SIZES)
        print(f"\nSpectral 10k/1k: wall {_ratio(large, small, 'best_s')}, CPU {_ratio(large, small, 'best_cpu_s')}")


if __name__ == "__main__":
    main()
