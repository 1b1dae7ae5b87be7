"""Data-parallel linear regression across the hosts of a SageMaker training job.

Each host reads its share of the `train` channel (ShardedByS3Key gives each a disjoint set of
CSV files), and the hosts train one model together: every epoch each host sends the gradient
of its rows to the leader (the first of resourceconfig.json's sorted `hosts`), which adds them
up, takes the step and sends the new weights back. They talk over TCP on port 7777, by the host
names SageMaker gives them (algo-1, algo-2, ...). Only the leader writes the model.

Hyperparameters: epochs (60), learning_rate (0.05), target (label column; default the last).
A host that loses the others writes /opt/ml/output/failure and exits 1. On SIGTERM the leader
saves the model it has; the others stop when it does.
"""

import glob
import json
import os
import signal
import socket
import sys
import time

import numpy as np

PREFIX = "/opt/ml"
PORT = 7777
CONNECT_SECONDS = 120
stop_requested = False


def on_sigterm(signum, frame):
    global stop_requested
    stop_requested = True
    print("SIGTERM received: finishing", flush=True)


def fail(message):
    with open(os.path.join(PREFIX, "output", "failure"), "w") as handle:
        handle.write(message)
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def read_json(*parts):
    with open(os.path.join(PREFIX, *parts)) as handle:
        return json.load(handle)


def load_rows(target):
    files = sorted(glob.glob(os.path.join(PREFIX, "input", "data", "train", "**", "*.csv"),
                             recursive=True))
    frames, header = [], None
    for path in files:
        with open(path) as handle:
            header = handle.readline().strip().split(",")
        frames.append(np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2))
    if not frames:  # more hosts than files: this host has no rows, and still takes part
        return None, None, [os.path.basename(f) for f in files], header
    data = np.vstack(frames)
    column = header.index(target) if target in header else len(header) - 1
    return np.delete(data, column, axis=1), data[:, column], [os.path.basename(f) for f in files], header


class Link:
    """One JSON message per line over a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.reader = sock.makefile("r")

    def send(self, message):
        self.sock.sendall((json.dumps(message) + "\n").encode())

    def receive(self):
        line = self.reader.readline()
        if not line:
            raise ConnectionError("the other side closed the connection")
        return json.loads(line)


def connect(leader, me):
    deadline = time.monotonic() + CONNECT_SECONDS
    while True:
        try:
            sock = socket.create_connection((leader, PORT), timeout=CONNECT_SECONDS)
            link = Link(sock)
            link.send({"hello": me})
            return link
        except OSError:
            if time.monotonic() > deadline:
                fail(f"{me} could not reach the leader {leader} on port {PORT}")
            time.sleep(0.2)


def accept(workers):
    server = socket.create_server(("", PORT))
    server.settimeout(CONNECT_SECONDS)
    links = {}
    while len(links) < len(workers):
        try:
            sock, _ = server.accept()
        except socket.timeout:
            fail(f"the leader heard only from {sorted(links)} of {workers}")
        link = Link(sock)
        links[link.receive()["hello"]] = link
    return [links[w] for w in workers]


def local_sums(x, y, weights, bias):
    """This host's share of the gradient and of the squared error."""
    if x is None:
        return {"grad": [0.0] * len(weights), "bias": 0.0, "sse": 0.0, "rows": 0}
    error = x @ weights + bias - y
    return {"grad": (2 * x.T @ error).tolist(), "bias": float(2 * error.sum()),
            "sse": float(error @ error), "rows": len(y)}


def train():
    signal.signal(signal.SIGTERM, on_sigterm)
    raw = read_json("input", "config", "hyperparameters.json")
    epochs, rate = int(raw.get("epochs", "60")), float(raw.get("learning_rate", "0.05"))
    config = read_json("input", "config", "resourceconfig.json")
    me, hosts = config["current_host"], config["hosts"]
    leader, workers = hosts[0], hosts[1:]
    x, y, files, header = load_rows(raw.get("target"))
    print(f"{me} of {len(hosts)} hosts (leader {leader}); my files: {','.join(files) or 'none'}",
          flush=True)
    width = len(header) - 1 if header else 0
    if me == leader:
        links = accept(workers)
        print(f"leader: all {len(workers)} workers connected", flush=True)
    else:
        link = connect(leader, me)
        print(f"{me}: connected to {leader}", flush=True)
    weights, bias = np.zeros(width), 0.0
    for epoch in range(1, epochs + 1):
        mine = local_sums(x, y, weights, bias)
        if me != leader:
            try:
                link.send(mine)
                update = link.receive()
            except (OSError, ConnectionError, ValueError):
                if stop_requested:
                    return
                fail(f"{me} lost the leader {leader} at epoch {epoch}")
            if update.get("done"):
                print(f"{me}: the leader finished after epoch {epoch}", flush=True)
                return
            weights, bias = np.array(update["weights"]), update["bias"]
            continue
        total = [mine] + [l.receive() for l in links]
        rows = sum(part["rows"] for part in total)
        grad = sum(np.array(part["grad"]) for part in total) / rows
        weights = weights - rate * grad
        bias -= rate * sum(part["bias"] for part in total) / rows
        mse = sum(part["sse"] for part in total) / rows
        print(f"epoch={epoch} train_mse={mse:.6f} rows={rows}", flush=True)
        last = stop_requested or epoch == epochs
        for l in links:
            l.send({"done": True} if last else {"weights": weights.tolist(), "bias": bias})
        if last:
            break
    model = {"features": [h for h in header if h != header[-1]], "weights": weights.tolist(),
             "bias": bias, "hosts": hosts, "train_mse": mse}
    with open(os.path.join(PREFIX, "model", "model.json"), "w") as handle:
        json.dump(model, handle, indent=2)
    print(f"model saved by {me}: train_mse={mse:.6f} over {rows} rows", flush=True)


if __name__ == "__main__":
    train()
