"""Prints qrt_bench_cpu's results beside the PyTorch CPU anchor's, with ratios (tools/bench/bench_cpu.sh).

  side_by_side.py QRT.json CPU_ANCHOR.json

QRT.json: qrt_bench_cpu --json rows, {"model": "linear4096x4096", "batch", "f32_ms", "int8_ms",
"nf4_ms", ...} and {"model": "model", "variant", "batch", "ms", "rel_err", "bytes"}.
CPU_ANCHOR.json: the anchor's rows, {"engine", "model": "forecaster_lstm256" | "linear4096x4096",
"B", "fp32_ms", "int8dyn_ms", ["rel_err", "fp32_bytes", "int8_bytes"]}, one per quantized engine.
A ratio "a / b" above 1 means b is faster. "torch fp32" is the fastest of the anchor's fp32 runs
(it times the fp32 module once per engine; the engine does not apply to fp32).
"""

import json
import sys

QRT_FP32 = "fp32"
QRT_INT8_NONE = "int8-dynamic keep none"
QRT_INT8_FIRST_LAST = "int8-dynamic keep first,last"
ANCHOR_FORECASTER = "forecaster_lstm256"
# Issue 3's targets for the dynamic int8 forecaster at batch 1.
TARGET_VS_QRT_FP32 = 1.5
TARGET_VS_TORCH_FP32 = 3.0
TARGET_LINEAR_VS_TORCH_INT8_B32 = 1.2


def table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")


def ms(v):
    return f"{v:.3f}" if v is not None else "-"


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"


def forecaster(qrt_rows, anchor_rows):
    engines = sorted({r["engine"] for r in anchor_rows if r["model"] == ANCHOR_FORECASTER})
    batches = sorted({r["batch"] for r in qrt_rows if r["model"] == "model"})
    print("Forecaster of the anchor (LSTM(7,256,2) -> LayerNorm -> Linear 256 -> GELU -> Linear "
          "672), median ms, same machine and run")
    header = ["batch", "qrt fp32", "qrt int8 (none)", "qrt int8 (first,last)", "torch fp32"]
    header += [f"torch int8 {e}" for e in engines]
    header += ["qrt fp32 / qrt int8", "torch fp32 / qrt int8", "fastest torch int8 / qrt int8"]
    rows, summary = [], []
    for b in batches:
        q = {r["variant"]: r for r in qrt_rows if r["model"] == "model" and r["batch"] == b}
        a = {r["engine"]: r for r in anchor_rows
             if r["model"] == ANCHOR_FORECASTER and r["B"] == b}
        qrt_fp32 = q.get(QRT_FP32, {}).get("ms")
        qrt_int8 = q.get(QRT_INT8_NONE, {}).get("ms")
        torch_fp32 = min((r["fp32_ms"] for r in a.values()), default=None)
        torch_int8 = {e: a[e]["int8dyn_ms"] if e in a else None for e in engines}
        fastest = min((v for v in torch_int8.values() if v is not None), default=None)
        rows.append([str(b), ms(qrt_fp32), ms(qrt_int8),
                     ms(q.get(QRT_INT8_FIRST_LAST, {}).get("ms")), ms(torch_fp32)]
                    + [ms(torch_int8[e]) for e in engines]
                    + [ratio(qrt_fp32, qrt_int8), ratio(torch_fp32, qrt_int8),
                       ratio(fastest, qrt_int8)])
        if b == 1 and qrt_int8:
            summary.append(f"B=1 targets: qrt int8 (none) vs qrt fp32 {qrt_fp32 / qrt_int8:.2f}x "
                           f"(target >= {TARGET_VS_QRT_FP32}x)"
                           + (f", vs torch fp32 {torch_fp32 / qrt_int8:.2f}x (target >= "
                              f"{TARGET_VS_TORCH_FP32}x)" if torch_fp32 else ""))
    table(header, rows)
    for line in summary:
        print(line)

    print()
    print("Relative output error vs the same framework's fp32 model, and model bytes (qrt: .qrt "
          "file; torch: state_dict)")
    header = ["batch", "qrt int8 (none)", "qrt int8 (first,last)"]
    header += [f"torch int8 {e}" for e in engines]
    rows = []
    for b in batches:
        q = {r["variant"]: r for r in qrt_rows if r["model"] == "model" and r["batch"] == b}
        a = {r["engine"]: r for r in anchor_rows
             if r["model"] == ANCHOR_FORECASTER and r["B"] == b}
        rows.append([str(b)] + [f"{q[v]['rel_err']:.4f}" if v in q else "-"
                                for v in (QRT_INT8_NONE, QRT_INT8_FIRST_LAST)]
                    + [f"{a[e]['rel_err']:.4f}" if e in a and "rel_err" in a[e] else "-"
                       for e in engines])
    q1 = {r["variant"]: r["bytes"] for r in qrt_rows if r["model"] == "model"}
    a1 = {r["engine"]: r for r in anchor_rows if r["model"] == ANCHOR_FORECASTER}
    rows.append(["bytes (fp32 " + f"{q1.get(QRT_FP32, 0):,} qrt)"]
                + [f"{q1[v]:,} ({q1[v] / q1[QRT_FP32]:.3f}x)" if v in q1 and QRT_FP32 in q1
                   else "-" for v in (QRT_INT8_NONE, QRT_INT8_FIRST_LAST)]
                + [f"{a1[e]['int8_bytes']:,} ({a1[e]['int8_bytes'] / a1[e]['fp32_bytes']:.3f}x)"
                   if e in a1 and "int8_bytes" in a1[e] else "-" for e in engines])
    table(header, rows)


