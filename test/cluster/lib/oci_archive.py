#!/usr/bin/env python3
"""Writes a single-layer OCI image archive from a directory, for `ctr images import`.

No registry and no Docker engine exist on the test machine, so images are assembled from
static files. The archive is deterministic (owner root, mtime 0, sorted entries), so the
same rootfs always yields the same image ID and re-imports are no-ops.

usage: oci_archive.py NAME:TAG ROOTFS OUT.tar [--entrypoint ARG...] [--cmd ARG...]
                      [--user UID:GID] [--env K=V...] [--workdir DIR]
"""
import argparse
import hashlib
import io
import json
import os
import tarfile

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
EPOCH = "1970-01-01T00:00:00Z"


def layer_bytes(rootfs: str) -> bytes:
    paths = []
    for parent, dirs, files in os.walk(rootfs):
        paths.extend(os.path.join(parent, name) for name in dirs + files)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as layer:
        for path in sorted(paths):
            info = layer.gettarinfo(path, arcname=os.path.relpath(path, rootfs))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            if info.isreg():
                with open(path, "rb") as content:
                    layer.addfile(info, content)
            else:
                layer.addfile(info)
    return out.getvalue()


class Blobs:
    def __init__(self) -> None:
        self.files: list[tuple[str, bytes]] = []

    def add(self, data: bytes) -> dict:
        digest = hashlib.sha256(data).hexdigest()
        self.files.append((f"blobs/sha256/{digest}", data))
        return {"digest": f"sha256:{digest}", "size": len(data)}


def canonical(obj: dict) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("rootfs")
    parser.add_argument("out")
    parser.add_argument("--entrypoint", nargs="*")
    parser.add_argument("--cmd", nargs="*")
    parser.add_argument("--user")
    parser.add_argument("--workdir", default="/")
    parser.add_argument("--env", nargs="*", default=[])
    args = parser.parse_args()

    blobs = Blobs()
    layer = layer_bytes(args.rootfs)
    layer_ref = blobs.add(layer)
    runtime = {"Env": [DEFAULT_PATH, *args.env], "WorkingDir": args.workdir}
    if args.entrypoint:
        runtime["Entrypoint"] = args.entrypoint
    if args.cmd:
        runtime["Cmd"] = args.cmd
    if args.user:
        runtime["User"] = args.user
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": EPOCH,
        "config": runtime,
        # An uncompressed layer's diff ID is its own digest.
        "rootfs": {"type": "layers", "diff_ids": [layer_ref["digest"]]},
        "history": [{"created": EPOCH, "created_by": "ktx test/cluster oci_archive.py"}],
    }
    config_ref = blobs.add(canonical(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_ref},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer_ref}],
    }
    manifest_ref = blobs.add(canonical(manifest))
    tag = args.name.rsplit(":", 1)[1] if ":" in args.name.rsplit("/", 1)[-1] else "latest"
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            **manifest_ref,
            "platform": {"architecture": "amd64", "os": "linux"},
            # ctr takes the full image name from this annotation; ref.name alone would lose the repository.
            "annotations": {"io.containerd.image.name": args.name, "org.opencontainers.image.ref.name": tag},
        }],
    }
    entries = blobs.files + [
        ("oci-layout", canonical({"imageLayoutVersion": "1.0.0"})),
        ("index.json", canonical(index)),
    ]
    with tarfile.open(args.out, "w") as archive:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    main()
