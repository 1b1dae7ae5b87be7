"""Linear regression by gradient descent, following the SageMaker /opt/ml contract.

Hyperparameters (all strings, as SageMaker passes them): epochs (20), learning_rate (0.05),
target (name of the label column; default the last), epoch_seconds (extra sleep per epoch,
to make a job long enough to stop). Reads CSV files with a header from the `train` channel.
Checkpoints each epoch to /opt/ml/checkpoints and resumes from one it finds there. On SIGTERM it
saves the model it has and exits cleanly. Bad input ends in /opt/ml/output/failure, exit 1.
"""

import glob
import json
import os
import signal
import sys
import time

import numpy as np

PREFIX = "/opt/ml"
CHECKPOINT = os.path.join(PREFIX, "checkpoints", "checkpoint.npz")
stop_requested = False


def on_sigterm(signum, frame):
    global stop_requested
    stop_requested = True
    print("SIGTERM received: saving the model and exiting", flush=True)


def fail(message):
    with open(os.path.join(PREFIX, "output", "failure"), "w") as handle:
        handle.write(message)
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def load_hyperparameters():
    with open(os.path.join(PREFIX, "input", "config", "hyperparameters.json")) as handle:
        raw = json.load(handle)
    try:
        return {
            "epochs": int(raw.get("epochs", "20")),
            "learning_rate": float(raw.get("learning_rate", "0.05")),
            "target": raw.get("target"),
            "epoch_seconds": float(raw.get("epoch_seconds", "0")),
        }
    except ValueError as exc:
        fail(f"invalid hyperparameter: {exc}")


def load_data(target):
    files = sorted(glob.glob(os.path.join(PREFIX, "input", "data", "train", "**", "*.csv"),
                             recursive=True))
    if not files:
        fail("no CSV files found in the 'train' channel")
    frames = []
    for path in files:
        with open(path) as handle:
            header = handle.readline().strip().split(",")
        try:
            frames.append(np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2))
        except ValueError as exc:
            fail(f"{os.path.basename(path)}: not numeric CSV ({exc})")
    data = np.vstack(frames)
    column = header.index(target) if target in header else len(header) - 1
    if target and target not in header:
        fail(f"target column {target!r} is not in the header {header}")
    features = np.delete(data, column, axis=1)
    names = [h for i, h in enumerate(header) if i != column]
    return features, data[:, column], names, header[column]


def load_checkpoint(width):
    if not os.path.exists(CHECKPOINT):
        return np.zeros(width), 0.0, 0
    state = np.load(CHECKPOINT)
    print(f"resuming from checkpoint at epoch {int(state['epoch'])}", flush=True)
    return state["weights"], float(state["bias"]), int(state["epoch"])


def save_checkpoint(weights, bias, epoch):
    os.makedirs(os.path.dirname(CHECKPOINT), exist_ok=True)
    tmp = CHECKPOINT + ".tmp.npz"
    np.savez(tmp, weights=weights, bias=bias, epoch=epoch)
    os.replace(tmp, CHECKPOINT)


def save_model(weights, bias, names, target, epoch, mse):
    model = {"features": names, "target": target, "weights": weights.tolist(),
             "bias": bias, "epochs_trained": epoch, "train_mse": mse}
    with open(os.path.join(PREFIX, "model", "model.json"), "w") as handle:
        json.dump(model, handle, indent=2)
    os.makedirs(os.path.join(PREFIX, "output", "data"), exist_ok=True)
    with open(os.path.join(PREFIX, "output", "data", "metrics.json"), "w") as handle:
        json.dump({"train_mse": mse, "epochs_trained": epoch}, handle)


def train():
    signal.signal(signal.SIGTERM, on_sigterm)
    params = load_hyperparameters()
    x, y, names, target = load_data(params["target"])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-12
    xs = (x - mean) / scale
    weights, bias, start = load_checkpoint(xs.shape[1])
    print(f"training on {len(y)} rows, {xs.shape[1]} features, target {target!r}", flush=True)
    mse = float(np.mean((xs @ weights + bias - y) ** 2))
    trained = start
    for epoch in range(start + 1, params["epochs"] + 1):
        if stop_requested:
            break
        error = xs @ weights + bias - y
        weights = weights - params["learning_rate"] * 2 * xs.T @ error / len(y)
        bias -= params["learning_rate"] * 2 * float(error.mean())
        mse = float(np.mean((xs @ weights + bias - y) ** 2))
        print(f"epoch={epoch} train_mse={mse:.6f}", flush=True)
        save_checkpoint(weights, bias, epoch)
        trained = epoch
        time.sleep(params["epoch_seconds"])
    # Weights in the original feature scale, so the model is usable on raw inputs.
    raw_weights = weights / scale
    save_model(raw_weights, bias - float(raw_weights @ mean), names, target, trained, mse)
    print(f"model saved: train_mse={mse:.6f}", flush=True)


if __name__ == "__main__":
    train()
