#!/usr/bin/python3
# Test fixture F3: a tiny base "nginx" image as an OCI image layout (tag `nginx`): os-release, a stub
# /usr/sbin/nginx and the docroot /usr/share/nginx/html, in one gzip layer. It stands in for the
# configurable `ostreeServerBaseImage`; it never runs, so the stub only has to exist.
# usage: base-image.py OUT
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile

out = os.path.abspath(sys.argv[1])
shutil.rmtree(out, ignore_errors=True)
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs)
raw = io.BytesIO()
t = tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT)


def add(name, data=None, mode=0o644, kind=tarfile.REGTYPE):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime = kind, mode, 0
    ti.size = len(data) if data else 0
    t.addfile(ti, io.BytesIO(data) if data else None)


for d in ["etc", "usr", "usr/sbin", "usr/share", "usr/share/nginx", "usr/share/nginx/html", "var", "var/log"]:
    add(d, mode=0o755, kind=tarfile.DIRTYPE)
add("etc/os-release", b'NAME="nginx fixture"\nID=fixture\n')
add("usr/sbin/nginx", b"#!/bin/sh\necho 'stub nginx (test fixture)'\n", 0o755)
add("usr/share/nginx/html/index.html", b"<html>fixture</html>\n")
t.close()


def blob(data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, h), "wb") as f:
        f.write(data)
    return "sha256:" + h, len(data)


gz = gzip.compress(raw.getvalue(), mtime=0)
ldg, lsize = blob(gz)
config = {"architecture": "amd64", "os": "linux", "created": "2026-11-21T00:00:00Z",
          "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                     "Cmd": ["/bin/sh"], "Labels": {"fixture": "nginx-base"}},
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
