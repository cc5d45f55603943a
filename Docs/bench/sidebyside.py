import socket, subprocess, threading, time, sys, os, json, base64, tempfile, shutil, http.client, random
BIN = os.environ.get("BIN", ".build/release/multipaxos")
def percentile(xs, p): 
    xs = sorted(xs); return xs[min(len(xs)-1, int(len(xs)*p))] if xs else 0
def run_clients(n, secs, op_factory):
    lat = []; errors = [0]; lock = threading.Lock(); stop = time.time() + secs
    def worker(i):
        op = op_factory(i); mine = []
        while time.time() < stop:
            t = time.perf_counter()
            try: op(); mine.append(time.perf_counter() - t)
            except Exception as e:
                with lock: errors[0] += 1
                time.sleep(0.01); op = op_factory(i)
        with lock: lat.extend(mine)
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    t0 = time.time(); [t.start() for t in ts]; [t.join() for t in ts]; el = time.time() - t0
    return len(lat)/el, percentile(lat, .5)*1000, percentile(lat, .99)*1000, errors[0]
def etcd_cluster(tmp):
    procs = []; peers = ",".join(f"e{i}=http://127.0.0.1:{12380+i}" for i in range(3))
    for i in range(3):
        procs.append(subprocess.Popen(["etcd", "--name", f"e{i}", "--data-dir", f"{tmp}/e{i}",
          "--listen-peer-urls", f"http://127.0.0.1:{12380+i}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{12380+i}",
          "--listen-client-urls", f"http://127.0.0.1:{12379+10*i+100}", "--advertise-client-urls", f"http://127.0.0.1:{12379+10*i+100}",
          "--initial-cluster", peers, "--initial-cluster-state", "new", "--logger", "zap", "--log-level", "error"],
          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(3); return procs, [12479+10*i for i in range(3)]
def etcd_op(ports):
    def make(i):
        c = http.client.HTTPConnection("127.0.0.1", ports[i % len(ports)], timeout=10); k = [0]
        def op():
            k[0] += 1
            body = json.dumps({"key": base64.b64encode(f"key{i}-{k[0]%1000}".encode()).decode(), "value": base64.b64encode(b"0123456789abcdef").decode()})
            c.request("POST", "/v3/kv/put", body, {"Content-Type": "application/json"}); r = c.getresponse(); r.read()
            if r.status != 200: raise Exception(r.status)
        return op
    return make
def mp_cluster(tmp, mode):
    port = 7800
    p = subprocess.Popen([BIN, "cluster", "--nodes", "3", "--base-port", str(port), "--mode", mode, "--data", f"{tmp}/mp", "--quiet"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2); return [p], [port, port+1, port+2]
def resp_op(ports):
    def make(i):
        s = socket.create_connection(("127.0.0.1", ports[i % len(ports)]), timeout=10); k = [0]
        def op():
            k[0] += 1; key = f"key{i}-{k[0]%1000}".encode()
            s.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$16\r\n0123456789abcdef\r\n" % (len(key), key))
            r = s.recv(100)
            if not r.startswith(b"+OK"): raise Exception(r)
        return op
    return make
secs = float(sys.argv[1]) if len(sys.argv) > 1 else 5
only = sys.argv[2] if len(sys.argv) > 2 else ""
for name, start, opf in [("etcd 3.4", etcd_cluster, etcd_op), ("multipaxos stable-leader", lambda t: mp_cluster(t, "stable-leader"), resp_op)]:
    if only and only not in name: continue
    tmp = tempfile.mkdtemp()
    procs, ports = start(tmp)
    try:
        for n in (1, 16, 64, 256):
            ops, p50, p99, err = run_clients(n, secs, opf(ports))
            print(f"{name:26s} c={n:3d}: {ops:7.0f} puts/s  p50 {p50:6.2f} ms  p99 {p99:7.2f} ms  errors {err}", flush=True)
    finally:
        for p in procs: p.terminate(); p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
