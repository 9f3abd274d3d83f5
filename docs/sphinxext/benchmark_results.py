"""The benchmark figure and tables of the docs, from ``benchmarks/results_*.md``.

The numbers are read from the result files that ``benchmarks/bench_linear.py``
and ``benchmarks/bench_mlp.py`` write; nothing is typed in here. The docs
build calls ``draw`` and ``write_tables`` (see ``docs/conf.py``); to redraw
the README's copy of the figure by hand::

    python docs/sphinxext/benchmark_results.py
"""

import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks"
OUTPUT = ROOT / "docs" / "_static" / "benchmarks.png"


def read_table(path, first_header):
    """Rows of the markdown table whose first column is ``first_header``.

    Returns a list of dicts keyed by the header cells.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for at, line in enumerate(lines):
        cells = _cells(line)
        if cells and cells[0] == first_header:
            header, rows = cells, []
            for row in lines[at + 2 :]:  # skip the | --- | line
                if not row.startswith("|"):
                    break
                rows.append(dict(zip(header, _cells(row))))
            return rows
    raise ValueError(f"no table starting with {first_header!r} in {path}")


def _cells(line):
    if not line.startswith("|"):
        return []
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _seconds(text):
    return float(re.match(r"[\d.]+", text).group())


def linear_bars():
    """(case labels, {series: seconds per epoch}) from results_linear.md."""
    rows = read_table(RESULTS / "results_linear.md", "case")
    series = {
        "skbigmodel, all cores": lambda name: name.endswith("(ours)"),
        "skbigmodel, n_jobs=1": lambda name: "(ours, n_jobs=1)" in name,
        "scikit-learn SGD": lambda name: name.startswith(
            ("SGDClassifier", "SGDRegressor")
        ),
    }
    cases = list(dict.fromkeys(row["case"] for row in rows))
    values = {label: [] for label in series}
    for case in cases:
        for label, matches in series.items():
            (row,) = [r for r in rows if r["case"] == case and matches(r["estimator"])]
            values[label].append(_seconds(row["s/epoch (median)"]))
    labels = [re.sub(r"^\w+\. ", "", case).replace(", ", ",\n", 1) for case in cases]
    return labels, values


def mlp_bars():
    """(network labels, {series: seconds per epoch}) from results_mlp.md."""
    rows = read_table(RESULTS / "results_mlp.md", "network")
    series = {
        "skbigmodel float32": "skbigmodel MLPClassifier, float32",
        "skbigmodel float64": "skbigmodel MLPClassifier, float64",
        "scikit-learn float32": "scikit-learn MLPClassifier, float32",
        "scikit-learn float64": "scikit-learn MLPClassifier, float64",
        "PyTorch float32, 1 thread": "set_num_threads(1)",
        "PyTorch float32, 2 threads": "set_num_threads(2)",
    }
    networks = list(dict.fromkeys(row["network"] for row in rows))
    values = {label: [] for label in series}
    for network in networks:
        for label, pattern in series.items():
            (row,) = [
                r for r in rows if r["network"] == network and pattern in r["row"]
            ]
            values[label].append(_seconds(row["s/epoch (median)"]))
    return [network.replace(", ", ",\n", 1) for network in networks], values


def _panel(ax, groups, values, title, colors):
    height = 0.8 / len(values)
    for k, (label, seconds) in enumerate(values.items()):
        positions = [g + k * height for g in range(len(groups))]
        bars = ax.barh(positions, seconds, height, label=label, color=colors[k])
        ax.bar_label(bars, fmt="%.3g", padding=2, fontsize=7)
    ax.set_yticks([g + 0.4 - height / 2 for g in range(len(groups))], groups)
    ax.invert_yaxis()
    ax.set_xlabel("seconds per epoch (lower is faster)")
    ax.set_title(title, fontsize=10)
    ax.margins(x=0.12)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def figure():
    """The two-panel matplotlib figure."""
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(
        2, 1, figsize=(9, 9.5), height_ratios=(5, 2.6), layout="constrained"
    )
    blues = ["#1f5fa8", "#7aa6d8", "#d0762b"]
    _panel(left, *linear_bars(), "Linear models: 5 epochs, medians of 3", blues)
    many = ["#1f5fa8", "#7aa6d8", "#d0762b", "#f0b27a", "#5a9e5a", "#a9d18e"]
    _panel(right, *mlp_bars(), "MLPs: Adam, batch 256, 10 epochs, medians of 3", many)
    fig.suptitle(
        "skbigmodel against scikit-learn (and PyTorch) on a 2-core machine\n"
        "figures read from benchmarks/results_linear.md and results_mlp.md",
        fontsize=11,
    )
    return fig


def draw(path=OUTPUT):
    """Write the figure as a PNG at ``path``, only if its bytes change."""
    import matplotlib.pyplot as plt

    fig = figure()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    path = Path(path)
    if not path.exists() or path.read_bytes() != buffer.getvalue():
        path.write_bytes(buffer.getvalue())


def markdown_to_rst(text):
    """The subset of markdown that the result files use, as reStructuredText.

    The title is dropped, ``##`` headings become sections, tables become
    list-tables; bullets and inline code read the same in both (the docs'
    default role is ``literal``).
    """
    out, lines, at = [], text.splitlines(), 0
    while at < len(lines):
        line = lines[at]
        if line.startswith("# "):
            at += 1
            continue
        if line.startswith("## "):
            title = line[3:].strip()
            out += [title, "-" * len(title), ""]
        elif line.startswith("|"):
            rows = []
            while at < len(lines) and lines[at].startswith("|"):
                if not set(lines[at]) <= set("|-: "):  # skip the | --- | line
                    rows.append(_cells(lines[at]))
                at += 1
            out += _list_table(rows)
            continue
        elif line.startswith("- "):
            out.append("- " + _literal_start(_escape(line[2:])))
        else:
            out.append(_escape(line))
        at += 1
    return "\n".join(out) + "\n"


def _escape(text):
    """Escape, outside `code`, a trailing "_" that reST reads as a link."""
    parts = text.split("`")
    parts[::2] = [re.sub(r"(\w)_(?!\w)", r"\1\\_", part) for part in parts[::2]]
    return "`".join(parts)


def _literal_start(text):
    """Escape a leading "1." or "-" that reST would read as a list."""
    if re.match(r"\d+[a-z]?\.\s", text) or text[:1] in ("-", "*", "+"):
        return "\\" + text
    return text


def _list_table(rows):
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in rows:
        for k, cell in enumerate(row):
            out.append(f"   {'*' if k == 0 else ' '} - {_literal_start(_escape(cell))}")
    return out + [""]


def write_tables(folder):
    """Write results_linear.rst.inc and results_mlp.rst.inc into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("results_linear", "results_mlp"):
        text = (RESULTS / f"{name}.md").read_text(encoding="utf-8")
        (folder / f"{name}.rst.inc").write_text(markdown_to_rst(text), encoding="utf-8")


if __name__ == "__main__":
    draw()
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
