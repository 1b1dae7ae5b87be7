"""Edge-case behaviours for the orchestrator's tests, chosen by the first argument.

train | ok          print two lines, write /opt/ml/model/ok.txt, exit 0
fail MESSAGE        write MESSAGE to /opt/ml/output/failure, exit 2
exit CODE           exit with CODE and no failure file
sleep SECONDS       sleep; on SIGTERM write /opt/ml/model/saved.txt and exit 0
ignore-term SECONDS ignore SIGTERM and sleep (the platform must SIGKILL it)
metrics COUNT SECS [SCALE]
                    print `step=I loss=SCALE/(I+1)` COUNT times, SECS apart
flood LINES         print LINES lines as fast as it can, every tenth a metric line
checkpoint N SECS HOLD [--delete-first]
                    print what LocalPath holds, write ckpt-0..N-1 there SECS apart, optionally
                    delete ckpt-0, then hold HOLD seconds (SIGTERM: exit 0)
cache NAME          print what the warm pool cache holds, then add the file NAME to it
gpus SECONDS        print NVIDIA_VISIBLE_DEVICES and the GPUs `nvidia-smi --list-gpus` shows (as
                    the SageMaker training toolkit counts them for SM_NUM_GPUS), write them to
                    /opt/ml/model/gpus.json, then sleep (SIGTERM: exit 0)
mesh SECONDS        (several hosts) connect to every other host by its name from
                    resourceconfig.json, print "connected to algo-N", wait until every other
                    host has connected back, then sleep (SIGTERM: exit 0)
fail-on HOST MSG    on HOST: once every other host listens, write MSG to the failure file and exit 2;
                    elsewhere listen and sleep 600 (SIGTERM: exit 0)
write PATH TEXT ...  write each TEXT to its absolute PATH (folders made), exit 0
channels            print each channel's files ("channel NAME: a,b"), exit 0
pipe CHANNEL EPOCHS [--count]
                    read CHANNEL's FIFOs CHANNEL_0 .. CHANNEL_<EPOCHS-1> to their ends, print each
                    epoch's size, and keep each epoch's bytes as /opt/ml/model/pipe/CHANNEL_E
                    (--count: only count them)
s3-get BUCKET/KEY   as a container calling S3 itself: fetch credentials from the container
                    credentials endpoint with its token, print the key id, then GET the object
                    from AWS_ENDPOINT_URL_S3 and print it
read CHANNEL        read every file of a File-mode channel, print how many bytes
contract            copy what the platform provided (config files, env, channels, network
                    interfaces) into /opt/ml/model/contract.json, exit 0
"""

import json
import os
import signal
import subprocess
import sys
import time

OPT_ML = "/opt/ml"


def write(relative, text):
    path = os.path.join(OPT_ML, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


def ok(_args):
    print("hello from the training container")
    print("done", file=sys.stderr)
    write("model/ok.txt", "trained\n")
    write("output/data/extra.txt", "output data\n")


def fail(args):
    write("output/failure", " ".join(args) or "failed")
    print("failing on purpose", file=sys.stderr)
    sys.exit(2)


def exit_with(args):
    sys.exit(int(args[0]))


def _save_on_term():
    def on_term(signum, frame):
        print("got SIGTERM, saving", flush=True)
        write("model/saved.txt", "saved during the grace period\n")
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)


def sleep(args):
    _save_on_term()
    print("sleeping", flush=True)
    time.sleep(float(args[0]))


def ignore_term(args):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("ignoring SIGTERM", flush=True)
    time.sleep(float(args[0]))


