"""Writing reference tensors the TypeScript tests read: raw little-endian .bin files, each listed
in the folder's manifest.json with its shape and dtype (float32, or uint8 for images)."""
import os

import numpy as np

_DTYPES = {np.dtype("float32"): ("<f4", "float32"), np.dtype("float64"): ("<f4", "float32"), np.dtype("uint8"): ("u1", "uint8")}


def save_tensor(manifest: dict, out: str, name: str, value) -> None:
    """Writes `value` (a torch tensor or a numpy array) as <out>/<name>.bin and records it in `manifest`."""
    arr = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
    if arr.dtype not in _DTYPES:
        arr = arr.astype(np.float32)
    stored, label = _DTYPES[arr.dtype]
    a = np.ascontiguousarray(arr.astype(stored))
    fname = name + ".bin"
    a.tofile(os.path.join(out, fname))
    manifest[name] = {"file": fname, "shape": list(a.shape), "dtype": label}