def linear(qrt_rows, anchor_rows):
    models = sorted({r["model"] for r in qrt_rows if r["model"].startswith("linear")})
    for model in models:
        engines = sorted({r["engine"] for r in anchor_rows if r["model"] == model})
        print(f"Linear {model[len('linear'):]}, median ms, same machine and run")
        header = ["M", "qrt f32", "qrt int8", "qrt nf4", "torch fp32"]
        header += [f"torch int8 {e}" for e in engines]
        header += ["qrt f32 / qrt int8", "fastest torch int8 / qrt int8"]
        rows, summary = [], []
        for q in sorted((r for r in qrt_rows if r["model"] == model), key=lambda r: r["batch"]):
            b = q["batch"]
            a = {r["engine"]: r for r in anchor_rows if r["model"] == model and r["B"] == b}
            torch_fp32 = min((r["fp32_ms"] for r in a.values()), default=None)
            torch_int8 = {e: a[e]["int8dyn_ms"] if e in a else None for e in engines}
            fastest = min((v for v in torch_int8.values() if v is not None), default=None)
            rows.append([str(b), ms(q["f32_ms"]), ms(q["int8_ms"]), ms(q["nf4_ms"]),
                         ms(torch_fp32)] + [ms(torch_int8[e]) for e in engines]
                        + [ratio(q["f32_ms"], q["int8_ms"]), ratio(fastest, q["int8_ms"])])
            if b == 32 and fastest:
                summary.append(f"M=32 target: fastest torch int8 / qrt int8 = "
                               f"{fastest / q['int8_ms']:.2f} (target >= "
                               f"{TARGET_LINEAR_VS_TORCH_INT8_B32})")
        table(header, rows)
        for line in summary:
            print(line)
        print()


def main():
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} QRT.json CPU_ANCHOR.json")
    with open(sys.argv[1]) as f:
        qrt_rows = json.load(f)
    with open(sys.argv[2]) as f:
        anchor_rows = json.load(f)
    linear(qrt_rows, anchor_rows)
    if any(r["model"] == "model" for r in qrt_rows):
        forecaster(qrt_rows, anchor_rows)


if __name__ == "__main__":
    main()