def gpus(args):
    visible = os.environ.get("NVIDIA_VISIBLE_DEVICES", "")
    try:
        listed = subprocess.run(
            ["nvidia-smi", "--list-gpus"], capture_output=True, text=True, check=True
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        listed = []
    found = [line for line in listed if line.startswith("GPU ")]
    print(f"NVIDIA_VISIBLE_DEVICES={visible}")
    print(f"num_gpus={len(found)}")
    for line in found:
        print(line)
    report = {"visible": visible, "num_gpus": len(found), "nvidia_smi": found}
    write("model/gpus.json", json.dumps(report))
    sys.stdout.flush()
    sleep(args or ["0"])


MESH_PORT = 7777


def _resource_config():
    return _read(os.path.join(OPT_ML, "input", "config", "resourceconfig.json"))


def mesh(args):
    import socket
    import threading

    config = _resource_config()
    me, peers = config["current_host"], [h for h in config["hosts"] if h != config["current_host"]]
    heard = set()
    everyone = threading.Event()
    server = socket.create_server(("", MESH_PORT))

    def serve():
        while len(heard) < len(peers):
            connection, _ = server.accept()
            with connection:
                heard.add(connection.recv(64).decode())
                connection.sendall(me.encode())
        everyone.set()

    threading.Thread(target=serve, daemon=True).start()
    for peer in peers:
        deadline = time.monotonic() + 120
        while True:
            try:
                with socket.create_connection((peer, MESH_PORT), timeout=5) as connection:
                    connection.sendall(me.encode())
                    answer = connection.recv(64).decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        print(f"connected to {peer} (answered {answer})", flush=True)
    if peers and not everyone.wait(120):
        fail([f"{me} heard only from {sorted(heard)}"])
    print(f"mesh complete on {me}", flush=True)
    sleep(args or ["0"])


def fail_on(args):
    """The failing host fails only once every other host is ready for SIGTERM (its handler
    installed, then it listens), so the stop that follows always reaches a handler."""
    import socket
    import threading

    config = _resource_config()
    me = config["current_host"]
    if me == args[0]:
        for peer in (h for h in config["hosts"] if h != me):
            deadline = time.monotonic() + 120
            while True:
                try:
                    socket.create_connection((peer, MESH_PORT), timeout=5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        fail(args[1:])
    _save_on_term()  # before listening: the failing host waits for that
    server = socket.create_server(("", MESH_PORT))
    threading.Thread(target=lambda: [server.accept() for _ in iter(int, 1)], daemon=True).start()
    sleep(["600"])


def write_files(args):
    for path, text in zip(args[::2], args[1::2]):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
        print(f"wrote {path}", flush=True)


def channels(_args):
    data = os.path.join(OPT_ML, "input", "data")
    for channel in sorted(os.listdir(data)) if os.path.isdir(data) else []:
        files = sorted(os.listdir(os.path.join(data, channel)))
        print(f"channel {channel}: {','.join(files)}", flush=True)


def pipe(args):
    channel, epochs, count_only = args[0], int(args[1]), "--count" in args
    data = os.path.join(OPT_ML, "input", "data")
    print(f"data holds {','.join(sorted(os.listdir(data)))}", flush=True)
    for epoch in range(epochs):
        name = f"{channel}_{epoch}"
        size = 0
        kept = None if count_only else bytearray()
        with open(os.path.join(data, name), "rb") as fifo:
            while chunk := fifo.read(1 << 20):
                size += len(chunk)
                if kept is not None:
                    kept += chunk
        if kept is not None:
            os.makedirs(os.path.join(OPT_ML, "model", "pipe"), exist_ok=True)
            with open(os.path.join(OPT_ML, "model", "pipe", name), "wb") as out:
                out.write(kept)
        print(f"epoch {epoch} of {channel}: {size} bytes", flush=True)


def read_files(args):
    root = os.path.join(OPT_ML, "input", "data", args[0])
    size = 0
    for folder, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                while chunk := handle.read(1 << 20):
                    size += len(chunk)
    print(f"read {size} bytes of {args[0]}", flush=True)


def _signed_get(url, credentials, region):
    """A GET signed with AWS Signature Version 4, as any SDK would sign it."""
    import datetime
    import hashlib
    import hmac
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = {"host": parts.netloc, "x-amz-content-sha256": hashlib.sha256(b"").hexdigest(),
               "x-amz-date": stamp}
    if credentials.get("Token"):
        headers["x-amz-security-token"] = credentials["Token"]
    names = sorted(headers)
    canonical = "\n".join(["GET", urllib.parse.quote(parts.path), "",
                           "".join(f"{n}:{headers[n]}\n" for n in names), ";".join(names),
                           headers["x-amz-content-sha256"]])
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + credentials["SecretAccessKey"]).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials['AccessKeyId']}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}")
    del headers["host"]
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30)


