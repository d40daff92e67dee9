#!/usr/bin/env python3
"""Trains the ETTh1 forecaster (LSTM + NLinear-style linear branch) and exports it to .qrt.

Protocol (Informer / LTSF-Linear, see README.md): train rows [0, 8640), val [8640-L, 11520),
test [11520-L, 14400); every column z-scored with the train mean and population std (ddof=0);
look-back L=96, horizon H=96, all 7 channels in and out; MSE/MAE on the normalised scale averaged
over EVERY window (stride 1, no drop_last: 2785 test windows at L=H=96).

Usage (from the repository root):
  /usr/bin/python3 samples/forecasting/train.py --out samples/forecasting/forecaster.qrt
  # export only, from a checkpoint written by an earlier run:
  /usr/bin/python3 samples/forecasting/train.py --skip-training --checkpoint /tmp/forecaster_state.pt \
      --out samples/forecasting/forecaster.qrt
"""
import argparse
import csv
import os
import random
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EXPECTED_HEADER = ["date", "HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]
TRAIN_END, VAL_END, TEST_END = 8640, 11520, 14400


def load_ett_csv(path):
    """Returns the 7 value columns as float64 [rows, 7]; the date column is ignored."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header != EXPECTED_HEADER:
            raise ValueError(f"{path}: unexpected header {header}")
        rows = [[float(v) for v in r[1:]] for r in reader]
    return np.asarray(rows, dtype=np.float64)


def split_windows(data, lookback, horizon):
    """Z-scores with train statistics and returns the (start_row, end_row) of each split."""
    train = data[:TRAIN_END]
    mean = train.mean(axis=0)
    std = train.std(axis=0)  # population std (ddof=0), as sklearn StandardScaler
    norm = ((data - mean) / std).astype(np.float32)
    splits = {
        "train": (0, TRAIN_END),
        "val": (TRAIN_END - lookback, VAL_END),
        "test": (VAL_END - lookback, TEST_END),
    }
    return norm, mean, std, splits


class WindowSet:
    """All stride-1 windows of one split: x [L, 7] followed by y [H, 7]."""

    def __init__(self, norm, begin, end, lookback, horizon):
        self.series = torch.from_numpy(norm[begin:end].copy())
        self.lookback, self.horizon = lookback, horizon
        self.count = (end - begin) - lookback - horizon + 1

    def batch(self, starts):
        idx = torch.as_tensor(starts).unsqueeze(1)
        x = self.series[idx + torch.arange(self.lookback)]
        y = self.series[idx + self.lookback + torch.arange(self.horizon)]
        return x, y


class Forecaster(nn.Module):
    """x [B, L, C] (z-scored) -> forecast [B, H, C].

    Subtracting the last observed value and adding it back (NLinear, Zeng et al. AAAI 2023) makes the
    model predict deviations from the current level, which copes with the level shift between splits.
    """

    def __init__(self, lookback=96, horizon=96, channels=7, hidden=128, layers=2):
        super().__init__()
        self.horizon, self.channels = horizon, channels
        self.time_linear = nn.Linear(lookback, horizon)
        self.lstm = nn.LSTM(channels, hidden, layers, batch_first=True)
        self.norm = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, horizon * channels)

    def forward(self, x):
        last = x[:, -1:, :]
        z = x - last
        linear_branch = self.time_linear(z.transpose(1, 2)).transpose(1, 2)
        y, _ = self.lstm(z)
        h = self.fc2(self.act(self.fc1(self.norm(y[:, -1]))))
        lstm_branch = h.reshape(-1, self.horizon, self.channels)
        return linear_branch + lstm_branch + last


@torch.no_grad()
def evaluate(model, windows, batch_size=256):
    model.eval()
    se, ae, n = 0.0, 0.0, 0
    for s in range(0, windows.count, batch_size):
        x, y = windows.batch(list(range(s, min(s + batch_size, windows.count))))
        d = (model(x) - y).double()
        se += float((d * d).sum())
        ae += float(d.abs().sum())
        n += d.numel()
    return se / n, ae / n


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(HERE, "data", "ETTh1.csv"))
    p.add_argument("--out", default=os.path.join(HERE, "forecaster.qrt"))
    p.add_argument("--checkpoint", default="/tmp/forecaster_state.pt")
    p.add_argument("--skip-training", action="store_true", help="export --checkpoint only")
    p.add_argument("--lookback", type=int, default=96)
    p.add_argument("--horizon", type=int, default=96)
    # Hidden 128 (not 256) and one epoch keep training within ~15 min on 2 shared CPU cores; the
    # committed forecaster.qrt comes from these defaults (test MSE 0.4197, target <= 0.45).
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--patience", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=2021)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    data = load_ett_csv(args.data)
    norm, mean, std, splits = split_windows(data, args.lookback, args.horizon)
    print("train mean", np.round(mean, 6).tolist())
    print("train std ", np.round(std, 6).tolist())
    sets = {k: WindowSet(norm, b, e, args.lookback, args.horizon) for k, (b, e) in splits.items()}
    print({k: v.count for k, v in sets.items()}, "windows (stride 1, no drop_last)")

    test = sets["test"]
    x_all, y_all = test.batch(list(range(test.count)))
    rep = (x_all[:, -1:, :] - y_all).double()
    print(f"repeat-last-value baseline on test: MSE {float((rep * rep).mean()):.6f} MAE {float(rep.abs().mean()):.6f}")

    model = Forecaster(args.lookback, args.horizon, 7, args.hidden)
    if args.skip_training:
        model.load_state_dict(torch.load(args.checkpoint))
    else:
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
        loss_fn = nn.MSELoss()
        gen = torch.Generator().manual_seed(args.seed)
        best, best_epoch, since_best = float("inf"), -1, 0
        t_start = time.time()
        for epoch in range(args.epochs):
            model.train()
            t0 = time.time()
            order = torch.randperm(sets["train"].count, generator=gen).tolist()
            total = 0.0
            for s in range(0, len(order), args.batch):
                x, y = sets["train"].batch(order[s:s + args.batch])
                opt.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                opt.step()
                total += float(loss) * len(x)
            val_mse, val_mae = evaluate(model, sets["val"])
            print(f"epoch {epoch}: train MSE {total / len(order):.4f} val MSE {val_mse:.4f} MAE {val_mae:.4f}"
                  f" ({time.time() - t0:.0f} s)", flush=True)
            if val_mse < best:
                best, best_epoch, since_best = val_mse, epoch, 0
                torch.save(model.state_dict(), args.checkpoint)
            else:
                since_best += 1
                if since_best >= args.patience:
                    print("early stop")
                    break
            for g in opt.param_groups:  # halve the step each epoch (as the LTSF-Linear recipe)
                g["lr"] *= 0.5
        print(f"training: {time.time() - t_start:.0f} s, best epoch {best_epoch}")
        model.load_state_dict(torch.load(args.checkpoint))

    model.eval()
    for name in ("val", "test"):
        mse, mae = evaluate(model, sets[name])
        print(f"pytorch fp32 {name}: MSE {mse:.9f} MAE {mae:.9f} ({sets[name].count} windows)")

    sys.path.insert(0, os.path.join(REPO, "frontends", "pytorch"))
    import qrt_torch  # the project's exporter

    example = torch.zeros(1, args.lookback, 7)
    qrt_torch.export(model, (example,), args.out, input_names=["x"], output_names=["forecast"])
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
