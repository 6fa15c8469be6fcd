#!/usr/bin/python3
# Test fixtures F3 and F4: a small base "nginx" image as an OCI image layout (tag `nginx`), standing in
# for the configurable base image of the OSTree server image.
# - F3 (default): os-release, a stub /usr/sbin/nginx and the docroot /usr/share/nginx/html. It never
#   runs, so the stub only has to exist.
# - F4 (`--real`): Debian's /usr/sbin/nginx and the shared libraries ldd names, copied from this
#   machine, with a config that serves /usr/share/nginx/html on port 80 as the images upstream builds
#   on do, so the server image made on it can be run (chroot) and pulled from with `ostree pull`.
# Made in well under a second.
# usage: base-image.py OUT [--real]
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

out = os.path.abspath(sys.argv[1])
real = "--real" in sys.argv[2:]
shutil.rmtree(out, ignore_errors=True)
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs)
raw = io.BytesIO()
t = tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT)
dirs = set()


def add_dirs(path):
    """Adds the parent directories of `path` (each once)."""
    parts = path.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        d = "/".join(parts[:i])
        if d and d not in dirs:
            dirs.add(d)
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 0
            t.addfile(ti)


def add(name, data, mode=0o644):
    add_dirs(name)
    ti = tarfile.TarInfo(name)
    ti.mode, ti.mtime, ti.size = mode, 0, len(data)
    t.addfile(ti, io.BytesIO(data))


def host_file(path):
    with open(os.path.realpath(path), "rb") as f:
        return f.read()


labels = {"fixture": "nginx-base"}
cmd = ["/bin/sh"]
if real:
    nginx = "/usr/sbin/nginx"
    add("usr/sbin/nginx", host_file(nginx), 0o755)
    # Every library at the path the loader looks it up by (the image has no ld.so.cache).
    ldd = subprocess.run(["ldd", nginx], check=True, capture_output=True, text=True).stdout
    for line in ldd.splitlines():
        fields = line.split()
        path = fields[2] if len(fields) >= 3 and fields[1] == "=>" else fields[0]
        if path.startswith("/"):
            add(path.lstrip("/"), host_file(path), 0o755)
    add("etc/nginx/mime.types", host_file("/etc/nginx/mime.types"))
    add("etc/nginx/nginx.conf", b"""user nobody nogroup;
worker_processes 1;
pid /run/nginx.pid;
error_log stderr;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    server {
        listen 80;
        root /usr/share/nginx/html;
    }
}
""")
    add("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    add("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    for d in ["run", "tmp", "var/log/nginx", "var/lib/nginx"]:
        add_dirs(d + "/x")
    version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip()
    labels = {"fixture": "nginx-real", "nginx": version}
    cmd = ["nginx", "-g", "daemon off;"]
else:
    add_dirs("var/log/x")
    add("usr/sbin/nginx", b"#!/bin/sh\necho 'stub nginx (test fixture)'\n", 0o755)
add("etc/os-release", b'NAME="nginx fixture"\nID=fixture\n')
add("usr/share/nginx/html/index.html", b"<html>fixture</html>\n")
t.close()


def blob(data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, h), "wb") as f:
        f.write(data)
    return "sha256:" + h, len(data)


gz = gzip.compress(raw.getvalue(), compresslevel=1 if real else 9, mtime=0)
ldg, lsize = blob(gz)
config = {"architecture": "amd64", "os": "linux", "created": "2026-11-21T00:00:00Z",
          "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                     "Cmd": cmd, "Labels": labels},
          "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()]},
          "history": [{"created": "2026-11-21T00:00:00Z", "created_by": "base-image.py"}]}
cdg, csize = blob(json.dumps(config).encode())
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdg, "size": csize},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ldg, "size": lsize}]}
mdg, msize = blob(json.dumps(manifest).encode())
with open(os.path.join(out, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": mdg, "size": msize, "annotations": {"org.opencontainers.image.ref.name": "nginx"}}]}, f)