def s3_get(args):
    import urllib.request

    asked = urllib.request.Request(
        os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        headers={"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]},
    )
    with urllib.request.urlopen(asked, timeout=30) as answer:
        credentials = json.load(answer)
    print(f"credentials for {credentials['AccessKeyId']}", flush=True)
    endpoint = os.environ["AWS_ENDPOINT_URL_S3"].rstrip("/")
    region = os.environ.get("AWS_REGION", "us-east-1")
    with _signed_get(f"{endpoint}/{args[0]}", credentials, region) as answer:
        print(f"read {answer.read().decode()}", flush=True)


def _read(path):
    with open(path) as handle:
        return json.load(handle)


def contract(_args):
    config = os.path.join(OPT_ML, "input", "config")
    data = os.path.join(OPT_ML, "input", "data")
    channels = {}
    for channel in sorted(os.listdir(data)) if os.path.isdir(data) else []:
        root = os.path.join(data, channel)
        channels[channel] = sorted(
            os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs
        )
    report = {
        "argv": sys.argv[1:],
        "hostname": os.uname().nodename,
        "env": dict(os.environ),
        "hyperparameters": _read(os.path.join(config, "hyperparameters.json")),
        "resourceconfig": _read(os.path.join(config, "resourceconfig.json")),
        "inputdataconfig": _read(os.path.join(config, "inputdataconfig.json")),
        "channels": channels,
        "interfaces": sorted(os.listdir("/sys/class/net")),
    }
    write("model/contract.json", json.dumps(report, indent=2))
    print("contract written")


def _checkpoint_dir():
    try:
        return _read(os.path.join(OPT_ML, "input", "config", "checkpointconfig.json"))["LocalPath"]
    except OSError:
        return os.path.join(OPT_ML, "checkpoints")


def checkpoint(args):
    count, pause, hold = int(args[0]), float(args[1]), float(args[2])

    def on_term(signum, frame):
        print("got SIGTERM", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)
    directory = _checkpoint_dir()
    os.makedirs(directory, exist_ok=True)
    found = sorted(os.listdir(directory))
    print("checkpoints at start: " + (",".join(found) or "none"), flush=True)
    for i in range(count):
        with open(os.path.join(directory, f"ckpt-{i}.txt"), "w") as handle:
            handle.write(f"step {i}\n")
        print(f"wrote ckpt-{i}", flush=True)
        time.sleep(pause)
    if "--delete-first" in args:
        os.remove(os.path.join(directory, "ckpt-0.txt"))
        print("deleted ckpt-0", flush=True)
    print("holding", flush=True)
    time.sleep(hold)


def cache(args):
    directory = os.environ.get("SAGEMAKER_MANAGED_WARMPOOL_CACHE_DIRECTORY")
    if not directory:
        print("no warm pool cache", flush=True)
        return
    found = sorted(os.listdir(directory))
    print("cache holds: " + (",".join(found) or "none"), flush=True)
    with open(os.path.join(directory, args[0]), "w") as handle:
        handle.write("cached\n")


def metrics(args):
    count, pause = int(args[0]), float(args[1])
    scale = float(args[2]) if len(args) > 2 else 1.0
    for i in range(count):
        print(f"step={i} loss={scale / (i + 1):.6f} accuracy=nan")
        time.sleep(pause)


def flood(args):
    total = int(args[0])
    block = []
    for i in range(total):
        if i % 10 == 0:
            block.append(f"iteration {i}: loss={1.0 / (i + 1):.6f} lr=0.001 acc={i % 97}\n")
        else:
            block.append(f"batch {i} of {total}: reading shard {i % 64}, nothing to report\n")
        if len(block) == 10000:
            sys.stdout.write("".join(block))
            block = []
    sys.stdout.write("".join(block))
    sys.stdout.flush()


MODES = {"train": ok, "ok": ok, "fail": fail, "exit": exit_with, "sleep": sleep,
         "ignore-term": ignore_term, "contract": contract, "gpus": gpus, "metrics": metrics,
         "flood": flood, "checkpoint": checkpoint, "cache": cache, "mesh": mesh,
         "fail-on": fail_on, "channels": channels, "write": write_files, "pipe": pipe,
         "read": read_files, "s3-get": s3_get}

if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "train"
    MODES[mode](sys.argv[2:])
