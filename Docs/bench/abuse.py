import socket, subprocess, time, sys, os
BIN = os.environ.get("BIN", ".build/release/multipaxos")
port=7950
node = subprocess.Popen([BIN,"serve","--id","0","--peers","127.0.0.1:7951","--client",f"127.0.0.1:{port}","--in-memory","--quiet"])
try:
    time.sleep(1.0)
    def rss():
        for line in open(f"/proc/{node.pid}/status"):
            if line.startswith("VmRSS:"): return int(line.split()[1])
    base = rss()
    cmd = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$16\r\n0123456789abcdef\r\n"
    payload = cmd * 10000
    socks = []
    for i in range(1000):
        s = socket.create_connection(("127.0.0.1", port)); s.setblocking(False); socks.append([s, 0])
    deadline = time.time() + 20
    while time.time() < deadline:
        progress = False
        for entry in socks:
            s, off = entry
            if off < len(payload):
                try:
                    n = s.send(payload[off:off+65536]); entry[1] += n; progress = progress or n > 0
                except BlockingIOError: pass
        if not progress: time.sleep(0.05)
    sent = sum(e[1] for e in socks)
    peak = rss()
    t0 = time.time()
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(b"*3\r\n$3\r\nSET\r\n$5\r\nother\r\n$2\r\nok\r\n"); reply = c.recv(100)
    print(f"baseline {base} KiB; with 1000 clients pipelining without reading ({sent/len(cmd):.0f} SETs written of 10,000,000): {peak} KiB resident; another client's SET answered {reply!r} in {1000*(time.time()-t0):.0f} ms")
finally:
    node.terminate(); node.wait()
