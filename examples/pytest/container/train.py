"""A small SageMaker-style training program: it counts the rows of its `train` channel,
"trains" for `epochs` epochs printing `epoch=N loss=X`, and saves model/model.json.

Hyperparameters: epochs (default 3), seconds_per_epoch (default 0), learning_rate (must be a
positive number: anything else is written to /opt/ml/output/failure and the program exits 1).
On SIGTERM it saves what it has (model/interrupted.json) and exits 0, as SageMaker asks.
"""

import json
import os
import signal
import sys
import time

OPT_ML = "/opt/ml"


def fail(reason):
    with open(os.path.join(OPT_ML, "output", "failure"), "w") as handle:
        handle.write(reason)
    print(reason, file=sys.stderr)
    sys.exit(1)


def save(name, content):
    os.makedirs(os.path.join(OPT_ML, "model"), exist_ok=True)
    with open(os.path.join(OPT_ML, "model", name), "w") as handle:
        json.dump(content, handle)


def count_lines(path):
    with open(path) as handle:
        return sum(1 for _ in handle)


def main():
    with open(os.path.join(OPT_ML, "input", "config", "hyperparameters.json")) as handle:
        hyperparameters = json.load(handle)
    try:
        rate = float(hyperparameters.get("learning_rate", "0.1"))
        if rate <= 0:
            raise ValueError
    except ValueError:
        fail(f"learning_rate must be a positive number, got {hyperparameters['learning_rate']!r}")
    epochs = int(hyperparameters.get("epochs", "3"))
    pause = float(hyperparameters.get("seconds_per_epoch", "0"))
    folder = os.path.join(OPT_ML, "input", "data", "train")
    rows = sum(count_lines(os.path.join(folder, name)) for name in sorted(os.listdir(folder)))
    print(f"training on {rows} rows", flush=True)
    state = {"epochs_done": 0}

    def on_term(_signum, _frame):
        save("interrupted.json", state)
        print("stopped: saved the model so far", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)
    loss = 1.0
    for epoch in range(1, epochs + 1):
        time.sleep(pause)
        loss *= 1 - min(rate, 0.9)
        state["epochs_done"] = epoch
        print(f"epoch={epoch} loss={loss:.6f}", flush=True)
    save("model.json", {"rows": rows, "loss": loss})


if __name__ == "__main__":
    main()
